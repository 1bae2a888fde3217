"""Envelope kernels against pandas equivalents."""

import numpy as np
import pandas as pd

from benchmarks.kernels.common import Case
from detector.kernels import cycle_minima, lower_envelope

W = 120


def _saw(n, rng):
    """A GC sawtooth (97-sample cycle) on a slow leak, with noise."""
    t = np.arange(n)
    return (1e9 + 1e3 * t + 5e8 * ((t % 97) / 97) + rng.normal(0, 1e6, n),)


def _walk(n, rng):
    """A noisy random walk: no sawtooth to make a deque's pops predictable."""
    return (rng.normal(0, 1, n).cumsum() + 1e9,)


def _pd_centred_min(x):
    return pd.Series(x).rolling(W, center=True, min_periods=1).min().to_numpy()


def _pd_cycle_minima(x):
    s = pd.Series(x)
    return s.groupby(np.arange(x.shape[0]) // W).agg(["idxmin", "min"])


def _np_cycle_minima(x):
    # reshape the whole blocks, argmin per row (the tail block apart); NaN-free input
    k = x.shape[0] // W
    blocks = x[:k * W].reshape(k, W)
    idx = blocks.argmin(axis=1) + np.arange(k) * W
    return idx, x[idx]


CASES = [
    Case("cycle_minima length=120", _saw, lambda x: cycle_minima(x, W),
         "pandas groupby idxmin/min", _pd_cycle_minima),
    Case("cycle_minima length=120 vs numpy", _saw, lambda x: cycle_minima(x, W),
         "numpy reshape argmin (no NaN handling)", _np_cycle_minima),
    Case("lower_envelope window=120", _saw, lambda x: lower_envelope(x, W),
         "pandas rolling(center=True, min_periods=1).min()", _pd_centred_min),
    Case("lower_envelope window=120, random walk", _walk, lambda x: lower_envelope(x, W),
         "pandas rolling(center=True, min_periods=1).min()", _pd_centred_min),
]
TARGETS = []
