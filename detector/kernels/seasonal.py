"""Seasonality kernels: autocorrelation by FFT and a dominant-period finder.

numba has no FFT, so :func:`acf` runs on ``scipy.fft`` (O(n log n)); the
peak search of :func:`dominant_period` is a small numba kernel.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import kernel
from ._validate import as_float_array, check_float, check_int
from .line import least_squares_line


def acf(x, nlags: int, *, missing: str = "raise") -> np.ndarray:
    """Sample autocorrelation of ``x`` at lags 0..``nlags``, computed by FFT.

    Parameters
    ----------
    x : array_like
        1-D values (samples, equally spaced). inf is always an error.
    nlags : int
        Largest lag (samples), ``0 <= nlags < len(x)``.
    missing : {"raise", "conservative"}, default "raise"
        What NaN means. ``"raise"``: NaN is an error. ``"conservative"``: as
        statsmodels' ``missing="conservative"``: the mean is taken over the
        non-missing values, missing values contribute zero to every lag's sum,
        and every lag is divided by the number of non-missing values.

    Returns
    -------
    numpy.ndarray
        ``nlags + 1`` values, the first 1.0; all NaN when the (non-missing)
        values are constant (zero variance), as statsmodels gives.

    Notes
    -----
    Equals ``statsmodels.tsa.stattools.acf(x, nlags=nlags, fft=True,
    missing=missing)`` (demeaned, biased autocovariance divided by the
    variance) to 1e-9. O(n log n) time (a zero-padded real FFT of a fast
    length >= n + nlags), O(n) memory.

    Raises
    ------
    ValueError
        ``x`` not 1-D, empty, holding inf, holding NaN with ``missing="raise"``
        or only NaN; ``nlags`` out of range; ``missing`` unknown.
    """
    from scipy import fft as _fft

    x = as_float_array(x, "x", min_length=1)
    nlags = check_int(nlags, "nlags", minimum=0)
    if missing not in ("raise", "conservative"):
        raise ValueError(f"missing must be 'raise' or 'conservative', got {missing!r}")
    n = x.shape[0]
    if nlags >= n:
        raise ValueError(f"nlags must be < len(x) = {n}, got {nlags}")
    if np.isinf(x).any():
        raise ValueError("x must not hold inf")
    ok = ~np.isnan(x)
    count = int(ok.sum())
    if count < n:
        if missing == "raise":
            raise ValueError("x holds NaN: fill or drop it first, or pass missing='conservative'")
        if count == 0:
            raise ValueError("x holds no value that is not NaN")
        y = np.where(ok, x - x[ok].sum() / count, 0.0)
    else:
        y = x - x.mean()
    # scaled by a power of two so that the largest deviation lies in [0.5, 1): exact, so
    # every later rounding is as without it, except that squares of tiny deviations
    # (1e-159 and below) no longer fall into the subnormal range and lose their digits
    top = float(np.abs(y).max())
    if top > 0.0:
        y = np.ldexp(y, -math.frexp(top)[1])
    # circular correlation over a padded length >= n + nlags has no wrap-around at
    # lags <= nlags: short lag ranges need a much shorter FFT than 2n - 1
    size = _fft.next_fast_len(n + nlags, real=True)
    f = _fft.rfft(y, size)
    acov = _fft.irfft(f * np.conjugate(f), size)[: nlags + 1] / count
    if acov[0] == 0.0:
        return np.full(nlags + 1, np.nan)
    return acov / acov[0]


@kernel
def _repeats(r, k, n):
    # a period repeats: the ACF has a local peak near 2k at least half as high as k's
    # peak, after the biased estimator's taper (1 - lag/n). A repeat out of view
    # fails: slow red noise shows one long "cycle" as readily as a real period.
    lo = int(1.8 * k)
    hi = int(np.ceil(2.2 * k))
    if hi + 1 >= r.shape[0] or 2 * k >= n:
        return False
    best = -np.inf
    for j in range(max(lo, 1), hi + 1):
        if r[j] >= r[j - 1] and r[j] >= r[j + 1] and r[j] > best:
            best = r[j]
    return best >= 0.5 * r[k] * (n - 2.0 * k) / (n - k)


@kernel
def _peak_kernel(r, min_lag, max_lag, min_strength, n):
    k = _pick_peak(r, min_lag, max_lag, min_strength)
    if k >= 0 and not _repeats(r, k, n):
        return -1
    return k


@kernel
def _pick_peak(r, min_lag, max_lag, min_strength):
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
    # prefer the fundamental: a peak at best/m nearly as strong as best, itself past
    # the first zero crossing and strong enough on its own
    for m in (4, 3, 2):
        cand = int(round(best / m))
        if cand < min_lag or cand < start:
            continue
        lo = max(start, int(cand * 0.9))
        hi = min(r.shape[0] - 2, int(np.ceil(cand * 1.1)))
        sub = lo
        for k in range(lo, hi + 1):
            if r[k] > r[sub]:
                sub = k
        if r[sub] >= 0.8 * best_value and r[sub] >= min_strength \
                and r[sub] >= r[sub - 1] and r[sub] >= r[sub + 1]:
            return sub
    return best


def dominant_period(x, *, min_period: int = 2, max_period: int | None = None,
                    min_strength: float = 0.3,
                    alpha: float = 0.01) -> tuple[int | None, float]:
    """The dominant period of ``x`` from the peaks of its autocorrelation.

    ``x`` is linearly detrended (least squares over the non-missing samples),
    its ACF computed by FFT (:func:`acf` with ``missing="conservative"``), and
    the highest local ACF peak after the first zero crossing is taken, then
    replaced by its fundamental (a local peak within 10 % of a half, third or
    quarter of the lag that is at least 80 % as strong), so a sawtooth or a
    square wave reports its period, not a multiple. A peak is reported only
    when its ACF is at least ``min_strength`` and significant: above
    ``z / sqrt(m)``, the white-noise band, with ``m`` the number of
    non-missing samples and ``z`` the normal quantile at ``1 - alpha / (2 L)``
    for the ``L`` lags searched (Bonferroni), so short noisy series do not
    yield a period by chance. Last, the period must repeat: a local ACF peak
    within 10 % of twice the lag, at least half as high as the first once the
    estimator's taper ``(1 - lag/n)`` is allowed for; a period whose repeat is
    out of view is not reported (slow red noise shows one long "cycle" as
    readily as a real period does).

    Parameters
    ----------
    x : array_like
        Equally spaced values (samples), NaN = missing; inf is an error.
    min_period, max_period : int
        Range of periods searched (samples); ``max_period`` defaults to
        ``len(x) // 3`` (three periods in view, so the repeat at twice the
        lag can be checked). Periods above ``len(x) / 2.2`` are never
        reported.
    min_strength : float
        Smallest ACF at the peak to report it.
    alpha : float
        Family-wise false-alarm rate of the significance test on white noise,
        in (0, 1).

    Returns
    -------
    (period, strength) : (int or None, float)
        The period in samples and the ACF there; ``(None, 0.0)`` when there
        is no clear periodicity (noise, pure trend, constant, too short), or
        when the ACF does not cross zero by ``max_period`` (a faster cycle
        riding on the first lobe of a slower one is not reported).

    Notes
    -----
    O(n log n) time (the FFT), O(n) memory.
    """
    from scipy.special import ndtri

    x = as_float_array(x, "x")
    min_period = check_int(min_period, "min_period", minimum=1)
    min_strength = check_float(min_strength, "min_strength")
    alpha = check_float(alpha, "alpha")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    n = x.shape[0]
    if max_period is None:
        max_period = max(1, n // 3)
    max_period = check_int(max_period, "max_period", minimum=1)
    if np.isinf(x).any():
        raise ValueError("x must not hold inf")
    ok = ~np.isnan(x)
    count = int(ok.sum())
    if count < 4 or n < 4 or max_period < min_period:
        return None, 0.0
    idx = np.arange(n, dtype=np.float64)
    # least-squares line over the non-missing samples (closed form, no BLAS)
    t = idx[ok]
    t_mean = t.mean()
    y_mean = x[ok].mean()
    slope, _ = least_squares_line(t, x[ok])
    resid = np.where(ok, x - (y_mean + slope * (idx - t_mean)), np.nan)
    scale = max(1.0, float(np.abs(x[ok]).max()))
    if not np.any(np.abs(resid[ok]) > 1e-12 * scale):
        return None, 0.0
    # lags to 2.2 * max_period: room for the fundamental search and the repeat check
    nlags = min(n - 1, 2 * max_period + max(2, max_period // 5) + 2)
    r = acf(resid, nlags, missing="conservative")
    max_lag = min(max_period, nlags - 1)
    searched = max(1, max_lag - min_period + 1)
    band = float(ndtri(1.0 - alpha / (2.0 * searched))) / np.sqrt(count)
    k = int(_peak_kernel(r, min_period, max_lag, max(min_strength, band), n))
    if k < 0:
        return None, 0.0
    return k, float(r[k])
