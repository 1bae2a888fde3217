"""Envelope kernels against pandas equivalents."""

import numpy as np
import pandas as pd

from benchmarks.kernels.common import Case
from detector.kernels import cycle_minima, lower_envelope

W = 120


def _saw(n, rng):
    t = np.arange(n)
    return (1e9 + 1e3 * t + 5e8 * ((t % 97) / 97) + rng.normal(0, 1e6, n),)


def _pd_cycle_minima(x):
    s = pd.Series(x)
    return s.groupby(np.arange(x.shape[0]) // W).agg(["idxmin", "min"])


CASES = [
    Case("cycle_minima length=120", _saw, lambda x: cycle_minima(x, W),
         "pandas groupby idxmin/min", _pd_cycle_minima),
    Case("lower_envelope window=120", _saw, lambda x: lower_envelope(x, W),
         "pandas rolling(center=True, min_periods=1).min()",
         lambda x: pd.Series(x).rolling(W, center=True, min_periods=1).min().to_numpy()),
]
TARGETS = []
