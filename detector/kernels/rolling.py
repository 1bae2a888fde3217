"""Sliding-window statistics: mean and standard deviation, minimum and maximum.

Trailing windows of ``window`` samples, as ``pandas.Series.rolling(window)``
with ``min_periods=window``: the first ``window - 1`` outputs, and every
output whose window holds a missing value (NaN or +-inf, as in pandas), are
NaN. Semantics, costs and precision: ``docs/kernels-rolling.md``.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from ._jit import kernel
from ._validate import as_float_array, check_int


@intrinsic
def _fma(typingctx, a, b, c):
    """a * b + c with a single rounding (``llvm.fma.f64``; numba only fuses under fastmath,
    which this module avoids): one instruction for the multiply-accumulate chains."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        ty = args[0].type
        fn = builder.module.declare_intrinsic("llvm.fma", [ty], ir.FunctionType(ty, [ty] * 3))
        return builder.call(fn, args)

    return sig, codegen


@kernel
def _mean_std_kernel(x, w, mean, std):
    # Outputs in blocks of w: block 0 = [0, w), then [w, 2w), ... Within a block every
    # window holds x[b] (b = the block's first output), so the sums are kept around the
    # shift h = x[b]: |x - h| never exceeds the window's range and s2 - s1 * m cannot
    # cancel catastrophically, at any level. Each block starts from sums computed
    # afresh (never carried over from the previous block), so rounding cannot build up.
    # The complete blocks after block 0 are split into two lanes (two contiguous halves
    # of the series) run in lockstep: two independent sets of add chains for the CPU to
    # overlap. Per output the loop updates the sums and writes the mean and the centred
    # sum of squares; a second, vectorised loop over up to 512 outputs of a lane turns the
    # latter into the std (packed sqrt). The sums a block starts from are accumulated
    # during the previous block of its lane, whose inputs are exactly the next block's
    # first window (no separate pass).
    # A block assumes finite values; a NaN or inf gives itself away (it never leaves a
    # running sum, so the block's sums end non-finite) and the block is redone by the
    # general loop, which counts missing values. When a missing value lies in the next
    # block's windows as well, that block goes straight to the general loop (so densely
    # gapped data does not pay for both loops). Block 0, the blocks left over by
    # the lanes and the last, partial block take the general loop too.
    n = x.shape[0]
    inv_w = 1.0 / w
    inv_w1 = 1.0 / (w - 1)
    # np.int64(0), not 0: numba would compile a second copy specialised to the literal
    gaps = _general_block(x, w, np.int64(0), mean, std, inv_w, inv_w1)
    per = max(n // w - 1, 0) // 2  # complete blocks per lane
    pa = w  # first output of lane a's current block
    pb = w + per * w  # and lane b's
    uw = np.uint64(w)  # unsigned indices: no negative-index wraparound code in the loop
    sqrt_w = np.sqrt(w)
    fresh_a = True  # the block's starting sums must be computed (not carried over)
    fresh_b = True
    ha = 0.0
    hb = 0.0
    s1a = 0.0
    s2a = 0.0
    s1b = 0.0
    s2b = 0.0
    qa = pa  # lane a's outputs from qa to pa hold their mean and the variance not yet
    qb = pb  # divided by w - 1 nor square-rooted (same for lane b)
    for _ in range(per):
        if gaps:
            _finish(std, qa, pa, inv_w1)
            _finish(std, qb, pb, inv_w1)
            qa = pa + w
            qb = pb + w
            ga = _general_block(x, w, pa, mean, std, inv_w, inv_w1)
            gb = _general_block(x, w, pb, mean, std, inv_w, inv_w1)
            gaps = ga or gb
            fresh_a = fresh_b = True
            pa += w
            pb += w
            continue
        if fresh_a:
            ha = x[pa]
            s1a, s2a = _shifted_sums(x, pa - w, ha, w)
        if fresh_b:
            hb = x[pb]
            s1b, s2b = _shifted_sums(x, pb - w, hb, w)
        na = x[pa + w]  # the shift of the lane's next block
        nb = x[min(pb + w, n - 1)]  # (the last block of lane b may have none)
        big_a = s2a  # the square sums' start, for the error bound below
        big_b = s2b
        r1a = 0.0  # sums of x - na, (x - na)^2 over this block's inputs: the next
        r2a = 0.0  # block's first window
        r1b = 0.0
        r2b = 0.0
        ua = np.uint64(pa)
        ub = np.uint64(pb)
        low_a = np.inf  # the block's smallest centred sum of squares (the spike check)
        low_b = np.inf
        for t in range(uw):
            # output i: x[i] enters, x[i - w] leaves. A value's rounded square (x - h)^2
            # enters the sums once (in the block before, as part of the starting sums) and
            # leaves as that same float, recomputed from the same operands (x[i - w] - h,
            # squared): whenever the sums are exact, a large value leaving takes exactly
            # what it brought (pandas' sums keep a residue, see the docs). Recomputing costs
            # two operations; reading them back from a ring of 4 w slots (as before) cost
            # more at every window measured (20 to 2880), most where the ring left L1.
            i = ua + t
            dv = x[i] - ha
            da = x[i - uw] - ha
            s1a += dv - da
            qv = da * da
            s2a += _fma(dv, dv, -qv)
            m = s1a * inv_w
            mean[i] = _fma(s1a, inv_w, ha)
            c = _fma(-s1a, m, s2a)
            std[i] = c
            low_a = c if c < low_a else low_a
            d = x[i] - na
            q = d * d
            r1a += d
            r2a += q
            i = ub + t
            dv = x[i] - hb
            da = x[i - uw] - hb
            s1b += dv - da
            qv = da * da
            s2b += _fma(dv, dv, -qv)
            m = s1b * inv_w
            mean[i] = _fma(s1b, inv_w, hb)
            c = _fma(-s1b, m, s2b)
            std[i] = c
            low_b = c if c < low_b else low_b
            d = x[i] - nb
            q = d * d
            r1b += d
            r2b += q
        # Rounding error of the centred sums S_i: ~u sqrt(w) B (w steps of errors of either
        # sign; at most 2 u w B), with B >= every square sum the block held (its start,
        # plus what entered: (v-h)^2 <= 2(v-n)^2 + 2(n-h)^2). Where some S_i is not 2^32
        # times that (a spike left a quiet stretch), redo the block carefully; ordinary
        # data stays far from it (S ~ B / 10).
        dh = na - ha
        big_a = _CANCEL * sqrt_w * (big_a + 2.0 * r2a + 2.0 * w * dh * dh)
        if not big_a < np.inf or low_a < big_a:  # NaN: unknown
            _careful_block(x, w, pa, mean, std, inv_w)
        dh = nb - hb
        big_b = _CANCEL * sqrt_w * (big_b + 2.0 * r2b + 2.0 * w * dh * dh)
        if not big_b < np.inf or low_b < big_b:  # NaN: unknown
            _careful_block(x, w, pb, mean, std, inv_w)
        # windows of identical values lie in a run of x[b] around b: usually there is none
        if x[pa - 1] == x[pa] or x[pa + 1] == x[pa]:
            _constant_windows(x, w, pa, pa + w, mean, std)
        if x[pb - 1] == x[pb] or x[pb + 1] == x[pb]:
            _constant_windows(x, w, pb, pb + w, mean, std)
        if np.isfinite(s1a + s2a):
            s1a, s2a, ha, fresh_a = r1a, r2a, na, False
            if pa + w - qa >= _FINISH_CHUNK:
                _finish(std, qa, pa + w, inv_w1)
                qa = pa + w
        else:
            _finish(std, qa, pa, inv_w1)
            qa = pa + w
            gaps = _general_block(x, w, pa, mean, std, inv_w, inv_w1)
            fresh_a = True
        if np.isfinite(s1b + s2b):
            s1b, s2b, hb, fresh_b = r1b, r2b, nb, False
            if pb + w - qb >= _FINISH_CHUNK:
                _finish(std, qb, pb + w, inv_w1)
                qb = pb + w
        else:
            _finish(std, qb, pb, inv_w1)
            qb = pb + w
            gaps = _general_block(x, w, pb, mean, std, inv_w, inv_w1) or gaps
            fresh_b = True
        pa += w
        pb += w
    _finish(std, qa, pa, inv_w1)
    _finish(std, qb, pb, inv_w1)
    for b in range(pb, n, w):
        _general_block(x, w, b, mean, std, inv_w, inv_w1)


# u * 2^32 with u = 2^-53: centred sums below _CANCEL * sqrt(w) * B may have lost more
# than ~2^-32 relative to rounding (a spike left a quiet stretch), see _mean_std_kernel
_CANCEL = 2.0 ** -21
_SPIKE = 2.0 ** 20  # _careful_block: a leaving term this many times what remains


@kernel
def _careful_block(x, w, b, mean, std, inv_w):
    # outputs b .. b+w-1 (all windows finite) as the lean loop writes them (mean and the
    # centred sum of squares), but the sums are computed afresh over the window whenever
    # a leaving term dwarfs what remains (a spike leaving a quiet stretch): O(w) per
    # such event instead of a residue of u * spike^2.
    h = x[b]
    s1 = 0.0
    s2 = 0.0
    for j in range(b - w + 1, b + 1):
        d = x[j] - h
        s1 += d
        s2 += d * d
    for i in range(b, b + w):
        qa = 0.0
        if i > b:
            dv = x[i] - h
            da = x[i - w] - h
            qa = da * da
            s1 += dv - da
            s2 += _fma(dv, dv, -qa)
        m = s1 * inv_w
        c = _fma(-s1, m, s2)
        if qa > _SPIKE * c:
            s1 = 0.0
            s2 = 0.0
            for j in range(i - w + 1, i + 1):
                d = x[j] - h
                s1 += d
                s2 += d * d
            m = s1 * inv_w
            c = _fma(-s1, m, s2)
        mean[i] = h + m
        std[i] = c


_FINISH_CHUNK = 512  # outputs per lane between two square-root passes


@kernel
def _finish(std, b, e, inv_w1):
    # std[b:e] holds sum((x - mean)^2) over each window: turn it into the std in place.
    # No loop-carried value, so LLVM vectorises it (packed sqrt: the scalar sqrt's
    # throughput was the single largest cost per output).
    for i in range(np.uint64(b), np.uint64(e)):
        var = std[i] * inv_w1
        std[i] = np.sqrt(var) if var > 0.0 else 0.0


@kernel
def _constant_windows(x, w, b, e, mean, std):
    # Exact answers for windows of identical values among outputs b..e-1 (as pandas:
    # std exactly 0, mean exactly the value). Every window of the block holds x[b], so a
    # constant window lies inside the run of values equal to x[b] around b: find the run
    # (usually one comparison each way) and overwrite the outputs whose window it covers.
    # Missing x[b] (inf equals inf): no window is constant; they are all NaN anyway.
    h = x[b]
    if not np.isfinite(h):
        return
    lo = b
    while lo > b - w + 1 and lo > 0 and x[lo - 1] == h:
        lo -= 1
    hi = b
    while hi < e - 1 and x[hi + 1] == h:
        hi += 1
    for i in range(max(b, lo + w - 1), hi + 1):
        mean[i] = h
        std[i] = 0.0


@kernel
def _general_block(x, w, b, mean, std, inv_w, inv_w1):
    # outputs b .. b+w-1 (or to the end) with a missing-value count per window. Returns
    # whether a value after x[b] was missing: then it lies in the next block's windows too,
    # and that block may as well take this loop directly.
    n = x.shape[0]
    e = min(b + w, n)
    gaps = False
    shift = x[b] if np.isfinite(x[b]) else 0.0  # not finite: the whole block is NaN
    s1 = 0.0
    s2 = 0.0
    nans = 0
    ql = 0.0  # the largest square that left the sums since the last output
    for j in range(max(0, b - w + 1), b):
        v = x[j]
        if np.isfinite(v):
            d = v - shift
            s1 += d
            s2 += d * d
        else:
            nans += 1
    for i in range(b, e):
        if i != b and i >= w:
            v = x[i - w]
            if np.isfinite(v):
                d = v - shift
                s1 -= d
                s2 -= d * d
                ql = max(ql, d * d)
            else:
                nans -= 1
        xi = x[i]
        if np.isfinite(xi):
            d = xi - shift
            s1 += d
            s2 += d * d
        else:
            nans += 1
            gaps = gaps or i > b
        if i < w - 1 or nans > 0:
            mean[i] = np.nan
            std[i] = np.nan
        else:
            m = s1 * inv_w
            c = s2 - s1 * m
            if ql > _SPIKE * c:  # a spike left a quiet stretch: sums afresh (see above)
                s1 = 0.0
                s2 = 0.0
                for j in range(i - w + 1, i + 1):
                    d = x[j] - shift
                    s1 += d
                    s2 += d * d
                m = s1 * inv_w
                c = s2 - s1 * m
            mean[i] = shift + m
            std[i] = np.sqrt(c * inv_w1) if c > 0.0 else 0.0
            ql = 0.0
    _constant_windows(x, w, b, e, mean, std)
    return gaps


@kernel
def _shifted_sums(x, lo, shift, w):
    # sum of x[lo:lo+w] - shift and of the rounded squares, in four partial sums (four
    # independent add chains instead of one)
    a1 = 0.0
    a2 = 0.0
    b1 = 0.0
    b2 = 0.0
    c1 = 0.0
    c2 = 0.0
    e1 = 0.0
    e2 = 0.0
    t = 0
    while t + 4 <= w:
        d = x[lo + t] - shift
        a1 += d
        a2 += d * d
        d = x[lo + t + 1] - shift
        b1 += d
        b2 += d * d
        d = x[lo + t + 2] - shift
        c1 += d
        c2 += d * d
        d = x[lo + t + 3] - shift
        e1 += d
        e2 += d * d
        t += 4
    while t < w:
        d = x[lo + t] - shift
        a1 += d
        a2 += d * d
        t += 1
    return (a1 + b1) + (c1 + e1), (a2 + b2) + (c2 + e2)


def rolling_mean_std(x, window: int, *, out_mean=None, out_std=None):
    """Trailing rolling mean and standard deviation (ddof=1) over ``window`` samples.

    Parameters
    ----------
    x : array_like
        Values (samples), NaN = missing; +-inf is treated as missing too, as
        pandas' rolling functions do.
    window : int
        Window length (samples), >= 2.
    out_mean, out_std : numpy.ndarray, optional
        Writable C-contiguous float64 buffers of ``len(x)`` to write into and
        return (saves allocating fresh pages in fleet loops: almost half of
        the time at 1e7). They may not overlap ``x`` or each other.

    Returns
    -------
    (mean, std) : (numpy.ndarray, numpy.ndarray)
        NaN for the first ``window - 1`` samples and wherever the window holds
        a missing value (``min_periods=window``); over a window of identical
        values ``std`` is exactly 0 and ``mean`` exactly that value. Without
        ``out=`` buffers the two are the rows of one fresh ``(2, len(x))``
        array (one allocation is ~1-2 ms cheaper at 1e7 than two): either keeps
        the memory of both alive.

    Notes
    -----
    Equals ``pandas.Series(x).rolling(window).mean()`` and ``.std()`` to 1e-9
    relative (absolute near 0), and is more precise than pandas where pandas'
    running sums drift (large levels, a large value leaving the window): the
    sums are computed afresh every ``window`` samples around a shift that lies
    in every window of its block, so cancellation stays bounded, and a block
    where a large value left a quiet stretch is recomputed carefully (see
    ``docs/kernels-rolling.md``). O(n) time (O(window) more per such spike),
    O(window) extra memory; blocks of ``window`` samples without missing values
    take a lean loop (two halves of the series in lockstep), the blocks around
    a missing value a second loop that counts them.
    """
    x = as_float_array(x, "x")
    window = check_int(window, "window", minimum=2)
    n = x.shape[0]
    if out_mean is None and out_std is None:
        mean, std = np.empty((2, n), np.float64)  # one allocation: fewer page faults
    else:
        mean = _out(out_mean, n, "out_mean")
        std = _out(out_std, n, "out_std")
    for buf, name in ((out_mean, "out_mean"), (out_std, "out_std")):
        if buf is not None and np.may_share_memory(buf, x):
            raise ValueError(f"{name} must not overlap x")
    if out_mean is not None and out_std is not None and np.may_share_memory(mean, std):
        raise ValueError("out_mean and out_std must not overlap")
    if n:
        _mean_std_kernel(x, window, mean, std)
    return mean, std


def _out(buf, n, name):
    if buf is None:
        return np.empty(n, np.float64)
    if not isinstance(buf, np.ndarray) or buf.dtype != np.float64 or buf.shape != (n,) \
            or not buf.flags.c_contiguous or not buf.flags.writeable:
        raise ValueError(f"{name} must be a writable contiguous float64 array of length {n}")
    return buf


@kernel
def _extreme_kernel(x, w, out, sign):
    # van Herk / Gil-Werman: cut x into blocks of w samples; a trailing window
    # [s, s + w - 1] is the tail of the block holding s and the head of the next, so
    # its minimum is min(suffix-min of the first at s, prefix-min of the second at
    # s + w - 1). Three comparisons a sample, no data-dependent branches (a monotonic
    # deque mispredicts its pops on noisy data: 15 ns a sample against ~5 here).
    # sign=+1 for the minimum, -1 for the maximum (negation is exact). A window
    # holding a non-finite value is NaN (pandas: min_periods=window, inf is missing),
    # so what such a value does to the running extremes never shows.
    n = x.shape[0]
    inf = np.inf
    h = np.empty(min(w, n), np.float64)  # suffix minima of the current block
    lastbad = -w - 1  # last non-finite position seen
    for i in range(min(w - 1, n)):
        out[i] = np.nan
        if not np.isfinite(x[i]):
            lastbad = i
    for a in range(0, n - w + 1, w):
        e = min(a + w, n)
        run = inf
        for j in range(e - 1, a - 1, -1):
            v = sign * x[j]  # NaN never wins a comparison
            run = v if v < run else run
            h[j - a] = run
        pre = inf  # prefix minimum of the next block up to i
        for s in range(a, min(e, n - w + 1)):
            i = s + w - 1  # every i >= w - 1 is visited once, in order
            v = x[i]
            ok = np.isfinite(v)
            lastbad = lastbad if ok else i
            if i >= a + w:
                sv = sign * v
                pre = sv if sv < pre else pre
            hs = h[s - a]
            m = hs if hs < pre else pre
            out[i] = sign * m if lastbad <= i - w else np.nan


def rolling_min(x, window: int) -> np.ndarray:
    """Trailing rolling minimum over ``window`` samples.

    Parameters
    ----------
    x : array_like
        Values, NaN = missing; +-inf is treated as missing too (as pandas does).
    window : int
        Window length (samples), >= 1.

    Returns
    -------
    numpy.ndarray
        ``len(x)`` values: NaN where the window is incomplete (the first
        ``window - 1``) or holds a missing value.

    Notes
    -----
    Equals ``pandas.Series(x).rolling(window).min()`` exactly. O(n) time,
    three comparisons a sample whatever the window (van Herk / Gil-Werman
    block prefix and suffix minima), O(window) scratch memory.
    """
    return _rolling_extreme(x, window, 1.0)


def rolling_max(x, window: int) -> np.ndarray:
    """Trailing rolling maximum over ``window`` samples.

    Parameters
    ----------
    x : array_like
        Values, NaN = missing; +-inf is treated as missing too (as pandas does).
    window : int
        Window length (samples), >= 1.

    Returns
    -------
    numpy.ndarray
        ``len(x)`` values: NaN where the window is incomplete or holds a
        missing value.

    Notes
    -----
    Equals ``pandas.Series(x).rolling(window).max()`` exactly; O(n), as
    :func:`rolling_min`.
    """
    return _rolling_extreme(x, window, -1.0)


def _rolling_extreme(x, window, sign):
    x = as_float_array(x, "x")
    window = check_int(window, "window", minimum=1)
    out = np.empty(x.shape[0], np.float64)
    if x.shape[0]:
        _extreme_kernel(x, window, out, sign)
    return out
