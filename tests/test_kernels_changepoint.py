"""pelt and pelt_linear against ruptures, the FPOP path against plain PELT and ruptures,
and both against a brute-force optimal partition on tiny inputs."""

import itertools
import warnings

import numpy as np
import pytest
import ruptures as rpt
from hypothesis import given, settings, strategies as st

import detector.kernels.changepoint as cp
from detector.kernels import pelt, pelt_linear
from detector.kernels.changepoint import _exact_l2, _pelt_fpop, pelt_plain


def ruptures_pelt(y, pen, min_size, jump, model="l2"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rpt.Pelt(model=model, min_size=min_size, jump=jump).fit(
            np.asarray(y, float)).predict(pen=pen)


def signal(rng, n, kind):
    """Piecewise-constant levels plus unit noise, in several flavours."""
    levels = np.repeat(rng.normal(0, 4, 6), n // 6 + 1)[:n]
    noise = rng.normal(0, 1, n)
    if kind == "ties":  # integer data: exact ties between partitions
        return rng.integers(0, 3, n).astype(float)
    if kind == "rounded":
        return np.round(levels + noise)
    if kind == "big":  # a 1e12 level (memory in bytes) with unit noise
        return 1e12 + levels + noise
    if kind == "step":  # a step 1e9 times the noise: costs cancel catastrophically
        return np.where(np.arange(n) < n // 2, 0.0, 1e9) + levels + noise
    if kind == "tiny":  # everything scaled by 1e-9 (penalty scaled alike by the caller)
        return (levels + noise) * 1e-9
    if kind == "negative":
        return -np.abs(levels) * 3 + noise
    return levels + noise


KINDS = ["pieces", "ties", "rounded", "big", "step", "tiny", "negative"]


def scaled_pen(kind, pen):
    return pen * 1e-18 if kind == "tiny" else pen


@pytest.fixture
def fpop_always(monkeypatch):
    """Send every jump=1 call of pelt through the FPOP path (and its fallback)."""
    monkeypatch.setattr(cp, "FPOP_MIN_SAMPLES", 0)


# ----------------------------------------------------------------------------- ruptures


@pytest.mark.parametrize("seed", range(42))
def test_equals_ruptures_on_random_inputs(seed):
    rng = np.random.default_rng(seed)
    kind = KINDS[seed % len(KINDS)]
    n = int(rng.integers(2, 200))
    min_size = int(rng.integers(1, 7))
    jump = int(rng.integers(1, 8))
    pen = scaled_pen(kind, float(rng.uniform(0, 30)))
    y = signal(rng, n, kind)
    if min_size > n:
        with pytest.raises(ValueError, match="signal"):
            pelt(y, pen, min_size=min_size, jump=jump)
        return
    assert pelt(y, pen, min_size=min_size, jump=jump) == ruptures_pelt(y, pen, min_size, jump)


@pytest.mark.parametrize("seed", range(56))
def test_fpop_path_equals_ruptures_and_plain_pelt(seed, fpop_always):
    rng = np.random.default_rng(1000 + seed)
    kind = KINDS[seed % len(KINDS)]
    n = int(rng.integers(2, 300))
    min_size = int(rng.integers(1, 6))
    jump = 1 if seed % 2 else int(rng.integers(2, 7))
    if min_size > n:
        return
    pen = scaled_pen(kind, float(rng.uniform(0, 30)))
    y = signal(rng, n, kind)
    ref = ruptures_pelt(y, pen, min_size, jump)
    assert pelt(y, pen, min_size=min_size, jump=jump) == ref
    assert pelt_plain(y, pen, min_size=min_size, jump=jump) == ref
    ends, ok = _pelt_fpop(y, pen, min_size=min_size, jump=jump)
    if ok:  # the functional-pruning answer itself, without the fallback
        assert ends == ref


@pytest.mark.parametrize("seed", range(12))
def test_fpop_with_an_excursion_shorter_than_min_size(seed, fpop_always):
    # every segment over the excursion costs ~1e18: ruptures' rounding then picks
    # among candidates, and pelt must still return what ruptures returns
    rng = np.random.default_rng(400 + seed)
    n = int(rng.integers(20, 150))
    ms = int(rng.integers(2, 6))
    y = signal(rng, n, "pieces")
    p0 = int(rng.integers(0, n - 2))
    y[p0:p0 + int(rng.integers(1, ms))] += 1e9
    pen = float(rng.uniform(0, 40))
    jump = [1, 3][seed % 2]
    assert pelt(y, pen, min_size=ms, jump=jump) == ruptures_pelt(y, pen, ms, jump)
    _, ok = _pelt_fpop(y, pen, min_size=ms, jump=jump)
    assert not ok  # the final path crosses the excursion: settled by plain PELT


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=50), st.floats(0, 10),
       st.integers(1, 4), st.integers(1, 5))
def test_hypothesis_integer_data(values, pen, min_size, jump):
    y = np.array(values, float)
    try:
        ref = ruptures_pelt(y, pen, min_size, jump)
    except rpt.exceptions.BadSegmentationParameters:
        with pytest.raises(ValueError, match="signal"):
            pelt(y, pen, min_size=min_size, jump=jump)
        return
    assert pelt(y, pen, min_size=min_size, jump=jump) == ref
    if jump == 1:
        ends, ok = _pelt_fpop(y, pen, min_size=min_size)
        assert not ok or ends == ref


@settings(max_examples=60, deadline=None)
# deviations below 1e-100 (whose squares are near or below the subnormal range, where
# ruptures' costs are rounding) are flushed to 0: pelt takes a signal within 1e-150 of
# its mean as constant, see test_subnormal_spread_is_constant. Likewise a positive penalty
# below 1e-9 (under the rounding of the costs of values up to 1e3: ruptures' cost of three
# equal values 341.63 is 9.7e-27, not 0, so it splits them for a penalty of 3.7e-114) is
# taken as 0, where every side splits alike (test_penalty_under_the_rounding_of_a_cost)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
                .map(lambda v: 0.0 if abs(v) < 1e-100 else v),
                min_size=1, max_size=60),
       st.floats(0, 1e4).map(lambda p: 0.0 if p < 1e-9 else p), st.integers(1, 4))
def test_hypothesis_real_data_fpop(values, pen, min_size):
    y = np.array(values, float)
    if min_size > y.size:
        return
    ref = ruptures_pelt(y, pen, min_size, 1)
    ends, ok = _pelt_fpop(y, pen, min_size=min_size)
    assert not ok or ends == ref
    assert pelt_plain(y, pen, min_size=min_size, jump=1) == ref


def test_penalty_under_the_rounding_of_a_cost():
    # hypothesis found it (twelfth session): three equal values, whose cost is 0 in exact
    # arithmetic, cost ruptures 9.7e-27 (its mean of them is not the value itself), so it
    # splits them for any penalty below that; ours sees a constant stretch. Above the
    # rounding they agree, and at 0 both split
    y = np.array([341.62940941980685] * 3)
    assert ruptures_pelt(y, 3.7e-114, 1, 1) == [1, 3]
    assert _pelt_fpop(y, 3.7e-114, min_size=1) == ([3], True)
    for pen in (1e-9, 1e-6, 1.0):
        assert ruptures_pelt(y, pen, 1, 1) == [3] == _pelt_fpop(y, pen, min_size=1)[0]
        assert pelt_plain(y, pen, min_size=1, jump=1) == [3]
    assert ruptures_pelt(y, 0.0, 1, 1) == [1, 3] == _pelt_fpop(y, 0.0, min_size=1)[0]


def test_subnormal_spread_is_constant():
    # hypothesis found it: squares of 1e-276 underflow to 0, so every cost ruptures
    # computes is 0 and the first candidate wins; FPOP's interval arithmetic split it
    y = [0.0, 3.365730264003897e-276, 0.0]
    assert ruptures_pelt(np.array(y), 0.0, 1, 1) == [3]
    assert pelt(y, 0.0, min_size=1, jump=1) == [3]
    assert pelt_plain(y, 0.0, min_size=1, jump=1) == [3]
    ends, ok = _pelt_fpop(y, 0.0, min_size=1)
    assert ok and ends == [3]


def test_fpop_keeps_its_speed_across_a_restart():
    # memory in bytes: 8 GB falling to 0.2 GB at a restart, 100 kB noise. With
    # min_size 2 the end just after the drop has a ~1e19 total (rounding decides
    # there) but it is not on the final path: no fallback to quadratic PELT
    rng = np.random.default_rng(9)
    n = 4000
    y = np.where(np.arange(n) < 2500, 8e9, 2e8) + np.linspace(0, 1e8, n) * (np.arange(n) < 2500)
    y = y + rng.normal(0, 1e5, n)
    pen = 3 * np.log(n) * 1e10
    for ms, jump in [(2, 1), (5, 1), (2, 5)]:
        ends, ok = _pelt_fpop(y, pen, min_size=ms, jump=jump)
        assert ok
        assert ends == pelt(y, pen, min_size=ms, jump=jump) == pelt_plain(
            y, pen, min_size=ms, jump=jump)
        assert 2500 in ends


def test_fpop_path_on_long_signals_equals_plain_pelt():
    # with more than FPOP_MIN_SAMPLES candidate ends pelt takes FPOP by itself
    for seed, kind in enumerate(["pieces", "big", "step", "rounded"]):
        rng = np.random.default_rng(50 + seed)
        n = 3000
        y = signal(rng, n, kind)
        pen = 3 * np.log(n)
        for ms, jump in [(1, 1), (2, 1), (5, 1), (2, 5)]:
            ends, ok = _pelt_fpop(y, pen, min_size=ms, jump=jump)
            assert ok  # realistic data: ruptures' pruning never loses the optimum
            assert ends == pelt(y, pen, min_size=ms, jump=jump) == pelt_plain(
                y, pen, min_size=ms, jump=jump)


def test_fpop_falls_back_where_ruptures_misses_the_optimum(fpop_always):
    # ruptures drops a candidate at some end s because its total exceeds the best at s
    # by more than pen, although s itself only becomes a usable split min_size samples
    # later; here that loses the optimum of [0, 8). FPOP notices, pelt follows ruptures.
    y = np.array([10.0, 30, 20, 20, 10, 30, 10, 10])
    pen = 11.435163917315647
    ref = ruptures_pelt(y, pen, 2, 1)
    _, ok = _pelt_fpop(y, pen, min_size=2)
    assert not ok
    assert pelt(y, pen, min_size=2, jump=1) == ref == [3, 6, 8]
    best, _ = brute_force(y, pen, 2)
    assert total(y, ref, pen) > best + 1  # ruptures' answer is not the optimum


def test_ruptures_arithmetic_is_emulated_bit_for_bit():
    # near ties are settled by ruptures' own cost: var of the slice * length, in numpy's
    # pairwise summation order; check it on slices above numpy's 128-value blocks
    rng = np.random.default_rng(5)
    y = 1e12 + rng.normal(0, 1, 20_000)
    cost = rpt.costs.CostL2().fit(y)
    buf = np.empty(y.size + 1)
    for a, b in [(0, 20_000), (3, 9_001), (128, 385), (17, 18), (5, 1_000)]:
        assert _exact_l2(y, buf, a, b) == cost.error(a, b)


# ---------------------------------------------------------------------------- optimality


def brute_force(y, pen, min_size):
    """Smallest penalised cost over every partition into segments >= min_size."""
    n = len(y)
    best, best_ends = np.inf, None
    for k in range(n):
        for cuts in itertools.combinations(range(min_size, n - min_size + 1), k):
            b = (0, *cuts, n)
            if any(e - s < min_size for s, e in zip(b, b[1:])):
                continue
            cost = total(y, list(b[1:]), pen)
            if cost < best - 1e-9:
                best, best_ends = cost, list(b[1:])
    return best, best_ends


def total(y, ends, pen):
    starts = [0, *ends[:-1]]
    return sum(np.sum((y[s:e] - y[s:e].mean()) ** 2) + pen for s, e in zip(starts, ends))


@pytest.mark.parametrize("seed", range(16))
def test_against_brute_force_optimum(seed):
    rng = np.random.default_rng(200 + seed)
    n = int(rng.integers(1, 12))
    y = signal(rng, n, ["pieces", "ties"][seed % 2])
    pen = float(rng.uniform(0, 5))
    ms = int(rng.integers(1, 4))
    if ms > n:
        return
    best, _ = brute_force(y, pen, ms)
    ends, ok = _pelt_fpop(y, pen, min_size=ms)
    if ok:  # FPOP is the exact optimum
        assert total(y, ends, pen) == pytest.approx(best, abs=1e-9)
    got = pelt(y, pen, min_size=ms, jump=1)
    if ms == 1:  # with min_size 1 ruptures' pruning (and so ours) is exact
        assert total(y, got, pen) == pytest.approx(best, abs=1e-9)
    else:  # never better than the optimum
        assert total(y, got, pen) >= best - 1e-9


# ----------------------------------------------------------------------------- edge cases


@pytest.mark.parametrize("jump", [1, 5])
def test_edge_cases(jump, fpop_always):
    assert pelt([5.0], 1.0, min_size=1, jump=jump) == [1]
    assert pelt([5.0, 7.0], 0.0, min_size=1, jump=jump) == ruptures_pelt([5.0, 7.0], 0.0, 1, jump)
    assert pelt([5.0, 7.0], 1.0, min_size=2, jump=jump) == [2]
    y = signal(np.random.default_rng(1), 100, "pieces")
    assert pelt(y, 1e12, jump=jump) == [100]  # a huge penalty: one segment
    assert pelt(y, 0.0, jump=jump) == ruptures_pelt(y, 0.0, 2, jump)
    # fewer than 2 * min_size samples: no split is possible
    assert pelt(y[:7], 0.0, min_size=4, jump=jump) == [7] == ruptures_pelt(y[:7], 0.0, 4, jump)
    # jump longer than the signal
    assert pelt(y[:9], 0.0, min_size=2, jump=20) == ruptures_pelt(y[:9], 0.0, 2, 20)


@pytest.mark.parametrize("value", [0.0, 0.1, -3.7, 1e12])
@pytest.mark.parametrize("pen", [0.0, 1.0])
def test_constant_input(value, pen, fpop_always):
    y = np.full(40, value)
    for jump in (1, 3):
        assert pelt(y, pen, min_size=2, jump=jump) == ruptures_pelt(y, pen, 2, jump)
    assert pelt(y, 1.0, min_size=2, jump=1) == [40]


def test_integer_and_bool_input():
    y = [0, 0, 0, 5, 5, 5, 5, 0, 0, 0]
    assert pelt(y, 1.0, jump=1) == ruptures_pelt(y, 1.0, 2, 1) == [3, 7, 10]
    assert pelt(np.array(y) > 0, 0.1, jump=1) == [3, 7, 10]


def test_large_levels_are_accurate():
    # memory in bytes: level 1e12, steps of a few units, unit noise; and a 1e9 step.
    # ruptures computes var per slice (two passes) and gets these right; so must we
    rng = np.random.default_rng(3)
    y = 1e12 + np.repeat([0.0, 6, 0, 9], 100) + rng.normal(0, 1, 400)
    assert pelt(y, 3 * np.log(400), jump=1) == ruptures_pelt(y, 3 * np.log(400), 2, 1) == [
        100, 200, 300, 400]
    z = np.r_[np.zeros(150), np.full(150, 1e9)] + rng.normal(0, 1, 300)
    z[50:60] += 4
    assert pelt(z, 3 * np.log(300), jump=1) == ruptures_pelt(z, 3 * np.log(300), 2, 1) == [
        50, 60, 150, 300]


def test_finds_the_changes_of_a_long_signal():
    rng = np.random.default_rng(7)
    levels = rng.normal(0, 5, 11)
    y = np.repeat(levels, 20_000) + rng.normal(0, 1, 220_000)
    got = pelt(y, 3 * np.log(y.size), min_size=2, jump=1)
    expected = list(range(20_000, 220_001, 20_000))
    assert len(got) == len(expected)
    assert all(abs(a - b) <= 5 for a, b in zip(got, expected))


# ---------------------------------------------------------------------------- pelt_linear


@pytest.mark.parametrize("seed", range(24))
def test_pelt_linear_equals_ruptures_clinear(seed):
    rng = np.random.default_rng(300 + seed)
    n = int(rng.integers(1, 200))
    x = np.arange(n)
    if seed % 3 == 0:
        y = rng.integers(0, 4, n).astype(float)  # ties: equal costs must break alike
    elif seed % 3 == 1:
        y = np.where(x < n // 2, 0.0, (x - n // 2) * 0.5) + rng.normal(0, 1, n)
    else:
        y = 1e9 + np.cumsum(rng.normal(0, 1, n)) - 50.0 * (x > n // 3)
    ms, jump, pen = int(rng.integers(1, 6)), int(rng.integers(1, 6)), float(rng.uniform(0, 30))
    try:
        ref = ruptures_pelt(y, pen, ms, jump, "clinear")
    except rpt.exceptions.BadSegmentationParameters:
        with pytest.raises(ValueError, match="signal"):
            pelt_linear(y, pen, min_size=ms, jump=jump)
        return
    assert pelt_linear(y, pen, min_size=ms, jump=jump) == ref


def test_pelt_linear_long_slice_costs_follow_numpy_order():
    # segments of several thousand samples: pairwise summation with numpy's blocking
    rng = np.random.default_rng(11)
    n = 3000
    x = np.arange(n)
    y = np.where(x < 1700, 0.0, (x - 1700) * 0.01) + rng.normal(0, 0.05, n)
    pen = 1e3
    assert pelt_linear(y, pen, min_size=3, jump=50) == ruptures_pelt(y, pen, 3, 50, "clinear")


def test_pelt_linear_finds_onset_of_growth():
    rng = np.random.default_rng(3)
    y = np.r_[np.zeros(200), np.arange(100) * 0.5] + rng.normal(0, 1, 300)
    ends = pelt_linear(y, 50.0, min_size=5, jump=1)
    assert ends[-1] == 300 and any(abs(e - 200) <= 5 for e in ends[:-1])
    assert pelt_linear(y, 50.0) == ruptures_pelt(y, 50.0, 3, 5, "clinear")


# ---------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("fn", [pelt, pelt_linear])
@pytest.mark.parametrize("call,match", [
    (lambda f: f([[1.0, 2.0, 3.0]], 1.0), "signal must be 1-D"),
    (lambda f: f([], 1.0), "signal must hold at least 1"),
    (lambda f: f(["a", "b", "c"], 1.0), "signal must be a 1-D array of numbers"),
    (lambda f: f([1.0, 2.0, 3.0], -1.0), "penalty must be >= 0"),
    (lambda f: f([1.0, 2.0, 3.0], np.inf), "penalty must be finite"),
    (lambda f: f([1.0, 2.0, 3.0], np.nan), "penalty must be finite"),
    (lambda f: f([1.0, 2.0, 3.0], "1"), "penalty must be a real number"),
    (lambda f: f([1.0, 2.0, 3.0], 1.0, min_size=0), "min_size must be >= 1"),
    (lambda f: f([1.0, 2.0, 3.0], 1.0, min_size=2.5), "min_size must be an integer"),
    (lambda f: f([1.0, 2.0, 3.0], 1.0, jump=0), "jump must be >= 1"),
    (lambda f: f([1.0, 2.0, 3.0], 1.0, jump=True), "jump must be an integer"),
    (lambda f: f([1.0, 2.0, 3.0], 1.0, min_size=4), "signal has 3 samples, fewer than min_size=4"),
    (lambda f: f([0.0, 1e200, 2.0], 1.0), "signal values must lie within"),
])
def test_bad_arguments(fn, call, match):
    with pytest.raises(ValueError, match=match):
        call(fn)


@pytest.mark.parametrize("fn", [pelt, pelt_linear])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("pos", [0, 17, 39])
def test_non_finite_signal_is_rejected(fn, bad, pos):
    y = np.arange(40, dtype=float)
    y[pos] = bad
    with pytest.raises(ValueError, match="signal must be finite"):
        fn(y, 1.0, jump=1)
