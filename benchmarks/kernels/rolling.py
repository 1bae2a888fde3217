"""Rolling mean/std and min/max against bottleneck and pandas."""

import numpy as np
import pandas as pd

from benchmarks.kernels.common import Case, Target, ratio
from detector.kernels import rolling_max, rolling_mean_std, rolling_min

W = 100


def _x(n, rng):
    """A random walk at 1e9 (a memory level with noise)."""
    return (rng.normal(0, 1, n).cumsum() + 1e9,)


def _x_gaps(n, rng):
    """The same with one missing sample in 10,000 (scrape gaps): the general kernel."""
    (x,) = _x(n, rng)
    x[rng.integers(0, n, max(1, n // 10_000))] = np.nan
    return (x,)


def _bn_mean_std(x):
    import bottleneck as bn

    return bn.move_mean(x, W), bn.move_std(x, W, ddof=1)


def _pd_mean_std(x):
    r = pd.Series(x).rolling(W)
    return r.mean().to_numpy(), r.std().to_numpy()


class _Buffers:
    """Preallocated outputs, reused across calls (as a fleet loop would)."""

    def __init__(self):
        self.n = -1

    def __call__(self, x):
        if self.n != x.shape[0]:
            self.m, self.s, self.n = np.empty_like(x), np.empty_like(x), x.shape[0]
        return rolling_mean_std(x, W, out_mean=self.m, out_std=self.s)


CASES = [
    Case("rolling_mean_std w=100", _x, lambda x: rolling_mean_std(x, W),
         "bottleneck move_mean+move_std", _bn_mean_std),
    Case("rolling_mean_std w=100 (out=)", _x, _Buffers(), "bottleneck move_mean+move_std",
         _bn_mean_std),
    Case("rolling_mean_std w=100 vs pandas", _x, lambda x: rolling_mean_std(x, W),
         "pandas rolling mean+std", _pd_mean_std),
    # bottleneck's default min_count (= window) gives the same NaN semantics
    Case("rolling_mean_std w=100, NaN gaps", _x_gaps, lambda x: rolling_mean_std(x, W),
         "bottleneck move_mean+move_std", _bn_mean_std),
    Case("rolling_min w=100", _x, lambda x: rolling_min(x, W), "pandas rolling min",
         lambda x: pd.Series(x).rolling(W).min().to_numpy()),
    Case("rolling_max w=100", _x, lambda x: rolling_max(x, W), "pandas rolling max",
         lambda x: pd.Series(x).rolling(W).max().to_numpy()),
]


TARGETS = [
    Target("rolling_mean_std >= 1.5x bottleneck at n=1e7 (reused out= buffers)",
           lambda r: (lambda k: (k >= 1.5, f"{k:.2f}x"))(
               ratio(r, "rolling_mean_std w=100 (out=)", 10_000_000))),
    Target("rolling_mean_std >= 1.5x bottleneck at n=1e7 (fresh outputs each call)",
           lambda r: (lambda k: (k >= 1.5, f"{k:.2f}x"))(
               ratio(r, "rolling_mean_std w=100", 10_000_000))),
    Target("rolling_mean_std >= 8x pandas at n=1e7",
           lambda r: (lambda k: (k >= 8, f"{k:.1f}x"))(
               ratio(r, "rolling_mean_std w=100 vs pandas", 10_000_000))),
]
