"""Envelope kernels against naive loops."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from detector.kernels import cycle_minima, lower_envelope


def naive_cycle_minima(x, length):
    idx, val = [], []
    for a in range(0, len(x), length):
        block = np.asarray(x[a:a + length], float)
        ok = np.isfinite(block)
        if ok.any():
            j = int(np.argmin(np.where(ok, block, np.inf)))
            idx.append(a + j)
            val.append(block[j])
        else:
            idx.append(-1)
            val.append(np.nan)
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
    gi, gv = cycle_minima(x, k)
    ri, rv = naive_cycle_minima(x, k)
    np.testing.assert_array_equal(gi, ri)
    np.testing.assert_array_equal(gv, rv)
    np.testing.assert_array_equal(lower_envelope(x, k), naive_envelope(x, k))


@pytest.mark.parametrize("seed", range(6))
def test_random_sawtooth_with_nan_and_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 2000))
    t = np.arange(n)
    x = 1e9 + 1e6 * t + 5e8 * ((t % 37) / 37) + rng.integers(0, 3, n) * 1e6
    x[rng.random(n) < 0.05] = np.nan
    check(x, int(rng.integers(1, 80)))


@pytest.mark.parametrize("n,k", [(0, 1), (1, 1), (1, 5), (7, 3), (7, 7), (7, 10)])
def test_tiny(n, k):
    check(-np.arange(n, dtype=float), k)


def test_all_nan_and_constant():
    check(np.full(10, np.nan), 3)
    check(np.full(10, 4.0), 3)
    idx, val = cycle_minima(np.full(10, 4.0), 3)
    assert idx.tolist() == [0, 3, 6, 9]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.integers(-5, 5).map(float), st.just(np.nan)), max_size=120),
       st.integers(1, 15))
def test_hypothesis(values, k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(values, k)


@pytest.mark.parametrize("call,match", [
    (lambda: cycle_minima(np.ones(3), 0), "length must be >= 1"),
    (lambda: lower_envelope(np.ones((3, 1)), 2), "x must be 1-D"),
    (lambda: lower_envelope(np.ones(3), 0), "window must be >= 1"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
