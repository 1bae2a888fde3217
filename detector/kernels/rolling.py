"""Sliding-window statistics: mean and standard deviation, minimum and maximum.

Trailing windows of ``window`` samples, as ``pandas.Series.rolling(window)``
with ``min_periods=window``: the first ``window - 1`` outputs, and every
output whose window holds a NaN, are NaN.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._validate import as_float_array, check_int


@njit(cache=True)
def _mean_std_kernel(x, w, mean, std):
    n = x.shape[0]
    inv_w = 1.0 / w
    inv_w1 = 1.0 / (w - 1)
    shift = 0.0
    run = 0  # length of the current run of equal consecutive values
    prev = np.nan
    for b in range(0, n, w):
        # restart the sums around a fresh shift every window: bounded error growth,
        # and values near 1e12 with small noise keep their digits
        if np.isfinite(x[b]):
            shift = x[b]
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
def _mean_std_finite_kernel(x, w, mean, std):
    # The same sums without the missing-value bookkeeping, for all-finite input;
    # the first window is filled separately so the steady loop has no branches on i.
    # Returns False as soon as a block's sums stop being finite: a NaN or inf entered
    # them (NaN and inf never leave a running sum), and the caller falls back to the
    # general kernel. That replaces a separate isfinite pass over x.
    n = x.shape[0]
    inv_w = 1.0 / w
    inv_w1 = 1.0 / (w - 1)
    run = 0  # length of the current run of equal consecutive values
    prev = np.nan
    shift = x[0]
    s1 = 0.0
    s2 = 0.0
    for i in range(min(w, n)):
        xi = x[i]
        d = xi - shift
        s1 += d
        s2 += d * d
        run = run + 1 if xi == prev else 1
        prev = xi
        if i < w - 1:
            mean[i] = np.nan
            std[i] = np.nan
        elif run >= w:
            mean[i] = xi
            std[i] = 0.0
        else:
            m = s1 * inv_w
            mean[i] = shift + m
            std[i] = np.sqrt(max((s2 - s1 * m) * inv_w1, 0.0))
    if not np.isfinite(s1 + s2):
        return False
    for b in range(w, n, w):
        # Restart the sums around a fresh shift every window. x[b] lies inside every
        # window of the block (outputs b..b+w-1), so |x - shift| never exceeds the
        # window's range and s2 - s1 * m cannot cancel catastrophically.
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
        if not np.isfinite(s1 + s2):
            return False
    return True


def rolling_mean_std(x, window: int, *, out_mean=None, out_std=None):
    """Trailing rolling mean and standard deviation (ddof=1). One pass, O(n).

    Parameters
    ----------
    x : array_like
        Values (samples), NaN = missing; inf is treated as missing too.
    window : int
        Window length (samples), >= 2.
    out_mean, out_std : numpy.ndarray, optional
        float64 buffers of ``len(x)`` to write into (saves allocating fresh
        pages in fleet loops).

    Returns
    -------
    (mean, std) : (numpy.ndarray, numpy.ndarray)
        NaN where the window is incomplete or holds a missing value; ``std``
        is exactly 0 over a window of identical values.

    Notes
    -----
    Equals ``pandas.Series(x).rolling(window).mean()`` and ``.std()`` to 1e-9
    relative (finite inputs). Sums are kept around a shift that is reset
    every ``window`` samples, so values near 1e12 with unit noise keep their
    precision.
    """
    x = as_float_array(x, "x")
    window = check_int(window, "window", minimum=2)
    n = x.shape[0]
    mean = _out(out_mean, n, "out_mean")
    std = _out(out_std, n, "out_std")
    # the lean kernel detects a NaN or inf on its own and gives up; the general one
    # then rewrites every output
    if n and not _mean_std_finite_kernel(x, window, mean, std):
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
    # Monotonic deque of indices (sign=+1 for the minimum, -1 for the maximum) kept
    # in a ring of a power of two >= min(w, n) + 1 slots: it never holds more than
    # w + 1 indices, so memory is O(window), not O(n). head and tail only grow; slots are
    # taken modulo the ring size with a mask.
    n = x.shape[0]
    cap = 1
    while cap < min(w, n) + 1:
        cap *= 2
    mask = cap - 1
    dq = np.empty(cap, np.int64)
    head = 0
    tail = 0
    nans = 0
    for i in range(n):
        v = x[i]
        if i >= w and not np.isfinite(x[i - w]):
            nans -= 1
        if np.isfinite(v):
            sv = sign * v
            while tail > head and sign * x[dq[(tail - 1) & mask]] >= sv:
                tail -= 1
            dq[tail & mask] = i
            tail += 1
        else:
            nans += 1
        while tail > head and dq[head & mask] <= i - w:
            head += 1
        if i < w - 1 or nans > 0:
            out[i] = np.nan
        else:
            out[i] = x[dq[head & mask]]


def rolling_min(x, window: int) -> np.ndarray:
    """Trailing rolling minimum, O(n) (monotonic deque).

    Parameters
    ----------
    x : array_like
        Values, NaN = missing.
    window : int
        Window length (samples), >= 1.

    Returns
    -------
    numpy.ndarray
        Equals ``pandas.Series(x).rolling(window).min()``: NaN where the window
        is incomplete or holds a missing value.
    """
    return _rolling_extreme(x, window, 1.0)


def rolling_max(x, window: int) -> np.ndarray:
    """Trailing rolling maximum, O(n); equals ``pandas.Series(x).rolling(window).max()``.

    Parameters
    ----------
    x : array_like
        Values, NaN = missing.
    window : int
        Window length (samples), >= 1.
    """
    return _rolling_extreme(x, window, -1.0)


def _rolling_extreme(x, window, sign):
    x = as_float_array(x, "x")
    window = check_int(window, "window", minimum=1)
    out = np.empty(x.shape[0], np.float64)
    if x.shape[0]:
        _extreme_kernel(x, window, out, sign)
    return out
