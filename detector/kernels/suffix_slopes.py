"""Sen's slope of every suffix of one array, from one list of pair slopes.

The long-run trend of a lifetime's floor is searched from several starts, and each
start's Mann-Kendall test is corrected for autocorrelation after detrending its
stretch ``y[c:]`` by Sen's slope over sample positions (the median of
``(y[j] - y[i]) / (j - i)`` over its pairs). The pairs of ``y[c:]`` are those of ``y``
whose first point is at ``c`` or later: listed row by row (first point outer), they are
the last ``(n - c)(n - c - 1) / 2`` slopes of the list of ``y``, and the position
differences ``j - i`` do not depend on ``c``. So the rows are listed once, as far back as
a start asks, and each start's median is taken from its end of the list: the same floats
as :func:`detector.kernels.trend.theil_sen` of ``y[c:]`` over ``0..n-c-1``.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel
from .order import order_statistics


@kernel
def _row_slopes_into(y, first, stop, out, at):
    """Slopes of the pairs (i, j), ``first <= i < stop``, ``i < j < len(y)``, over
    positions, row by row from ``out[at]``; returns where the rows end."""
    n = y.shape[0]
    k = at
    for i in range(first, stop):
        for j in range(i + 1, n):
            out[k] = (y[j] - y[i]) / float(j - i)
            k += 1
    return k


def _row_start(n: int, i: int) -> int:
    """Index in the row-by-row list of the pairs of ``n`` points where row ``i`` begins."""
    return i * (n - 1) - i * (i - 1) // 2


class SuffixSlopes:
    """Sen's slopes over sample positions of the suffixes of one array.

    Parameters
    ----------
    y : numpy.ndarray
        1-D float64 values, finite (floor points, any unit), at most
        :data:`MAX_PAIRS` pairs (400 points); not copied (unless read-only), so not to
        be modified while this object is used.

    Notes
    -----
    The list of pair slopes (8 bytes a pair: 640 KB at 400 points) is filled from
    its end as starts further back are asked; a start pays only for the rows no earlier
    start listed.
    """

    #: Largest number of pairs listed (that of 400 points, the most a floor keeps; the
    #: same bound as all-pairs Theil-Sen in :mod:`detector.kernels.trend`).
    MAX_PAIRS = 80_000

    @classmethod
    def can_hold(cls, n: int) -> bool:
        """Whether the pairs of ``n`` points fit in the list (at most :attr:`MAX_PAIRS`)."""
        return n * (n - 1) // 2 <= cls.MAX_PAIRS

    def __init__(self, y: np.ndarray):
        if y.ndim != 1 or y.dtype != np.float64:
            raise ValueError("y must be a 1-D float64 array")
        n = y.shape[0]
        if not self.can_hold(n):
            raise ValueError(f"{n} points make more than {self.MAX_PAIRS} pairs")
        # (a read-only array would compile the kernel a second time, for its own type)
        self.y = np.ascontiguousarray(y) if y.flags.writeable else y.copy()
        self.n = n
        self._slopes = np.empty(n * (n - 1) // 2)
        self._listed_from = n  # rows from here on are in the list

    def sen_slope(self, c: int) -> float:
        """Sen's slope of ``y[c:]`` over positions ``0..n-c-1``.

        Parameters
        ----------
        c : int
            First point of the suffix, ``0 <= c <= n``.

        Returns
        -------
        float
            Units of y per sample: ``theil_sen(y[c:])[0]`` for finite ``y``, to the last
            bit; NaN with fewer than two points.
        """
        n = self.n
        if not 0 <= c <= n:
            raise ValueError(f"start {c} outside 0..{n}")
        m = n - c
        if m < 2:
            return float("nan")
        if c < self._listed_from:
            _row_slopes_into(self.y, c, self._listed_from, self._slopes, _row_start(n, c))
            self._listed_from = c
        pairs = m * (m - 1) // 2
        k1, k2 = (pairs - 1) // 2, pairs // 2
        a, b = order_statistics(self._slopes[_row_start(n, c):], [k1, k2])
        return float(a) if k1 == k2 else float((a + b) / 2)
