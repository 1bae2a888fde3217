"""The baselines practitioners use, each implemented from its published description.

Every baseline is a function ``(timestamps, values, limit) -> BaselineResult``
(unix seconds, bytes, bytes or None), run on the same series as the detector.

1. :func:`prometheus_predict_linear` -- the Prometheus alerting practice:
   ``predict_linear(x[6h], 24h) > limit`` (or, without a limit, predicted
   growth of more than 20 % of the current value within 24 h), ``for: 1h``,
   evaluated every 5 minutes.
2. :func:`coroot_slope` -- Coroot's memory-leak inspection: the OLS slope of
   the raw series above 10 MB per hour.
3. :func:`sigma_band` -- the seed practice: the sliding mean +- 2 sigma band
   of the last hour, held for 5 minutes (:mod:`detector.rules`).
4. :func:`mann_kendall_sen` -- Mann-Kendall with Sen's slope and no
   correction for autocorrelation, as Kats' ``MKDetector`` (p < 0.05 and an
   increasing trend).
5. :func:`precog` -- Precog (Jindal et al., "Online memory leak detection in
   the cloud-based infrastructures", ICSOC 2020 workshops): 5-minute median
   resampling, a 1-hour rolling median, change points where the MAD z-score
   of the first differences exceeds 3.5 (merged within 6 h), OLS on the
   segment since the last change point with R^2 > 0.8, and an alarm when the
   limit would be reached within 7 days (without a known limit: twice the
   highest value seen, our stand-in for the machine's memory).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import rules

HOUR = 3600.0
DAY = 86400.0


@dataclass(frozen=True)
class BaselineResult:
    """A baseline's verdict on one series.

    Attributes
    ----------
    leak : bool
    onset : float or None
        Unix seconds where the baseline places the leak (first alert, or the
        start of the segment it judged).
    """

    leak: bool
    onset: float | None = None


def _clean(t, v):
    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    ok = np.isfinite(t) & np.isfinite(v)
    t, v = t[ok], v[ok]
    order = np.argsort(t, kind="stable")
    return t[order], v[order]


def _resample(t, v, step, how="mean"):
    """Values on a regular grid of ``step`` seconds (mean or median per cell, NaN if empty)."""
    import pandas as pd

    cells = np.floor((t - t[0]) / step).astype(np.int64)
    s = pd.Series(v).groupby(cells)
    agg = s.median() if how == "median" else s.mean()
    grid = np.full(int(cells[-1]) + 1, np.nan)
    grid[agg.index.to_numpy()] = agg.to_numpy()
    return t[0] + np.arange(grid.size) * step, grid


def prometheus_predict_linear(timestamps, values, limit=None, *, window=6 * HOUR,
                              horizon=DAY, hold=HOUR, step=300.0,
                              growth_share=0.2) -> BaselineResult:
    """``predict_linear(x[6h], 24h) > limit`` held for 1 h (see module docstring)."""
    t, v = _clean(timestamps, values)
    if t.size < 3 or t[-1] - t[0] < window:
        return BaselineResult(False)
    g_t, g_v = _resample(t, v, min(step, window / 4))
    w = int(round(window / (g_t[1] - g_t[0]))) if g_t.size > 1 else 1
    ok = np.isfinite(g_v)
    x = g_t - g_t[0]
    # rolling least squares over the last w cells (missing cells left out)
    c = np.cumsum(np.r_[0, ok.astype(float)])
    sx = np.cumsum(np.r_[0, np.where(ok, x, 0.0)])
    sy = np.cumsum(np.r_[0, np.where(ok, g_v, 0.0)])
    sxx = np.cumsum(np.r_[0, np.where(ok, x * x, 0.0)])
    sxy = np.cumsum(np.r_[0, np.where(ok, x * g_v, 0.0)])
    end = np.arange(w, g_v.size + 1)
    n = c[end] - c[end - w]
    mx = (sx[end] - sx[end - w]) / np.maximum(n, 1)
    my = (sy[end] - sy[end - w]) / np.maximum(n, 1)
    vxx = (sxx[end] - sxx[end - w]) - n * mx * mx
    vxy = (sxy[end] - sxy[end - w]) - n * mx * my
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(vxx > 0, vxy / vxx, np.nan)
    at = x[end - 1]
    predicted = my + slope * (at + horizon - mx)
    current = my + slope * (at - mx)
    if limit is not None and limit > 0:
        cond = predicted > limit
    else:
        cond = (predicted - current) > growth_share * np.abs(current)
    cond &= n >= 3
    times = g_t[end - 1]
    held = rules.persistent(times, cond, for_seconds=hold)
    if not held.any():
        return BaselineResult(False)
    return BaselineResult(True, float(times[np.argmax(held)] - hold))


def coroot_slope(timestamps, values, limit=None, *, threshold=10e6 / HOUR) -> BaselineResult:
    """OLS slope of the raw series above 10 MB/h (``threshold`` in bytes per second)."""
    t, v = _clean(timestamps, values)
    if t.size < 3 or np.ptp(t) == 0:
        return BaselineResult(False)
    x = t - t.mean()
    slope = float(np.dot(x, v - v.mean()) / np.dot(x, x))
    return BaselineResult(slope > threshold, float(t[0]) if slope > threshold else None)


def sigma_band(timestamps, values, limit=None, *, window=HOUR, k=2.0,
               hold=300.0) -> BaselineResult:
    """Sliding mean +- 2 sigma band of the last hour, alert after 5 minutes outside."""
    t, v = _clean(timestamps, values)
    if t.size < 3:
        return BaselineResult(False)
    keep = np.r_[True, np.diff(t) > 0]
    t, v = t[keep], v[keep]
    alerts = rules.alert_intervals(t, v, rule="band", window=window, k=k, for_seconds=hold)
    if not alerts:
        return BaselineResult(False)
    return BaselineResult(True, float(alerts[0][0]))


def mann_kendall_sen(timestamps, values, limit=None, *, alpha=0.05,
                     max_points=5000) -> BaselineResult:
    """Mann-Kendall (no autocorrelation correction) on the series, as Kats' MKDetector."""
    from ..kernels import mann_kendall

    t, v = _clean(timestamps, values)
    if t.size < 4:
        return BaselineResult(False)
    if t.size > max_points:  # Kats works on the series as given; we average down for speed
        k = int(math.ceil(t.size / max_points))
        m = t.size // k
        v = v[:m * k].reshape(m, k).mean(axis=1)
        t = t[:m * k].reshape(m, k).mean(axis=1)
    res = mann_kendall(v, alpha=alpha)
    leak = res.trend == "increasing"
    return BaselineResult(leak, float(t[0]) if leak else None)


def precog(timestamps, values, limit=None, *, z=3.5, merge=6 * HOUR, r2=0.8,
           horizon=7 * DAY) -> BaselineResult:
    """Precog (Jindal et al. 2020); see the module docstring."""
    t, v = _clean(timestamps, values)
    if t.size < 3:
        return BaselineResult(False)
    g_t, g_v = _resample(t, v, 300.0, how="median")
    import pandas as pd

    smooth = pd.Series(g_v).rolling(12, min_periods=1).median().to_numpy()  # 1 h of 5 min
    ok = np.isfinite(smooth)
    g_t, smooth = g_t[ok], smooth[ok]
    if smooth.size < 12:
        return BaselineResult(False)
    d = np.diff(smooth)
    mad = np.median(np.abs(d - np.median(d)))
    score = 0.6745 * (d - np.median(d)) / mad if mad > 0 else np.zeros_like(d)
    cps = g_t[1:][np.abs(score) > z]
    merged = []
    for c in cps:
        if not merged or c - merged[-1] > merge:
            merged.append(float(c))
    start = merged[-1] if merged else float(g_t[0])
    seg = g_t >= start
    if seg.sum() < 12:  # less than an hour since the last change point: the one before
        start = merged[-2] if len(merged) >= 2 else float(g_t[0])
        seg = g_t >= start
    x, y = g_t[seg], smooth[seg]
    if x.size < 3 or np.ptp(x) == 0:
        return BaselineResult(False)
    xc = x - x.mean()
    slope = float(np.dot(xc, y - y.mean()) / np.dot(xc, xc))
    fit = y.mean() + slope * xc
    ss_res = float(np.sum((y - fit) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r_squared = 1 - ss_res / ss_tot if ss_tot > 0 else 0.0
    cap = limit if limit is not None and limit > 0 else 2.0 * float(np.max(v))
    if slope <= 0 or r_squared <= r2:
        return BaselineResult(False)
    eta = (cap - fit[-1]) / slope
    leak = eta <= horizon
    return BaselineResult(bool(leak), float(start) if leak else None)


#: Name -> baseline function, in the order reports list them.
BASELINES = {
    "prometheus": prometheus_predict_linear,
    "coroot": coroot_slope,
    "band": sigma_band,
    "mann_kendall": mann_kendall_sen,
    "precog": precog,
}
