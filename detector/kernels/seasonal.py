"""Seasonality kernels: autocorrelation by FFT and a dominant-period finder.

numba has no FFT, so :func:`acf` runs on ``scipy.fft`` (O(n log n)); the
peak search of :func:`dominant_period` is a small numba kernel.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._validate import as_float_array, check_float, check_int


def acf(x, nlags: int) -> np.ndarray:
    """Sample autocorrelation of ``x`` at lags 0..``nlags``, computed by FFT.

    Parameters
    ----------
    x : array_like
        1-D finite values (samples).
    nlags : int
        Largest lag (samples), ``0 <= nlags < len(x)``.

    Returns
    -------
    numpy.ndarray
        ``nlags + 1`` values, the first 1.0; all NaN when ``x`` is constant
        (zero variance), as statsmodels gives.

    Notes
    -----
    Equals ``statsmodels.tsa.stattools.acf(x, nlags=nlags, fft=True)``
    (demeaned, biased autocovariance divided by the variance) to 1e-9. O(n log n).

    Raises
    ------
    ValueError
        ``x`` not 1-D, empty, holding NaN or inf; ``nlags`` out of range.
    """
    from scipy import fft as _fft

    x = as_float_array(x, "x", min_length=1)
    nlags = check_int(nlags, "nlags", minimum=0)
    if nlags >= x.shape[0]:
        raise ValueError(f"nlags must be < len(x) = {x.shape[0]}, got {nlags}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite (fill or drop NaN and inf first)")
    n = x.shape[0]
    y = x - x.mean()
    size = _fft.next_fast_len(2 * n - 1, real=True)
    f = _fft.rfft(y, size)
    acov = _fft.irfft(f * np.conjugate(f), size)[: nlags + 1] / n
    if acov[0] == 0.0:
        return np.full(nlags + 1, np.nan)
    return acov / acov[0]


@njit(cache=True)
def _peak_kernel(r, min_lag, max_lag, min_strength):
    # first lag where the autocorrelation falls to zero or below
    start = -1
    for k in range(1, r.shape[0]):
        if r[k] <= 0.0:
            start = k
            break
    if start < 0 or start > max_lag:
        return -1
    if start < min_lag:
        start = min_lag
    best = -1
    best_value = -np.inf
    for k in range(start, min(max_lag, r.shape[0] - 2) + 1):
        if r[k] >= r[k - 1] and r[k] >= r[k + 1] and r[k] > best_value:
            best = k
            best_value = r[k]
    if best < 0 or best_value < min_strength:
        return -1
    # prefer the fundamental: a peak at best/m nearly as strong as best
    for m in (4, 3, 2):
        cand = int(round(best / m))
        if cand < min_lag or cand < 1:
            continue
        lo = max(1, int(cand * 0.9))
        hi = min(r.shape[0] - 2, int(np.ceil(cand * 1.1)))
        sub = lo
        for k in range(lo, hi + 1):
            if r[k] > r[sub]:
                sub = k
        if r[sub] >= 0.8 * best_value and r[sub] >= r[sub - 1] and r[sub] >= r[sub + 1]:
            return sub
    return best


def dominant_period(x, *, min_period: int = 2, max_period: int | None = None,
                    min_strength: float = 0.3) -> tuple[int | None, float]:
    """The dominant period of ``x`` from the peaks of its autocorrelation.

    ``x`` is linearly detrended, its ACF computed by FFT, and the highest local
    ACF peak after the first zero crossing is taken, replaced by its
    fundamental (a peak at a half, third or quarter of the lag that is at
    least 80 % as strong), so a sawtooth or a square wave reports its period,
    not a multiple.

    Parameters
    ----------
    x : array_like
        Equally spaced finite values.
    min_period, max_period : int
        Range of periods searched (samples); ``max_period`` defaults to
        ``len(x) // 2`` (two periods in view).
    min_strength : float
        Smallest ACF at the peak to report it.

    Returns
    -------
    (period, strength) : (int or None, float)
        The period in samples and the ACF there; ``(None, 0.0)`` when there
        is no clear periodicity (noise, pure trend, too short).
    """
    x = as_float_array(x, "x")
    min_period = check_int(min_period, "min_period", minimum=1)
    min_strength = check_float(min_strength, "min_strength")
    n = x.shape[0]
    if max_period is None:
        max_period = n // 2
    max_period = check_int(max_period, "max_period", minimum=1)
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite (fill or drop NaN and inf first)")
    if n < 4 or max_period < min_period:
        return None, 0.0
    idx = np.arange(n, dtype=np.float64)
    slope, intercept = np.polyfit(idx, x, 1)
    resid = x - (intercept + slope * idx)
    if not np.any(np.abs(resid) > 1e-12 * max(1.0, float(np.abs(x).max()))):
        return None, 0.0
    nlags = min(n - 1, max_period + max(2, max_period // 3) + 1)
    r = acf(resid, nlags)
    k = int(_peak_kernel(r, min_period, min(max_period, nlags - 1), min_strength))
    if k < 0:
        return None, 0.0
    return k, float(r[k])
