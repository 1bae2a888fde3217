"""The diagnosis beside each verdict, as the writers show it.

A report may carry, besides the verdict: ``evidence.breakdown`` (which
memory component grows), ``evidence.events`` (events beside the onset, OOM
kills) and ``alerts`` (the rules of practice). The table shows the firing
rules in a column and one line per finding under the table; OpenMetrics
exports the firing rules as gauges. This module reads them out of
:class:`~detector.results.ScanResult` s for both.
"""

from __future__ import annotations

from typing import Sequence

from ..results import ScanResult


def has_alerts(results: Sequence[ScanResult]) -> bool:
    """Whether rules were applied (some result carries an ``alerts`` list)."""
    return any(r.fields is not None and "alerts" in r.fields for r in results)


def rule_name(alert: dict) -> str:
    """``static:memory``, ``band``, ``breadth:band``."""
    from ..rules_apply import rule_name as name

    return name(alert)


def firing(result: ScanResult) -> list[str]:
    """The rules firing at the series' last sample, by name, without repeats."""
    out: list[str] = []
    for alert in result.get("alerts") or ():
        name = rule_name(alert)
        if alert.get("firing") and name not in out:
            out.append(name)
    return out


def fleet_alerts(results: Sequence[ScanResult]) -> list[dict]:
    """The fleet (breadth) alerts, each once (every member of the workload carries it)."""
    seen: dict[tuple, dict] = {}
    for r in results:
        for alert in r.get("alerts") or ():
            if alert["rule"] == "breadth":
                key = (tuple(sorted(alert["workload"].items())), alert["of"], alert["start"])
                seen.setdefault(key, alert)
    return list(seen.values())


def finding_lines(results: Sequence[ScanResult]) -> list[str]:
    """One line per finding: breakdown and events per series, then fleet alerts."""
    from .formats import human_time

    lines = []
    for r in results:
        evidence = r.get("evidence") or {}
        said = []
        breakdown = evidence.get("breakdown")
        if breakdown and breakdown.get("summary") and (
                breakdown.get("cause") or breakdown.get("pressure") or any(
                    c.get("grows") for c in (breakdown.get("components") or {}).values())):
            said.append(breakdown["summary"])
        said += (evidence.get("events") or {}).get("summary") or []
        if said:
            lines.append(f"{r.series}: " + "; ".join(said))
    for a in fleet_alerts(results):
        workload = ",".join(f"{k}={v}" for k, v in a["workload"].items())
        state = "firing" if a["firing"] else "ended"
        lines.append(f"fleet alert {a['of']} on {workload}: {len(a['instances'])} instances "
                     f"at once, {human_time(a['start'])} to {human_time(a['end'])} ({state})")
    return lines


__all__ = ["finding_lines", "firing", "fleet_alerts", "has_alerts", "rule_name"]
