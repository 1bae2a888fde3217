"""Seasonality: the dominant period of a binned series, day and week first.

The autocorrelation of the linearly detrended bin values is computed by FFT;
a period is reported only when the series holds at least two whole periods
and the autocorrelation at that lag is a clear peak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Config
from ..kernels.line import least_squares_line

DAY = 86400.0
WEEK = 7 * DAY


@dataclass(frozen=True)
class Period:
    """A dominant period.

    Attributes
    ----------
    seconds : float
        The period (seconds).
    bins : int
        The period in bins.
    strength : float
        Autocorrelation at that lag, in (0, 1].
    calendar : bool
        A day or a week: ``seconds`` is then exactly 86400 or 604800.
    """

    seconds: float
    bins: int
    strength: float
    calendar: bool = False


def autocorrelation(x: np.ndarray, nlags: int) -> np.ndarray:
    """Sample autocorrelation of ``x`` (NaN treated as 0 after centring) by FFT."""
    from ..kernels import acf

    return acf(x, nlags)


def find_period(values: np.ndarray, width: float, config: Config) -> Period | None:
    """Find the dominant period of equally spaced values.

    Parameters
    ----------
    values : numpy.ndarray
        Bin values (NaN = empty bin).
    width : float
        Spacing of the values (seconds).
    config : Config
        ``min_period_strength`` sets how clear the peak must be.

    Returns
    -------
    Period or None
    """
    ok = np.isfinite(values)
    m = values.shape[0]
    if ok.sum() < 16:
        return None
    idx = np.arange(m, dtype=float)
    slope, intercept = least_squares_line(idx[ok], values[ok])
    resid = np.where(ok, values - (intercept + slope * idx), 0.0)
    if not np.any(resid):
        return None
    nlags = m // 2
    r = autocorrelation(resid, nlags)
    generic = _generic_period(r, m, config)
    # the calendar first: one day, one week -- unless a shorter cycle explains the peak
    for seconds in (DAY, WEEK):
        lag = seconds / width
        if 2 <= lag <= nlags:
            lo, hi = int(np.floor(lag * 0.9)), min(int(np.ceil(lag * 1.1)), nlags)
            best = lo + int(np.argmax(r[lo:hi + 1]))
            if r[best] >= config.min_period_strength and _is_peak(r, best):
                if generic is not None and generic < 0.5 * best and \
                        r[generic] >= r[best] - 0.1:
                    break  # a harmonic of a shorter cycle
                return Period(seconds, best, float(r[best]), calendar=True)
    if generic is None:
        return None
    return Period(generic * width, generic, float(r[generic]))


def _generic_period(r: np.ndarray, m: int, config: Config) -> int | None:
    """Lag of the fundamental ACF peak after the first zero crossing, or None."""
    nlags = r.shape[0] - 1
    below = np.flatnonzero(r[1:] <= 0)
    if below.size == 0:
        return None
    start = int(below[0]) + 1
    stop = min(nlags, m // 3)  # a period found by its shape must show three times
    if start >= stop:
        return None
    best = start + int(np.argmax(r[start:stop + 1]))
    prominence = r[best] - float(np.min(r[:best]))
    if r[best] < config.min_period_strength or not _is_peak(r, best) or best < 2 or \
            prominence < 2 * config.min_period_strength:
        return None
    # prefer the fundamental: a peak at best/k that is nearly as strong
    for k in (4, 3, 2):
        cand = int(round(best / k))
        if cand >= 2:
            lo, hi = max(2, int(cand * 0.9)), int(np.ceil(cand * 1.1))
            sub = lo + int(np.argmax(r[lo:hi + 1]))
            if r[sub] >= 0.8 * r[best] and _is_peak(r, sub):
                return sub
    return best


def _is_peak(r: np.ndarray, i: int) -> bool:
    lo, hi = max(0, i - 1), min(r.shape[0] - 1, i + 1)
    return r[i] >= r[lo] and r[i] >= r[hi] and r[i] > 0
