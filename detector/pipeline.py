"""The analysis pipeline: from a validated Series to a Report.

Provisional stage (issue 2): an honest, simple trend test on block medians.
It tells steady growth that is still going on from flat, periodic and
stepped series, but knows nothing yet of restarts, GC floors or seasonality;
the full detector replaces :func:`judge` stage by stage.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .config import Config
from .report import Report
from .series import Series


def analyze(values, timestamps=None, *, limit=None, config: Config | None = None,
            series_id: str = "series") -> Report:
    """Decide whether a memory series is leaking.

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
        with ``values``; its last finite value is used), for ``time_to_limit``.
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
    if isinstance(values, Series):
        series = values
    elif isinstance(values, (pd.Series, pd.DataFrame)) and timestamps is None:
        series = Series.from_pandas(values, id=series_id)
    else:
        series = Series.from_arrays(values, timestamps, id=series_id)
    return judge(series, limit=_last_limit(limit, series), config=config,
                 timed=timestamps is not None or isinstance(values, (pd.Series, pd.DataFrame)))


def _last_limit(limit, series: Series) -> float | None:
    from .errors import InputError

    if limit is None:
        return None
    arr = np.asarray(limit, dtype=np.float64) if not np.isscalar(limit) else np.array([limit], float)
    if arr.ndim > 1:
        raise InputError(f"limit must be a scalar or 1-D, got shape {arr.shape}", source=series.id)
    finite = arr[np.isfinite(arr) & (arr > 0)]
    return float(finite[-1]) if finite.size else None


def block_medians(series: Series, n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Summarise a series by the medians of consecutive equal-length blocks.

    Parameters
    ----------
    series : Series
    n_blocks : int
        Number of blocks (fewer when the series has fewer valid samples).

    Returns
    -------
    (t, v) : numpy.ndarray
        Block mid times (unix seconds) and block medians (value units), for
        blocks holding at least one valid sample.
    """
    ok = np.isfinite(series.values)
    t, v = series.timestamps[ok], series.values[ok]
    k = max(1, min(n_blocks, t.shape[0]))
    edges = np.linspace(0, t.shape[0], k + 1).astype(np.int64)
    bt = np.empty(k)
    bv = np.empty(k)
    for i in range(k):
        a, b = edges[i], edges[i + 1]
        bt[i] = 0.5 * (t[a] + t[b - 1])
        bv[i] = np.median(v[a:b])
    return bt, bv


def judge(series: Series, *, limit: float | None, config: Config, timed: bool = True) -> Report:
    """Provisional verdict: significant, sizeable growth still going on."""
    evidence: dict = {"input": series.meta.to_dict(), "notes": series.meta.notes(),
                      "method": "provisional: Theil-Sen and Kendall tau on block medians"}
    missing = _missing_reason(series, config, timed)
    if missing:
        evidence["insufficient"] = missing
        return Report(leak=False, verdict="insufficient_data", pattern="insufficient_data",
                      score=0.0, slope=math.nan, evidence=evidence)

    bt, bv = block_medians(series, config.n_blocks)
    t0 = bt[0]
    rel_t = bt - t0
    slope, intercept, lo, hi = stats.theilslopes(bv, rel_t)
    tau = stats.kendalltau(rel_t, bv)
    p = float(tau.pvalue) if np.isfinite(tau.pvalue) else 1.0
    resid = bv - (intercept + slope * rel_t)
    noise = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
    duration = float(bt[-1] - bt[0])
    growth = slope * duration
    level = float(np.median(np.abs(bv))) or 1.0
    tail = len(bt) * 2 // 3
    tail_slope = stats.theilslopes(bv[tail:], rel_t[tail:])[0] if len(bt) - tail >= 5 else slope

    significant = p < config.alpha and slope > 0
    sizeable = growth >= config.min_relative_growth * level and \
        growth >= config.min_noise_ratio * max(noise, 1e-12 * level)
    still = tail_slope >= config.still_growing_ratio * slope
    leak = bool(significant and sizeable and still)
    if leak:
        pattern = "linear_growth"
    elif significant and sizeable:
        pattern = "resolved_leak"
    else:
        pattern = "stable"
    score = _score(p, growth / level if level else 0.0, config) if significant else 0.0
    score = score if leak else min(score, 0.49)
    evidence.update({"slope_interval": [float(lo), float(hi)], "kendall_tau": float(tau.statistic),
                     "p_value": p, "growth": growth, "relative_growth": growth / level,
                     "noise_sigma": noise, "tail_slope": float(tail_slope), "level": level})
    ttl = None
    if leak and limit is not None:
        last = float(bv[-1])
        ttl = max(0.0, (limit - last) / slope - (series.timestamps[-1] - bt[-1]))
        evidence["time_to_limit_interval"] = [
            max(0.0, (limit - last) / hi) if hi > 0 else None,
            max(0.0, (limit - last) / lo) if lo > 0 else None]
    onset = float(series.timestamps[np.isfinite(series.values)][0]) if leak else None
    return Report(leak=leak, verdict="leak" if leak else "no_leak", pattern=pattern,
                  score=score, slope=float(slope), onset=onset, changepoints=(), period=None,
                  time_to_limit=ttl, evidence=evidence)


def _missing_reason(series: Series, config: Config, timed: bool) -> str | None:
    n = series.n_valid
    if n < config.min_samples:
        return f"{n} valid samples, need at least {config.min_samples}"
    span = series.duration
    if timed and span < config.min_duration:
        return f"{span:.0f} s of history, need at least {config.min_duration:.0f} s"
    if np.isfinite(series.interval) and series.interval > 0:
        expected = span / series.interval + 1
        frac = 1 - n / expected
        if frac > config.max_missing_fraction:
            return (f"{frac:.0%} of the expected samples are missing, at most "
                    f"{config.max_missing_fraction:.0%} allowed")
    return None


def _score(p: float, relative_growth: float, config: Config) -> float:
    """Map significance and size of growth to [0, 1] (0.5 at the thresholds)."""
    sig = min(1.0, math.log10(max(p, 1e-300)) / math.log10(config.alpha))  # 1 at alpha
    size = min(4.0, relative_growth / max(config.min_relative_growth, 1e-12))
    return float(max(0.0, min(1.0, 0.5 * min(sig, 1.0) + 0.125 * size)))
