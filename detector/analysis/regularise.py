"""Regularise: put a Series on a grid of equal time bins.

The analysis works on at most a few hundred bins per series, each holding
count, mean, minimum and maximum of its samples, so its cost after one O(n)
pass does not depend on the sampling rate. Empty bins are kept (as NaN): gaps
are never interpolated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..kernels.binning import bin_stats
from ..series import Series


@dataclass(frozen=True)
class Bins:
    """Equal time bins over a stretch of a series.

    Attributes
    ----------
    start : float
        Start of the first bin (unix seconds).
    width : float
        Bin width (seconds).
    t : numpy.ndarray
        Bin centres (unix seconds).
    count : numpy.ndarray
        Valid samples per bin.
    mean, lo, hi : numpy.ndarray
        Mean, minimum and maximum per bin (value units); NaN in empty bins.
    """

    start: float
    width: float
    t: np.ndarray
    count: np.ndarray
    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def select(self, t_from: float, t_to: float) -> "Bins":
        """The bins whose centres lie in ``[t_from, t_to)``."""
        keep = (self.t >= t_from) & (self.t < t_to)
        return Bins(self.start, self.width, self.t[keep], self.count[keep], self.mean[keep],
                    self.lo[keep], self.hi[keep])


def bin_series(series: Series, max_bins: int, t_from: float | None = None,
               t_to: float | None = None, width: float | None = None) -> Bins:
    """Bin a series (or its stretch ``[t_from, t_to]``) into at most ``max_bins`` bins.

    Bins are never finer than the series' sampling interval.

    Parameters
    ----------
    series : Series
    max_bins : int
        Upper bound on the number of bins.
    t_from, t_to : float, optional
        Stretch to bin (unix seconds, both included); default the whole series.
    width : float, optional
        Bin width (seconds), e.g. a whole fraction of a day; default the
        stretch divided by ``max_bins``. Bins are aligned with the stretch's end.

    Returns
    -------
    Bins
    """
    t, v = series.timestamps, series.values
    if t_from is not None or t_to is not None:
        a = 0 if t_from is None else int(np.searchsorted(t, t_from, side="left"))
        b = len(t) if t_to is None else int(np.searchsorted(t, t_to, side="right"))
        t, v = t[a:b], v[a:b]
    if t.shape[0] == 0:
        empty = np.empty(0)
        return Bins(0.0, 1.0, empty, np.empty(0, np.int64), empty, empty, empty)
    t0, t1 = float(t[0]), float(t[-1])
    span = t1 - t0
    interval = series.interval if np.isfinite(series.interval) and series.interval > 0 else 1.0
    if width is not None:
        n_bins = int(math.floor(span / width)) + 1
        t0 = t1 + width * (1e-9 - n_bins)  # the last bin ends just after the last sample
        count, mean, lo, hi = bin_stats(t, v, t0, width, n_bins)
        centres = t0 + (np.arange(n_bins) + 0.5) * width
        return Bins(t0, width, centres, count, mean, lo, hi)
    width = max(span / max_bins, interval) if span > 0 else interval
    n_bins = max(1, min(max_bins, int(math.floor(span / width)) + 1))
    if span > 0:
        width = max(width, span / n_bins * (1 + 1e-12))
    count, mean, lo, hi = bin_stats(t, v, t0, width, n_bins)
    centres = t0 + (np.arange(n_bins) + 0.5) * width
    return Bins(t0, width, centres, count, mean, lo, hi)
