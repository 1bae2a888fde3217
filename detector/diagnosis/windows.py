"""Per-window summaries of a stretch of samples, and a robust slope through them.

Diagnosis compares stretches of one series (before and after a fix) and the
components of one container over the same stretch. Both need the same two
things, computed here from the samples with the kernels:

* :func:`window_stats`: the samples of ``[start, end)`` cut into equal time
  windows, each summarised by its minimum (the floor: a GC sawtooth or a page
  cache that is given back does not lift it), mean and maximum (the peak);
* :func:`robust_slope`: the Theil-Sen slope through window values with Sen's
  95 % interval, widened for the autocorrelation left in the residuals (the
  interval assumes independent points; consecutive windows of a memory series
  are not: the width is multiplied by ``sqrt((1 + r) / (1 - r))``, ``r`` the
  lag-1 autocorrelation of the residuals, clipped to [0, 0.9]);
* :func:`median_interval`: a level (the median of window values) with its
  distribution-free 95 % interval from order statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Most windows a stretch is cut into (Sen's interval lists all pairs: O(n^2) memory).
MAX_WINDOWS = 240


@dataclass(frozen=True)
class Windows:
    """Equal time windows over a stretch of samples.

    Attributes
    ----------
    t : numpy.ndarray
        Window centres (unix seconds), only windows holding a sample.
    low, mean, high : numpy.ndarray
        Minimum, mean and maximum of each window's samples (value units).
    width : float
        Window width (seconds).
    """

    t: np.ndarray
    low: np.ndarray
    mean: np.ndarray
    high: np.ndarray
    width: float

    def __len__(self) -> int:
        return int(self.t.shape[0])


def window_stats(t, v, start: float, end: float, *, width: float | None = None,
                 max_windows: int = MAX_WINDOWS) -> Windows:
    """Cut the samples with ``start <= t <= end`` into equal windows.

    Parameters
    ----------
    t, v : array_like
        Sample times (unix seconds) and values; NaN values are left out.
    start, end : float
        The stretch (unix seconds).
    width : float, optional
        Window width (seconds); default the stretch over ``max_windows``, and
        never below twice the median sampling interval. Rounded up to whole
        sampling intervals.
    max_windows : int
        Most windows (default :data:`MAX_WINDOWS`).

    Returns
    -------
    Windows
    """
    from ..kernels import bin_stats

    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    span = max(float(end - start), 0.0)
    inside = (t >= start) & (t <= end)
    step = float(np.median(np.diff(t[inside]))) if np.count_nonzero(inside) > 2 else 0.0
    if width is None:
        width = max(span / max_windows, 2.0 * step, 1e-9)
    n = max(1, min(max_windows, int(math.ceil(span / width)) if span > 0 else 1))
    width = max(width, span / n) if span > 0 else max(width, 1.0)
    if step > 0:
        # whole sampling intervals per window: otherwise the first sample of each window
        # drifts within it from window to window, and a ramp's minima drift with it (a
        # slope bias of up to one interval over the stretch)
        width = math.ceil(width / step - 1e-9) * step
        n = max(1, int(math.ceil(span / width - 1e-9))) if span > 0 else 1
    count, mean, low, high = bin_stats(t[inside], v[inside], float(start), width * (1 + 1e-12),
                                       n)
    keep = count > 0
    centres = start + (np.arange(n) + 0.5) * width
    return Windows(centres[keep], low[keep], mean[keep], high[keep], float(width))


def robust_slope(x, y, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """Theil-Sen slope through ``(x, y)`` with a 95 % interval widened for autocorrelation.

    Parameters
    ----------
    x : array_like
        Positions (seconds), increasing.
    y : array_like
        Values (bytes); NaN left out.
    confidence : float
        Confidence of the interval (default 0.95).

    Returns
    -------
    (slope, low, high) : float
        Value units per second; NaN with fewer than 3 points.
    """
    from ..kernels import theil_sen_interval

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 3:
        return math.nan, math.nan, math.nan
    slope, intercept, low, high = theil_sen_interval(y, x, confidence=confidence)
    if not math.isfinite(slope):
        return math.nan, math.nan, math.nan
    resid = y - (intercept + slope * x)
    r = 0.0
    if resid.size >= 4 and np.std(resid) > 0:
        a, b = resid[:-1] - resid.mean(), resid[1:] - resid.mean()
        r = float(np.sum(a * b) / np.sum((resid - resid.mean()) ** 2))
    factor = math.sqrt((1 + min(max(r, 0.0), 0.9)) / (1 - min(max(r, 0.0), 0.9)))
    return slope, slope - factor * (slope - low), slope + factor * (high - slope)


def median_interval(y, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """The median of ``y`` and its distribution-free interval (order statistics).

    Parameters
    ----------
    y : array_like
        Values; NaN left out.
    confidence : float
        Coverage of the interval (default 0.95; with fewer than 6 values the
        interval is the whole range, which covers less).

    Returns
    -------
    (median, low, high) : float
        NaN for no values.
    """
    from scipy.stats import binom

    y = np.sort(np.asarray(y, dtype=np.float64)[np.isfinite(y)])
    n = y.size
    if n == 0:
        return math.nan, math.nan, math.nan
    med = float(np.median(y))
    # the largest k with P(Binomial(n, 1/2) < k) <= (1 - confidence) / 2: [y_(k), y_(n-k+1)]
    k = int(binom.ppf((1 - confidence) / 2, n, 0.5))
    k = max(k, 1)
    if binom.cdf(k - 1, n, 0.5) > (1 - confidence) / 2:
        k = max(k - 1, 1)
    return med, float(y[k - 1]), float(y[n - k])


__all__ = ["MAX_WINDOWS", "Windows", "median_interval", "robust_slope", "window_stats"]
