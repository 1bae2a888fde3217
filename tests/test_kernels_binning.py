"""bin_stats against pandas groupby on random inputs, NaN, empty bins, tiny inputs."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from detector.kernels import bin_stats


def reference(t, v, t0, width, n_bins):
    t = np.asarray(t, float)
    v = np.asarray(v, float)
    with np.errstate(invalid="ignore"):
        b = np.floor((t - t0) / width)
    ok = np.isfinite(v) & (b >= 0) & (b < n_bins)
    g = pd.Series(v[ok]).groupby(b[ok].astype(np.int64))
    out = pd.DataFrame({"count": g.count(), "mean": g.mean(), "min": g.min(), "max": g.max()})
    out = out.reindex(range(n_bins))
    return (out["count"].fillna(0).to_numpy(np.int64), out["mean"].to_numpy(float),
            out["min"].to_numpy(float), out["max"].to_numpy(float))


def check(t, v, t0, width, n_bins):
    got = bin_stats(t, v, t0, width, n_bins)
    ref = reference(t, v, t0, width, n_bins)
    np.testing.assert_array_equal(got[0], ref[0])
    for g, r in zip(got[1:], ref[1:]):
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=0, equal_nan=True)


@pytest.mark.parametrize("seed", range(5))
def test_random_with_nan_ties_and_out_of_range(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 3000))
    t = np.sort(rng.uniform(-50, 1050, n))
    v = rng.integers(-5, 5, n).astype(float)  # ties
    v[rng.random(n) < 0.1] = np.nan
    v[rng.random(n) < 0.01] = np.inf
    check(t, v, 0.0, 10.0, 100)


def test_large_levels_and_constant():
    t = np.arange(1000.0)
    check(t, 1e12 + np.random.default_rng(1).normal(0, 1, 1000), 0.0, 7.0, 143)
    check(t, np.full(1000, 3.5), 0.0, 100.0, 10)


def test_tiny_and_empty():
    check([], [], 0.0, 1.0, 3)
    check([0.5], [2.0], 0.0, 1.0, 1)
    count, mean, lo, hi = bin_stats([0.5], [np.nan], 0.0, 1.0, 2)
    assert count.tolist() == [0, 0] and np.isnan(mean).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-10, 110, allow_nan=False),
                          st.one_of(st.floats(-1e6, 1e6), st.just(np.nan))), max_size=200),
       st.floats(0.5, 30), st.integers(1, 40))
def test_hypothesis(pairs, width, n_bins):
    t = np.array([p[0] for p in pairs], float)
    v = np.array([p[1] for p in pairs], float)
    check(t, v, 0.0, width, n_bins)


@pytest.mark.parametrize("kwargs,match", [
    (dict(t=[[1.0]], v=[1.0]), "t must be 1-D"),
    (dict(t=[1.0, 2.0], v=[1.0]), "differ in length"),
    (dict(width=0.0), "width must be > 0"),
    (dict(n_bins=0), "n_bins must be >= 1"),
    (dict(t0=np.nan), "t0 must be finite"),
])
def test_bad_arguments(kwargs, match):
    args = dict(t=[1.0], v=[1.0], t0=0.0, width=1.0, n_bins=1) | kwargs
    with pytest.raises(ValueError, match=match):
        bin_stats(**args)


def test_one_compiled_variant_for_writable_and_read_only_inputs():
    """A Series' arrays are read-only, a caller's usually not: both reach the same compiled
    kernel (a second variant would cost another compile on a cold cache), and the inputs
    stay writable for their owner."""
    from detector.kernels.binning import _bin_stats_kernel

    t = np.arange(10.0)
    v = np.arange(10.0)
    frozen = v.copy()
    frozen.flags.writeable = False
    a = bin_stats(t, v, 0.0, 2.0, 5)
    b = bin_stats(t, frozen, 0.0, 2.0, 5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert len(_bin_stats_kernel.signatures) == 1
    assert t.flags.writeable and v.flags.writeable


def _in_sample_order(t, v, t0, width, n_bins):
    """A naive loop: each bin's sum taken sample by sample, in input order."""
    count = [0] * n_bins
    total = [0.0] * n_bins
    lo = [np.inf] * n_bins
    hi = [-np.inf] * n_bins
    for ti, x in zip(t.tolist(), v.tolist()):
        pos = (ti - t0) / width
        if not np.isfinite(x) or not pos >= 0.0 or int(pos) >= n_bins:
            continue
        b = int(pos)
        count[b] += 1
        total[b] += x
        lo[b] = min(lo[b], x)
        hi[b] = max(hi[b], x)
    mean = [s / c if c else np.nan for s, c in zip(total, count)]
    return (np.array(count), np.array(mean), np.array([a if c else np.nan for a, c in
                                                      zip(lo, count)]),
            np.array([a if c else np.nan for a, c in zip(hi, count)]))


@pytest.mark.parametrize("order", ["sorted", "shuffled", "interleaved"])
def test_sums_in_sample_order_whatever_the_order(order):
    """The kernel keeps the open bin in registers; a sample of another bin stores it and
    opens that one. The floats must still be those of adding each bin's samples in input
    order (not partial sums merged), whether the bins come one after the other or not."""
    rng = np.random.default_rng(7)
    n = 5000
    t = np.sort(rng.uniform(0, 1000, n))
    v = 1e9 + rng.normal(0, 1e7, n)  # sums whose rounding depends on the order
    v[rng.random(n) < 0.05] = np.nan
    if order == "shuffled":
        p = rng.permutation(n)
        t, v = t[p], v[p]
    elif order == "interleaved":  # two sorted halves, one after the other: every bin twice
        p = np.concatenate((np.arange(0, n, 2), np.arange(1, n, 2)))
        t, v = t[p], v[p]
    got = bin_stats(t, v, 0.0, 7.0, 150)
    want = _in_sample_order(t, v, 0.0, 7.0, 150)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
