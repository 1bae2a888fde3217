"""The lower envelope of a sawtooth: per-cycle minima and a centred rolling minimum."""

from __future__ import annotations

import numpy as np
from numba import njit

from ._validate import as_float_array, check_int


@njit(cache=True)
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

    Parameters
    ----------
    x : array_like
        Values, NaN = missing.
    length : int
        Block length (samples), >= 1: a GC cycle or more.

    Returns
    -------
    (indices, values) : (numpy.ndarray of int64, numpy.ndarray of float64)
        One entry per block: the position of its first minimum and the value;
        ``-1`` and NaN for a block with no finite value. O(n).
    """
    x = as_float_array(x, "x")
    length = check_int(length, "length", minimum=1)
    k = -(-x.shape[0] // length)
    idx = np.empty(k, np.int64)
    val = np.empty(k, np.float64)
    if k:
        _cycle_minima_kernel(x, length, idx, val)
    return idx, val


@njit(cache=True)
def _centred_min_kernel(x, w, out):
    # trailing minimum over windows ending at i + (w - 1 - w // 2), missing values skipped
    n = x.shape[0]
    half = w // 2
    ahead = w - 1 - half
    dq = np.empty(n, np.int64)
    head = 0
    tail = 0
    nxt = 0  # next index to push
    for i in range(n):
        hi = min(n - 1, i + ahead)
        while nxt <= hi:
            v = x[nxt]
            if np.isfinite(v):
                while tail > head and x[dq[tail - 1]] >= v:
                    tail -= 1
                dq[tail] = nxt
                tail += 1
            nxt += 1
        lo = i - half
        while tail > head and dq[head] < lo:
            head += 1
        out[i] = x[dq[head]] if tail > head else np.nan


def lower_envelope(x, window: int) -> np.ndarray:
    """Centred rolling minimum that skips missing values. O(n) (monotonic deque).

    ``out[i] = nanmin(x[i - window // 2 : i + window - window // 2])``, the
    window clipped at the ends; NaN only where the window holds no finite
    value. With ``window`` longer than a GC cycle it traces the floor the
    collector returns to.

    Parameters
    ----------
    x : array_like
        Values, NaN = missing.
    window : int
        Window length (samples), >= 1.

    Returns
    -------
    numpy.ndarray
    """
    x = as_float_array(x, "x")
    window = check_int(window, "window", minimum=1)
    out = np.empty(x.shape[0], np.float64)
    if x.shape[0]:
        _centred_min_kernel(x, window, out)
    return out
