"""Sharp drops: which of them give back everything their lifetime gained.

A restart (a deploy, an OOM kill) takes memory back to about the level its lifetime
started from. Deciding that for each drop is a scan in time order whose state (the
lowest value since the last restart) resets at every restart found: a loop, run here
compiled (a GC sawtooth gives thousands of drops a week, ~0.3 us each in Python).
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import kernel
from ._validate import as_float_array, read_only


@kernel
def _returns_to_base_kernel(v, events, after, keep_share, out):
    kept = 0
    base = np.inf
    pos = 0  # the next sample not yet in the running minimum
    for i in range(events.shape[0]):
        e = events[i]
        for j in range(pos, e + 1):
            if v[j] < base:
                base = v[j]
        pos = e + 1
        if after[i] <= base + keep_share * (v[e] - base):
            out[kept] = e
            kept += 1
            base = np.inf
    return kept


def returns_to_base(v: np.ndarray, events: np.ndarray, after: np.ndarray,
                    keep_share: float) -> np.ndarray:
    """The drops that return to about the level their lifetime started from.

    Drop ``i`` at sample ``events[i]`` (increasing indices into ``v``) is kept when
    ``after[i]``, the lowest value just after it, is at most ``base + keep_share *
    (v[events[i]] - base)``, where ``base`` is the lowest of ``v`` from the start of the
    drop's lifetime (the sample after the previous kept drop, or sample 0) to
    ``events[i]``.

    Parameters
    ----------
    v : numpy.ndarray
        Finite values (value units, e.g. bytes), in time order.
    events : numpy.ndarray
        Sample indices of the drops, int64, strictly increasing, each < ``len(v)``.
    after : numpy.ndarray
        The lowest value after each drop (value units), float64, one per event.
    keep_share : float
        Share of the lifetime's gain that a restart may keep: usually in [0, 1], but any
        number is taken (``1 - Config.restart_giveback``, and that setting is bounded
        only below).

    Returns
    -------
    numpy.ndarray
        The kept drops' sample indices (int64), increasing.

    Raises
    ------
    ValueError
        ``v`` or ``after`` not 1-D numbers or not finite, ``events`` not strictly
        increasing indices into ``v``, lengths that differ, ``keep_share`` NaN.
    """
    v = as_float_array(v, "v")
    after = as_float_array(after, "after")
    events = np.asarray(events)
    if events.ndim != 1 or not (np.issubdtype(events.dtype, np.integer) or events.size == 0):
        raise ValueError(f"events must be a 1-D array of sample indices, got dtype "
                         f"{events.dtype} and shape {events.shape}")
    events = np.ascontiguousarray(events, dtype=np.int64)
    if events.shape[0] != after.shape[0]:
        raise ValueError(f"events and after must have the same length, got "
                         f"{events.shape[0]} and {after.shape[0]}")
    if events.shape[0] and (events[0] < 0 or events[-1] >= v.shape[0]
                            or np.any(events[1:] <= events[:-1])):
        raise ValueError(f"events must be strictly increasing indices into v (0 to "
                         f"{v.shape[0] - 1})")
    if not (np.isfinite(v).all() and np.isfinite(after).all()):
        raise ValueError("v and after must be finite (no NaN or inf)")
    if math.isnan(keep_share):
        raise ValueError("keep_share must be a number, got NaN")
    out = np.empty(events.shape[0], dtype=np.int64)
    kept = _returns_to_base_kernel(read_only(v), read_only(events), read_only(after),
                                   float(keep_share), out)
    return out[:kept]
