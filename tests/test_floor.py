"""The floor's helpers against numpy references."""

import warnings

import numpy as np
import pytest

from detector.analysis.floor import nan_median3, nan_rolling


def _reference(x):
    """numpy's nanmedian over each centred window of 3 (shrunk at the edges)."""
    padded = np.concatenate(([np.nan], x, [np.nan]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows
        return np.array([np.nanmedian(padded[i:i + 3]) for i in range(x.shape[0])])


@pytest.mark.parametrize("seed", range(6))
def test_nan_median3_matches_nanmedian(seed):
    rng = np.random.default_rng(seed)
    for i in range(400):
        n = int(rng.integers(0, 14))
        if i % 3 == 0:
            x = rng.integers(0, 3, n).astype(float)  # ties
        else:
            x = rng.normal(0, 10.0 ** rng.integers(-3, 9), n)
        x[rng.random(n) < 0.35] = np.nan
        if i % 5 == 0 and n:
            x[rng.integers(0, n, 2)] = rng.choice([np.inf, -np.inf], 2)
        got = nan_median3(x)
        want = _reference(x)
        assert got.shape == want.shape
        assert np.array_equal(got, want, equal_nan=True), (x, got, want)
        assert np.array_equal(got, nan_rolling(x, 3, np.nanmedian), equal_nan=True)


def test_nan_median3_small_and_constant():
    assert nan_median3(np.empty(0)).shape == (0,)
    assert np.array_equal(nan_median3(np.array([4.0])), [4.0])
    assert np.array_equal(nan_median3(np.array([1.0, 3.0])), [2.0, 2.0])
    assert np.array_equal(nan_median3(np.full(5, 7.5)), np.full(5, 7.5))
    assert np.isnan(nan_median3(np.full(4, np.nan))).all()
    # an outlier between two equal neighbours is removed; an edge takes the mean of two
    assert np.array_equal(nan_median3(np.array([1.0, 9.0, 1.0, 2.0])), [5.0, 1.0, 2.0, 1.5])
