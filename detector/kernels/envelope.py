"""The lower envelope of a sawtooth: per-cycle minima and a centred rolling minimum.

A GC sawtooth climbs and drops back to a floor every cycle; a leak shows in the floor,
not in the peaks. Both kernels skip missing values: NaN and, as pandas' rolling
functions do, +-inf (a memory series has no infinite sample; one is a broken scrape).
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel
from ._validate import as_float_array, check_int


@kernel
def _cycle_minima_kernel(x, length, idx, val):
    n = x.shape[0]
    k = 0
    for a in range(0, n, length):
        best = -1
        for i in range(a, min(a + length, n)):
            if np.isfinite(x[i]) and (best < 0 or x[i] < x[best]):
                best = i
        idx[k] = best
        val[k] = x[best] if best >= 0 else np.nan
        k += 1


def cycle_minima(x, length: int):
    """Minimum of each consecutive block of ``length`` samples (the last may be shorter).

    Blocks are ``x[0:length]``, ``x[length:2 * length]``, ... up to the end.

    Parameters
    ----------
    x : array_like
        Values, NaN = missing (+-inf too).
    length : int
        Block length (samples), >= 1: a GC cycle or more.

    Returns
    -------
    (indices, values) : (numpy.ndarray of int64, numpy.ndarray of float64)
        ``ceil(len(x) / length)`` entries, one per block, so entry ``k`` always
        describes block ``k``: the position in ``x`` of the block's first
        minimum (ties go to the earliest) and its value; ``-1`` and NaN for a
        block without a finite value (kept, not dropped, so positions stay
        aligned; drop them with ``indices >= 0``).

    Notes
    -----
    O(n) time, one pass. Reference: a naive per-block ``argmin`` loop
    (``tests/test_kernels_envelope.py``).
    """
    x = as_float_array(x, "x")
    length = check_int(length, "length", minimum=1)
    k = -(-x.shape[0] // length)
    idx = np.empty(k, np.int64)
    val = np.empty(k, np.float64)
    if k:
        _cycle_minima_kernel(x, length, idx, val)
    return idx, val


@kernel
def _centred_min_kernel(x, w, out):
    # Monotonic deque over the finite values in x[i - w // 2 : i + w - w // 2],
    # kept in a ring of a power of two >= min(w, n) + 1 slots (it never holds more
    # than w + 1 indices): memory O(window), not O(n).
    n = x.shape[0]
    half = w // 2
    ahead = w - 1 - half
    cap = 1
    while cap < min(w, n) + 1:
        cap *= 2
    mask = cap - 1
    dq = np.empty(cap, np.int64)
    head = 0
    tail = 0
    nxt = 0  # next index to push
    for i in range(n):
        hi = min(n - 1, i + ahead)
        while nxt <= hi:
            v = x[nxt]
            if np.isfinite(v):
                while tail > head and x[dq[(tail - 1) & mask]] >= v:
                    tail -= 1
                dq[tail & mask] = nxt
                tail += 1
            nxt += 1
        lo = i - half
        while tail > head and dq[head & mask] < lo:
            head += 1
        out[i] = x[dq[head & mask]] if tail > head else np.nan


@kernel
def _finite_or_inf(x, q):
    # x[q] when q is inside x and the value is finite, else +inf (never the minimum)
    if q < 0 or q >= x.shape[0]:
        return np.inf
    v = x[q]
    return v if (v > -np.inf and v < np.inf) else np.inf


@kernel
def _centred_min_blocks(x, w, out):
    # van Herk / Gil-Werman over a virtual array v = q + w // 2 padded with +inf on
    # both sides: out[i] is the trailing minimum over v in [i, i + w - 1]. Blocks of w
    # in v; a window is the tail of one block (suffix minima h) and the head of the
    # next (running prefix minimum). Three comparisons a sample, no data-dependent
    # branches; O(w) scratch. Used for w <= n (for w > n the blocks would cost O(w)).
    n = x.shape[0]
    half = w // 2
    inf = np.inf
    h = np.empty(w, np.float64)
    for a in range(0, n, w):
        e = min(a + w, n + w - 1)
        run = inf
        for v in range(e - 1, a - 1, -1):
            u = _finite_or_inf(x, v - half)
            run = u if u < run else run
            h[v - a] = run
        pre = inf
        for s in range(a, min(a + w, n)):
            vend = s + w - 1
            if vend >= a + w:
                u = _finite_or_inf(x, vend - half)
                pre = u if u < pre else pre
            hs = h[s - a]
            m = hs if hs < pre else pre
            out[s] = m if m < inf else np.nan


def lower_envelope(x, window: int) -> np.ndarray:
    """Centred rolling minimum that skips missing values. O(n).

    ``out[i] = min of the finite values in x[max(0, i - window // 2) : i + window - window // 2]``:
    a window of ``window`` samples centred on ``i`` (for an even window, one
    more sample before ``i`` than after), clipped at the ends, with
    ``min_periods=1``: NaN only where the window holds no finite value. With
    ``window`` longer than a GC cycle it traces the floor the collector
    returns to, without the lag of a trailing minimum.

    Parameters
    ----------
    x : array_like
        Values, NaN = missing (+-inf too).
    window : int
        Window length (samples), >= 1.

    Returns
    -------
    numpy.ndarray
        ``len(x)`` values.

    Notes
    -----
    Equals ``pandas.Series(x).rolling(window, center=True, min_periods=1).min()``
    and a naive per-window loop (both in the tests). O(n) time, O(window)
    memory: three comparisons a sample (van Herk / Gil-Werman block minima);
    a monotonic deque when ``window > len(x)``.
    """
    x = as_float_array(x, "x")
    window = check_int(window, "window", minimum=1)
    out = np.empty(x.shape[0], np.float64)
    if 0 < window <= x.shape[0]:
        _centred_min_blocks(x, window, out)
    elif x.shape[0]:
        _centred_min_kernel(x, window, out)  # window longer than x: deque, O(n)
    return out
