"""What a scan adds to each series' report: events beside the onset, alerts of the rules.

A :class:`Diagnosis` travels with the scan (to worker processes too: it is a
small frozen value) and :meth:`Diagnosis.annotate` adds to one series' report
dict:

* ``evidence.events`` (:func:`.pairing.pair_events`) when there are events;
* ``alerts`` (:func:`detector.rules_apply.series_alerts`) when there are rules.

Fleet alerts (breadth) need every series: :func:`detector.rules_apply.fleet_alerts`
runs after the scan.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Config
from .events import Event, events_for
from .pairing import DEFAULT_TOLERANCE, pair_events, slack_for


@dataclass(frozen=True)
class Diagnosis:
    """Events and rules to apply beside each verdict.

    Attributes
    ----------
    events : tuple of Event
        Every known event (each series takes those that concern it).
    rules : Rules or None
        The rules of practice; None applies none.
    tolerance : float
        How far before an onset or change point an event is paired (seconds).
    """

    events: tuple[Event, ...] = ()
    rules: object = None
    tolerance: float = DEFAULT_TOLERANCE

    def annotate(self, item, fields: dict, *, limit: float | None = None,
                 config: Config | None = None) -> dict:
        """``fields`` (a report dict) with ``evidence.events`` and ``alerts`` added.

        Parameters
        ----------
        item : Series or ComponentSeries
            The series the report is about.
        fields : dict
            :meth:`detector.Report.to_dict` of its report.
        limit : float, optional
            Its memory limit (bytes), for the static rules.
        config : Config, optional
            For the analysis' bin count (the onset's resolution).

        Returns
        -------
        dict
            A new dict; ``fields`` is not changed.
        """
        from ..report import _jsonable

        config = config or Config()
        out = dict(fields)
        primary = item.primary if hasattr(item, "components") else item
        if self.events and len(primary):
            t = primary.timestamps
            mine = events_for(self.events, item.id, item.labels)
            evidence = dict(out.get("evidence") or {})
            evidence["events"] = pair_events(
                out, mine, start=float(t[0]), end=float(t[-1]), tolerance=self.tolerance,
                slack=slack_for(float(t[0]), float(t[-1]), primary.interval, config.max_bins))
            out["evidence"] = _jsonable(evidence)
        if self.rules is not None:
            from ..rules_apply import series_alerts

            out["alerts"] = _jsonable(series_alerts(item, self.rules, limit=limit))
        return out


__all__ = ["Diagnosis"]
