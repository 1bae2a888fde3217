"""The floor: what a process holds at its lowest, cycle after cycle.

A leak is memory that is never given back, so the detector follows the
floor of the series rather than its raw values: per-bin minima (a GC
sawtooth faster than a bin is already flattened there), smoothed against
single-bin glitches, then

* with short cycles (a GC sawtooth, hourly batch jobs; many cycles in view):
  the minimum of each block of about one and a half cycles;
* with long cycles (a daily or weekly load; few cycles in view): minus the
  median profile of each phase, so like is compared with like;
* without cycles: as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .regularise import Bins
from .seasonality import Period

#: Cycles in view from which a long period is taken out by per-period minima
#: rather than by phase adjustment.
MINIMA_CYCLE_COUNT = 4

#: Cycles in view above which a period is "short" (handled by block minima).
SHORT_CYCLE_COUNT = 24


@dataclass(frozen=True)
class Floor:
    """Floor points of a stretch of a series.

    Attributes
    ----------
    t : numpy.ndarray
        Unix seconds of each point.
    y : numpy.ndarray
        Floor values (value units), finite.
    method : str
        ``"bins"``, ``"cycle_minima"``, ``"phase_adjusted"`` or
        ``"period_minima"`` (joined by ``+`` when two apply).
    support : float
        Time each point summarises (seconds): a bin, a block of cycles, a period.
    """

    t: np.ndarray
    y: np.ndarray
    method: str
    support: float = 0.0


def nan_rolling(x: np.ndarray, window: int, func) -> np.ndarray:
    """Centred rolling ``func`` (nanmin, nanmedian...) over ``window`` points, edges shrunk."""
    if window <= 1 or x.shape[0] == 0:
        return x.copy()
    half = window // 2
    padded = np.concatenate((np.full(half, np.nan), x, np.full(window - 1 - half, np.nan)))
    view = sliding_window_view(padded, window)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return func(view, axis=1)


def nan_median3(x: np.ndarray) -> np.ndarray:
    """Centred rolling median of 3 points ignoring NaN, edges shrunk: equal to
    ``nan_rolling(x, 3, np.nanmedian)`` (a median of two is their mean; of none, NaN).

    Vectorised over the three neighbours: numpy's ``nanmedian`` along short rows
    goes through masked arrays and cost half a millisecond a lifetime.
    """
    n = x.shape[0]
    if n <= 1:
        return x.astype(float, copy=True)
    a = np.concatenate(([np.nan], x[:-1]))
    c = np.concatenate((x[1:], [np.nan]))
    # all three finite: the middle one (NaN anywhere makes this NaN)
    mid = np.maximum(np.minimum(a, x), np.minimum(np.maximum(a, x), c))
    # otherwise the mean of the lowest and highest that are not NaN (one value: itself)
    lo = np.fmin(np.fmin(a, x), c)
    hi = np.fmax(np.fmax(a, x), c)
    with np.errstate(invalid="ignore"):
        pair = np.where(lo == hi, lo, (lo + hi) / 2.0)
    return np.where(np.isnan(mid), pair, mid)


def floor_points(bins: Bins, period: Period | None, cycle: float | None = None) -> Floor:
    """Floor points of ``bins`` (see module docstring).

    Parameters
    ----------
    bins : Bins
    period : Period or None
        Dominant period of the bin means.
    cycle : float, optional
        Length of a sawtooth cycle found from its drops (seconds), which may
        be shorter than two bins and so invisible to the period search.
    """
    base = nan_median3(bins.lo)
    t = bins.t
    m = len(bins)
    short = None
    if cycle is not None and cycle > 0:
        short = cycle / bins.width
    elif period is not None and period.bins >= 2 and m / period.bins >= SHORT_CYCLE_COUNT:
        short = float(period.bins)
    method = "bins"
    support = bins.width
    if short is not None:
        method = "cycle_minima"
        block = int(np.ceil(1.5 * short)) if short >= 0.67 else 1
        if block > 1 and m // block >= 6:
            n_blocks = m // block
            offset = m - n_blocks * block  # align blocks with the end of the series
            blocks = base[offset:].reshape(n_blocks, block)
            enough = np.isfinite(blocks).sum(axis=1) >= max(1, block // 2)
            with np.errstate(all="ignore"):
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    base = np.where(enough, np.nanmin(blocks, axis=1), np.nan)
            t = t[offset:].reshape(n_blocks, block).mean(axis=1)
            support = block * bins.width
    # a long period (few cycles in view) is taken out phase by phase
    if period is not None and short != float(period.bins):
        spacing = t[1] - t[0] if t.shape[0] > 1 else bins.width
        p_points = int(round(period.seconds / spacing))
        if p_points >= 2 and t.shape[0] / p_points < SHORT_CYCLE_COUNT and \
                t.shape[0] >= 2 * p_points:
            if t.shape[0] / p_points >= MINIMA_CYCLE_COUNT:
                # enough cycles: the low of each whole period, robust to a load whose
                # amplitude changes from day to day (weekends, holidays)
                base, t = _period_minima(base, t, p_points)
                support = period.seconds
                suffix = "period_minima"
            else:
                base = _phase_adjusted(base, p_points)
                suffix = "phase_adjusted"
            method = suffix if method == "bins" else method + "+" + suffix
    keep = np.isfinite(base)
    return Floor(t[keep], base[keep], method, support)


def _period_minima(x: np.ndarray, t: np.ndarray, period: int):
    """Minimum over one whole period, every quarter period (centred windows)."""
    step = max(1, period // 4)
    m = x.shape[0]
    centres = np.arange(m - 1 - period // 2, period // 2 - 1, -step)[::-1]
    lows = nan_rolling(x, period, np.nanmin)[centres]
    ok = np.isfinite(x)
    counts = np.convolve(ok.astype(float), np.ones(period), mode="same")[centres]
    lows = np.where(counts >= period // 2, lows, np.nan)
    return lows, t[centres]


def _phase_adjusted(x: np.ndarray, period: int) -> np.ndarray:
    """``x`` minus the median deviation from its one-period moving average at the same phase.

    A centred moving average over exactly one period removes any periodic
    component and keeps the trend, so the deviations from it are the
    periodic profile (plus noise) whatever the trend is.
    """
    m = x.shape[0]
    trend = nan_rolling(x, period, np.nanmean)
    half = period // 2
    trend[:half] = np.nan  # incomplete windows would mix the profile into the trend
    trend[m - (period - 1 - half):] = np.nan
    resid = x - trend
    # phase measured from the end, so the latest cycle is always whole
    phase = (m - 1 - np.arange(m)) % period
    cycles = -(-m // period)
    table = np.full(cycles * period, np.nan)
    table[cycles * period - m:] = resid  # row r holds one cycle, aligned with the end
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        by_phase = np.nanmedian(table.reshape(cycles, period), axis=0)[::-1]
    profile = np.where(np.isfinite(by_phase), by_phase, 0.0)
    profile -= profile.mean()
    return x - profile[phase]
