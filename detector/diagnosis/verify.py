"""Did the fix work? The slope, floor and peak before and after, and a status.

:func:`verify` splits a series at the time of the fix and describes each side
with numbers that carry 95 % intervals (see :mod:`.windows`):

* **slope**: the Theil-Sen slope of the floor (per-window minima; a GC
  sawtooth or a daily load does not lift it) over the side's growth: before
  the fix from the onset of the growth (or the start of the current lifetime)
  that :func:`detector.analyze` finds; after the fix from the fix plus a
  settling time (a fixed service restarts and warms up: default the first 20 %
  of the after side, at most 30 min), in bytes per second;
* **floor** and **peak**: the median of the per-window minima and maxima over
  the end of the side (its last tenth, at least 8 windows): where the memory
  stood just before the fix, and where it stands now;
* the verdict of :func:`detector.analyze` on each side alone.

The status:

``no_leak_before``
    the side before the fix does not grow (neither the detector nor the
    floor slope finds growth): there is nothing to verify (a wrong series or a
    wrong time?);
``not_fixed``
    the side after the fix still leaks (the detector's verdict on it alone),
    over at least ``min_leak_duration`` after the fix (the detector judges a
    short series on its own time scale, so half an hour of the old slope is
    already a leak to it; right after a fix that is too early to call);
``fixed``
    it does not, the after side is long enough for the old slope to have
    shown (the growth the detector needs, ``min_relative_growth`` of the
    level after the fix, 3 % by default, at the old rate, and at least
    ``min_leak_duration``) and the
    after slope's interval lies below the old slope's;
``too_early``
    otherwise: not enough time after the fix; ``ready_at`` says when the old
    slope would have shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..config import Config
from ..series import Series
from .windows import median_interval, robust_slope, window_stats

#: Statuses :func:`verify` gives.
STATUSES = ("fixed", "not_fixed", "too_early", "no_leak_before")
#: Windows each side is cut into (at most).
SIDE_WINDOWS = 120
#: Fewest windows on the after side for a ``fixed``.
MIN_WINDOWS = 8


@dataclass(frozen=True)
class Side:
    """The numbers of one side of the fix (bytes, bytes/s, unix seconds).

    Attributes
    ----------
    start, end : float
        The side's first and last sample.
    slope_from : float
        Where the slope's stretch begins.
    samples : int
        Valid samples.
    slope, slope_interval : float, (float, float)
        Floor slope (bytes/s) and its 95 % interval.
    floor, floor_interval, peak, peak_interval : float, (float, float)
        Floor and peak at the end of the side, with 95 % intervals.
    verdict, pattern : str
        :func:`detector.analyze` on this side alone.
    onset : float or None
        Its onset, when it leaks.
    """

    start: float
    end: float
    slope_from: float
    samples: int
    slope: float
    slope_interval: tuple[float, float]
    floor: float
    floor_interval: tuple[float, float]
    peak: float
    peak_interval: tuple[float, float]
    verdict: str
    pattern: str
    onset: float | None = None

    def to_dict(self) -> dict:
        """JSON-serialisable (non-finite numbers become None)."""
        from ..report import _jsonable

        return _jsonable(self.__dict__)


@dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify`.

    Attributes
    ----------
    series : str
        The series id.
    status : str
        One of :data:`STATUSES`.
    fixed_at : float
        Unix seconds of the fix.
    before, after : Side or None
        The two sides (None when a side has no sample).
    reason : str
        One line saying why.
    ready_at : float or None
        When the old slope would have shown after the fix (unix seconds).
    needed_growth : float or None
        Growth the detector needs to see on the after side (bytes).
    fix_event : dict or None
        The event the fix time came from, if any.
    """

    series: str
    status: str
    fixed_at: float
    before: Side | None
    after: Side | None
    reason: str
    ready_at: float | None = None
    needed_growth: float | None = None
    fix_event: dict | None = field(default=None)

    @property
    def leak(self) -> bool:
        """True for ``not_fixed`` (the leak goes on): exit code 1, as a scan's leak."""
        return self.status == "not_fixed"

    def to_dict(self) -> dict:
        """JSON-serialisable."""
        from ..report import _jsonable

        return _jsonable({
            "series": self.series, "status": self.status, "fixed_at": self.fixed_at,
            "reason": self.reason, "ready_at": self.ready_at,
            "needed_growth": self.needed_growth, "fix_event": self.fix_event,
            "before": self.before.to_dict() if self.before else None,
            "after": self.after.to_dict() if self.after else None})


def verify(series: Series, fixed_at: float, *, config: Config | None = None,
           settle: float | None = None, fix_event: dict | None = None,
           until: float | None = None) -> Verification:
    """Compare a series before and after a fix (see the module docstring).

    Parameters
    ----------
    series : Series
        The memory series (bytes), or a breakdown's primary component.
    fixed_at : float
        When the fix was deployed (unix seconds).
    config : Config, optional
        Thresholds of :func:`detector.analyze` (``min_relative_growth`` and
        ``min_leak_duration`` also decide when the old slope would have shown).
    settle : float, optional
        Seconds after the fix left out of the after slope; default 20 % of
        the after side, at most 1800.
    fix_event : dict, optional
        The event ``fixed_at`` comes from, reported back.
    until : float, optional
        Judge as of this time (unix seconds): later samples are left out.

    Returns
    -------
    Verification
    """
    from .. import analyze

    config = config or Config()
    t, v = series.timestamps, series.values
    ok = np.isfinite(v)
    if until is not None:
        ok &= t <= until
    before_mask = ok & (t < fixed_at)
    after_mask = ok & (t >= fixed_at)

    def result(status, reason, before=None, after=None, **kw):
        return Verification(series.id, status, float(fixed_at), before, after, reason,
                            fix_event=fix_event, **kw)

    if not before_mask.any():
        return result("no_leak_before", "no sample before the fix")
    # (the restarts the series knows of: those outside each side are left out)
    rep_before = analyze(v[before_mask], t[before_mask], config=config,
                         restarts=series.restarts)
    ev = rep_before.evidence
    slope_from = next((float(x) for x in (ev.get("current_lifetime_start"), rep_before.onset,
                                          ((ev.get("lifetimes") or {}).get("restarts")
                                           or [None])[-1]) if x is not None),
                      float(t[before_mask][0]))
    before = _side(t[before_mask], v[before_mask], slope_from, rep_before)
    if not after_mask.any():
        return result("too_early", "no sample after the fix yet", before)
    ta, va = t[after_mask], v[after_mask]
    span_after = float(ta[-1] - fixed_at)
    settle = min(0.2 * span_after, 1800.0) if settle is None else float(settle)
    rep_after = analyze(va, ta, config=config, restarts=series.restarts)
    after = _side(ta, va, float(fixed_at) + settle, rep_after)

    grew_before = rep_before.leak or (before.slope_interval[0] > 0 and before.slope *
                                      (fixed_at - slope_from) >= config.min_relative_growth
                                      * before.floor)
    if not grew_before:
        why = "the leak had already stopped before the fix" if \
            rep_before.pattern == "resolved_leak" else "the series does not grow before the fix"
        return result("no_leak_before", f"{why} ({rep_before.pattern}, floor slope "
                      f"{_rate(before.slope)}): check the series and --fixed-at", before, after)
    level = after.floor if math.isfinite(after.floor) else before.floor
    need = config.min_relative_growth * level
    old = before.slope if before.slope > 0 else rep_before.slope
    wait = max(config.min_leak_duration, need / old if old > 0 else math.inf) + settle
    ready_at = float(fixed_at) + wait if math.isfinite(wait) else None
    numbers = dict(ready_at=ready_at, needed_growth=need)
    if rep_after.leak and span_after >= config.min_leak_duration:
        return result("not_fixed", f"still leaking after the fix ({rep_after.pattern}, floor "
                      f"slope {_rate(after.slope)}, was {_rate(before.slope)})", before, after,
                      **numbers)
    windows = window_stats(ta, va, fixed_at + settle, ta[-1], max_windows=SIDE_WINDOWS)
    shown = ready_at is not None and ta[-1] >= ready_at and len(windows) >= MIN_WINDOWS
    slower = after.slope_interval[1] < before.slope_interval[0]
    if shown and slower:
        return result("fixed", f"the floor slope fell from {_rate(before.slope)} to "
                      f"{_rate(after.slope)}; the old slope would have added {_mib(need)} "
                      f"by {_iso(ready_at)}", before, after, **numbers)
    if shown:
        reason = (f"the after slope ({_rate(after.slope)}, up to "
                  f"{_rate(after.slope_interval[1])}) is not yet clearly below the old one "
                  f"({_rate(before.slope)})")
    else:
        reason = (f"the old slope ({_rate(old)}) needs until {_iso(ready_at)} to add "
                  f"{_mib(need)}" if ready_at is not None else "no old slope to compare with")
    if rep_after.leak:
        reason = (f"growing after the fix ({_rate(after.slope)}), but for less than "
                  f"{config.min_leak_duration / 60:.0f} min; " + reason)
    return result("too_early", reason, before, after, **numbers)


def _side(t: np.ndarray, v: np.ndarray, slope_from: float, report) -> Side:
    slope_from = min(max(slope_from, float(t[0])), float(t[-1]))
    grow = window_stats(t, v, slope_from, float(t[-1]), max_windows=SIDE_WINDOWS)
    slope, lo, hi = robust_slope(grow.t, grow.low)
    whole = window_stats(t, v, float(t[0]), float(t[-1]), max_windows=SIDE_WINDOWS)
    last = slice(-max(MIN_WINDOWS, len(whole) // 10), None)  # the end of the side
    floor, f_lo, f_hi = median_interval(whole.low[last])
    peak, p_lo, p_hi = median_interval(whole.high[last])
    return Side(float(t[0]), float(t[-1]), slope_from, int(t.size), slope, (lo, hi), floor,
                (f_lo, f_hi), peak, (p_lo, p_hi), report.verdict, report.pattern,
                report.onset if report.leak else None)


def _rate(slope: float) -> str:
    if slope is None or not math.isfinite(slope):
        return "?"
    return f"{slope * 3600 / 2 ** 20:+.3g} MiB/h"


def _mib(x: float) -> str:
    return f"{x / 2 ** 20:.3g} MiB"


def _iso(ts: float | None) -> str:
    import datetime as _dt

    if ts is None:
        return "?"
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


__all__ = ["STATUSES", "Side", "Verification", "verify"]
