"""Exact penalised change points: in the mean (L2 cost) and in slope (continuous linear cost).

``pelt(signal, penalty, min_size=2, jump=5)`` returns what
``ruptures.Pelt(model="l2", min_size=min_size, jump=jump).fit(signal).predict(pen=penalty)``
returns. On long signals it switches by itself to functional pruning (FPOP, Maidstone
et al. 2017): O(n log n) expected even when changes are rare, where PELT keeps every
candidate of the current segment and costs O(n^2).

``pelt_linear`` is ruptures' ``model="clinear"`` (see its docstring for what that cost
is and when to prefer :func:`detector.kernels.linear_segments`).

Details, tie-breaking and precision: ``docs/kernels-changepoint.md``.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import kernel
from ._validate import as_float_array, check_float, check_int
from .segment import backtrack


#: Signals with more candidate ends than this (``n // jump``) take the FPOP path. Below
#: it plain PELT is as fast (jump=1, measured: parity near 300 samples; at 2,000 samples
#: of pure noise PELT takes 27 ms, FPOP 1.3 ms). Both paths return the same breakpoints;
#: tests force FPOP on short inputs too.
FPOP_MIN_SAMPLES = 500

#: Candidates whose penalised costs agree to this relative tolerance are "near ties":
#: they are settled with ruptures' own floating-point arithmetic (see ``_exact_l2``).
NEAR = 1e-12

# np.int64(0), not 0, where a kernel passes a start index of zero: numba would compile a
# second copy of the callee specialised to the literal
_ZERO = np.int64(0)

# Largest |x - mean(x)| accepted: squares, their sums and Dekker splits stay finite.
_MAX_ABS = 1e100
#: Spread below which a signal is taken as constant: squares of smaller deviations sit at
#: the bottom of double precision (subnormal or 0), so every segment cost is rounding.
_MIN_SPREAD = 1e-150
_EPS = float(np.finfo(np.float64).eps)


# --------------------------------------------------------------------------------------
# Error-free transformations and double-double prefix sums
# --------------------------------------------------------------------------------------


@kernel
def _two_sum(a, b):
    # s + e == a + b exactly (Knuth)
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


@kernel
def _two_prod(a, b):
    # p + e == a * b exactly (Dekker's split; no FMA needed)
    p = a * b
    c = 134217729.0 * a
    ah = c - (c - a)
    al = a - ah
    c = 134217729.0 * b
    bh = c - (c - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


@kernel
def _prefix_dd(y):
    """Prefix sums of y and y*y as unevaluated pairs hi + lo (about 106 bits)."""
    n = y.shape[0]
    s1h = np.empty(n + 1)  # np.empty and explicit fills only: each other numpy
    s1l = np.empty(n + 1)  # constructor costs its own compile time on a cold cache
    s2h = np.empty(n + 1)
    s2l = np.empty(n + 1)
    s1h[0] = s1l[0] = s2h[0] = s2l[0] = 0.0
    h1 = 0.0
    l1 = 0.0
    h2 = 0.0
    l2 = 0.0
    for i in range(n):
        v = y[i]
        h1, e = _two_sum(h1, v)
        l1 += e
        p, pe = _two_prod(v, v)
        h2, e = _two_sum(h2, p)
        l2 += e + pe
        s1h[i + 1] = h1
        s1l[i + 1] = l1
        s2h[i + 1] = h2
        s2l[i + 1] = l2
    return s1h, s1l, s2h, s2l


@kernel
def _prefix(y, plain):
    """Prefix sums for ``_l2``: double-double pairs, or (plain) the pairs rounded once."""
    s1h, s1l, s2h, s2l = _prefix_dd(y)
    if plain:
        for i in range(s1h.shape[0]):
            s1h[i] += s1l[i]
            s2h[i] += s2l[i]
    return s1h, s1l, s2h, s2l


@kernel
def _l2(s1h, s1l, s2h, s2l, a, b, plain):
    """Sum of squared deviations from the mean of y[a:b] (see ``_l2_plain``, ``_l2_dd``)."""
    if plain:
        return _l2_plain(s1h[a], s1h[b], s2h[a], s2h[b], b - a)
    return _l2_dd(s1h[a], s1h[b], s1l[a], s1l[b], s2h[a], s2h[b], s2l[a], s2l[b], b - a)


@kernel
def _l2_plain(s1a, s1b, s2a, s2b, m):
    # well-conditioned signal: prefix sums compensated, rounded once (see _prefix);
    # the error is inside the near-tie band (see _precision). Scalar arguments: numba
    # passes arrays with reference counting, which keeps LLVM from inlining the call
    d1 = s1b - s1a
    v = (s2b - s2a) - d1 * d1 / m
    return v if v > 0.0 else 0.0


@kernel
def _l2_dd(s1ha, s1hb, s1la, s1lb, s2ha, s2hb, s2la, s2lb, m):
    """Sum of squared deviations from the mean of y[a:b], in double-double arithmetic.

    ``S2 - S1**2 / m`` cancels catastrophically in plain doubles when the segment sits
    far from the signal's mean (a 1e9 step over unit noise, long flat stretches at a
    large level); carried in double-double its error is about eps**2 * S2 plus one
    rounding of the cost itself.
    """
    x1, e1 = _two_sum(s1hb, -s1ha)
    d1h, d1l = _two_sum(x1, e1 + (s1lb - s1la))
    x2, e2 = _two_sum(s2hb, -s2ha)
    l2 = e2 + (s2lb - s2la)
    ph, pl = _two_prod(d1h, d1h)
    pl += 2.0 * d1h * d1l
    fm = float(m)
    qh = ph / fm
    th, tl = _two_prod(qh, fm)
    ql = (((ph - th) - tl) + pl) / fm
    ch, ce = _two_sum(x2, -qh)
    v = ch + ((ce + l2) - ql)
    return v if v > 0.0 else 0.0


@kernel
def _seg_mean(s1h, s1l, a, b, plain):
    if plain:
        return (s1h[b] - s1h[a]) / (b - a)
    x1, e1 = _two_sum(s1h[b], -s1h[a])
    return (x1 + (e1 + (s1l[b] - s1l[a]))) / (b - a)


@kernel
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


@kernel
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
        if m > 128:  # split as numpy does and descend into the left half
            n2 = m // 2
            n2 -= n2 % 8
            top += 1
            starts[top] = starts[top - 1]
            lens[top] = n2
            state[top] = 0
            continue
        v = _block_sum(a, starts[top], m)
        top -= 1
        while top >= 0 and state[top] == 1:  # a right half is done: add its left half
            v = vals[top] + v
            top -= 1
        if top < 0:
            result = v
            break
        vals[top] = v  # a left half is done: keep it and descend into the right half
        state[top] = 1
        n2 = lens[top] // 2
        n2 -= n2 % 8
        top += 1
        starts[top] = starts[top - 1] + n2
        lens[top] = lens[top - 1] - n2
        state[top] = 0
    return result


@kernel
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
    return _pairwise_sum(buf, _ZERO, m)


@kernel
def _exact_l2(y, buf, a, b):
    # ruptures' cost on the raw signal, in numpy's order: var(y[a:b]) * (b - a)
    m = b - a
    mean = _pairwise_sum(y, a, m) / m
    for k in range(m):
        d = y[a + k] - mean
        buf[k] = d * d
    return (_pairwise_sum(buf, _ZERO, m) / m) * m


@kernel
def _exact_total(y, buf, path, prev, fx, pen, t):
    # ruptures' sum(partition.values()) for the best partition of [0, t), memoised in fx;
    # ``path`` is scratch space for the walk back (n + 1 slots)
    if fx[t] == fx[t]:
        return fx[t]
    k = 0
    e = t
    while fx[e] != fx[e]:
        path[k] = e
        k += 1
        e = prev[e]
    total = fx[e]
    for i in range(k - 1, -1, -1):
        b = path[i]
        a = prev[b]
        total = total + (_exact_l2(y, buf, a, b) + pen)
        fx[b] = total
    return total


@kernel
def _near(a, b, pen, floor):
    # within rounding of each other: NEAR relative, plus the absolute error bound of
    # our costs (``floor``, from the signal's sum of squares)
    return abs(a - b) <= NEAR * (abs(a) + abs(b) + pen) + floor


@kernel
def _settle(raw, buf, path, prev, fx, pen, floor, cand, vals, nc, bv, t):
    """Index (into ``cand``) of the candidate ruptures would pick at end ``t``.

    ``vals`` are our penalised totals; candidates are in increasing order, as ruptures' admissible list, and the first
    with the smallest total wins, as ``min`` does. Candidates within ``NEAR`` of the
    smallest are compared with ruptures' own arithmetic instead.
    """
    ties = 0
    first = -1
    for k in range(nc):
        v = vals[k]
        if v == v and _near(v, bv, pen, floor):
            ties += 1
            if first < 0:
                first = k
    if ties <= 1:
        return first
    bx = np.inf
    bk = first
    for k in range(nc):
        v = vals[k]
        if v == v and _near(v, bv, pen, floor):
            o = cand[k]
            ex = _exact_total(raw, buf, path, prev, fx, pen, o) + (_exact_l2(raw, buf, o, t)
                                                                   + pen)
            if ex < bx:
                bx = ex
                bk = k
    return bk


@kernel
def _exact_keeps(raw, buf, path, prev, fx, pen, o, t):
    """ruptures' pruning test at end ``t`` in its own arithmetic: total(o) <= total(t) + pen."""
    ex = _exact_total(raw, buf, path, prev, fx, pen, o) + (_exact_l2(raw, buf, o, t) + pen)
    return ex <= _exact_total(raw, buf, path, prev, fx, pen, t) + pen


@kernel
def _breakpoints(n, min_size, jump):
    """ruptures' candidate segment ends: multiples of ``jump`` that are >= min_size, then n."""
    count = 0
    for k in range(0, n, jump):
        if k >= min_size:
            count += 1
    ind = np.empty(count + 1, np.int64)
    count = 0
    for k in range(0, n, jump):
        if k >= min_size:
            ind[count] = k
            count += 1
    ind[count] = n
    return ind


@kernel
def _pelt_kernel(y, pen, min_size, jump, model, raw, plain, floor):
    """ruptures' PELT, step for step: the same admissible points, pruning and ties.

    ``model`` 0: L2 (mean) cost from prefix sums of ``y`` (centred), near ties
    settled with ruptures' own float arithmetic on ``raw``; 1: ruptures'
    continuous-linear cost, computed exactly as ruptures does (on ``y``).
    Returns the predecessor array (``prev[e]``: start of the segment ending at ``e``).
    """
    n = y.shape[0]
    if model == 0:
        s1h, s1l, s2h, s2l = _prefix(y, plain)
    else:
        s1h = np.empty(1)
        s1l = s1h
        s2h = s1h
        s2l = s1h
    buf = np.empty(n + 1)
    path = np.empty(n + 1, np.int64)
    fx = np.empty(n + 1)
    best = np.empty(n + 1)
    prev = np.empty(n + 1, np.int64)
    for i in range(n + 1):
        fx[i] = np.nan
        best[i] = np.inf
        prev[i] = -1
    fx[0] = 0.0
    best[0] = 0.0
    ind = _breakpoints(n, min_size, jump)
    adm = np.empty(ind.shape[0] + 1, np.int64)
    vals = np.empty(ind.shape[0] + 1)
    n_adm = 0
    for i in range(ind.shape[0]):
        bkp = ind[i]
        pt = ((bkp - min_size) // jump) * jump
        # 0 < pt < min_size: no partition of [0, pt) exists; ruptures skips it, and as it
        # is the last admitted point its zip() with the shorter subproblem list drops it
        if pt == 0 or pt >= min_size:
            adm[n_adm] = pt
            n_adm += 1
        b1 = np.inf
        b2 = np.inf
        k1 = 0
        for k in range(n_adm):
            t = adm[k]
            if model == 0:
                cost = _l2(s1h, s1l, s2h, s2l, t, bkp, plain)
            else:
                cost = _clinear(y, buf, t, bkp)
            v = best[t] + (cost + pen)
            vals[k] = v
            if v < b1:  # strict: the first of equal totals wins, as min() in ruptures
                b2 = b1
                b1 = v
                k1 = k
            elif v < b2:
                b2 = v
        if model == 0 and _near(b2, b1, pen, floor):  # runner-up within rounding
            k1 = _settle(raw, buf, path, prev, fx, pen, floor, adm, vals, n_adm, b1, bkp)
        best[bkp] = b1
        prev[bkp] = adm[k1]
        # ruptures keeps a candidate while its total <= best + pen; totals within
        # rounding of that line are decided in ruptures' arithmetic
        thr = b1 + pen
        margin = NEAR * (3.0 * abs(thr) + pen) + 2.0 * floor if model == 0 else 0.0
        kept = 0
        for k in range(n_adm):
            v = vals[k]
            if v < thr - margin:
                keep = True
            elif v > thr + margin:
                keep = False
            elif model == 0:
                keep = _exact_keeps(raw, buf, path, prev, fx, pen, adm[k], bkp)
            else:
                keep = v <= thr
            if keep:
                adm[kept] = adm[k]
                kept += 1
        n_adm = kept
    return prev


@kernel
def _fpop_kernel(y, pen, min_size, jump, raw, plain, floor, big):
    """Optimal partition by functional pruning (L2 cost), checked against ruptures.

    Each candidate start ``tau`` owns the set of segment means ``mu`` at which its
    cost ``F(tau) + pen + sum_{tau<i<=t} (y_i - mu)^2`` is the lowest. Every live
    candidate gains the same function of ``mu`` at each step, so the sets only
    shrink: a candidate whose set is empty can never win again and is dropped.
    Segment ends are ruptures' (multiples of ``jump`` >= ``min_size``, then ``n``);
    ``tau`` enters when ruptures admits it (``floor((end - min_size) / jump) * jump``,
    once a segment starting there is long enough) and takes from each set the part
    where it is cheaper by more than rounding (older candidates keep ties, as PELT's
    first-wins rule wants).

    That is the exact optimum. Two cases where ruptures' answer is not, and where we
    return ``ok=False`` so that the caller follows ruptures with plain PELT:

    * ruptures drops a candidate ``o`` at an end ``s`` when ``total(o) > total(s) +
      pen``, although ``s`` only becomes usable ``min_size`` samples later; with
      ``min_size > 1`` it can so miss the optimum (rarely: a short excursion that the
      next samples undo). We apply that rule to the live candidates and stop as soon
      as the optimum at an end is a candidate ruptures has dropped.
    * ruptures adds totals in plain doubles: at an end whose best total exceeds
      ``big`` (every segment ending there straddles a step far larger than the
      noise, e.g. just after a restart with ``min_size > 1``) its rounding, not the
      data, picks the start. Such an end matters only on the final path (every
      candidate it could drop or keep spans the step and cannot win at an ordinary
      end), so that is checked once, at the end.

    Returns ``(prev, ok)``.
    """
    n = y.shape[0]
    s1h, s1l, s2h, s2l = _prefix(y, plain)
    buf = np.empty(n + 1)
    path = np.empty(n + 1, np.int64)
    fx = np.empty(n + 1)
    best = np.empty(n + 1)
    prev = np.empty(n + 1, np.int64)
    dropped = np.empty(n + 1, np.bool_)  # by ruptures' pruning rule
    huge = np.empty(n + 1, np.bool_)  # ends whose best total exceeds ``big``
    owns_at = np.empty(n + 1, np.int64)  # the last step at which a candidate owned an interval
    for i in range(n + 1):
        fx[i] = np.nan
        best[i] = np.inf
        prev[i] = -1
        dropped[i] = False
        huge[i] = False
        owns_at[i] = -1
    fx[0] = 0.0
    best[0] = 0.0
    # intervals of mu in increasing order, and the candidate owning each
    cap = 64
    lo = np.empty(cap)
    hi = np.empty(cap)
    own = np.empty(cap, np.int64)
    nlo = np.empty(cap)
    nhi = np.empty(cap)
    nown = np.empty(cap, np.int64)
    n_iv = 0
    cand = np.empty(n + 1, np.int64)  # live candidates, increasing
    vals = np.empty(n + 1)
    nc = 0
    ind = _breakpoints(n, min_size, jump)
    last = -1
    for i in range(ind.shape[0]):
        t = ind[i]
        tau = ((t - min_size) // jump) * jump
        # 0 < tau < min_size: no partition of [0, tau), ruptures drops it at once; the
        # last end n may admit again the point admitted before it
        if (tau == 0 or tau >= min_size) and tau > last:
            last = tau
            if n_iv == 0:
                lo[0] = -np.inf
                hi[0] = np.inf
                own[0] = tau
                n_iv = 1
            else:
                if 3 * n_iv > nlo.shape[0]:
                    size = 6 * n_iv
                    nlo = np.empty(size)
                    nhi = np.empty(size)
                    nown = np.empty(size, np.int64)
                m = 0
                ft = best[tau]
                o_prev = -1
                r1 = 0.0
                r2 = 0.0
                everywhere = False
                for k in range(n_iv):
                    o = own[k]
                    a = lo[k]
                    b = hi[k]
                    if o != o_prev:
                        # q_tau - q_o = (F(tau) - F(o)) - sum_{o<i<=tau} (y_i - mu)^2
                        o_prev = o
                        fo = best[o]
                        gap = ft - fo - _l2(s1h, s1l, s2h, s2l, o, tau, plain)
                        tol = NEAR * (abs(ft) + abs(fo) + pen) + floor
                        everywhere = gap < -tol  # tau cheaper everywhere, beyond rounding
                        if not everywhere:
                            # o keeps where it is within tol of tau: never prune on rounding
                            mean = _seg_mean(s1h, s1l, o, tau, plain)
                            r = math.sqrt((max(gap, 0.0) + tol) / (tau - o))
                            r += NEAR * (abs(mean) + r)
                            r1 = mean - r
                            r2 = mean + r
                    if everywhere:
                        nlo[m] = a
                        nhi[m] = b
                        nown[m] = tau
                        m += 1
                        continue
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
                if m > lo.shape[0]:
                    lo = np.empty(2 * m)
                    hi = np.empty(2 * m)
                    own = np.empty(2 * m, np.int64)
                # merge neighbours with the same owner
                n_iv = 0
                for k in range(m):
                    if n_iv > 0 and own[n_iv - 1] == nown[k] and hi[n_iv - 1] >= nlo[k]:
                        hi[n_iv - 1] = max(hi[n_iv - 1], nhi[k])
                    else:
                        lo[n_iv] = nlo[k]
                        hi[n_iv] = nhi[k]
                        own[n_iv] = nown[k]
                        n_iv += 1
            # candidates that still own an interval stay, in increasing order
            for k in range(n_iv):
                owns_at[own[k]] = i
            kept = 0
            for k in range(nc):
                o = cand[k]
                if owns_at[o] == i:
                    cand[kept] = o
                    kept += 1
            if owns_at[tau] == i:
                cand[kept] = tau
                kept += 1
            nc = kept
        bv = np.inf
        b2 = np.inf
        k = 0
        for j in range(nc):
            o = cand[j]
            v = best[o] + (_l2(s1h, s1l, s2h, s2l, o, t, plain) + pen)
            vals[j] = v
            if v < bv:  # strict: the first of equal totals, as min() in ruptures
                b2 = bv
                bv = v
                k = j
            elif v < b2:
                b2 = v
        if _near(b2, bv, pen, floor):  # a runner-up within rounding: ruptures' arithmetic
            k = _settle(raw, buf, path, prev, fx, pen, floor, cand, vals, nc, bv, t)
        if bv > big:
            huge[t] = True  # rounding decides here: harmless unless on the final path
        elif dropped[cand[k]]:
            return prev, False  # ruptures has lost the optimum: follow it with PELT
        best[t] = bv
        prev[t] = cand[k]
        for k in range(nc):  # ruptures' pruning rule, on the live candidates
            o = cand[k]
            if dropped[o]:
                continue
            v = vals[k]
            if _near(v, bv + pen, pen, floor):
                keep = _exact_keeps(raw, buf, path, prev, fx, pen, o, t)
            else:
                keep = v <= bv + pen
            if not keep:
                dropped[o] = True
    e = n
    while e > 0:
        if huge[e]:
            return prev, False
        e = prev[e]
    return prev, True


def _signal(signal, penalty, min_size, jump, *, cost_min_size=1):
    """Validate the arguments shared by both searches.

    Returns ``(y, yc, penalty, min_size, jump)`` with ``yc`` the centred signal.
    """
    y = as_float_array(signal, "signal", min_length=1)
    penalty = check_float(penalty, "penalty", minimum=0.0)
    min_size = max(cost_min_size, check_int(min_size, "min_size", minimum=1))
    jump = check_int(jump, "jump", minimum=1)
    if not np.all(np.isfinite(y)):
        raise ValueError("signal must be finite (drop or fill NaN and inf first)")
    n = y.shape[0]
    if min_size > n:  # ruptures' sanity check for zero breakpoints
        raise ValueError(f"signal has {n} samples, fewer than min_size={min_size}")
    yc = y - y.mean()  # centred: prefix sums keep their digits at large levels
    if y.min() == y.max() or float(np.abs(yc).max()) < _MIN_SPREAD:
        yc = np.zeros(n)  # constant (or within 1e-150 of it): every cost exactly 0
    if not np.all(np.abs(yc) <= _MAX_ABS):
        raise ValueError(f"signal values must lie within {_MAX_ABS:g} of their mean")
    return y, yc, penalty, min_size, jump


def _precision(y, yc):
    """Choose the cost arithmetic and the absolute error bound ``floor`` of a total.

    Returns ``(plain, floor, noise)``, ``noise`` a robust estimate of the noise
    variance (from the median absolute difference of neighbours; 0 if most are equal).

    Plain arithmetic (prefix sums accumulated with compensation, rounded once)
    errs on any partition's total by at most ~8 eps (sum(yc**2) + max|yc| *
    sum|yc|): far inside the near-tie band when the levels spread over fewer than
    ~20 noise standard deviations, the common case, and then it is used (about
    twice as fast). Otherwise (a step far larger than the noise, integer data
    whose neighbours are mostly equal, constants) costs are carried in
    double-double, good to ~eps**2 * sum(yc**2).
    """
    n = y.shape[0]
    s2 = float(np.dot(yc, yc))
    noise = 0.0
    if n > 2:
        mad = float(np.median(np.abs(np.diff(y))))
        noise = (mad / (0.6745 * math.sqrt(2.0))) ** 2
    if noise > 0.0 and s2 <= 400.0 * n * noise:
        a = np.abs(yc)
        return True, 8.0 * _EPS * (s2 + float(a.max()) * float(a.sum())), noise
    return False, 1e-28 * s2, noise


def _big(noise, penalty):
    """Largest total at which ruptures' rounding (~1e3 eps * total) stays below 1e-6 of
    the differences that decide a segmentation (the penalty, the noise variance)."""
    return 1e-6 * (penalty + noise) / (1e3 * _EPS)


def pelt(signal, penalty: float, *, min_size: int = 2, jump: int = 5) -> list[int]:
    """Penalised change points in the mean (L2 cost), equal to ruptures' Pelt.

    Minimises ``sum over segments of sum((y - mean(segment))**2) + penalty *
    number_of_segments`` as ruptures' PELT does: segment ends at multiples of
    ``jump``, segments of at least ``min_size`` samples, ruptures' pruning and
    tie-breaking (the first, i.e. earliest, of equal candidates wins).

    Parameters
    ----------
    signal : array_like
        1-D finite values (ints and bools are taken as floats).
    penalty : float
        Cost of one more segment (units of the signal squared), finite, >= 0.
        A common choice for unit-variance noise is ``3 * log(n)``.
    min_size : int, default 2
        Shortest segment (samples), >= 1.
    jump : int, default 5
        Breakpoints only at multiples of ``jump`` (samples), >= 1.

    Returns
    -------
    list of int
        Segment ends (exclusive, in samples), increasing; the last one is
        ``len(signal)``.

    Raises
    ------
    ValueError
        ``signal`` not 1-D, empty, holding NaN/inf, values more than 1e100 from
        its mean, or shorter than ``min_size`` (ruptures raises
        ``BadSegmentationParameters`` there); ``penalty`` negative or not
        finite; ``min_size`` or ``jump`` not an integer >= 1.

    Notes
    -----
    Equals ``ruptures.Pelt(model="l2", min_size=min_size, jump=jump)
    .fit(signal).predict(pen=penalty)``, the same list. Segment costs come in
    O(1) from compensated prefix sums of the centred signal, carried in
    double-double when the levels dwarf the noise (a 1e12 level or a 1e9 step
    over unit noise stay exact); candidates whose totals agree to ``NEAR``
    (1e-12 relative, plus the bound of our rounding) are compared with
    ruptures' own float arithmetic (its per-slice ``var``, numpy's pairwise
    summation order, its left-to-right ``sum`` of the partition), so that even
    exact ties on integer data break alike. A signal whose values all lie
    within 1e-150 of their mean is taken as constant (the squares of such
    deviations are subnormal or 0, so ruptures' costs are rounding; values
    that small occur in no memory series). Differences we know of: none on
    the tests; ruptures under Python >= 3.12 sums partitions with compensated
    ``sum``, and near ties could then break differently.

    Cost: plain PELT is O(n * c / jump) where ``c`` is the number of
    candidates it keeps, about the length of the current segment over ``jump``
    (O(n^2 / jump^2) when changes are rare). With more than
    ``FPOP_MIN_SAMPLES`` candidate ends (``n // jump``) it switches by itself
    to functional pruning (FPOP, Maidstone et al. 2017) on ruptures' grid of
    ends: O((n / jump) log(n / jump)) expected, e.g. 1e6 samples with
    ``jump=1`` in about a second. That path also applies ruptures' pruning
    rule, which is not exact when ``min_size > 1``, and falls back to plain
    PELT on the rare inputs where ruptures loses the optimum (or where its
    rounding of ~1e18 totals decides), so both paths return the same list.
    Memory O(n).
    """
    y, yc, penalty, min_size, jump = _signal(signal, penalty, min_size, jump)
    plain, floor, noise = _precision(y, yc)
    n = y.shape[0]
    if n // jump > FPOP_MIN_SAMPLES:
        prev, ok = _fpop_kernel(yc, penalty, min_size, jump, y, plain, floor,
                                _big(noise, penalty))
        if ok:
            return backtrack(prev, n)
    return backtrack(_pelt_kernel(yc, penalty, min_size, jump, 0, y, plain, floor), n)


def pelt_plain(signal, penalty: float, *, min_size: int = 2, jump: int = 5) -> list[int]:
    """:func:`pelt` without the FPOP switch (PELT even for ``jump=1``); for tests and benchmarks."""
    y, yc, penalty, min_size, jump = _signal(signal, penalty, min_size, jump)
    plain, floor, _ = _precision(y, yc)
    prev = _pelt_kernel(yc, penalty, min_size, jump, 0, y, plain, floor)
    return backtrack(prev, y.shape[0])


def _pelt_fpop(signal, penalty: float, *, min_size: int = 2, jump: int = 1):
    """The FPOP path alone: ``(ends, ok)``; ``ok=False`` when it would fall back to PELT."""
    y, yc, penalty, min_size, jump = _signal(signal, penalty, min_size, jump)
    plain, floor, noise = _precision(y, yc)
    prev, ok = _fpop_kernel(yc, penalty, min_size, jump, y, plain, floor, _big(noise, penalty))
    return (backtrack(prev, y.shape[0]) if ok else None), ok


def pelt_linear(signal, penalty: float, *, min_size: int = 3, jump: int = 5) -> list[int]:
    """Change points in slope with ruptures' continuous piecewise-linear cost.

    The cost of a segment ``[a, b)`` is the squared distance of its samples to
    the chord from ``y[a-1]`` to ``y[b-1]`` (a segment starting at 0 is anchored
    at ``y[0]``), so consecutive pieces meet at data points: ruptures'
    ``CostCLinear``. The penalised optimum is searched by the same PELT
    recursion as :func:`pelt` (ruptures' admissible points, pruning and ties).

    Parameters
    ----------
    signal : array_like
        1-D finite values.
    penalty : float
        Cost of one more segment (units of the signal squared), finite, >= 0.
    min_size : int, default 3
        Shortest segment (samples); raised to 3, as ruptures does.
    jump : int, default 5
        Breakpoints only at multiples of ``jump`` (samples), >= 1.

    Returns
    -------
    list of int
        Segment ends (exclusive, in samples), the last one ``len(signal)``.

    Raises
    ------
    ValueError
        As :func:`pelt` (``signal`` shorter than the effective ``min_size``...).

    Notes
    -----
    Equals ``ruptures.Pelt(model="clinear", min_size=min_size, jump=jump)
    .fit(signal).predict(pen=penalty)``, the same list: costs are computed in
    ruptures' own order (numpy's pairwise summation) so even exact ties break
    alike. Each cost is O(segment length), as in ruptures but compiled; the
    search is O(sum over ends of candidates * length).

    The chord passes through two *noisy* samples, so a noise-free line is
    charged about ``length * sigma**2 / 3`` on top of the noise: with a penalty
    of a few ``log(n) * sigma**2`` long straight stretches of noisy data are cut
    into pieces. The kink where growth starts is found (within a few samples)
    when the penalty is large against that excess, but to locate the onset and
    end of growth in noisy memory series prefer
    :func:`detector.kernels.linear_segments` (least-squares line per segment,
    O(1) per cost, exact optimum). Kept ruptures-equal on purpose: it is the
    reference the contract names.
    """
    y, _, penalty, min_size, jump = _signal(signal, penalty, min_size, jump, cost_min_size=3)
    # costs on the raw signal, as ruptures computes them
    prev = _pelt_kernel(y, penalty, min_size, jump, 1, y, True, 0.0)
    return backtrack(prev, y.shape[0])
