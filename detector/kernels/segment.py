"""Optimal segmentation into straight-line pieces (level and slope may jump).

The cost of a segment is the residual sum of squares of its least-squares
line, computed in O(1) from prefix sums; the optimal partition minimises the
sum of segment costs plus ``penalty`` per segment, found exactly by dynamic
programming with PELT pruning (Killick et al. 2012; the cost is additive and
non-negative, so the pruning rule holds).  Used to find where growth began
(onset) and where it stopped.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel
from ._validate import as_float_array, check_float, check_int


@kernel(inline="always")
def _segment_cost(st, stt, sy, syy, sty, a, b):
    # RSS of the least-squares line through points a..b-1 (prefix sums, exclusive ends)
    n = b - a
    t1 = st[b] - st[a]
    t2 = stt[b] - stt[a]
    y1 = sy[b] - sy[a]
    y2 = syy[b] - syy[a]
    ty = sty[b] - sty[a]
    sxx = t2 - t1 * t1 / n
    syy_c = y2 - y1 * y1 / n
    if sxx <= 1e-12 * (t2 if t2 > 0 else 1.0):
        rss = syy_c
    else:
        sxy = ty - t1 * y1 / n
        rss = syy_c - sxy * sxy / sxx
    return rss if rss > 0.0 else 0.0


@kernel
def _linear_segments_kernel(t, y, penalty, min_size):
    """Predecessor array of the optimal partition (``prev[e]``: start of the segment
    ending at ``e``). Written for a short compile on a cold cache: arrays only from
    ``np.empty``, no array expressions, the cost inlined, the walk back in Python."""
    n = y.shape[0]
    # centre for precision
    ym = 0.0
    for i in range(n):
        ym += y[i]
    ym /= n
    st = np.empty(n + 1)
    stt = np.empty(n + 1)
    sy = np.empty(n + 1)
    syy = np.empty(n + 1)
    sty = np.empty(n + 1)
    st[0] = stt[0] = sy[0] = syy[0] = sty[0] = 0.0
    t0 = t[0]
    for i in range(n):
        ti = t[i] - t0
        yi = y[i] - ym
        st[i + 1] = st[i] + ti
        stt[i + 1] = stt[i] + ti * ti
        sy[i + 1] = sy[i] + yi
        syy[i + 1] = syy[i] + yi * yi
        sty[i + 1] = sty[i] + ti * yi
    best = np.empty(n + 1)
    prev = np.empty(n + 1, np.int64)
    for i in range(n + 1):
        best[i] = np.inf
        prev[i] = -1
    best[0] = -penalty
    cand = np.empty(n + 1, np.int64)
    dominated_at = np.empty(n + 1, np.int64)  # end at which the candidate was dominated
    total = np.empty(n + 1)  # F(a) + C(a, end) of each candidate at this end
    n_cand = 0
    for end in range(min_size, n + 1):
        # admit the start end - min_size as a candidate
        s = end - min_size
        if s == 0 or (s >= min_size and best[s] < np.inf):
            cand[n_cand] = s
            dominated_at[n_cand] = -1
            n_cand += 1
        bv = np.inf
        bp = -1
        for k in range(n_cand):
            a = cand[k]
            f = best[a] + _segment_cost(st, stt, sy, syy, sty, a, end)
            total[k] = f
            v = f + penalty
            if v < bv:
                bv = v
                bp = a
        best[end] = bv
        prev[end] = bp
        # PELT pruning, delayed by min_size: once F(a) + C(a, end) >= F(end), every
        # end' >= end + min_size is reached at least as cheaply through end (the cost
        # is additive), but ends closer than min_size cannot split at end yet.
        kept = 0
        for k in range(n_cand):
            a = cand[k]
            d = dominated_at[k]
            if d < 0 and total[k] >= bv:
                d = end
            if d >= 0 and end >= d + min_size:
                continue
            cand[kept] = a
            dominated_at[kept] = d
            kept += 1
        n_cand = kept
    return prev


def backtrack(prev: np.ndarray, n: int) -> list[int]:
    """Segment ends of the optimal partition of [0, n) from its predecessor array.

    A Python walk: one step per segment (a compiled loop would only add compile time).
    """
    out = []
    e = n
    while e > 0:
        out.append(e)
        e = int(prev[e])
    out.reverse()
    return out


def linear_segments(y, penalty: float, *, t=None, min_size: int = 3) -> list[int]:
    """Exact optimal partition of ``y`` into straight-line segments.

    Minimises ``sum(RSS of each segment's least-squares line) + penalty *
    number_of_segments`` over all partitions whose segments hold at least
    ``min_size`` points. Level and slope may both change at a boundary.

    Parameters
    ----------
    y : array_like
        Values (finite), 1-D.
    penalty : float
        Cost of one more segment (units of ``y`` squared), >= 0.
    t : array_like, optional
        Positions of the points (e.g. seconds), increasing; default 0..n-1.
    min_size : int, default 3
        Fewest points in a segment (>= 2).

    Returns
    -------
    list of int
        Segment ends (exclusive indices), the last one is ``len(y)``; empty
        for empty input.

    Notes
    -----
    Dynamic programming over segment ends with PELT pruning: O(n^2) in the
    worst case, near O(n) when segments are short. Reference: a brute-force
    search over all admissible partitions (in the tests).
    """
    y = as_float_array(y, "y")
    penalty = check_float(penalty, "penalty", minimum=0.0)
    min_size = check_int(min_size, "min_size", minimum=2)
    if not np.all(np.isfinite(y)):
        raise ValueError("y must be finite (drop NaN before segmenting)")
    n = y.shape[0]
    if t is None:
        t = np.arange(n, dtype=np.float64)
    else:
        t = as_float_array(t, "t")
        if t.shape[0] != n:
            raise ValueError(f"t and y differ in length ({t.shape[0]} vs {n})")
        if n > 1 and not np.all(np.diff(t) > 0):
            raise ValueError("t must be strictly increasing")
    if n == 0:
        return []
    if n < 2 * min_size:
        return [n]
    return backtrack(_linear_segments_kernel(t, y, penalty, min_size), n)


def segment_fits(y, ends, *, t=None):
    """Least-squares line of each segment: ``(start, end, slope, intercept, rss)`` rows.

    Parameters
    ----------
    y : array_like
    ends : sequence of int
        Segment ends as returned by :func:`linear_segments`.
    t : array_like, optional
        Positions (default 0..n-1); the intercept is the fitted value at t = 0.

    Returns
    -------
    list of tuple
    """
    y = as_float_array(y, "y")
    t = np.arange(y.shape[0], dtype=float) if t is None else as_float_array(t, "t")
    out = []
    start = 0
    for end in ends:
        ts, ys = t[start:end], y[start:end]
        if end - start >= 2 and np.ptp(ts) > 0:
            slope, intercept = np.polyfit(ts, ys, 1)
        else:
            slope, intercept = 0.0, float(np.mean(ys))
        rss = float(np.sum((ys - (intercept + slope * ts)) ** 2))
        out.append((start, end, float(slope), float(intercept), rss))
        start = end
    return out
