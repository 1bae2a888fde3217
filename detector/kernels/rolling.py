"""Sliding-window statistics: mean and standard deviation, minimum and maximum.

Trailing windows of ``window`` samples, as ``pandas.Series.rolling(window)``
with ``min_periods=window``: the first ``window - 1`` outputs, and every
output whose window holds a missing value (NaN or +-inf, as in pandas), are
NaN. Semantics, costs and precision: ``docs/kernels-rolling.md``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._validate import as_float_array, check_int


@njit(cache=True)
def _mean_std_kernel(x, w, mean, std):
    # Blocks of w outputs, [0, w), [w, 2w), ... Each block restarts its sums around a
    # shift x[b] that lies inside every window of the block (outputs b..b+w-1), so
    # |x - shift| never exceeds the window's range and s2 - s1 * m cannot cancel
    # catastrophically, at any level. A block runs the lean all-finite loop first;
    # if its sums end non-finite (a NaN or inf entered them: they never leave a
    # running sum) it is redone by the general loop, which counts missing values.
    # NaN gaps thus cost only the blocks around them.
    # After a general block that met missing values the next block goes straight to
    # the general loop too, so densely gapped data does not pay for both loops.
    n = x.shape[0]
    inv_w = 1.0 / w
    inv_w1 = 1.0 / (w - 1)
    run, prev, gaps = _general_block(x, w, 0, mean, std, 0, np.nan, inv_w, inv_w1)
    for b in range(w, n, w):
        if not gaps:
            ok, run2, prev2 = _lean_block(x, w, b, mean, std, run, prev, inv_w, inv_w1)
            if ok:
                run = run2
                prev = prev2
                continue
        run, prev, gaps = _general_block(x, w, b, mean, std, run, prev, inv_w, inv_w1)


@njit(cache=True)
def _general_block(x, w, b, mean, std, run, prev, inv_w, inv_w1):
    # outputs b .. b+w-1 with a missing-value count per window; run = length of the
    # current run of equal consecutive values (exact answers for constant windows).
    # Also returns whether any value it read was missing.
    n = x.shape[0]
    gaps = False
    shift = x[b] if np.isfinite(x[b]) else 0.0  # not finite: the whole block is NaN
    s1 = 0.0
    s2 = 0.0
    nans = 0
    for j in range(max(0, b - w + 1), b):
        v = x[j]
        if np.isfinite(v):
            d = v - shift
            s1 += d
            s2 += d * d
        else:
            nans += 1
            gaps = True
    for i in range(b, min(b + w, n)):
        if i != b and i >= w:
            v = x[i - w]
            if np.isfinite(v):
                d = v - shift
                s1 -= d
                s2 -= d * d
            else:
                nans -= 1
        xi = x[i]
        if np.isfinite(xi):
            d = xi - shift
            s1 += d
            s2 += d * d
        else:
            nans += 1
            gaps = True
        run = run + 1 if xi == prev else 1
        prev = xi
        if i < w - 1 or nans > 0:
            mean[i] = np.nan
            std[i] = np.nan
        elif run >= w:
            mean[i] = xi
            std[i] = 0.0
        else:
            m = s1 * inv_w
            mean[i] = shift + m
            var = (s2 - s1 * m) * inv_w1
            std[i] = np.sqrt(var) if var > 0.0 else 0.0
    return run, prev, gaps


@njit(cache=True)
def _shifted_sums(x, lo, hi, shift):
    # sum and sum of squares of x[lo:hi] - shift, in four partial sums: four
    # independent add chains instead of one (the restart is latency-bound otherwise)
    a1 = 0.0
    a2 = 0.0
    b1 = 0.0
    b2 = 0.0
    c1 = 0.0
    c2 = 0.0
    e1 = 0.0
    e2 = 0.0
    j = lo
    while j + 4 <= hi:
        d = x[j] - shift
        a1 += d
        a2 += d * d
        d = x[j + 1] - shift
        b1 += d
        b2 += d * d
        d = x[j + 2] - shift
        c1 += d
        c2 += d * d
        d = x[j + 3] - shift
        e1 += d
        e2 += d * d
        j += 4
    while j < hi:
        d = x[j] - shift
        a1 += d
        a2 += d * d
        j += 1
    return (a1 + b1) + (c1 + e1), (a2 + b2) + (c2 + e2)


@njit(cache=True)
def _lean_block(x, w, b, mean, std, run, prev, inv_w, inv_w1):
    # outputs b .. b+w-1 (b >= w) assuming finite values; returns False (outputs to
    # be redone) when the sums end non-finite
    n = x.shape[0]
    shift = x[b]
    s1, s2 = _shifted_sums(x, b - w + 1, b + 1, shift)
    for i in range(b, min(b + w, n)):
        xi = x[i]
        d = xi - shift
        dd = x[i - w] - shift if i > b else d  # x[b] is already in the sums
        s1 += d - dd
        s2 += d * d - dd * dd
        run = run + 1 if xi == prev else 1
        prev = xi
        if run >= w:
            mean[i] = xi
            std[i] = 0.0
        else:
            m = s1 * inv_w
            mean[i] = shift + m
            std[i] = np.sqrt(max((s2 - s1 * m) * inv_w1, 0.0))
    return np.isfinite(s1 + s2), run, prev


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
        return (saves allocating fresh pages in fleet loops: about a third of
        the time at 1e7). They may not overlap ``x`` or each other.

    Returns
    -------
    (mean, std) : (numpy.ndarray, numpy.ndarray)
        NaN for the first ``window - 1`` samples and wherever the window holds
        a missing value (``min_periods=window``); over a window of identical
        values ``std`` is exactly 0 and ``mean`` exactly that value.

    Notes
    -----
    Equals ``pandas.Series(x).rolling(window).mean()`` and ``.std()`` to 1e-9
    relative (absolute near 0), and is more precise than pandas where pandas'
    running sums drift (large levels, a large value leaving the window): the
    sums are restarted every ``window`` samples around a shift that lies in
    every window of its block, so cancellation stays bounded (see
    ``docs/kernels-rolling.md``). O(n) time, O(1) extra memory; blocks of
    ``window`` samples without missing values take a lean loop, the blocks
    around a missing value a second loop that counts them.
    """
    x = as_float_array(x, "x")
    window = check_int(window, "window", minimum=2)
    n = x.shape[0]
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


@njit(cache=True)
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
