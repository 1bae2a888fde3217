"""Exact penalised change points in the mean (L2 cost): PELT, and FPOP for long signals.

``pelt(signal, penalty, min_size=2, jump=5)`` returns what
``ruptures.Pelt(model="l2", min_size=min_size, jump=jump).fit(signal).predict(pen=penalty)``
returns. With ``jump=1`` it switches by itself to functional pruning (FPOP,
Maidstone et al. 2017), exact like PELT but O(n log n) expected even when
changes are rare, where PELT's candidate set grows with the segment length.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._validate import as_float_array, check_float, check_int
from .segment import backtrack


#: With jump=1, signals longer than this take the FPOP path. Shorter ones are cheap for
#: PELT, which also breaks exact ties between equal-cost partitions as ruptures does (FPOP
#: may keep a different one of two exactly equal candidates: integer data, tiny n).
FPOP_MIN_SAMPLES = 2000


@njit(cache=True)
def _prefix(y):
    n = y.shape[0]
    s1 = np.zeros(n + 1)
    s2 = np.zeros(n + 1)
    for i in range(n):
        s1[i + 1] = s1[i] + y[i]
        s2[i + 1] = s2[i] + y[i] * y[i]
    return s1, s2


@njit(cache=True)
def _l2(s1, s2, a, b):
    # sum of squared deviations from the mean of y[a:b]
    m = b - a
    d = s1[b] - s1[a]
    v = (s2[b] - s2[a]) - d * d / m
    return v if v > 0.0 else 0.0


@njit(cache=True)
def _block_sum(a, lo, n):
    # numpy's pairwise summation on a block of at most 128 values
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0 = a[lo]
    r1 = a[lo + 1]
    r2 = a[lo + 2]
    r3 = a[lo + 3]
    r4 = a[lo + 4]
    r5 = a[lo + 5]
    r6 = a[lo + 6]
    r7 = a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def _pairwise_sum(a, lo, n):
    """numpy's pairwise summation, in its exact order, without recursion (cached numba
    functions must not recurse)."""
    if n <= 128:
        return _block_sum(a, lo, n)
    # explicit stack of (start, length, partial-sum slot); sums combined in numpy's order
    starts = np.empty(64, np.int64)
    lens = np.empty(64, np.int64)
    vals = np.empty(64)
    state = np.empty(64, np.int64)  # 0: not expanded, 1: left done
    top = 0
    starts[0] = lo
    lens[0] = n
    state[0] = 0
    result = 0.0
    while top >= 0:
        m = lens[top]
        if m <= 128:
            v = _block_sum(a, starts[top], m)
            top -= 1
            if top < 0:
                result = v
                break
            if state[top] == 0:
                vals[top] = v
                state[top] = 1
                n2 = lens[top] // 2
                n2 -= n2 % 8
                top += 1
                starts[top] = starts[top - 1] + n2
                lens[top] = lens[top - 1] - n2
                state[top] = 0
            else:
                # right half done: combine, and pass the sum up
                v = vals[top] + v
                top -= 1
                while top >= 0 and state[top] == 1:
                    v = vals[top] + v
                    top -= 1
                if top < 0:
                    result = v
                    break
                vals[top] = v
                state[top] = 1
                n2 = lens[top] // 2
                n2 -= n2 % 8
                top += 1
                starts[top] = starts[top - 1] + n2
                lens[top] = lens[top - 1] - n2
                state[top] = 0
        else:
            n2 = m // 2
            n2 -= n2 % 8
            top += 1
            starts[top] = starts[top - 1]
            lens[top] = n2
            state[top] = 0
    return result


@njit(cache=True)
def _clinear(y, buf, a, b):
    # ruptures' CostCLinear: squared distance of y[a:b] to the chord from y[a-1] to
    # y[b-1] (a segment starting at 0 is anchored at y[0]), computed as ruptures does
    if a == 0:
        a = 1
    m = b - a
    if m <= 0:
        return 0.0
    intercept = y[a - 1]
    slope = (y[b - 1] - intercept) / m
    for k in range(m):
        d = y[a + k] - (slope * (k + 1) + intercept)
        buf[k] = d * d
    return _pairwise_sum(buf, 0, m)


@njit(cache=True)
def _exact_l2(y, buf, a, b):
    # ruptures' cost on the raw signal, in numpy's order: var(y[a:b]) * (b - a)
    m = b - a
    mean = _pairwise_sum(y, a, m) / m
    for k in range(m):
        d = y[a + k] - mean
        buf[k] = d * d
    return (_pairwise_sum(buf, 0, m) / m) * m


@njit(cache=True)
def _exact_total(y, buf, prev, fx, pen, t):
    # ruptures' sum(partition.values()) for the best partition of [0, t), memoised in fx
    if fx[t] == fx[t]:
        return fx[t]
    path = []
    e = t
    while fx[e] != fx[e]:
        path.append(e)
        e = prev[e]
    total = fx[e]
    for i in range(len(path) - 1, -1, -1):
        b = path[i]
        a = prev[b]
        total = total + (_exact_l2(y, buf, a, b) + pen)
        fx[b] = total
    return total


@njit(cache=True)
def _near(a, b, pen):
    return abs(a - b) <= 1e-9 * (abs(a) + abs(b) + pen + 1.0)


@njit(cache=True)
def _pelt_kernel(y, pen, min_size, jump, model=0, raw=None):
    """ruptures' PELT, step for step: the same admissible points, pruning and ties.

    ``model`` 0: L2 (mean) cost from prefix sums of ``y`` (centred), with near
    ties settled by ruptures' own float arithmetic on ``raw``; 1: ruptures'
    continuous-linear cost, computed exactly as ruptures does.
    """
    n = y.shape[0]
    s1, s2 = _prefix(y)
    buf = np.empty(n + 1)
    fx = np.full(n + 1, np.nan)
    fx[0] = 0.0
    big = n + 1
    best = np.full(big, np.inf)
    prev = np.full(big, -1, np.int64)
    best[0] = 0.0
    # breakpoint candidates: multiples of jump >= min_size, then n
    ind = []
    for k in range(0, n, jump):
        if k >= min_size:
            ind.append(k)
    ind.append(n)
    adm = np.empty(len(ind) + 1, np.int64)
    n_adm = 0
    vals = np.empty(len(ind) + 1)
    for bkp in ind:
        adm[n_adm] = ((bkp - min_size) // jump) * jump
        n_adm += 1
        bv = np.inf
        bt = -1
        for k in range(n_adm):
            t = adm[k]
            if not np.isfinite(best[t]):
                vals[k] = np.nan  # no partition of [0, t): ruptures skips it
                continue
            cost = _l2(s1, s2, t, bkp) if model == 0 else _clinear(y, buf, t, bkp)
            v = best[t] + (cost + pen)
            vals[k] = v
            if v < bv:
                bv = v
                bt = t
        if model == 0:
            # candidates within rounding of the best: decide as ruptures' floats do
            ties = 0
            for k in range(n_adm):
                if vals[k] == vals[k] and _near(vals[k], bv, pen):
                    ties += 1
            if ties > 1:
                bx = np.inf
                for k in range(n_adm):
                    if vals[k] == vals[k] and _near(vals[k], bv, pen):
                        t = adm[k]
                        ex = _exact_total(raw, buf, prev, fx, pen, t) + (
                            _exact_l2(raw, buf, t, bkp) + pen)
                        if ex < bx:
                            bx = ex
                            bt = t
        best[bkp] = bv
        prev[bkp] = bt
        kept = 0
        for k in range(n_adm):
            keep = vals[k] == vals[k] and vals[k] <= bv + pen
            if model == 0 and vals[k] == vals[k] and _near(vals[k], bv + pen, pen):
                t = adm[k]
                ex = _exact_total(raw, buf, prev, fx, pen, t) + (
                    _exact_l2(raw, buf, t, bkp) + pen)
                keep = ex <= _exact_total(raw, buf, prev, fx, pen, bkp) + pen
            if keep:
                adm[kept] = adm[k]
                kept += 1
        n_adm = kept
    return backtrack(prev, n)


@njit(cache=True)
def _fpop_kernel(y, pen, min_size, raw):
    """Exact optimal partition by functional pruning (L2, every point admissible)."""
    n = y.shape[0]
    s1, s2 = _prefix(y)
    buf = np.empty(n + 1)
    fx = np.full(n + 1, np.nan)
    fx[0] = 0.0
    best = np.full(n + 1, np.inf)
    prev = np.full(n + 1, -1, np.int64)
    best[0] = 0.0
    # intervals of mu where a candidate is optimal: (lo, hi, owner)
    cap = 64
    lo = np.empty(cap)
    hi = np.empty(cap)
    own = np.empty(cap, np.int64)
    n_iv = 0
    nlo = np.empty(cap)
    nhi = np.empty(cap)
    nown = np.empty(cap, np.int64)
    alive = np.zeros(n + 1, np.bool_)
    cands = np.empty(n + 1, np.int64)
    for t in range(min_size, n + 1):
        tau = t - min_size
        if tau == 0 or (tau >= min_size and np.isfinite(best[tau])):
            # insert tau: it takes from each interval the part where it is strictly better
            if n_iv == 0:
                lo[0] = -np.inf
                hi[0] = np.inf
                own[0] = tau
                n_iv = 1
            else:
                if 3 * n_iv + 2 > nlo.shape[0]:
                    size = 2 * (3 * n_iv + 2)
                    nlo = np.empty(size)
                    nhi = np.empty(size)
                    nown = np.empty(size, np.int64)
                m = 0
                for k in range(n_iv):
                    o = own[k]
                    # q_tau - q_o = (F(tau) - F(o)) - sum_{o<i<=tau} (y_i - mu)^2
                    cnt = tau - o
                    mean = (s1[tau] - s1[o]) / cnt
                    sse = _l2(s1, s2, o, tau)
                    gap = best[tau] - best[o] - sse
                    a = lo[k]
                    b = hi[k]
                    if gap < 0.0:
                        # tau better everywhere
                        nlo[m] = a
                        nhi[m] = b
                        nown[m] = tau
                        m += 1
                        continue
                    r = math.sqrt(gap / cnt)
                    slack = 1e-9 * (abs(mean) + r + 1.0)
                    r1 = mean - r - slack  # o keeps [r1, r2] (widened: never prune by rounding)
                    r2 = mean + r + slack
                    if a < r1:
                        nlo[m] = a
                        nhi[m] = min(b, r1)
                        nown[m] = tau
                        m += 1
                    kl = max(a, r1)
                    kh = min(b, r2)
                    if kl <= kh:
                        nlo[m] = kl
                        nhi[m] = kh
                        nown[m] = o
                        m += 1
                    if b > r2:
                        nlo[m] = max(a, r2)
                        nhi[m] = b
                        nown[m] = tau
                        m += 1
                # merge neighbours with the same owner
                if m > lo.shape[0]:
                    lo = np.empty(2 * m)
                    hi = np.empty(2 * m)
                    own = np.empty(2 * m, np.int64)
                n_iv = 0
                for k in range(m):
                    if n_iv > 0 and own[n_iv - 1] == nown[k] and hi[n_iv - 1] >= nlo[k]:
                        hi[n_iv - 1] = max(hi[n_iv - 1], nhi[k])
                    else:
                        lo[n_iv] = nlo[k]
                        hi[n_iv] = nhi[k]
                        own[n_iv] = nown[k]
                        n_iv += 1
        # candidates still optimal somewhere, in increasing order (ties: smallest wins)
        nc = 0
        for k in range(n_iv):
            o = own[k]
            if not alive[o]:
                alive[o] = True
                cands[nc] = o
                nc += 1
        for k in range(nc):
            alive[cands[k]] = False
        cs = np.sort(cands[:nc])
        bv = np.inf
        bt = -1
        vs = np.empty(nc)
        for k in range(nc):
            o = cs[k]
            v = best[o] + (_l2(s1, s2, o, t) + pen)
            vs[k] = v
            if v < bv:
                bv = v
                bt = o
        ties = 0
        for k in range(nc):
            if _near(vs[k], bv, pen):
                ties += 1
        if ties > 1:  # within rounding: decide as ruptures' floats do
            bx = np.inf
            for k in range(nc):
                if _near(vs[k], bv, pen):
                    o = cs[k]
                    ex = _exact_total(raw, buf, prev, fx, pen, o) + (
                        _exact_l2(raw, buf, o, t) + pen)
                    if ex < bx:
                        bx = ex
                        bt = o
        best[t] = bv
        prev[t] = bt
    return backtrack(prev, n)


def pelt(signal, penalty: float, *, min_size: int = 2, jump: int = 5) -> list[int]:
    """Penalised change points in the mean (L2 cost), equal to ruptures' Pelt.

    Parameters
    ----------
    signal : array_like
        1-D finite values.
    penalty : float
        Cost of one more segment (units of the signal squared), >= 0.
    min_size : int, default 2
        Shortest segment (samples), >= 1.
    jump : int, default 5
        Breakpoints only at multiples of ``jump`` (samples), >= 1.

    Returns
    -------
    list of int
        Segment ends, the last one ``len(signal)``.

    Notes
    -----
    Equals ``ruptures.Pelt(model="l2", min_size=min_size, jump=jump)
    .fit(signal).predict(pen=penalty)`` (same admissible points, pruning and
    tie-breaking; costs from prefix sums of the centred signal, and candidates
    within rounding of each other settled with ruptures' own float arithmetic).
    With ``jump=1`` and more than ``FPOP_MIN_SAMPLES`` samples the exact FPOP
    path is used: the same breakpoints, O(n log n) expected instead of PELT's
    O(n^2) when changes are rare.

    Raises
    ------
    ValueError
        ``signal`` not 1-D, empty, holding NaN/inf or too short for
        ``min_size`` and ``jump``; ``penalty`` negative; ``min_size`` or
        ``jump`` < 1.
    """
    y = as_float_array(signal, "signal", min_length=1)
    penalty = check_float(penalty, "penalty", minimum=0.0)
    min_size = check_int(min_size, "min_size", minimum=1)
    jump = check_int(jump, "jump", minimum=1)
    if not np.all(np.isfinite(y)):
        raise ValueError("signal must be finite (drop or fill NaN and inf first)")
    n = y.shape[0]
    if min_size > n:  # ruptures' sanity check for zero breakpoints
        raise ValueError(f"signal has {n} samples, fewer than min_size={min_size}")
    yc = y - y.mean()  # centred: sums of squares keep their digits at large levels
    if jump == 1 and n > FPOP_MIN_SAMPLES:
        return _fpop_kernel(yc, penalty, max(min_size, 1), y).tolist()
    return _pelt_kernel(yc, penalty, min_size, jump, 0, y).tolist()


def pelt_plain(signal, penalty: float, *, min_size: int = 2, jump: int = 5) -> list[int]:
    """:func:`pelt` without the FPOP switch (PELT even for ``jump=1``); for tests and benchmarks."""
    y = as_float_array(signal, "signal", min_length=1)
    penalty = check_float(penalty, "penalty", minimum=0.0)
    min_size = check_int(min_size, "min_size", minimum=1)
    jump = check_int(jump, "jump", minimum=1)
    if not np.all(np.isfinite(y)):
        raise ValueError("signal must be finite (drop or fill NaN and inf first)")
    if min_size > y.shape[0]:
        raise ValueError(f"signal has {y.shape[0]} samples, fewer than min_size={min_size}")
    return _pelt_kernel(y - y.mean(), penalty, min_size, jump, 0, y).tolist()


def pelt_linear(signal, penalty: float, *, min_size: int = 3, jump: int = 5) -> list[int]:
    """Change points in slope with a continuous piecewise-linear cost, equal to ruptures.

    The cost of a segment is the squared distance of its points to the chord
    joining the last point before it to its own last point (so consecutive
    pieces meet), as ruptures' ``CostCLinear``; the optimal penalised
    partition is found by the same PELT recursion as :func:`pelt`.

    Parameters
    ----------
    signal : array_like
        1-D finite values.
    penalty : float
        Cost of one more segment (units of the signal squared), >= 0.
    min_size : int, default 3
        Shortest segment (samples); at least 3, as ruptures enforces.
    jump : int, default 5
        Breakpoints only at multiples of ``jump`` (samples).

    Returns
    -------
    list of int
        Segment ends, the last one ``len(signal)``.

    Notes
    -----
    Equals ``ruptures.Pelt(model="clinear", min_size=min_size, jump=jump)
    .fit(signal).predict(pen=penalty)``, the costs computed in ruptures' own
    order (numpy's pairwise summation) so that even exact ties break alike.
    Each cost is O(segment length), as in ruptures, but compiled: the search is
    O(n * candidates * length). For the optimal partition into unconstrained
    least-squares lines in O(1) per cost see :func:`linear_segments`.
    """
    y = as_float_array(signal, "signal", min_length=1)
    penalty = check_float(penalty, "penalty", minimum=0.0)
    min_size = max(3, check_int(min_size, "min_size", minimum=1))
    jump = check_int(jump, "jump", minimum=1)
    if not np.all(np.isfinite(y)):
        raise ValueError("signal must be finite (drop or fill NaN and inf first)")
    if min_size > y.shape[0]:
        raise ValueError(f"signal has {y.shape[0]} samples, fewer than min_size={min_size}")
    return _pelt_kernel(y, penalty, min_size, jump, 1, y).tolist()  # uncentred: exact costs
