"""The analysis pipeline: from input arrays to a Report.

Stages, each in its own module::

    Series (series.py)  ->  lifetimes split at restarts (restarts.py)
      -> per lifetime: time bins (regularise.py) -> dominant period (seasonality.py)
      -> floor points (floor.py) -> growth regime, growth checks (growth.py)
      -> look-alikes (lookalikes.py) -> lifetime verdict (verdict.py)
      -> completed lifetimes as replicates (replicates.py)
      -> verdict, pattern, score, time to limit (here)

The verdict concerns the most recent lifetime; completed lifetimes are
replicates (an OOM-kill loop leaks in every one of them).
"""

from __future__ import annotations

import copy
import math
import sys

import numpy as np

from .. import malloc
from ..config import Config
from ..errors import InputError
from ..kernels import order
from ..report import Report
from ..series import Series, _build, restart_times
from . import lookalikes
from .checks import format_value
from .floor import Floor, floor_points
from .regularise import Bins, bin_series
from .replicates import judge_replicates, loop_onset, loop_possible
from .restarts import (GIVEN_EDGE_SAMPLES, Lifetimes, find_lifetimes, floor_peaks,
                       given_lifetimes, process_exit)
from .seasonality import DAY, Period, find_period
from .verdict import benign_pattern, judge_lifetime, leak_pattern


#: Completed lifetimes judged as replicates of the current one: the most recent ones. Four,
#: twice the two a restart loop needs at least (``Config.min_leaking_lifetimes`` - 1): each
#: costs a full judgement (floor, segments, climb, trend search). Eight until 2026-12-07 (24
#: before that): four gave the same leak verdicts on synthetic seeds 0-9, the injected set's
#: seeds 0-5 (both halves) and memorytools, at half the cost of the shapes with many
#: lifetimes, though 50 series changed the outcome of a loop check (docs/algorithm.md).
MAX_JUDGED_LIFETIMES = 4


def analyze(values, timestamps=None, *, limit=None, restarts=None,
            config: Config | None = None, series_id: str = "series") -> Report:
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
    restarts : array_like, optional
        When the process restarted, if you know (a restart counter, a process start
        time, a deploy log): times in the units ``timestamps`` may take (unix seconds,
        ms, µs or ns, ``datetime64``). The series is split into lifetimes there and
        only there: a drop at another time is not a restart, and one at a given time
        is, wherever memory lands. An empty list says there was no restart. Default
        None: a :class:`~detector.Series`' own (read from a ``restarts`` or
        ``start_time`` column of its file), else found from the drops (sharp, and back
        to about where the lifetime began). Times outside the series are left out.
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
    config = config or Config()
    if not isinstance(config, Config):
        raise InputError(f"config must be a detector.Config, got {type(config).__name__}",
                         source=series_id)
    pd = sys.modules.get("pandas")  # a pandas object needs pandas loaded; an array does not
    is_pandas = pd is not None and isinstance(values, (pd.Series, pd.DataFrame))
    if isinstance(values, Series):
        series = values
    elif is_pandas and timestamps is None:
        series = Series.from_pandas(values, id=series_id)
    else:
        series = Series.from_arrays(values, timestamps, id=series_id)
    return judge(series, limit=_last_limit(limit, series), config=config,
                 timed=timestamps is not None or is_pandas or isinstance(values, Series),
                 restarts=restart_times(restarts, series.id))


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
    ok = np.isfinite(series.values)
    n = int(np.count_nonzero(ok))
    if n < config.min_samples:
        return f"{n} valid samples, need at least {config.min_samples}"
    if n == 0:  # (with min_samples 0)
        return "no valid samples"
    first, last = int(ok.argmax()), ok.shape[0] - 1 - int(ok[::-1].argmax())
    span = float(series.timestamps[last] - series.timestamps[first])
    if timed and span < config.min_duration:
        return f"{span:.0f} s of valid history, need at least {config.min_duration:.0f} s"
    if np.isfinite(series.interval) and series.interval > 0 and series.duration > 0:
        expected = series.duration / series.interval + 1
        frac = 1 - n / expected
        if frac > config.max_missing_fraction:
            return (f"{frac:.0%} of the expected samples are missing, at most "
                    f"{config.max_missing_fraction:.0%} allowed")
    return None


def without_exit(series: Series, config: Config) -> tuple[Series, tuple[float, int] | None]:
    """``series`` without its process's exit at the end, when ``config.process_exit``
    (:func:`.restarts.process_exit`); with the exit's unix seconds and the number of
    samples cut, or None when nothing is cut."""
    if not config.process_exit:
        return series, None
    ok = np.flatnonzero(np.isfinite(series.values))
    at = process_exit(series.values[ok])
    if at is None:
        return series, None
    cut = int(ok[at])
    exit_time = float(series.timestamps[cut])
    kept = _build(series.id, series.timestamps[:cut].copy(), series.values[:cut].copy(),
                  series.labels, series.restarts)
    return kept, (exit_time, series.values.shape[0] - cut)


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
    return _build(series.id, ts, vals, series.labels, series.restarts), n_neg


def _score(margin: float, config: Config) -> float:
    if margin == math.inf:
        return 1.0
    if margin == -math.inf:
        return 0.0
    return float(1.0 / (1.0 + math.exp(-config.score_steepness * max(-20.0, min(20.0, margin)))))


def judge(series: Series, *, limit: float | None, config: Config, timed: bool = True,
          restarts: np.ndarray | None = None) -> Report:
    """Judge a validated series (see :func:`analyze`); ``restarts``: unix seconds of the
    restarts the caller knows of (None: the series' own, :attr:`Series.restarts`, else
    found from the drops)."""
    if restarts is None:
        restarts = series.restarts
    malloc.tune()  # once per process: reuse the pages of freed arrays (see detector.malloc)
    evidence: dict = {"input": series.meta.to_dict(), "notes": series.meta.notes()}
    clean, n_neg = _clean(series, config)
    if n_neg:
        evidence["notes"].append(f"{n_neg} negative values treated as missing")
        evidence["input"]["n_negative"] = n_neg
    clean, exited = without_exit(clean, config)
    if config.process_exit:  # a test run (its trace cuts the exit too): when it exited
        evidence["input"]["process_exit"] = exited[0] if exited is not None else None
    if exited is not None:
        evidence["notes"].append(f"the process exited at {exited[0]:.0f} (unix s): the last "
                                 f"{exited[1]} samples are not judged")
    missing = _missing_reason(clean, config, timed)
    if missing:
        evidence["insufficient"] = missing
        return Report(leak=False, verdict="insufficient_data", pattern="insufficient_data",
                      score=0.0, slope=math.nan, evidence=evidence)

    ok = np.isfinite(clean.values)
    if ok.all():  # every sample finite: the series' own (read-only) arrays, not copies
        t_ok, v_ok = clean.timestamps, clean.values
    else:
        t_ok, v_ok = clean.timestamps[ok], clean.values[ok]
    if restarts is not None:
        lifetimes = given_lifetimes(t_ok, v_ok, restarts, config)
        evidence["notes"].append(_given_restarts_note(lifetimes, restarts.size))
    else:
        lifetimes = find_lifetimes(t_ok, v_ok, config)
    if lifetimes.loop_reading is not None:
        # the GC floor read point by point: kept only when its lifetimes make a loop
        loop = _judge_lifetimes(lifetimes.loop_reading, clean, t_ok, v_ok,
                                copy.deepcopy(evidence), limit=limit, config=config,
                                loop_only=True)
        if loop is not None and loop.pattern == "restart_loop":
            loop.evidence["notes"].append(
                "restarts read from the floor of the GC cycles point by point (lives of a "
                "few cycles lose their trough and peak to a 3-point median): they make a "
                "restart loop")
            loop.evidence["lifetimes"]["floor_reading"] = "point_by_point"
            return loop
    return _judge_lifetimes(lifetimes, clean, t_ok, v_ok, evidence, limit=limit,
                            config=config)


def _given_restarts_note(lifetimes: Lifetimes, given: int) -> str:
    """What became of the ``given`` restart times: where the series is split, and those
    left out (outside it, within a few samples of either end)."""
    used = lifetimes.restarts.size
    text = (f"restarts given: the series is split at {used} and only there" if used else
            "restarts given: none splits the series; no drop is taken for a restart")
    left = []
    if lifetimes.given_outside:
        left.append(f"{lifetimes.given_outside} of the {given} times given fall outside "
                    "the samples" + (" (all: are they in the samples' unit?)"
                                     if lifetimes.given_outside == given else ""))
    if lifetimes.given_at_edges:
        left.append(f"{lifetimes.given_at_edges} within {GIVEN_EDGE_SAMPLES} samples of "
                    "an end (too short a lifetime to judge)")
    return text + ("; left out: " + ", ".join(left) if left else "")


def current_bins(series: Series, bounds: tuple[float, float], config: Config
                 ) -> tuple[Bins, Period | None]:
    """The current lifetime's bins (at most ``Config.max_bins``) and the window's
    dominant period, found on them.

    Parameters
    ----------
    series : Series
        The whole series (value units, e.g. bytes).
    bounds : (float, float)
        First and last unix seconds of the current lifetime.
    config : Config

    Returns
    -------
    (Bins, Period or None)
        For a day or a week the bins are re-made so the period spans a whole number of
        them, or the phases drift from cycle to cycle.
    """
    bins = bin_series(series, config.max_bins, *bounds)
    period = find_period(bins.mean, bins.width, config)
    if period is not None and period.calendar:
        per_cycle = max(2, int(round(period.seconds / bins.width)))
        bins = bin_series(series, config.max_bins, *bounds, width=period.seconds / per_cycle)
        period = Period(period.seconds, per_cycle, period.strength, calendar=True)
    return bins, period


def lifetime_floor(series: Series, bounds: tuple[float, float], config: Config,
                   period: Period | None, period_width: float, cycle: float | None, *,
                   completed: bool, bins: Bins | None = None
                   ) -> tuple[Bins, Period | None, Floor]:
    """The bins of one lifetime, the period as it sees it, and its floor points.

    Parameters
    ----------
    series : Series
        The whole series (its values in value units, e.g. bytes).
    bounds : (float, float)
        First and last unix seconds of the lifetime.
    config : Config
        ``max_bins``; ``completed_max_bins`` for a completed lifetime.
    period : Period or None
        The dominant period found on the current lifetime's bins.
    period_width : float
        Width of those bins (seconds): ``period.bins`` counts them.
    cycle : float or None
        A sawtooth's cycle (seconds), from its drops.
    completed : bool
        Whether the lifetime ended with a restart (binned at most
        ``completed_max_bins``; the current one at most ``max_bins``).
    bins : Bins, optional
        The lifetime's bins when already made (the current lifetime's).

    Returns
    -------
    (Bins, Period or None, Floor)
    """
    max_bins = min(config.max_bins, config.completed_max_bins) if completed else config.max_bins
    bins = bins if bins is not None else bin_series(series, max_bins, *bounds)
    lt_period = period if period is not None and period.seconds <= \
        (bounds[1] - bounds[0]) / 2 else None
    if lt_period is not None and bins.width != period_width:
        per_cycle = max(1, int(round(period.seconds / bins.width)))
        if period.calendar:
            bins = bin_series(series, max_bins, *bounds, width=period.seconds / per_cycle)
        lt_period = Period(period.seconds, per_cycle, period.strength, period.calendar)
    return bins, lt_period, floor_points(bins, lt_period, cycle)


def _judge_lifetimes(lifetimes: Lifetimes, clean: Series, t_ok: np.ndarray,
                     v_ok: np.ndarray, evidence: dict, *, limit: float | None,
                     config: Config, loop_only: bool = False) -> Report | None:
    """Judge a series (``clean``, its finite samples ``t_ok``, ``v_ok``) split into
    ``lifetimes``; ``evidence`` holds what :func:`judge` found so far (input, notes).
    ``loop_only``: for a reading kept only when it makes a restart loop; None, without
    judging any lifetime, when the floors alone rule a loop out
    (:func:`.replicates.loop_possible`)."""
    window = float(t_ok[-1] - t_ok[0])
    current_bounds = lifetimes.bounds[-1]
    bins, period = current_bins(clean, current_bounds, config)
    period_s = period.seconds if period else None
    if lifetimes.cycle is not None and (period_s is None or period_s < 0.9 * DAY):
        period_s = lifetimes.cycle  # a sawtooth's own cycle, measured from its drops

    def judge_one(bounds, prepared, reference_high=None):
        lt_bins, lt_period, fl = prepared
        # numpy's nanmedian and nanpercentile, the same floats (kernels.order) at a fifth
        # of their cost: empty bins are NaN in mean, lo and hi alike
        filled = np.isfinite(lt_bins.mean)
        level = float(order.median(lt_bins.mean[filled])) if filled.any() else 0.0
        swing = float(order.percentiles(lt_bins.hi[filled], (95,))[0]
                      - order.percentiles(lt_bins.lo[filled], (5,))[0]) if filled.any() else 0.0
        return judge_lifetime(fl, level=level, swing=swing,
                              period=lt_period.seconds if lt_period else None,
                              config=config, bounds=bounds, reference_high=reference_high)

    # growth shorter than this never counts (a share of the window for short windows)
    min_duration = min(config.min_leak_duration, config.min_leak_fraction * window)
    # the series' typical value, which only the loop checks read (they need completed
    # lifetimes): a median of every sample, not taken for a single lifetime
    level = order.median(v_ok) if len(lifetimes.bounds) > 1 else math.nan

    # judge every lifetime; the completed ones together with the current. A completed
    # lifetime is judged when it is as long as growth must last, or (in a loop of short
    # lives) at least half as long as the usual lifetime
    completed, floors = [], []
    reference, healthy = None, None
    lives = [b[1] - b[0] for b in lifetimes.bounds[:-1]]
    judged_from = min(min_duration, 0.5 * float(np.median(lives))) if lives else 0.0
    # every completed lifetime long enough to judge, judged or not: they give the clock of
    # the restarts and a loop's onset
    long_lives = [b for b in lifetimes.bounds[:-1] if b[1] - b[0] >= judged_from]
    # the most recent lifetimes are the replicates of the current one (MAX_JUDGED_LIFETIMES
    # of them; each costs a few ms, and a week of hourly restarts has 160)
    recent = lifetimes.bounds[:-1][-MAX_JUDGED_LIFETIMES:]
    prepared = [lifetime_floor(clean, bounds, config, period, bins.width, lifetimes.cycle,
                               completed=True) for bounds in recent]
    current_prepared = lifetime_floor(clean, current_bounds, config, period, bins.width,
                                      lifetimes.cycle, completed=False, bins=bins)
    restart_times = [b[0] for b in long_lives[1:]] + [current_bounds[0]]
    # under a GC sawtooth the peaks that must hold are the floor's (restarts.floor_peaks)
    hold_peaks = floor_peaks(t_ok, v_ok, lifetimes.bounds, lifetimes.cycle) \
        if lifetimes.cycle is not None and len(lifetimes.bounds) >= 3 else None
    long_enough = [b[1] - b[0] >= judged_from for b in recent]
    if loop_only and not loop_possible(
            [b for b, ok in zip(recent, long_enough) if ok],
            [p[2] for p, ok in zip(prepared, long_enough) if ok],
            current_bounds, current_prepared[2], lifetimes.peaks, level=level,
            config=config, restarts=restart_times, limit=limit, hold_peaks=hold_peaks):
        return None
    for bounds, prep, judged in zip(recent, prepared, long_enough):
        # a completed lifetime ends at its drop: what it reached is not compared with
        # the lifetime before (a loop's lives all climb to the same kill)
        verdict = judge_one(bounds, prep)
        fl = prep[2]
        if judged:
            completed.append(verdict)
            floors.append(fl)
        settled = not verdict.regime.found or verdict.holds("warmup") or \
            verdict.holds("resolved_leak")
        # the last healthy lifetime sets the level the current one must exceed
        healthy = bounds if (
            judged and settled and not verdict.leak and fl.y.size >= 3) else None
    if healthy is not None:
        # read on the current lifetime's grid: a floor of wider bins sits lower (the
        # lowest sample of more samples), and the current floor is compared with it
        fine = lifetime_floor(clean, healthy, config, period, bins.width, lifetimes.cycle,
                              completed=False)[2]
        reference = float(np.percentile(fine.y, 90))
    current = judge_one(current_bounds, current_prepared, reference_high=reference)
    floor = current_prepared[2]
    # the first long lifetime began with the window (or a short one), not with a restart
    reps = judge_replicates(completed, floors, current, floor, lifetimes.peaks, level=level,
                            config=config, limit=limit, restarts=restart_times,
                            hold_peaks=hold_peaks)
    restart_loop = reps.restart_loop.holds
    growth_real = current.growth_real or restart_loop

    # --- the verdict: a short combination of named checks ------------------------------
    leak = (current.leak and not reps.batch_work.holds) or restart_loop
    readings = [lookalikes.gc_sawtooth(lifetimes.cycle, growth_real),
                lookalikes.periodic_load(period.seconds if period else None,
                                         bool(period and period.calendar), growth_real),
                lookalikes.scheduled_restarts(len(lifetimes.bounds), restart_loop, current.leak),
                lookalikes.partial_release(lifetimes.rejected, current.regime.releases)]
    if restart_loop:
        pattern = "restart_loop"
    elif reps.batch_work.holds and not leak:
        pattern = reps.pattern
    elif leak:
        pattern = leak_pattern(current, cycle=lifetimes.cycle, periodic=period is not None)
    else:
        pattern = benign_pattern(current, completed_leaked=any(v.leak for v in completed),
                                 restarts=len(lifetimes.bounds) >= 2, cycle=lifetimes.cycle,
                                 periodic=period is not None)

    # --- numbers ------------------------------------------------------------------------
    if restart_loop:
        margin = min(min(c.margin for c in reps.loop_checks), 5.0)
        if current.leak:
            margin = min(margin, current.margin)
        climbing = current.regime.found and current.slope > 0
        rising = [v.slope for v in completed if v.regime.found and v.slope > 0]
        slope = current.slope if climbing or not rising else float(np.median(rising))
        slope_interval = current.regime.slope_interval if climbing else (math.nan, math.nan)
        # the loop began with the first of the lifetimes, judged or not, that climb as the
        # judged ones do (a loop has judged lifetimes: its checks need at least one)
        onset = loop_onset(t_ok, v_ok, long_lives, [lv.bounds for lv in completed])
    else:
        margin = current.margin
        slope = current.slope
        slope_interval = current.regime.slope_interval
        onset = current.onset if leak else None
    score = _score(margin, config)
    score = max(score, 0.5) if leak else min(score, 0.49)

    revealed = None
    if len(lifetimes.bounds) >= 3 and restart_loop:
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
                              [float(c) for c in current.regime.changepoints]))
    deciding = reps.restart_loop if restart_loop else (
        reps.batch_work if current.leak and reps.batch_work.holds else current.deciding)
    # the floor's long-run trend, when it was worked out and set aside while the local
    # climb decided: what explained it away is part of why the series is no leak (the
    # climb decides then: a current lifetime with a set-aside trend does not leak, so
    # neither a restart loop nor batch work decided a no-leak verdict over it)
    aside = None if leak else current.set_aside
    evidence.update({
        "decision": _decision_text(leak, pattern, deciding, aside),
        "long_run_trend": None if aside is None else _set_aside(aside),
        "growth": [c.to_dict() for c in current.growth],
        "lookalikes": [c.to_dict() | {"role": "veto"} for c in current.vetoes]
        + [reps.batch_work.to_dict() | {"role": "veto"}]
        + [c.to_dict() | {"role": "reading"} for c in readings],
        "restart_loop": reps.restart_loop.to_dict(),
        "slope": slope,
        "slope_interval": list(slope_interval),
        "regime": current.regime.stats(),
        "shape": current.shape,
        "growth_end": current.growth_end,
        "floor_method": floor.method,
        "period": None if period is None else {"seconds": period.seconds,
                                               "strength": period.strength},
        "lifetimes": {"count": len(lifetimes.bounds),
                      "restarts": [float(x) for x in lifetimes.restarts],
                      **reps.to_dict(),
                      "peaks": [float(p) for p in lifetimes.peaks],
                      "gc_like_drops": lifetimes.fast_drops,
                      "judged": [{"start": v.bounds[0], "end": v.bounds[1], "leak": v.leak,
                                  "decided_by": None if v.deciding is None else
                                  v.deciding.reason} for v in completed],
                      "partial_drops": lifetimes.rejected,
                      "restarts_from": lifetimes.source},
        "limit": limit, "revealed_limit": revealed,
        "time_to_limit_interval": ttl_interval,
    })
    if pattern == "resolved_leak":
        old = [v for v in completed if v.leak]
        evidence["resolved_onset"] = current.onset if current.regime.found and \
            current.onset is not None else (old[-1].onset if old else None)
    if restart_loop:
        evidence["current_lifetime_start"] = current_bounds[0]
    return Report(leak=leak, verdict="leak" if leak else "no_leak", pattern=pattern,
                  score=score, slope=float(slope), onset=onset, changepoints=changepoints,
                  period=period_s, time_to_limit=ttl, evidence=evidence)


def _set_aside(trend) -> dict:
    """The long-run trend a no-leak verdict set aside: where it began (unix seconds), its
    growth (value units, and as a share of the lifetime's level), duration (seconds) and
    slope (value units a second), and the check that decided against it (its name and
    sentence)."""
    r, deciding, relative = trend.regime, trend.deciding, trend.check("relative_growth")
    return {"onset": float(r.onset), "growth": float(r.growth),
            "relative_growth": None if relative is None else relative.value,
            "duration": float(r.duration), "slope": float(r.slope),
            "decided_by": deciding.name, "reason": deciding.reason}


def _check_sentence(deciding) -> str:
    """'look-alike warmup (matched): <reason>' or 'check above_noise (fails): <reason>'."""
    kind = "look-alike" if deciding.name in lookalikes.VETOES else "check"
    state = "matched" if deciding.holds and kind == "look-alike" else (
        "holds" if deciding.holds else "fails")
    return f"{kind} {deciding.name} ({state}): {deciding.reason}"


def _decision_text(leak: bool, pattern: str, deciding, aside=None) -> str:
    """One sentence: the verdict and the check that decided it, and with ``aside`` (the
    long-run trend a no-leak verdict set aside) the check that decided against that."""
    head = f"{'leak' if leak else 'no leak'} ({pattern}): "
    if aside is None:
        return head + ("no growth regime in the floor" if deciding is None else
                       f"decided by {_check_sentence(deciding)}")
    r = aside.regime
    trend = f"the floor's long-run trend (a rise of {format_value(r.growth)} over " \
            f"{format_value(r.duration / 3600.0)} h) was set aside by " \
            f"{_check_sentence(aside.deciding)}"
    if deciding is None:
        return head + f"no growth regime in the floor's recent climb, and {trend}"
    return head + f"decided by {_check_sentence(deciding)}; {trend}"
