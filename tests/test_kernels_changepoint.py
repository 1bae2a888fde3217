"""pelt against ruptures, the FPOP path against plain PELT, and both against brute force."""

import itertools
import warnings

import numpy as np
import pytest
import ruptures as rpt
from hypothesis import given, settings, strategies as st

from detector.kernels import pelt, pelt_linear
from detector.kernels.changepoint import FPOP_MIN_SAMPLES, pelt_plain


def ruptures_pelt(y, pen, min_size, jump):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rpt.Pelt(model="l2", min_size=min_size, jump=jump).fit(
            np.asarray(y, float)).predict(pen=pen)


def signal(rng, n, kind):
    if kind == "ties":
        return rng.integers(0, 3, n).astype(float)
    if kind == "big":
        return 1e12 + np.repeat(rng.normal(0, 5, 8), n // 8 + 1)[:n] + rng.normal(0, 1, n)
    if kind == "negative":
        return -np.abs(np.repeat(rng.normal(0, 4, 5), n // 5 + 1)[:n]) + rng.normal(0, 1, n)
    return np.repeat(rng.normal(0, 3, 6), n // 6 + 1)[:n] + rng.normal(0, 1, n)


@pytest.mark.parametrize("seed", range(30))
def test_equals_ruptures_on_random_inputs(seed):
    rng = np.random.default_rng(seed)
    kind = ["ties", "big", "negative", "pieces"][seed % 4]
    n = int(rng.integers(8, 160))
    min_size = int(rng.integers(1, 6))
    jump = int(rng.integers(1, 7))
    y = signal(rng, n, kind)
    pen = float(rng.uniform(0.5, 30))
    if kind == "big":
        pen *= 1  # unit noise: the same penalties apply
    assert pelt(y, pen, min_size=min_size, jump=jump) == ruptures_pelt(y, pen, min_size, jump)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=2, max_size=60), st.floats(0, 10),
       st.integers(1, 4), st.integers(1, 5))
def test_hypothesis_integer_data(values, pen, min_size, jump):
    y = np.array(values, float)
    try:
        ref = ruptures_pelt(y, pen, min_size, jump)
    except rpt.exceptions.BadSegmentationParameters:
        with pytest.raises(ValueError):
            pelt(y, pen, min_size=min_size, jump=jump)
        return
    assert pelt(y, pen, min_size=min_size, jump=jump) == ref


@pytest.mark.parametrize("seed", range(8))
def test_fpop_path_equals_plain_pelt_on_long_signals(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(FPOP_MIN_SAMPLES + 1, 8000))
    y = signal(rng, n, ["pieces", "ties", "big", "negative"][seed % 4])
    pen = 3 * np.log(n) * float(rng.uniform(0.5, 2))
    ms = int(rng.integers(1, 8))
    assert pelt(y, pen, min_size=ms, jump=1) == pelt_plain(y, pen, min_size=ms, jump=1)


def brute_force(y, pen, min_size):
    n = len(y)
    best, best_ends = np.inf, None
    for k in range(n // min_size):
        for cuts in itertools.combinations(range(min_size, n - min_size + 1), k):
            b = (0, *cuts, n)
            if any(e - s < min_size for s, e in zip(b, b[1:])):
                continue
            cost = sum(np.sum((y[s:e] - y[s:e].mean()) ** 2) + pen for s, e in zip(b, b[1:]))
            if best_ends is None or cost < best - 1e-9:
                best, best_ends = cost, list(b[1:])
    return best, best_ends


def total(y, ends, pen):
    starts = [0, *ends[:-1]]
    return sum(np.sum((y[s:e] - y[s:e].mean()) ** 2) + pen for s, e in zip(starts, ends))


@pytest.mark.parametrize("seed", range(10))
def test_fpop_is_optimal_against_brute_force(seed, monkeypatch):
    import detector.kernels.changepoint as cp

    monkeypatch.setattr(cp, "FPOP_MIN_SAMPLES", 0)  # force the FPOP path on tiny inputs
    rng = np.random.default_rng(200 + seed)
    n = int(rng.integers(2, 13))
    y = signal(rng, n, "pieces")
    pen = float(rng.uniform(0, 5))
    ms = int(rng.integers(1, 4))
    if ms > n:
        return
    best, _ = brute_force(y, pen, ms)
    assert total(y, pelt(y, pen, min_size=ms, jump=1), pen) == pytest.approx(best, abs=1e-9)


def test_edge_cases():
    assert pelt([5.0], 1.0, min_size=1, jump=1) == [1]
    assert pelt(np.full(50, 3.0), 0.0, jump=1) == ruptures_pelt(np.full(50, 3.0), 0.0, 2, 1)
    y = signal(np.random.default_rng(1), 100, "pieces")
    assert pelt(y, 1e12) == [100]  # a huge penalty: one segment
    assert pelt(y, 0.0, jump=1) == ruptures_pelt(y, 0.0, 2, 1)


def test_finds_the_changes_of_a_long_signal():
    rng = np.random.default_rng(7)
    levels = rng.normal(0, 5, 11)
    y = np.repeat(levels, 20_000) + rng.normal(0, 1, 220_000)
    got = pelt(y, 3 * np.log(y.size), min_size=2, jump=1)
    expected = list(range(20_000, 220_001, 20_000))
    assert len(got) == len(expected)
    assert all(abs(a - b) <= 5 for a, b in zip(got, expected))


def ruptures_clinear(y, pen, min_size, jump):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rpt.Pelt(model="clinear", min_size=min_size, jump=jump).fit(
            np.asarray(y, float)).predict(pen=pen)


@pytest.mark.parametrize("seed", range(20))
def test_pelt_linear_equals_ruptures_clinear(seed):
    rng = np.random.default_rng(300 + seed)
    n = int(rng.integers(6, 200))
    x = np.arange(n)
    if seed % 2:
        y = rng.integers(0, 4, n).astype(float)  # ties: equal costs must break alike
    else:
        y = np.where(x < n // 2, 0.0, (x - n // 2) * 0.5) + rng.normal(0, 1, n)
    ms, jump, pen = int(rng.integers(1, 6)), int(rng.integers(1, 6)), float(rng.uniform(0.5, 30))
    try:
        ref = ruptures_clinear(y, pen, ms, jump)
    except rpt.exceptions.BadSegmentationParameters:
        with pytest.raises(ValueError):
            pelt_linear(y, pen, min_size=ms, jump=jump)
        return
    assert pelt_linear(y, pen, min_size=ms, jump=jump) == ref


def test_pelt_linear_finds_onset_of_growth():
    rng = np.random.default_rng(3)
    y = np.r_[np.zeros(200), np.arange(100) * 0.5] + rng.normal(0, 1, 300)
    ends = pelt_linear(y, 50.0, min_size=5, jump=1)
    assert ends[-1] == 300 and any(abs(e - 200) <= 5 for e in ends[:-1])
    assert pelt_linear(y, 50.0) == ruptures_clinear(y, 50.0, 3, 5)


@pytest.mark.parametrize("call,match", [
    (lambda: pelt([[1.0, 2.0]], 1.0), "signal must be 1-D"),
    (lambda: pelt([], 1.0), "at least 1"),
    (lambda: pelt([1.0, np.nan, 2.0], 1.0), "finite"),
    (lambda: pelt([1.0, 2.0], -1.0), "penalty must be >= 0"),
    (lambda: pelt([1.0, 2.0], np.inf), "penalty must be finite"),
    (lambda: pelt([1.0, 2.0], 1.0, min_size=0), "min_size must be >= 1"),
    (lambda: pelt([1.0, 2.0], 1.0, jump=0), "jump must be >= 1"),
    (lambda: pelt([1.0, 2.0], 1.0, min_size=3), "fewer than min_size"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
