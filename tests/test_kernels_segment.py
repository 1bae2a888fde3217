"""linear_segments against a brute-force search over every admissible partition."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from detector.kernels import linear_segments, segment_fits


def rss_line(t, y):
    if len(y) < 2 or np.ptp(t) == 0:
        return float(np.sum((y - y.mean()) ** 2))
    A = np.vstack([t, np.ones_like(t)]).T
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    return float(np.sum((y - A @ coef) ** 2))


def brute_force(y, penalty, min_size, t=None):
    n = len(y)
    t = np.arange(n, dtype=float) if t is None else np.asarray(t, float)
    best, best_ends = np.inf, None
    inner = range(min_size, n - min_size + 1)
    for k in range(0, n // min_size):
        for cuts in itertools.combinations(inner, k):
            bounds = (0, *cuts, n)
            if any(b - a < min_size for a, b in zip(bounds, bounds[1:])):
                continue
            cost = sum(rss_line(t[a:b], y[a:b]) + penalty for a, b in zip(bounds, bounds[1:]))
            if best_ends is None or cost < best - 1e-9 * max(1.0, abs(best)):
                best, best_ends = cost, list(bounds[1:])
    return best, best_ends


def total_cost(y, ends, penalty, t=None):
    t = np.arange(len(y), dtype=float) if t is None else np.asarray(t, float)
    starts = [0, *ends[:-1]]
    return sum(rss_line(t[a:b], y[a:b]) + penalty for a, b in zip(starts, ends))


@pytest.mark.parametrize("seed", range(12))
def test_matches_brute_force_cost_on_random_piecewise_lines(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 15))
    min_size = int(rng.integers(2, 4))
    cut = int(rng.integers(2, n - 2))
    y = np.where(np.arange(n) < cut, 1.0 * np.arange(n), 10 - 0.5 * np.arange(n))
    y = y + rng.normal(0, 0.3, n)
    penalty = float(rng.uniform(0.1, 5))
    ends = linear_segments(y, penalty, min_size=min_size)
    best, _ = brute_force(y, penalty, min_size)
    assert total_cost(y, ends, penalty) == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert all(b - a >= min_size for a, b in zip([0, *ends[:-1]], ends))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=0, max_size=12), st.floats(0, 8),
       st.integers(2, 4))
def test_hypothesis_integer_data_with_ties(values, penalty, min_size):
    y = np.array(values, float)
    ends = linear_segments(y, penalty, min_size=min_size)
    if len(y) == 0:
        assert ends == []
        return
    assert ends[-1] == len(y)
    if len(y) >= 2 * min_size:
        best, _ = brute_force(y, penalty, min_size)
        assert total_cost(y, ends, penalty) == pytest.approx(best, rel=1e-9, abs=1e-9)


def test_finds_onset_of_growth_and_large_levels():
    rng = np.random.default_rng(3)
    t = np.arange(300.0)
    y = 1e12 + np.where(t < 180, 0.0, (t - 180) * 50.0) + rng.normal(0, 5, 300)
    ends = linear_segments(y, penalty=25 * 300 * 10, t=t, min_size=5)
    assert len(ends) == 2 and abs(ends[0] - 180) <= 3
    fits = segment_fits(y, ends, t=t)
    assert fits[1][2] == pytest.approx(50.0, rel=0.02) and abs(fits[0][2]) < 0.2


def test_constant_and_tiny_and_uneven_t():
    assert linear_segments(np.full(20, 7.0), 1.0) == [20]
    assert linear_segments([1.0, 2.0], 1.0) == [2]
    t = np.cumsum(np.random.default_rng(0).uniform(0.5, 2, 12))
    y = np.where(np.arange(12) < 6, 0.0, 5.0)
    ends = linear_segments(y, 0.5, t=t, min_size=3)
    assert total_cost(y, ends, 0.5, t) == pytest.approx(brute_force(y, 0.5, 3, t)[0], abs=1e-9)


@pytest.mark.parametrize("kwargs,match", [
    (dict(y=[1.0, np.nan, 2.0]), "y must be finite"),
    (dict(y=[[1.0]]), "y must be 1-D"),
    (dict(penalty=-1.0), "penalty must be >= 0"),
    (dict(min_size=1), "min_size must be >= 2"),
    (dict(t=[0.0, 0.0, 1.0]), "strictly increasing"),
    (dict(t=[0.0, 1.0]), "differ in length"),
])
def test_bad_arguments(kwargs, match):
    args = dict(y=[1.0, 2.0, 3.0], penalty=1.0) | kwargs
    with pytest.raises(ValueError, match=match):
        linear_segments(args.pop("y"), args.pop("penalty"), **args)
