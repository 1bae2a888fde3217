"""Which memory component grows, and what that means for the verdict.

The field practice reads RSS, page cache, swap and working set side by side:
cache grows and is reclaimed, so cache growth is not a leak even when it
lifts the working set; RSS (anonymous memory) that only grows is the leak;
swap that climbs is the pressure that follows. :func:`judge_breakdown` does
the same with :func:`detector.analyze`:

1. the verdict is first taken on the primary component (the working set,
   what the OOM killer compares with the limit; else usage, else RSS);
2. the anonymous memory is judged too: RSS, plus swap when the container
   has swap (a page pushed out to swap is still the process's: RSS + swap
   only grows when the process allocates);
3. the decision:

   ==========================  ================  =================================
   primary / anonymous         verdict           cause
   ==========================  ================  =================================
   leaks / leaks               leak              ``anonymous``
   holds / leaks               leak (on RSS)     ``anonymous`` (reclaimed cache made
                                                 room for a growing heap)
   leaks / holds, cache grows  no leak,          ``cache``
                               ``cache_growth``
   leaks / holds, no cache     leak              ``unexplained``
   holds / holds               no leak           none
   ==========================  ================  =================================

   where "cache grows" means the page cache's slope over the growth window is
   at least half of the primary's. A container without an RSS component is
   judged on its primary alone, with the breakdown as evidence.

``evidence.breakdown`` gives every component's Theil-Sen slope (bytes/s,
with a 95 % interval) over the growth window (the current lifetime of a
restart loop, else from the onset of the growth, else from the last restart,
else the whole series), its share of the primary's growth (when the primary
grows significantly; components overlap: ``mapped_file`` is part of
``cache``, ``rss`` and active cache are part of the working set, so shares
need not add up to 1), whether the detector finds it growing on its own,
``cause``, ``pressure`` (swap grows) and a one-line ``summary``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..config import Config
from ..report import Report
from ..series import Series, _build
from ..sources.components import ComponentSeries, role
from .windows import robust_slope, window_stats

#: Cache slope, as a share of the primary's, from which cache growth explains it.
CACHE_EXPLAINS = 0.5


def judge_breakdown(item: ComponentSeries, *, limit: float | None = None,
                    config: Config | None = None) -> Report:
    """Judge a container from its memory breakdown (see the module docstring).

    Parameters
    ----------
    item : ComponentSeries
        The container's components (bytes).
    limit : float, optional
        Its memory limit (bytes), for ``time_to_limit``.
    config : Config, optional
        Thresholds of :func:`detector.analyze`.

    Returns
    -------
    Report
        The verdict, with ``evidence.breakdown``.
    """
    from .. import analyze

    config = config or Config()
    primary_name = item.primary_name
    primary = analyze(item.primary, limit=limit, config=config)
    reports = {primary_name: primary}
    for name, series in item.components.items():
        if name != primary_name:
            reports[name] = analyze(series, config=config)
    anon = _anonymous(item)
    anon_report = None
    if anon is not None:
        anon_report = analyze(anon, limit=limit, config=config) if primary_name != "rss" \
            or "swap" in item.components else primary
    start, end = _growth_window(primary if primary.leak or anon_report is None
                                or not anon_report.leak else anon_report, item.primary)
    slopes = {name: _slope(series, start, end) for name, series in item.components.items()}
    if anon is not None:
        slopes["anonymous"] = _slope(anon, start, end)
    base, base_low, _ = slopes[primary_name]
    base = base if base_low > 0 else math.nan  # shares of a growth that is there
    components = {}
    for name, series in item.components.items():
        slope, low, high = slopes[name]
        rep = reports[name]
        components[name] = {
            "role": role(name), "slope": _num(slope), "slope_interval": [_num(low), _num(high)],
            "share": _num(slope / base),
            "grows": bool(rep.leak), "pattern": rep.pattern}
    pressure = "swap" in reports and reports["swap"].leak
    cache_share = components.get("cache", {}).get("share")
    cache_explains = cache_share is not None and cache_share >= CACHE_EXPLAINS

    report, cause = primary, None
    if anon_report is not None and anon_report.leak:
        cause = "anonymous"
        if not primary.leak:
            report = dataclasses.replace(anon_report, evidence={
                **anon_report.evidence, "judged_component": "rss" if "swap" not in
                item.components else "rss+swap", "primary_report": _brief(primary)})
    elif anon_report is not None and primary.leak and cache_explains:
        cause = "cache"
        report = Report(leak=False, verdict="no_leak", pattern="cache_growth",
                        score=min(anon_report.score, 0.49), slope=primary.slope,
                        onset=None, changepoints=primary.changepoints, period=primary.period,
                        time_to_limit=None,
                        evidence={**primary.evidence, "primary_report": _brief(primary)})
    elif primary.leak:
        cause = "unexplained" if anon_report is not None else None
    breakdown = {
        "primary": primary_name, "window": [start, end], "components": components,
        "anonymous_slope": _num(slopes["anonymous"][0]) if anon is not None else None,
        "cause": cause, "pressure": bool(pressure),
        "summary": _summary(cause, pressure, primary_name, components,
                            slopes.get("anonymous"), bool(pressure)),
    }
    return dataclasses.replace(report, evidence={**report.evidence, "breakdown": breakdown})


def _anonymous(item: ComponentSeries) -> Series | None:
    """RSS, plus swap when the container has swap on the same timestamps; None without RSS."""
    rss = item.components.get("rss")
    if rss is None:
        return None
    swap = item.components.get("swap")
    if swap is None or swap.timestamps.shape != rss.timestamps.shape or \
            not np.array_equal(swap.timestamps, rss.timestamps):
        return rss
    return _build(f"{item.id}[rss+swap]", rss.timestamps.copy(), rss.values + swap.values,
                  item.labels, rss.restarts)


def _growth_window(report: Report, series: Series) -> tuple[float, float]:
    """From the current lifetime of a restart loop, else the onset of the growth, else the
    last restart, else the first sample, to the end."""
    end = float(series.timestamps[-1])
    ev = report.evidence
    starts = [ev.get("current_lifetime_start"), report.onset,
              ((ev.get("lifetimes") or {}).get("restarts") or [None])[-1]]
    start = next((float(s) for s in starts if s is not None and s < end), None)
    return (float(series.timestamps[0]) if start is None else start), end


def _slope(series: Series, start: float, end: float) -> tuple[float, float, float]:
    w = window_stats(series.timestamps, series.values, start, end)
    return robust_slope(w.t, w.mean)


def _num(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _brief(report: Report) -> dict:
    return {"verdict": report.verdict, "pattern": report.pattern, "score": report.score,
            "slope": _num(report.slope), "onset": report.onset}


def _per_hour(slope: float | None) -> str:
    if slope is None:
        return "?"
    return f"{slope * 3600 / 2 ** 20:+.3g} MiB/h"


def _summary(cause, pressure, primary, components, anon_slope, with_swap) -> str:
    c = components
    has_anon = anon_slope is not None
    if cause == "anonymous":
        what = "RSS + swap" if with_swap else "RSS"
        text = f"{what} grows ({_per_hour(_num(anon_slope[0]))}): anonymous memory, a leak"
    elif cause == "cache":
        text = (f"the page cache grows ({_per_hour(c['cache']['slope'])}) while RSS holds: "
                f"reclaimable, not a leak")
    elif cause == "unexplained":
        text = f"{primary} grows but neither RSS nor the page cache explains it"
    elif not has_anon:
        text = f"judged on {primary} alone (no RSS component)"
    elif c.get("cache", {}).get("grows"):
        text = "the page cache grows while the working set holds: reclaimable, not a leak"
    else:
        text = "no component grows"
    if pressure:
        text += f"; swap grows ({_per_hour(c['swap']['slope'])}): memory pressure"
    return text


__all__ = ["CACHE_EXPLAINS", "judge_breakdown"]
