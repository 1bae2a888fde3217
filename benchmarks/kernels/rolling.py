"""Rolling mean/std and min/max against bottleneck and pandas."""

import numpy as np
import pandas as pd

from benchmarks.kernels.common import Case, Target, ratio
from detector.kernels import rolling_max, rolling_mean_std, rolling_min
from detector.kernels._jit import kernel

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


def _memory(n, rng):
    """Memory-like data (issue 14): a level of 5e8 bytes with white noise of 1e6 bytes."""
    return (5e8 + rng.normal(0, 1e6, n),)


def _bn_at(w):
    def run(x):
        import bottleneck as bn

        return bn.move_mean(x, w), bn.move_std(x, w, ddof=1)
    return run


@kernel
def _copy_to_two(x, a, b):
    for i in range(x.shape[0]):
        a[i] = x[i]
        b[i] = x[i]


def _fresh_output_floor(x):
    """What any rolling mean+std with fresh outputs pays at least: read x once and write
    two freshly allocated arrays of its length (the page faults and the bandwidth)."""
    out = np.empty((2, x.shape[0]))
    _copy_to_two(x, out[0], out[1])
    return out


WINDOWS = (20, 240, 2880)
MEMORY_SIZES = (1_000_000, 10_000_000)

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
    *[Case(f"rolling_mean_std w={w}, memory-like", _memory,
           lambda x, w=w: rolling_mean_std(x, w), "bottleneck move_mean+move_std", _bn_at(w),
           sizes=MEMORY_SIZES, repeats=7) for w in WINDOWS],
    Case("fresh-output floor: read x, write 2 new arrays", _memory, _fresh_output_floor,
         sizes=MEMORY_SIZES, repeats=7),
]


def _windows_target(r):
    n = 10_000_000
    floor = r[("fresh-output floor: read x, write 2 new arrays", n)][0]
    parts, met = [], True
    for w in WINDOWS:
        ours, peer = r[(f"rolling_mean_std w={w}, memory-like", n)]
        k = ratio(r, f"rolling_mean_std w={w}, memory-like", n)
        met = met and k >= 1.5
        parts.append(f"w={w} {k:.2f}x (ours {ours / floor:.2f}x the floor, bottleneck "
                     f"{peer / floor:.2f}x)")
    return met, "; ".join(parts) + f"; floor {floor * 1e3:.1f} ms"



TARGETS = [
    Target("rolling_mean_std >= 1.5x bottleneck at n=1e7 (reused out= buffers)",
           lambda r: (lambda k: (k >= 1.5, f"{k:.2f}x"))(
               ratio(r, "rolling_mean_std w=100 (out=)", 10_000_000))),
    Target("rolling_mean_std >= 1.5x bottleneck at n=1e7 (fresh outputs each call)",
           lambda r: (lambda k: (k >= 1.5, f"{k:.2f}x"))(
               ratio(r, "rolling_mean_std w=100", 10_000_000))),
    Target("rolling_mean_std >= 1.5x bottleneck at windows 20, 240 and 2880, memory-like data "
           "(5e8 + N(0, 1e6)), n=1e7, fresh outputs (issue 14)", _windows_target),
    Target("rolling_mean_std >= 8x pandas at n=1e7",
           lambda r: (lambda k: (k >= 8, f"{k:.1f}x"))(
               ratio(r, "rolling_mean_std w=100 vs pandas", 10_000_000))),
]
