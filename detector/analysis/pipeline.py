"""The analysis pipeline: from input arrays to a Report.

Stages, each in its own module::

    Series (series.py)  ->  lifetimes split at restarts (restarts.py)
      -> per lifetime: time bins (regularise.py) -> dominant period (seasonality.py)
      -> floor points (floor.py) -> growth regime and its criteria (regimes.py)
      -> verdict, pattern, score, time to limit (here)

The verdict concerns the most recent lifetime; completed lifetimes are
replicates (an OOM-kill loop leaks in every one of them).
"""

from __future__ import annotations

import math

import numpy as np

from ..config import Config
from ..errors import InputError
from .floor import floor_points
from .regimes import RegimeVerdict, judge_floor
from .regularise import bin_series
from ..report import Report
from .restarts import find_lifetimes
from .seasonality import DAY, Period, find_period
from ..series import Series, _build


def analyze(values, timestamps=None, *, limit=None, config: Config | None = None,
            series_id: str = "series") -> Report:
    """Decide whether a memory series is leaking, and say why.

    Parameters
    ----------
    values : array_like or pandas.Series
        1-D values (bytes, counts); NaN = missing. A pandas Series with a
        ``DatetimeIndex`` supplies its own timestamps.
    timestamps : array_like, optional
        Unix seconds (int or float; ms/µs/ns detected by magnitude) or
        ``datetime64``, same length as ``values``. Unsorted and duplicated
        timestamps are handled. Default: one sample per second.
    limit : float or array_like, optional
        Memory limit in the unit of ``values`` (a scalar, or an array aligned
        with ``values``; its last finite positive value is used), for
        ``time_to_limit``.
    config : Config, optional
        Thresholds; default ``Config()``.
    series_id : str
        Name used in error messages.

    Returns
    -------
    Report

    Raises
    ------
    detector.InputError
        When the input cannot be used (not 1-D, not numeric, lengths differ).
    """
    import pandas as pd

    config = config or Config()
    if not isinstance(config, Config):
        raise InputError(f"config must be a detector.Config, got {type(config).__name__}",
                         source=series_id)
    is_pandas = isinstance(values, (pd.Series, pd.DataFrame))
    if isinstance(values, Series):
        series = values
    elif is_pandas and timestamps is None:
        series = Series.from_pandas(values, id=series_id)
    else:
        series = Series.from_arrays(values, timestamps, id=series_id)
    return judge(series, limit=_last_limit(limit, series), config=config,
                 timed=timestamps is not None or is_pandas or isinstance(values, Series))


def _last_limit(limit, series: Series) -> float | None:
    if limit is None:
        return None
    try:
        arr = np.atleast_1d(np.asarray(limit, dtype=np.float64))
    except (TypeError, ValueError):
        raise InputError(f"limit must be a number or an array of numbers, got {limit!r}",
                         source=series.id) from None
    if arr.ndim > 1:
        raise InputError(f"limit must be a scalar or 1-D, got shape {arr.shape}", source=series.id)
    finite = arr[np.isfinite(arr) & (arr > 0)]
    return float(finite[-1]) if finite.size else None


def _missing_reason(series: Series, config: Config, timed: bool) -> str | None:
    n = series.n_valid
    if n < config.min_samples:
        return f"{n} valid samples, need at least {config.min_samples}"
    ok = np.isfinite(series.values)
    span = float(series.timestamps[ok][-1] - series.timestamps[ok][0])
    if timed and span < config.min_duration:
        return f"{span:.0f} s of valid history, need at least {config.min_duration:.0f} s"
    if np.isfinite(series.interval) and series.interval > 0 and series.duration > 0:
        expected = series.duration / series.interval + 1
        frac = 1 - n / expected
        if frac > config.max_missing_fraction:
            return (f"{frac:.0%} of the expected samples are missing, at most "
                    f"{config.max_missing_fraction:.0%} allowed")
    return None


def _clean(series: Series, config: Config) -> tuple[Series, int]:
    if not config.negative_is_missing:
        return series, 0
    neg = series.values < 0
    n_neg = int(np.count_nonzero(neg))
    if not n_neg:
        return series, 0
    vals = series.values.copy()
    vals[neg] = np.nan
    ts = series.timestamps.copy()
    return _build(series.id, ts, vals, series.labels), n_neg


def _score(margin: float, config: Config) -> float:
    if margin == math.inf:
        return 1.0
    if margin == -math.inf:
        return 0.0
    return float(1.0 / (1.0 + math.exp(-config.score_steepness * max(-20.0, min(20.0, margin)))))


def judge(series: Series, *, limit: float | None, config: Config, timed: bool = True) -> Report:
    """Judge a validated series (see :func:`analyze`)."""
    evidence: dict = {"input": series.meta.to_dict(), "notes": series.meta.notes()}
    clean, n_neg = _clean(series, config)
    if n_neg:
        evidence["notes"].append(f"{n_neg} negative values treated as missing")
        evidence["input"]["n_negative"] = n_neg
    missing = _missing_reason(clean, config, timed)
    if missing:
        evidence["insufficient"] = missing
        return Report(leak=False, verdict="insufficient_data", pattern="insufficient_data",
                      score=0.0, slope=math.nan, evidence=evidence)

    ok = np.isfinite(clean.values)
    t_ok, v_ok = clean.timestamps[ok], clean.values[ok]
    lifetimes = find_lifetimes(t_ok, v_ok, config)
    current_bounds = lifetimes.bounds[-1]
    bins = bin_series(clean, config.max_bins, *current_bounds)
    period = find_period(bins.mean, bins.width, config)
    if period is not None and period.calendar:
        # a day or a week is exactly that long: re-bin so it spans a whole number of
        # bins, or the phases drift from cycle to cycle
        per_cycle = max(2, int(round(period.seconds / bins.width)))
        bins = bin_series(clean, config.max_bins, *current_bounds,
                          width=period.seconds / per_cycle)
        period = Period(period.seconds, per_cycle, period.strength, calendar=True)
    period_s = period.seconds if period else None
    if lifetimes.cycle is not None and (period_s is None or period_s < 0.9 * DAY):
        period_s = lifetimes.cycle  # a sawtooth's own cycle, measured from its drops

    def judge_lifetime(bounds, lt_bins=None, reference_high=None):
        lt_bins = lt_bins if lt_bins is not None else bin_series(clean, config.max_bins, *bounds)
        lt_period = period if period is not None and period.bins * lt_bins.width <= \
            (bounds[1] - bounds[0]) / 2 else None
        if lt_period is not None and lt_bins.width != bins.width:
            per_cycle = max(1, int(round(period.seconds / lt_bins.width)))
            if period.calendar:
                lt_bins = bin_series(clean, config.max_bins, *bounds,
                                     width=period.seconds / per_cycle)
            lt_period = Period(period.seconds, per_cycle, period.strength, period.calendar)
        fl = floor_points(lt_bins, lt_period, lifetimes.cycle)
        level = float(np.nanmedian(lt_bins.mean)) if np.isfinite(lt_bins.mean).any() else 0.0
        verdict = judge_floor(fl, level=level, period=lt_period.seconds if lt_period else None,
                              config=config, lifetime=bounds, reference_high=reference_high)
        return verdict, fl

    # lifetimes in order: each healthy one sets the level the next must exceed to be new
    completed = []
    reference = None
    for bounds in lifetimes.bounds[:-1]:
        verdict, fl = judge_lifetime(bounds, reference_high=reference)
        if bounds[1] - bounds[0] >= config.min_leak_duration:
            completed.append((bounds, verdict))
        settled = not verdict.growth_found or bool(
            {"not_saturating", "current"} & set(verdict.failed))
        long_enough = bounds[1] - bounds[0] >= config.min_leak_duration
        reference = float(np.percentile(fl.y, 90)) if (
            long_enough and settled and not verdict.leak and fl.y.size >= 3) else None
    current, floor = judge_lifetime(current_bounds, bins, reference_high=reference)
    leaking_completed = [b for b, v in completed if v.leak]

    # --- decide -------------------------------------------------------------------------
    n_lifetimes = len(lifetimes.bounds)
    current_age = current_bounds[1] - current_bounds[0]
    typical_life = float(np.median([b[1] - b[0] for b, _ in completed])) \
        if len(completed) >= 2 else 0.0
    # too young to judge: shorter than a leak must last, or (once restarts recur) than
    # half a usual lifetime
    current_short = current_age < max(config.min_leak_duration, 0.5 * typical_life) or \
        current.stats.get("floor_points", 0) < config.min_floor_points
    # replicates: earlier lifetimes leaked and the current one leaks too, or is still
    # too short to tell, or is already climbing again
    climbing = current.growth_found and current.slope > 0 and not (
        {"significant", "current"} & set(current.failed))
    current_consistent = current.leak or current_short or climbing
    # a process that leaks grows with uptime, from (nearly) its start to its death; memory
    # that sits at its baseline for most of each cycle and ramps only at the end is work
    # that comes and goes (a batch job), even when each ramp is cut off by a drop
    coverage = [(b[1] - v.onset) / max(b[1] - b[0], 1e-9) for b, v in completed
                if v.leak and v.onset is not None]
    grows_with_uptime = bool(coverage) and float(np.median(coverage)) >= \
        config.restart_loop_min_coverage
    # ... and a ramp in the current lifetime no longer or larger than those released
    # before is the same work again
    released = [v for b, v in completed if v.leak and v.onset is not None
                and (b[1] - v.onset) / max(b[1] - b[0], 1e-9) < config.restart_loop_min_coverage]
    recurring_work = len(released) >= 2 and not grows_with_uptime
    repeat_of_work = recurring_work and current.leak and (
        current.stats.get("growth", math.inf) <= 1.5 * max(v.stats["growth"] for v in released)
        and current.stats.get("duration", math.inf) <= 1.5 * max(v.stats["duration"]
                                                                for v in released))
    restart_loop = (len(leaking_completed) >= 1
                    and len(leaking_completed) >= 0.6 * max(1, len(completed))
                    and grows_with_uptime
                    and current_consistent
                    and len(leaking_completed) + 1 >= config.min_leaking_lifetimes)
    leak = bool((current.leak and not repeat_of_work) or restart_loop)

    if restart_loop:
        pattern = "restart_loop"
    elif recurring_work and not leak:
        pattern = "batch_spikes"
    elif current.leak:
        if lifetimes.cycle is not None:
            pattern = "gc_floor_growth"
        elif period is not None:
            pattern = "periodic_growth"
        else:
            pattern = {"stepwise": "stepwise_growth", "convex": "convex_growth"}.get(
                current.shape, "linear_growth")
    else:
        pattern = _benign_pattern(current, completed, lifetimes.cycle, period, n_lifetimes,
                                  current_bounds, config)

    # --- numbers ------------------------------------------------------------------------
    if restart_loop:
        margin = min(min(v.margin for b, v in completed if v.leak), 5.0)
        if current.leak:
            margin = min(margin, current.margin)
        slope = current.slope if current.growth_found and current.slope > 0 else float(
            np.median([v.slope for b, v in completed if v.leak]))
        slope_interval = current.slope_interval if current.growth_found else (math.nan,
                                                                               math.nan)
        run_start = leaking_completed[0][0]
        onset = float(run_start)
    else:
        margin = current.margin
        slope = current.slope
        slope_interval = current.slope_interval
        onset = current.onset if leak else None
    score = _score(margin, config)
    if leak:
        score = max(score, 0.5)
    else:
        score = min(score, 0.49)

    revealed = None
    if n_lifetimes >= 3 and restart_loop:
        revealed = float(np.median(lifetimes.peaks[:-1]))
    use_limit = limit if limit is not None else revealed
    ttl, ttl_interval = None, None
    if leak and use_limit is not None and slope > 0:
        recent = bins.hi[bins.t >= bins.t[-1] - max(period_s or 0.0, 0.05 * (
            current_bounds[1] - current_bounds[0]))]
        peak = float(np.nanmax(recent)) if np.isfinite(recent).any() else float(v_ok[-1])
        headroom = max(0.0, use_limit - peak)
        ttl = headroom / slope
        lo, hi = slope_interval
        ttl_interval = [headroom / hi if hi and hi > 0 else None,
                        headroom / lo if lo and lo > 0 else None]

    changepoints = sorted(set([float(x) for x in lifetimes.restarts] +
                              [float(c) for c in current.changepoints]))
    evidence.update({
        "slope": slope,
        "slope_interval": list(slope_interval),
        "margins": {k: (None if not math.isfinite(v) else round(v, 4))
                    for k, v in current.margins.items()},
        "failed": current.failed,
        "regime": current.stats,
        "shape": current.shape,
        "growth_end": current.growth_end,
        "floor_method": floor.method,
        "period": None if period is None else {"seconds": period.seconds,
                                               "strength": period.strength},
        "lifetimes": {"count": n_lifetimes, "restarts": [float(x) for x in lifetimes.restarts],
                      "completed_leaking": len(leaking_completed),
                      "growth_coverage": (round(float(np.median(coverage)), 4)
                                          if coverage else None),
                      "completed_judged": len(completed),
                      "peaks": [float(p) for p in lifetimes.peaks],
                      "gc_like_drops": lifetimes.fast_drops},
        "limit": limit, "revealed_limit": revealed,
        "time_to_limit_interval": ttl_interval,
    })
    if pattern == "resolved_leak":
        evidence["resolved_onset"] = current.onset if current.growth_found and \
            current.onset is not None else (completed[-1][1].onset if completed else None)
    if restart_loop:
        evidence["current_lifetime_start"] = current_bounds[0]
    return Report(leak=leak, verdict="leak" if leak else "no_leak", pattern=pattern,
                  score=score, slope=float(slope), onset=onset, changepoints=changepoints,
                  period=period_s, time_to_limit=ttl, evidence=evidence)


def _benign_pattern(current: RegimeVerdict, completed, cycle, period, n_lifetimes,
                    bounds, config: Config) -> str:
    if any(v.leak for b, v in completed) and not current.leak:
        return "resolved_leak"
    restarts = n_lifetimes >= 2
    if current.growth_found:
        failed = set(current.failed)
        if current.shape == "level_shift":
            return "scheduled_restarts" if restarts else "level_shift"
        if "not_saturating" in failed:
            return "scheduled_restarts" if restarts else "warmup"
        if "new_high" in failed:
            return "recovery"
        span = max(bounds[1] - bounds[0], 1e-9)
        if "current" in failed and current.growth_end is not None and current.onset is not None \
                and current.growth_end - current.onset < 0.05 * span:
            return "scheduled_restarts" if restarts else "level_shift"  # a step, not a slope
        if "current" in failed and not failed & {"above_noise", "relative_growth"}:
            early = current.onset is not None and (current.onset - bounds[0]) <= 0.1 * span
            return ("scheduled_restarts" if restarts else "warmup") if early and \
                current.shape == "decelerating" else "resolved_leak"
    if restarts:
        return "scheduled_restarts"
    if cycle is not None:
        return "gc_sawtooth"
    if period is not None:
        return "periodic"
    if current.shape == "level_shift":
        return "level_shift"
    return "stable"
