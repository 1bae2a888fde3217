"""The rules of practice applied to a scan or a watch, beside the leak verdict.

:func:`series_alerts` runs the rules of a :class:`~detector.rules_file.Rules`
on one series with the functions of :mod:`detector.rules` (condition,
persistence, maintenance windows, intervals); :func:`fleet_alerts` then finds
the workloads of which at least ``breadth_min`` instances alert at once
(:func:`detector.rules.breadth`), one fleet alert per workload and rule.

An alert is a dict (JSON-serialisable)::

    {"rule": "static", "component": "memory", "share": 0.8,
     "start": 1717300000.0, "end": 1717303600.0, "firing": true}
    {"rule": "band", "window": 3600.0, "k": 2.0, ...}
    {"rule": "breadth", "of": "band", "workload": {"namespace": "shop", ...},
     "instances": ["...", "..."], ...}

``start`` is when the condition had held for the persistence time, ``end`` the
last sample it held at; ``firing`` says it still holds at the series' last
sample (for breadth: at least ``breadth_min`` instances still fire). The
static rules need the memory limit: without one they are skipped, and the
band applies alone. They never change the verdict: alerts are reported
beside it.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

from . import rules as R
from .rules_file import Rules


def series_alerts(item, rules: Rules, *, limit: float | None = None) -> list[dict]:
    """Every alert interval of one series (or memory breakdown) under ``rules``.

    Parameters
    ----------
    item : Series or ComponentSeries
        A series (its values are ``memory``), or a container's breakdown
        (``memory`` is the primary component; ``rss``, ``swap``... its components).
    rules : Rules
    limit : float, optional
        The memory limit (bytes) for the static rules.

    Returns
    -------
    list of dict
        Alerts as in the module docstring, in rule order, then time order.
    """
    parts = dict(getattr(item, "components", {}) or {})
    primary = item.primary if parts else item
    labels = dict(item.labels)
    out: list[dict] = []
    checks = []
    if limit is not None and np.isfinite(limit) and limit > 0:
        for what, share in rules.static:
            series = primary if what == "memory" else parts.get(what)
            if series is not None and len(series):
                cond = R.static_threshold(series.timestamps, series.values, limit=limit,
                                          share=share)
                checks.append(({"rule": "static", "component": what, "share": share},
                               series.timestamps, cond))
    if rules.band and len(primary) >= 3:
        cond = R.dynamic_band(primary.timestamps, primary.values, window=rules.band_window,
                              k=rules.band_k)
        checks.append(({"rule": "band", "window": rules.band_window, "k": rules.band_k},
                       primary.timestamps, cond))
    for head, t, cond in checks:
        cond = R.persistent(t, cond, for_seconds=rules.for_seconds)
        windows = [iv for m in rules.maintenance if m.applies_to(item.id, labels)
                   for iv in m.intervals(float(t[0]), float(t[-1]))]
        cond = R.outside_windows(t, cond, windows)
        last = float(t[-1])
        for a, b in R.intervals(t, cond):
            out.append({**head, "start": a, "end": b, "firing": b >= last})
    return out


def rule_name(alert: Mapping) -> str:
    """A short name of an alert's rule: ``static:memory``, ``band``, ``breadth:band``."""
    if alert["rule"] == "static":
        return f"static:{alert['component']}"
    if alert["rule"] == "breadth":
        return f"breadth:{alert['of']}"
    return str(alert["rule"])


def fleet_alerts(members: Iterable[tuple[str, Mapping[str, str], Sequence[Mapping]]],
                 rules: Rules) -> list[dict]:
    """Fleet alerts: ``breadth_min`` instances of one workload alerting at once.

    Parameters
    ----------
    members : iterable of (series id, labels, alerts)
        Every series of the scan with its :func:`series_alerts`.
    rules : Rules
        ``breadth_min`` and ``breadth_by`` (a series without any of those
        labels belongs to no workload).

    Returns
    -------
    list of dict
        ``{"rule": "breadth", "of": <rule name>, "workload": {...}, "instances":
        [...], "start", "end", "firing"}``, by workload, rule and time.
    """
    groups: dict[tuple, dict[str, dict[str, list]]] = {}
    firing: dict[tuple, dict[str, set]] = {}
    names: dict[tuple, dict] = {}
    for sid, labels, alerts in members:
        key = tuple(labels.get(b, "") for b in rules.breadth_by)
        if not any(key):
            continue
        names[key] = {b: v for b, v in zip(rules.breadth_by, key) if v}
        for alert in alerts:
            if alert["rule"] == "breadth":
                continue
            name = rule_name(alert)
            groups.setdefault(key, {}).setdefault(name, {}).setdefault(sid, []).append(
                (alert["start"], alert["end"]))
            if alert["firing"]:
                firing.setdefault(key, {}).setdefault(name, set()).add(sid)
    out = []
    for key in sorted(groups):
        for name in sorted(groups[key]):
            now = firing.get(key, {}).get(name, set())
            for a, b, instances in R.breadth(groups[key][name], min_instances=rules.breadth_min):
                out.append({"rule": "breadth", "of": name, "workload": names[key],
                            "instances": instances, "start": a, "end": b,
                            "firing": len(now & set(instances)) >= rules.breadth_min})
    return out


def with_fleet_alerts(results: Sequence, rules: Rules) -> tuple[list, list[dict]]:
    """Scan results with each fleet alert added to the ``alerts`` of its instances.

    Parameters
    ----------
    results : sequence of ScanResult
        A scan's results, their ``alerts`` from :func:`series_alerts`.
    rules : Rules

    Returns
    -------
    (list of ScanResult, list of dict)
        The results (new objects where an alert was added) and the fleet alerts.
    """
    from .results import ScanResult

    fleet = fleet_alerts(((r.series, r.labels, r.get("alerts") or []) for r in results
                          if r.fields is not None), rules)
    by_member: dict[str, list[dict]] = {}
    for alert in fleet:
        for sid in alert["instances"]:
            by_member.setdefault(sid, []).append(alert)
    out = []
    for r in results:
        own = [a for a in (r.get("alerts") or []) if a["rule"] != "breadth"]
        extra = by_member.get(r.series, [])
        if r.fields is not None and (extra or len(own) != len(r.get("alerts") or [])):
            # fleet alerts of an earlier run (a resumed scan read back) are replaced
            r = ScanResult(r.series, fields={**r.fields, "alerts": own + extra},
                           labels=r.labels)
        out.append(r)
    return out, fleet


__all__ = ["fleet_alerts", "rule_name", "series_alerts", "with_fleet_alerts"]
