"""Envelope kernels against naive loops (and pandas' centred rolling minimum)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from detector.kernels import cycle_minima, lower_envelope


def naive_cycle_minima(x, length):
    x = np.asarray(x, float)
    idx, val = [], []
    for a in range(0, len(x), length):
        best = -1
        for i in range(a, min(a + length, len(x))):
            if np.isfinite(x[i]) and (best < 0 or x[i] < x[best]):
                best = i
        idx.append(best)
        val.append(x[best] if best >= 0 else np.nan)
    return np.array(idx, np.int64), np.array(val, float)


def naive_envelope(x, w):
    x = np.asarray(x, float)
    out = np.empty(len(x))
    for i in range(len(x)):
        win = x[max(0, i - w // 2): i + w - w // 2]
        win = win[np.isfinite(win)]
        out[i] = win.min() if win.size else np.nan
    return out


def check(x, k):
    x = np.asarray(x, float)
    gi, gv = cycle_minima(x, k)
    ri, rv = naive_cycle_minima(x, k)
    assert gi.dtype == np.int64 and gv.dtype == np.float64
    np.testing.assert_array_equal(gi, ri)
    np.testing.assert_array_equal(gv, rv)
    env = lower_envelope(x, k)
    np.testing.assert_array_equal(env, naive_envelope(x, k))
    ref = pd.Series(x).rolling(k, center=True, min_periods=1).min().to_numpy()
    np.testing.assert_array_equal(env, ref)


@pytest.mark.parametrize("seed", range(6))
def test_random_sawtooth_with_nan_and_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 2000))
    t = np.arange(n)
    x = 1e9 + 1e6 * t + 5e8 * ((t % 37) / 37) + rng.integers(0, 3, n) * 1e6
    x[rng.random(n) < 0.05] = np.nan
    check(x, int(rng.integers(1, 80)))


@pytest.mark.parametrize("n,k", [(0, 1), (0, 4), (1, 1), (1, 5), (2, 1), (2, 2), (2, 3),
                                 (7, 3), (7, 7), (7, 10), (8, 4)])
def test_tiny(n, k):
    check(-np.arange(n, dtype=float), k)
    check(np.arange(n, dtype=float), k)


def test_block_count_and_positions():
    idx, val = cycle_minima(np.arange(10.0)[::-1], 4)  # blocks [0:4], [4:8], [8:10]
    assert idx.tolist() == [3, 7, 9] and val.tolist() == [6.0, 2.0, 0.0]
    idx, val = cycle_minima(np.full(10, 4.0), 3)  # ties: first position of the block
    assert idx.tolist() == [0, 3, 6, 9] and (val == 4.0).all()


def test_all_nan_block_is_kept_as_minus_one():
    x = np.r_[np.full(3, np.nan), 5.0, 4.0, 6.0, np.full(3, np.nan)]
    idx, val = cycle_minima(x, 3)
    assert idx.tolist() == [-1, 4, -1]
    assert np.isnan(val[[0, 2]]).all() and val[1] == 4.0
    env = lower_envelope(x, 3)
    assert np.isnan(env[[0, 1, 7, 8]]).all() and env[2:7].tolist() == [5, 4, 4, 4, 6]
    check(x, 3)
    check(np.full(10, np.nan), 3)
    assert cycle_minima(np.full(10, np.nan), 3)[0].tolist() == [-1] * 4


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_nan_holes(where):
    rng = np.random.default_rng(2)
    t = np.arange(600)
    x = 5e8 + 1e5 * t + 2e8 * ((t % 50) / 50) + rng.normal(0, 1e6, 600)
    x[{"start": slice(0, 80), "middle": slice(260, 340), "end": slice(520, 600)}[where]] = np.nan
    for k in (1, 7, 50, 64, 120):
        check(x, k)


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_inf_is_missing(bad):
    """+-inf are skipped like NaN (documented; pandas' rolling min does the same)."""
    x = np.array([5.0, 3.0, bad, 4.0, 6.0, 2.0])
    idx, val = cycle_minima(x, 3)
    assert idx.tolist() == [1, 5] and val.tolist() == [3.0, 2.0]
    assert lower_envelope(x, 3).tolist() == [3.0, 3.0, 3.0, 4.0, 2.0, 2.0]
    check(x, 3)


def test_large_levels_and_negative_values():
    rng = np.random.default_rng(8)
    t = np.arange(3000)
    x = 1e12 + 5e3 * ((t % 61) / 61) + rng.normal(0, 1, 3000)
    check(x, 61)
    check(-x, 61)
    check(-1e3 - rng.integers(0, 4, 3000).astype(float), 10)


def test_envelope_tracks_the_floor_of_a_leaking_sawtooth():
    """The point of it: the floor of a GC sawtooth grows with the leak, the peaks mask it."""
    t = np.arange(5000)
    floor = 1e9 + 2e4 * t
    x = floor + 3e8 * ((t % 100) / 100)
    idx, val = cycle_minima(x, 100)
    np.testing.assert_array_equal(val, floor[idx])
    env = lower_envelope(x, 150)
    inner = slice(200, 4800)
    assert np.all(env[inner] <= x[inner])
    assert np.all(np.diff(env[inner]) >= 0)


values = st.one_of(st.integers(-5, 5).map(float), st.floats(-1e12, 1e12), st.just(np.nan),
                   st.sampled_from([np.inf, -np.inf]))


@settings(max_examples=80, deadline=None)
@given(st.lists(values, max_size=120), st.integers(1, 15))
def test_hypothesis(xs, k):
    check(xs, k)


@pytest.mark.parametrize("call,match", [
    (lambda: cycle_minima(np.ones(3), 0), "length must be >= 1"),
    (lambda: cycle_minima(np.ones(3), 2.0), "length must be an integer"),
    (lambda: cycle_minima([[1.0]], 1), "x must be 1-D"),
    (lambda: lower_envelope(np.ones((3, 1)), 2), "x must be 1-D"),
    (lambda: lower_envelope(np.ones(3), 0), "window must be >= 1"),
    (lambda: lower_envelope(["a", "b"], 1), "x must be a 1-D array of numbers"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
