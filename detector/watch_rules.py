"""The rules of practice in ``detector watch``: what fires now, what started, what ended.

After each poll :meth:`RuleWatch.evaluate` applies the rules
(:mod:`detector.rules_apply`) to every watched series' buffer and across the
fleet (breadth), compares what fires at the newest sample with what fired
after the previous poll, and returns one event per alert that started or
ended. :meth:`RuleWatch.payload` gives the Alertmanager alerts: every alert
firing now (``endsAt`` = now + 4 x the poll interval, as Prometheus sends
them), and those that ended (``endsAt`` = now). They sit beside the
``MemoryLeak`` alerts of the leak verdict, under their own names:

=========================  =========================================
alertname                  rule
=========================  =========================================
``MemoryStaticThreshold``  a share of the memory limit (``rule=static:memory``)
``MemoryDynamicBand``      mean + k sigma of the preceding window
``MemoryFleetBreadth``     several instances of one workload at once
=========================  =========================================

The set of firing alerts can be saved (:meth:`RuleWatch.to_json`) beside the
watcher's state, so a restarted watch does not announce them again.
"""

from __future__ import annotations

import json
from typing import Mapping

from .rules_apply import fleet_alerts, rule_name, series_alerts
from .rules_file import Rules

ALERTNAMES = {"static": "MemoryStaticThreshold", "band": "MemoryDynamicBand",
              "breadth": "MemoryFleetBreadth"}


class RuleWatch:
    """Rule alerts across the polls of a :class:`~detector.watch.Watcher`.

    Parameters
    ----------
    rules : Rules
    """

    def __init__(self, rules: Rules):
        self.rules = rules
        self.firing: dict[str, dict] = {}

    def evaluate(self, watcher, now: float) -> list[dict]:
        """Apply the rules to every series of ``watcher``; return started and ended alerts.

        Parameters
        ----------
        watcher : Watcher
        now : float
            Unix seconds (the time of events that end).

        Returns
        -------
        list of dict
            ``{"event": "rule_firing" | "rule_resolved", "rule", "series", "labels",
            "time", "start"}``, one per alert whose state changed.
        """
        from .series import Series

        current: dict[str, dict] = {}
        members = []
        for key in sorted(watcher.detectors):
            det = watcher.detectors[key]
            if len(det) < 3:
                continue
            labels = watcher.labels.get(key, {})
            series = Series.from_arrays(det.values, det.timestamps, id=key, labels=labels)
            alerts = series_alerts(series, self.rules, limit=det.limit)
            members.append((key, labels, alerts))
            for a in alerts:
                if a["firing"]:
                    current[f"{key}|{rule_name(a)}"] = {**a, "series": key, "labels": labels}
        for a in fleet_alerts(members, self.rules):
            if a["firing"]:
                workload = ",".join(f"{k}={v}" for k, v in sorted(a["workload"].items()))
                current[f"fleet:{workload}|{rule_name(a)}"] = {**a, "series": None,
                                                             "labels": dict(a["workload"])}
        events = []
        for ident in sorted(set(current) - set(self.firing)):
            a = current[ident]
            events.append(self._event("rule_firing", a, a["end"]))
        for ident in sorted(set(self.firing) - set(current)):
            events.append(self._event("rule_resolved", self.firing[ident], now))
        self.ended = {k: v for k, v in self.firing.items() if k not in current}
        self.firing = current
        return events

    @staticmethod
    def _event(kind: str, alert: Mapping, time: float) -> dict:
        out = {"event": kind, "rule": rule_name(alert), "series": alert["series"],
               "labels": alert["labels"], "time": time, "start": alert["start"]}
        if alert["rule"] == "breadth":
            out["instances"] = alert["instances"]
        return out

    def payload(self, *, now: float, resend: float,
                extra_labels: Mapping[str, str] | None = None) -> list[dict]:
        """Alertmanager alerts for the firing alerts, and for those that just ended."""
        from .watch import _rfc3339

        def alert(a: Mapping, ends: float) -> dict:
            labels = {**a["labels"], **(extra_labels or {}),
                      "alertname": ALERTNAMES[a["rule"]], "rule": rule_name(a)}
            what = a["series"] or ("workload " + ",".join(f"{k}={v}" for k, v in
                                                          sorted(a["labels"].items())))
            detail = {"static": lambda: f"above {a['share']:.0%} of the memory limit",
                      "band": lambda: f"above mean + {a['k']:g} sigma of the preceding "
                                      f"{a['window'] / 60:g} min",
                      "breadth": lambda: f"{len(a['instances'])} instances at once on "
                                         f"{a['of']}"}[a["rule"]]()
            return {"labels": labels, "startsAt": _rfc3339(a["start"]), "endsAt": _rfc3339(ends),
                    "annotations": {"summary": f"{rule_name(a)} fires for {what}",
                                    "description": detail}}

        out = [alert(a, now + 4 * resend) for _, a in sorted(self.firing.items())]
        out += [alert(a, now) for _, a in sorted(getattr(self, "ended", {}).items())]
        return out

    def to_json(self) -> bytes:
        """The firing alerts, for a restarted watch."""
        return json.dumps(self.firing, sort_keys=True).encode()

    def restore(self, data: bytes) -> None:
        """Take the firing alerts saved by :meth:`to_json` (ignored if unreadable)."""
        try:
            firing = json.loads(data)
        except ValueError:
            return
        if isinstance(firing, dict):
            self.firing = firing


__all__ = ["ALERTNAMES", "RuleWatch"]
