"""acf against statsmodels; dominant_period on signals whose period is known."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from statsmodels.tsa.stattools import acf as sm_acf

from detector.kernels import acf, dominant_period


def check(x, nlags):
    got = acf(x, nlags)
    with np.errstate(all="ignore"):
        ref = sm_acf(np.asarray(x, float), nlags=nlags, fft=True)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("seed", range(6))
def test_random_inputs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 5000))
    x = rng.normal(0, 1, n).cumsum() if seed % 2 else rng.integers(0, 4, n).astype(float)
    check(x, int(rng.integers(0, n)))


def test_large_level_negative_and_tiny():
    rng = np.random.default_rng(1)
    check(1e12 + rng.normal(0, 1, 2000), 100)
    check(-5 - rng.random(300), 299)
    check([1.0, 2.0], 1)
    check([3.0], 0)


def test_constant_gives_nan_like_statsmodels():
    got = acf(np.full(50, 2.0), 5)
    assert np.isnan(got).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=300), st.data())
def test_hypothesis(values, data):
    nlags = data.draw(st.integers(0, len(values) - 1))
    check(values, nlags)


@pytest.mark.parametrize("kwargs,match", [
    (dict(x=[[1.0, 2.0]], nlags=1), "x must be 1-D"),
    (dict(x=[], nlags=0), "at least 1"),
    (dict(x=[1.0, np.nan], nlags=1), "finite"),
    (dict(x=[1.0, 2.0], nlags=2), "nlags must be < len"),
    (dict(x=[1.0, 2.0], nlags=-1), "nlags must be >= 0"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        acf(**kwargs)


def naive_period(x, max_period):
    """Brute force: the lag with the highest correlation between x and its shift."""
    x = np.asarray(x, float)
    idx = np.arange(len(x))
    x = x - np.polyval(np.polyfit(idx, x, 1), idx)
    best, best_r = None, -1
    for lag in range(2, max_period + 1):
        r = np.corrcoef(x[:-lag], x[lag:])[0, 1]
        if r > best_r + 1e-9:
            best, best_r = lag, r
    return best


@pytest.mark.parametrize("shape", ["sine", "square", "sawtooth", "spikes"])
@pytest.mark.parametrize("period", [7, 24, 96])
def test_dominant_period_of_known_shapes(shape, period):
    rng = np.random.default_rng(period)
    n = period * 12
    phase = (np.arange(n) % period) / period
    x = {"sine": np.sin(2 * np.pi * phase), "square": (phase < 0.5).astype(float),
         "sawtooth": phase, "spikes": (phase < 0.1).astype(float)}[shape]
    x = x + 0.002 * np.arange(n) + rng.normal(0, 0.1, n)
    got, strength = dominant_period(x)
    assert got == pytest.approx(period, abs=1), (got, strength)
    assert strength > 0.3
    assert naive_period(x, int(period * 1.5)) == pytest.approx(got, abs=1)


def test_no_period_in_noise_trend_or_constant():
    rng = np.random.default_rng(0)
    assert dominant_period(rng.normal(0, 1, 2000))[0] is None
    assert dominant_period(np.arange(500.0))[0] is None
    assert dominant_period(np.full(100, 3.0))[0] is None
    assert dominant_period([1.0, 2.0])[0] is None


def test_dominant_period_range_and_errors():
    x = np.sin(2 * np.pi * np.arange(1000) / 50)
    assert dominant_period(x, max_period=40)[0] is None
    assert dominant_period(x, min_period=60)[0] in (None, 100)
    with pytest.raises(ValueError, match="finite"):
        dominant_period([1.0, np.inf, 2.0, 3.0])
