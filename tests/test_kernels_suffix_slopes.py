"""Sen's slopes of a floor's suffixes from one list of pair slopes
(``detector.kernels.suffix_slopes``), against a naive loop over the pairs and
against ``theil_sen`` of each suffix alone, to the last bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detector.kernels import hamed_rao_factor, theil_sen
from detector.kernels.suffix_slopes import SuffixSlopes


def naive_sen(y: np.ndarray) -> float:
    """Median of (y[j] - y[i]) / (j - i) over all pairs i < j, by a loop."""
    slopes = [(y[j] - y[i]) / float(j - i) for i in range(len(y)) for j in range(i + 1, len(y))]
    return float(np.median(slopes)) if slopes else math.nan


def series(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "ties":
        return rng.integers(0, 3, n).astype(float)
    if kind == "constant":
        return np.full(n, 7.25)
    if kind == "big":
        return 5e8 + rng.normal(0, 1e6, n).round()
    return np.cumsum(rng.normal(0, 1, n)) + 0.02 * np.arange(n)


@pytest.mark.parametrize("kind", ["ties", "constant", "big", "walk"])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 60, 400])
def test_every_suffix_in_any_order_is_the_suffix_alone(kind, n):
    y = series(kind, n, seed=n)
    suffixes = SuffixSlopes(y)
    starts = np.random.default_rng(n + 1).permutation(n + 1)  # rows filled in any order
    for c in list(starts) + list(starts[:3]):  # and asked again
        got = suffixes.sen_slope(int(c))
        if n - c < 2:
            assert math.isnan(got)
            continue
        alone = theil_sen(y[c:])[0]
        assert got == alone, (kind, n, c)
        if n <= 60:
            assert got == naive_sen(y[c:]), (kind, n, c)


def test_the_slope_given_to_hamed_rao_changes_nothing():
    y = series("walk", 300, seed=3)
    suffixes = SuffixSlopes(y)
    for c in (0, 17, 150, 290):
        x = y[c:]
        assert hamed_rao_factor(x, sen_slope=suffixes.sen_slope(c)) == hamed_rao_factor(x)
    # and the slope given is the one used
    trend = y + 0.5 * np.arange(y.shape[0])
    assert hamed_rao_factor(trend, sen_slope=0.0) != hamed_rao_factor(trend)


def test_a_read_only_array_is_copied_once():
    y = series("walk", 50, seed=4)
    y.flags.writeable = False
    suffixes = SuffixSlopes(y)
    assert suffixes.y.flags.writeable and suffixes.sen_slope(3) == theil_sen(y[3:])[0]


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="pairs"):
        SuffixSlopes(np.zeros(401))
    with pytest.raises(ValueError, match="1-D float64"):
        SuffixSlopes(np.zeros(10, dtype=np.float32))
    with pytest.raises(ValueError, match="outside"):
        SuffixSlopes(np.zeros(10)).sen_slope(11)
