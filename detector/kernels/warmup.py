"""Compile every kernel once, or load it from numba's cache: what ``detector warmup`` runs.

Each step calls public kernels on a small input built to reach one path (the lean and
the gap-handling loops of the rolling statistics, Theil-Sen's pair listing, its slope
selection and its exact counts on crowded slopes, plain PELT and its FPOP path, ...),
with the argument types the analysis passes (the wrappers cast at the boundary), so that
a later run finds every kernel in the cache. ``tests/test_warmup.py`` checks that no
kernel is left out.
"""

from __future__ import annotations

import time
from typing import Callable, Iterator

import numpy as np


def _rolling(rng: np.random.Generator) -> None:
    from . import rolling_max, rolling_mean_std, rolling_min

    x = 5e8 + rng.normal(0, 1e6, 1000)
    x[[5, 400]] = np.nan  # the general loop that counts missing values
    x[700] = 1e15  # a spike leaving a quiet stretch: the careful block
    rolling_mean_std(x, 20)
    out = np.empty(x.shape[0]), np.empty(x.shape[0])
    rolling_mean_std(x, 20, out_mean=out[0], out_std=out[1])
    rolling_min(x, 20)
    rolling_max(x, 20)


def _envelope(rng: np.random.Generator) -> None:
    from . import cycle_minima, lower_envelope

    x = rng.normal(size=300)
    x[10] = np.nan
    cycle_minima(x, 7)
    lower_envelope(x, 15)  # block minima
    lower_envelope(x[:10], 15)  # a window longer than the series


def _seasonal(rng: np.random.Generator) -> None:
    from . import acf, dominant_period

    t = np.arange(600.0)
    x = np.sin(2 * np.pi * t / 50) + rng.normal(0, 0.1, t.shape[0])
    acf(x, 20)
    dominant_period(x)


def _trend(rng: np.random.Generator) -> None:
    from . import mann_kendall, ols, theil_sen, theil_sen_interval
    from .suffix_slopes import SuffixSlopes

    # 600 points: 179,700 pairs, above trend.ALL_PAIRS_MAX, so Sen's slope is selected
    t = np.arange(600.0)
    n = t.shape[0]
    y = 5e8 + 1e3 * t + rng.normal(0, 1e5, n)
    mann_kendall(y)
    mann_kendall(y, correction="hamed_rao").slope  # Sen's slope by selection
    theil_sen(y[:40], t[:40])  # few points: all pair slopes listed
    theil_sen_interval(y[:40], t[:40])
    SuffixSlopes(y[:40]).sen_slope(5)  # the trend search's starts: one list of pairs
    ols(y, t)
    # crowded slopes: most pairs share one exact value (an integer ramp, a flat
    # stretch), certified by exact counts
    ramp = 2.0 * t
    ramp[rng.integers(0, n, 20)] += rng.integers(-50, 50, 20)
    theil_sen(ramp, t)
    flat = np.zeros(n)
    flat[rng.integers(0, n, 20)] = rng.normal(size=20)
    theil_sen(flat, t)


def _changepoint(rng: np.random.Generator) -> None:
    from . import pelt, pelt_linear

    x = np.repeat(rng.normal(0, 3, 5), 240) + rng.normal(size=1200)
    pelt(x[:300], 3 * np.log(300))  # plain PELT (few candidate ends)
    pelt(x, 3 * np.log(1200), jump=1)  # functional pruning
    pelt(np.repeat([0.0, 1e9], 300), 10.0, jump=1)  # costs in double-double
    pelt_linear(np.cumsum(x[:300]), 3 * np.log(300))


def _segments(rng: np.random.Generator) -> None:
    from . import bin_stats, linear_segments, segment_fits

    t = np.arange(300.0)
    y = np.where(t < 150, 0.0, t - 150) + rng.normal(size=300)
    segment_fits(y, linear_segments(y, 20.0, t=t), t=t)
    v = y.copy()
    v[3] = np.nan
    bin_stats(t, v, 0.0, 10.0, 30)


def _drops(rng: np.random.Generator) -> None:
    from . import returns_to_base

    v = np.tile(np.arange(10.0), 5) + rng.normal(0, 0.1, 50)
    events = np.arange(9, 49, 10)
    returns_to_base(v, events, v[events + 1], 0.4)


#: (name, step): each step compiles (or loads) the kernels of one area
STEPS: tuple[tuple[str, Callable[[np.random.Generator], None]], ...] = (
    ("time bins and straight-line segments", _segments),
    ("trend tests", _trend),
    ("change points", _changepoint),
    ("rolling statistics", _rolling),
    ("lower envelope", _envelope),
    ("seasonality", _seasonal),
    ("restart drops", _drops),
)


def warm_kernels() -> Iterator[tuple[str, float]]:
    """Call every kernel once; yield ``(area, seconds)`` as each area is done.

    On a cold cache each area takes seconds (numba compiles and writes the cache);
    on a warm one, milliseconds.
    """
    rng = np.random.default_rng(0)
    for name, step in STEPS:
        t0 = time.perf_counter()
        step(rng)
        yield name, time.perf_counter() - t0


def cache_directory() -> str | None:
    """The directory numba's cache for these kernels is in (None: caching unavailable).

    ``NUMBA_CACHE_DIR`` when it is set and writable, else ``__pycache__`` beside the
    installed package when writable, else numba's per-user cache directory.
    """
    from .binning import _bin_stats_kernel

    cache = getattr(_bin_stats_kernel, "_cache", None)
    path = getattr(cache, "cache_path", None)
    return str(path) if path else None
