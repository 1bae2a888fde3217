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
   correction for autocorrelation, as Kats' ``MKDetector`` with its defaults
   (exponential smoothing 0.2, p < 0.05, Kendall's tau > 0.8, increasing).
5. :func:`precog` -- Precog (Jindal et al., "Online memory leak detection in
   the cloud-based infrastructures", ICSOC 2020 workshops): 5-minute median
   resampling, a 1-hour rolling median, change points where the MAD z-score
   of the absolute first differences exceeds 3.5 (merged within 6 h), OLS
   from a change point to the end with R^2 > 0.8 over at least 6 h, and an
   alarm when the limit would be reached within 7 days (without a known
   limit: twice the highest value seen, our stand-in for the machine's
   memory).
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


def mann_kendall_sen(timestamps, values, limit=None, *, alpha=0.05, tau=0.8,
                     smoothing=0.2, max_points=5000) -> BaselineResult:
    """Mann-Kendall with Sen's slope and no autocorrelation correction, as Kats' MKDetector.

    Kats (``kats/detectors/trend_mk.py``, ``MKDetector(threshold=0.8,
    alpha=0.05)``) smooths the series by simple exponential smoothing
    (``smoothing_level=0.2``), runs ``pymannkendall.original_test`` (no
    correction for serial correlation) and reports an increasing trend when
    the test is significant at ``alpha`` and Kendall's tau exceeds
    ``threshold`` (0.8 by default; 0 means "p-value only"). Kats looks back
    ``window_size`` daily points; memory series are judged here over their
    whole window, averaged down to at most ``max_points`` samples for speed.
    The Sen slope is the kernel's (positive whenever the trend is
    increasing); the onset is the start of the window.
    """
    from scipy.signal import lfilter

    from ..kernels import mann_kendall

    t, v = _clean(timestamps, values)
    if t.size < 4:
        return BaselineResult(False)
    if t.size > max_points:
        k = int(math.ceil(t.size / max_points))
        m = t.size // k
        v = v[:m * k].reshape(m, k).mean(axis=1)
        t = t[:m * k].reshape(m, k).mean(axis=1)
    if smoothing is not None:  # level_t = a x_t + (1 - a) level_{t-1}, level_0 = x_0
        v, _ = lfilter([smoothing], [1.0, smoothing - 1.0], v, zi=[(1 - smoothing) * v[0]])
    res = mann_kendall(v, alpha=alpha)
    leak = res.trend == "increasing" and res.tau > tau and res.slope > 0
    return BaselineResult(bool(leak), float(t[0]) if leak else None)


def _precog_changepoints(g_t, smooth, z, merge):
    """Precog's change points (indices): modified z-score of |first differences| > z.

    As ``get_change_point_indices(method="modified_z_score")`` in Jindal et
    al.'s code: the series' first and last index join the candidates, and a
    candidate less than ``merge`` seconds after the previous kept one is
    dropped; the last index is always the end of the final segment.
    """
    d = np.abs(np.diff(smooth))
    med = np.median(d)
    mad = np.median(np.abs(d - med))
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.abs(0.6745 * (d - med) / mad) if mad > 0 else np.where(d > med, np.inf, 0.0)
    cand = np.unique(np.r_[0, np.flatnonzero(score > z) + 1, smooth.size - 1])
    kept = [int(cand[0])]
    for c in cand[1:]:
        if g_t[c] - g_t[kept[-1]] >= merge:
            kept.append(int(c))
    return kept


def precog(timestamps, values, limit=None, *, z=3.5, merge=6 * HOUR, r2=0.8,
           min_trend=6 * HOUR, horizon=7 * DAY) -> BaselineResult:
    """Precog (Jindal et al., ICSOC 2020 workshops, arXiv:2101.09799).

    Following the paper and its code (``mem_leak_detection/precog_change.py``
    in ansjin/memory_leak_detection, ``predict`` without a training phase):
    median-resample to 5 minutes (gaps interpolated), take a 1-hour rolling
    median, find change points where the modified z-score (MAD) of the
    absolute first differences exceeds 3.5, merging those within 6 h; then,
    from the last change point back to the first, fit OLS from the change
    point to the end; a fit of at least 6 h with R^2 > 0.8 and a positive
    slope whose line reaches the limit within 7 days (from the last smoothed
    value) is a trend, and the earliest such change point is the onset.
    Without a known limit the cap is twice the highest value seen (our
    stand-in for the machine's memory; the original works on percent of it
    with a limit of 100).
    """
    import pandas as pd

    t, v = _clean(timestamps, values)
    if t.size < 3:
        return BaselineResult(False)
    g_t, g_v = _resample(t, v, 300.0, how="median")
    g_v = pd.Series(g_v).interpolate(limit_area="inside").to_numpy()
    smooth = pd.Series(g_v).rolling(12, min_periods=1).median().to_numpy()  # 1 h of 5 min
    if smooth.size < 3 or g_t[-1] - g_t[0] < min_trend:
        return BaselineResult(False)
    cps = _precog_changepoints(g_t, smooth, z, merge)
    # OLS of every suffix [c, end] from prefix sums (x centred for precision)
    x = (g_t - g_t[0]) / HOUR
    x = x - x.mean()
    y = smooth - smooth.mean()
    n_all = smooth.size
    sums = [np.r_[0.0, np.cumsum(a)] for a in (np.ones(n_all), x, y, x * x, x * y, y * y)]
    tail = [a[-1] - a for a in sums]  # tail[j][c] = sum over [c, end]
    cap = limit if limit is not None and limit > 0 else 2.0 * float(np.max(v))
    current = float(smooth[-1])
    onset = None
    for c in reversed(cps[:-1]):
        if g_t[-1] - g_t[c] < min_trend:
            continue
        n, sx, sy, sxx, sxy, syy = (a[c] for a in tail)
        vxx, vxy, vyy = sxx - sx * sx / n, sxy - sx * sy / n, syy - sy * sy / n
        if vxx <= 0 or vyy <= 0:
            continue
        slope = vxy / vxx / HOUR  # per second
        r_squared = vxy * vxy / (vxx * vyy)
        if slope > 0 and r_squared > r2 and (cap - current) / slope <= horizon:
            onset = float(g_t[c])  # keep going back: the earliest qualifying trend wins
    return BaselineResult(onset is not None, onset)


#: Name -> baseline function, in the order reports list them.
BASELINES = {
    "prometheus": prometheus_predict_linear,
    "coroot": coroot_slope,
    "band": sigma_band,
    "mann_kendall": mann_kendall_sen,
    "precog": precog,
}
