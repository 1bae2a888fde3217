"""Rolling kernels against pandas (and a naive loop where pandas loses precision)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from detector.kernels import rolling_max, rolling_mean_std, rolling_min


def naive_mean_std(x, w):
    n = len(x)
    mean = np.full(n, np.nan)
    std = np.full(n, np.nan)
    for i in range(w - 1, n):
        win = np.asarray(x[i - w + 1:i + 1], float)
        if np.isfinite(win).all():
            m = win.mean()
            mean[i] = m
            std[i] = np.sqrt(np.sum((win - m) ** 2) / (w - 1))
    return mean, std


def check_pandas(x, w):
    x = np.asarray(x, float)
    m, s = rolling_mean_std(x, w)
    r = pd.Series(x).rolling(w)
    np.testing.assert_allclose(m, r.mean().to_numpy(), rtol=1e-9, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(s, r.std().to_numpy(), rtol=1e-9, atol=1e-9, equal_nan=True)
    for got, ref in ((rolling_min(x, w), r.min()), (rolling_max(x, w), r.max())):
        np.testing.assert_array_equal(got, ref.to_numpy())


@pytest.mark.parametrize("seed", range(8))
def test_random_with_nan_and_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 3000))
    x = rng.integers(-3, 4, n).astype(float) if seed % 2 else rng.normal(0, 10, n)
    x[rng.random(n) < 0.02] = np.nan
    if n > 10:
        x[:3] = np.nan
        x[-2:] = np.nan
    check_pandas(x, int(rng.integers(2, 60)))


@pytest.mark.parametrize("n,w", [(0, 2), (1, 2), (2, 2), (3, 5), (5, 5), (6, 5)])
def test_tiny_and_short(n, w):
    check_pandas(np.arange(n, dtype=float) * 1.5 - 2, w)


def test_constant_windows_give_exact_zero():
    x = np.r_[np.arange(10.0), np.full(50, 7.25), np.arange(10.0)]
    m, s = rolling_mean_std(x, 8)
    assert (s[17:60] == 0).all() and (m[17:60] == 7.25).all()
    check_pandas(x, 8)


def test_all_nan_and_inf_as_missing():
    check_pandas(np.full(20, np.nan), 3)
    x = np.arange(20.0)
    x[7] = np.inf
    m, s = rolling_mean_std(x, 3)
    assert np.isnan(m[7:10]).all() and np.isfinite(m[10])
    assert np.isnan(rolling_min(x, 3)[7:10]).all() and rolling_min(x, 3)[10] == 8


def test_large_levels_keep_their_precision():
    """Near 1e12 with unit noise pandas loses digits; a naive loop with mean removal does not."""
    rng = np.random.default_rng(3)
    x = 1e12 + rng.normal(0, 1, 5000)
    x[1000] = np.nan
    m, s = rolling_mean_std(x, 50)
    rm, rs = naive_mean_std(x, 50)
    np.testing.assert_allclose(m, rm, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(s, rs, rtol=1e-6, equal_nan=True)
    # a leak-like drift across many windows
    x2 = 1e9 + np.arange(20000) * 1e4 + rng.normal(0, 1, 20000)
    m2, s2 = rolling_mean_std(x2, 100)
    rm2, rs2 = naive_mean_std(x2, 100)
    np.testing.assert_allclose(s2, rs2, rtol=1e-6, equal_nan=True)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(np.nan)), max_size=200),
       st.integers(2, 20))
def test_hypothesis(values, w):
    check_pandas(values, w)


def test_out_buffers_are_used_and_checked():
    x = np.random.default_rng(0).normal(size=100)
    bm, bs = np.empty(100), np.empty(100)
    m, s = rolling_mean_std(x, 10, out_mean=bm, out_std=bs)
    assert m is bm and s is bs
    with pytest.raises(ValueError, match="out_mean must be"):
        rolling_mean_std(x, 10, out_mean=np.empty(99))


@pytest.mark.parametrize("call,match", [
    (lambda: rolling_mean_std(np.ones(5), 1), "window must be >= 2"),
    (lambda: rolling_mean_std(np.ones((2, 2)), 2), "x must be 1-D"),
    (lambda: rolling_mean_std(np.ones(5), 2.5), "window must be an integer"),
    (lambda: rolling_min(np.ones(5), 0), "window must be >= 1"),
    (lambda: rolling_max(["a"], 1), "numbers"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
