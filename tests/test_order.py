"""Exact order statistics (detector.kernels.order) against numpy."""

import numpy as np
import pytest

from detector.kernels import order

SIZES = [1, 2, 3, 4, 7, order.SMALL, order.SMALL + 1, 100, 10_081, order.BRACKET_MIN - 1, order.BRACKET_MIN,
         order.BRACKET_MIN + 1, 40_320, 80_000]
QS = [0, 1, 5, 25, 37.3, 50, 90, 95, 99, 99.99, 100]


def _inputs(rng, n):
    yield rng.normal(size=n)  # noise (a series' first differences)
    yield rng.integers(0, 3, n).astype(float)  # a few values, heavy ties
    yield np.full(n, 3.3)  # constant
    yield np.cumsum(rng.normal(size=n)) * 1e8  # a random walk in bytes
    x = rng.normal(size=n)
    x[: n // 2] = 0.0  # half of the values tied at the median
    yield x
    yield np.sort(rng.normal(size=n))[::-1].copy()  # reversed order
    y = rng.standard_cauchy(n)  # heavy tails: the bracket's sample misses often
    yield y


@pytest.mark.parametrize("n", SIZES)
def test_median_and_percentiles_equal_numpy(n):
    rng = np.random.default_rng(n)
    for x in _inputs(rng, n):
        keep = x.copy()
        assert order.median(x) == np.median(x)
        assert order.mad(x) == np.median(np.abs(x - np.median(x)))
        assert order.percentiles(x, QS) == [float(np.percentile(x, q)) for q in QS]
        assert np.array_equal(x, keep)  # the input is not modified


@pytest.mark.parametrize("seed", range(20))
def test_order_statistics_equal_partition(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3 * order.BRACKET_MIN))
    x = rng.normal(size=n) if seed % 2 else rng.integers(-5, 5, n).astype(float)
    ranks = rng.integers(0, n, 3)
    want = np.sort(x)[ranks]
    assert np.array_equal(order.order_statistics(x, ranks), want)


def test_bracket_miss_falls_back():
    # a strided sample that sees only one kind of value: the bracket around its median
    # holds none of the rest, and the answer still comes from the whole array
    n = 1 << 16
    assert n >= order.BRACKET_MIN and (n // order.SAMPLE_SIZE) % 2 == 0
    x = np.zeros(n)
    x[1::2] = np.arange(n // 2) + 1.0  # the (even) stride samples only the zeros
    assert order.median(x) == np.median(x)
    assert order.percentiles(x, [10, 90]) == [float(np.percentile(x, 10)),
                                              float(np.percentile(x, 90))]


def test_empty():
    assert np.isnan(order.median(np.empty(0)))
    with pytest.raises(ValueError, match="empty"):
        order.percentiles(np.empty(0), [50])
