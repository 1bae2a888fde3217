"""Trend kernels against pymannkendall, scipy and statsmodels on random inputs."""

import math
import warnings

import numpy as np
import pymannkendall as pmk
import pytest
import statsmodels.api as sm
from hypothesis import given, settings, strategies as st
from scipy import stats

from detector.kernels import hamed_rao_factor, mann_kendall, ols, theil_sen, theil_sen_interval

FIELDS = ("s", "var_s", "z", "p", "tau", "slope", "intercept")


def close(a, b, rtol=1e-9, atol=1e-12):
    if (a is None or (isinstance(a, float) and math.isnan(a))) and \
            (b is None or (isinstance(b, float) and math.isnan(b))):
        return True
    return abs(a - b) <= atol + rtol * abs(b)


def check_mk(x, correction=None, lag=None):
    x = np.asarray(x, float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = (pmk.original_test(x) if correction is None
               else pmk.hamed_rao_modification_test(x, lag=lag))
        got = mann_kendall(x, correction=correction, lag=lag)
    for f in FIELDS:
        r = getattr(ref, "Tau" if f == "tau" else f)
        assert close(float(getattr(got, f)), float(r)), (f, getattr(got, f), r)
    assert got.trend == ref.trend and got.h == bool(ref.h)


def data(seed, n, kind):
    rng = np.random.default_rng(seed)
    if kind == "ties":
        return rng.integers(0, 4, n).astype(float)
    if kind == "trend":
        return np.arange(n) * 0.01 + rng.normal(0, 1, n)
    if kind == "big":
        return 1e12 + rng.normal(0, 1, n).round(3)
    if kind == "negative":
        return -rng.random(n) * 1e3
    return rng.normal(0, 1, n).cumsum()


KINDS = ["ties", "trend", "big", "negative", "walk"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [2, 3, 4, 17, 200, 2500])
def test_mann_kendall_original(kind, n):
    check_mk(data(n, n, kind))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [3, 5, 40, 300, 1500])
def test_mann_kendall_hamed_rao(kind, n):
    check_mk(data(n + 1, n, kind), correction="hamed_rao")


@pytest.mark.parametrize("lag", [1, 3, 10])
def test_hamed_rao_lag(lag):
    check_mk(data(7, 400, "walk"), correction="hamed_rao", lag=lag)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [3, 5, 40, 300, 1500])
def test_hamed_rao_factor(kind, n):
    # the plain variance times the factor is the corrected variance: pymannkendall's
    # (1e-9), and to the last bit the one mann_kendall(correction="hamed_rao") gives
    x = data(n + 2, n, kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pmk.hamed_rao_modification_test(x)
        plain = mann_kendall(x).var_s
        factor = hamed_rao_factor(x)
        corrected = mann_kendall(x, correction="hamed_rao").var_s
    assert close(plain * factor, float(ref.var_s))
    assert plain * factor == corrected or (math.isnan(corrected) and math.isnan(factor))


def test_hamed_rao_factor_constant_and_tiny():
    assert math.isnan(hamed_rao_factor(np.full(30, 2.5)))  # as the peer: no ranks to correlate
    with pytest.raises(ValueError, match="at least 3"):
        hamed_rao_factor(np.array([1.0, 2.0]))


def test_nan_is_dropped_like_pymannkendall():
    x = data(3, 300, "trend")
    x[[0, 5, 6, 100, 299]] = np.nan
    check_mk(x)
    check_mk(x, correction="hamed_rao")


def test_constant_input():
    check_mk(np.full(50, 3.0))
    assert mann_kendall(np.full(50, 3.0)).s == 0


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=3, max_size=60))
def test_mann_kendall_hypothesis_ties(values):
    check_mk(values)
    check_mk(values, correction="hamed_rao")


def check_ts(y, x=None):
    y = np.asarray(y, float)
    xx = None if x is None else np.asarray(x, float)
    got = theil_sen(y, xx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = stats.theilslopes(y, xx)
    assert close(got[0], float(ref[0]), rtol=0, atol=0), (got, ref[:2])  # the same float
    assert close(got[1], float(ref[1]), rtol=1e-12, atol=1e-12), (got, ref[:2])


@pytest.mark.parametrize("seed", range(8))
def test_theil_sen_random_with_x_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 3000))
    y = rng.normal(0, 1, n) + 0.01 * np.arange(n)
    x = rng.integers(0, max(2, n // 3), n).astype(float)
    check_ts(y, x)


@pytest.mark.parametrize("kind", KINDS)
def test_theil_sen_shapes_large_enough_for_the_selection_path(kind):
    y = data(11, 3000, kind)  # 4.5 M pairs: the band-narrowing path, not the small path
    check_ts(y)
    check_ts(y, np.sort(np.random.default_rng(2).uniform(0, 1e6, 3000)))


def test_theil_sen_integer_data_many_equal_slopes():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 3000).astype(float)
    check_ts(y)
    check_ts(y, rng.integers(0, 50, 3000).astype(float))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 8), st.integers(-5, 5)), min_size=2, max_size=50))
def test_theil_sen_hypothesis(pairs):
    x = [p[0] for p in pairs]
    y = [p[1] for p in pairs]
    if len(set(x)) < 2:
        assert math.isnan(theil_sen(y, x)[0])
        return
    check_ts(y, x)


def test_theil_sen_nan_pairs_are_left_out():
    rng = np.random.default_rng(9)
    y = rng.normal(size=500)
    x = np.arange(500.0)
    y[[3, 50, 400]] = np.nan
    x[[10, 11]] = np.nan
    ok = ~np.isnan(y) & ~np.isnan(x)
    assert theil_sen(y, x) == pytest.approx(tuple(stats.theilslopes(y[ok], x[ok])[:2]),
                                            rel=0, abs=0)


def test_theil_sen_tiny():
    assert all(math.isnan(v) for v in theil_sen([1.0]))
    assert all(math.isnan(v) for v in theil_sen([]))
    check_ts([1.0, 3.0])
    check_ts([5.0, 5.0, 5.0])


def check_ols(y, x, lags):
    got = ols(y, x, hac_lags=lags)
    X = sm.add_constant(np.asarray(x, float))
    fit = sm.OLS(np.asarray(y, float), X, missing="drop").fit()
    hac = sm.OLS(np.asarray(y, float), X, missing="drop").fit(cov_type="HAC",
                                                             cov_kwds={"maxlags": lags})
    assert close(got.intercept, fit.params[0], atol=1e-9)
    assert close(got.slope, fit.params[1])
    assert close(got.r2, fit.rsquared, rtol=1e-8)
    assert close(got.stderr, fit.bse[1], rtol=1e-8)
    assert close(got.hac_stderr, hac.bse[1], rtol=1e-8)


@pytest.mark.parametrize("seed", range(6))
def test_ols_random(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 5000))
    x = np.sort(rng.uniform(0, 1e5, n))
    y = 3e8 + 1e3 * x + rng.normal(0, 1e6, n).cumsum()
    check_ols(y, x, int(rng.integers(0, 20)))


def test_ols_nan_dropped_and_default_lags():
    rng = np.random.default_rng(1)
    y = rng.normal(size=1000).cumsum()
    x = np.arange(1000.0)
    y[[5, 500]] = np.nan
    got = ols(y, x)
    assert got.hac_lags == math.floor(4 * (998 / 100) ** (2 / 9)) and got.n == 998
    check_ols(y, x, got.hac_lags)


@pytest.mark.parametrize("call,match", [
    (lambda: mann_kendall([[1.0, 2.0]]), "x must be 1-D"),
    (lambda: mann_kendall([1.0, 2.0], correction="yue"), "correction"),
    (lambda: mann_kendall([1.0, 2.0, 3.0], alpha=1.5), "alpha"),
    (lambda: mann_kendall([1.0, 2.0], correction="hamed_rao"), "at least 3"),
    (lambda: mann_kendall([1.0, np.inf, 2.0]), "inf"),
    (lambda: theil_sen([1.0, 2.0], [1.0]), "differ in length"),
    (lambda: theil_sen_interval([1.0, np.inf, 3.0, np.inf]), "inf"),
    (lambda: theil_sen(["a", "b"]), "numbers"),
    (lambda: ols([1.0, 2.0]), "at least 3"),
    (lambda: ols([1.0, 2.0, 3.0], [1.0, 1.0, 1.0]), "x must vary"),
    (lambda: ols([1.0, 2.0, 3.0], hac_lags=-1), "hac_lags"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("seed", range(6))
def test_theil_sen_interval_equals_scipy(seed):
    from detector.kernels import theil_sen_interval

    rng = np.random.default_rng(seed)
    # n from 2 to 400; every third seed at least 224 (25,000 pairs and more: the order
    # statistics by bracketed partition)
    n = int(rng.integers(224, 401)) if seed % 3 == 1 else int(rng.integers(2, 400))
    y = rng.integers(0, 6, n).astype(float) if seed % 2 else rng.normal(0, 1, n).cumsum()
    x = rng.integers(0, n, n).astype(float) if seed % 3 == 0 else np.arange(n, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = stats.theilslopes(y, x)
    got = theil_sen_interval(y, x)
    for g, r in zip(got, (ref.slope, ref.intercept, ref.low_slope, ref.high_slope)):
        assert close(g, float(r), rtol=1e-12, atol=1e-12), (got, ref)


# ---------------------------------------------------------------- edge cases and crowded slopes


def test_mann_kendall_tiny_and_constant_semantics():
    # pymannkendall divides by zero below 2 samples; we return a defined "no trend"
    for x in ([], [1.0], [np.nan, 2.0, np.nan]):
        r = mann_kendall(x)
        assert (r.s, r.var_s, r.z, r.p, r.h, r.trend) == (0, 0.0, 0.0, 1.0, False, "no trend")
        assert math.isnan(r.tau)
    check_mk([1.0, 2.0])
    check_mk([2.0, 1.0])
    check_mk(np.full(40, -7.5), correction="hamed_rao")  # var_s NaN, as pymannkendall
    assert math.isnan(mann_kendall(np.full(40, -7.5), correction="hamed_rao").var_s)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(math.nan)),
                min_size=0, max_size=120))
def test_mann_kendall_hypothesis_floats_with_nan(values):
    x = np.asarray(values, float)
    if np.count_nonzero(~np.isnan(x)) >= 2:
        check_mk(x)
    if np.count_nonzero(~np.isnan(x)) >= 3:
        check_mk(x, correction="hamed_rao")


def test_inf_is_rejected_everywhere():
    for fn in (mann_kendall, theil_sen, ols):
        with pytest.raises(ValueError, match="inf"):
            fn([1.0, 2.0, -np.inf, 4.0])
    with pytest.raises(ValueError, match="inf"):
        theil_sen([1.0, 2.0, 3.0], [0.0, np.inf, 1.0])


def crowded(kind, n, rng):
    i = np.arange(n)
    if kind == "flat_steps":  # slope 0 shared by most pairs
        return np.repeat(rng.integers(0, 5, n // 100 + 1), 100)[:n] * 4096.0 + 1e9
    if kind == "ramp":  # every slope exactly 4096
        return 1e9 + 4096.0 * i
    if kind == "stair":  # 4096/3 shared by a third of the pairs
        return 4096.0 * (i // 3) + 1e9
    if kind == "mostly_flat":
        return np.where(rng.random(n) < 0.05, rng.normal(0, 1, n), 0.0) + 5.0
    if kind == "dyadic":
        return rng.integers(0, 4, n) * 0.25 + 0.5 * (i // 50)
    return 1e3 + 0.1 * i  # decimal ramp: slopes spread over a few ulps


@pytest.mark.parametrize("kind", ["flat_steps", "ramp", "stair", "mostly_flat", "dyadic",
                                  "decimal_ramp"])
def test_theil_sen_crowded_slopes_equal_scipy(kind):
    rng = np.random.default_rng(4)
    y = crowded(kind, 2500, rng)
    check_ts(y)
    check_ts(y, rng.integers(0, 600, 2500).astype(float))  # ties in x too
    check_ts(y, 1.7e9 + 15.0 * np.arange(2500))  # unix seconds


def test_theil_sen_crowded_slopes_at_scale():
    # 200k samples: 2e10 pairs, most sharing one slope; the O(n^2) reference cannot run,
    # the answer is known exactly
    n = 200_000
    i = np.arange(n, dtype=float)
    assert theil_sen(1e9 + 4096.0 * i) == (4096.0, 1e9)
    flat = np.full(n, 3.0)
    flat[n // 2:] = 4.0
    flat[::1000] = 100.0
    assert theil_sen(flat)[0] == 0.0
    assert theil_sen(flat, 1.7e9 + 15.0 * i)[0] == 0.0


@settings(max_examples=40, deadline=None)
@given(st.integers(91, 700), st.integers(0, 2**32 - 1), st.sampled_from(
    ["normal", "ints", "big", "xties", "nan"]))
def test_theil_sen_hypothesis_selection_path(n, seed, kind):
    # every path of the median slope: all pairs listed and partitioned (below 25,000
    # pairs), listed and partitioned inside a sampled bracket (n >= 224), and, above
    # trend.ALL_PAIRS_MAX (80,000 pairs, n >= 401), the slope-selection path
    rng = np.random.default_rng(seed)
    x = np.arange(n, dtype=float)
    y = rng.normal(0, 1, n).cumsum()
    if kind == "ints":
        y = rng.integers(-3, 4, n).astype(float)
    elif kind == "big":
        y = 1e12 + rng.normal(0, 1e-2, n)
    elif kind == "xties":
        x = rng.integers(0, n // 3, n).astype(float)
    elif kind == "nan":
        y[rng.integers(0, n, 5)] = np.nan
        x[rng.integers(0, n, 3)] = np.nan
        ok = ~np.isnan(x) & ~np.isnan(y)
        got = theil_sen(y, x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = stats.theilslopes(y[ok], x[ok])
        assert got[0] == ref[0] and close(got[1], float(ref[1]), rtol=1e-12)
        return
    check_ts(y, x)


def test_theil_sen_negative_and_large_levels():
    rng = np.random.default_rng(8)
    check_ts(-1e12 - np.arange(3000) * 0.5 + rng.normal(0, 1, 3000))
    check_ts(-rng.random(3000) * 1e3, -np.arange(3000.0)[::-1])


def test_ols_nan_in_x_and_large_levels():
    from fractions import Fraction

    rng = np.random.default_rng(3)
    x = np.arange(2000.0)
    y = 1e12 + 3.0 * x + rng.normal(0, 10, 2000)
    x[[7, 8, 1500]] = np.nan
    y[[100]] = np.nan
    got = ols(y, x)
    assert got.n == 1996
    ok = ~np.isnan(x) & ~np.isnan(y)
    # at a level of 1e12 statsmodels' pinv loses ~1e-7 of the slope; the same fit on
    # y - 1e12 is well conditioned, and the exact rational slope settles it
    shifted = ols(y - 1e12, x, hac_lags=5)
    check_ols(y - 1e12, x, 5)
    xs, ys = [Fraction(v) for v in x[ok]], [Fraction(v) for v in y[ok]]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    exact = sum((a - mx) * (b - my) for a, b in zip(xs, ys)) / sum((a - mx) ** 2 for a in xs)
    assert close(got.slope, float(exact), rtol=1e-12)
    assert close(got.slope, shifted.slope, rtol=1e-9)
    assert close(got.intercept, shifted.intercept + 1e12, rtol=1e-14)
    assert close(got.stderr, shifted.stderr, rtol=1e-6)  # residuals at 1e12 carry 1e-4 rounding
    check_ols(-(y[ok] - 1e12) - 5e3, np.arange(1996.0), 0)  # negative values


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=80),
       st.integers(0, 6))
def test_ols_hypothesis(values, lags):
    y = np.asarray(values)
    x = np.arange(y.shape[0], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.OLS(y, sm.add_constant(x)).fit()
        hac = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    got = ols(y, x, hac_lags=lags)
    scale = max(1.0, float(np.abs(y).max()))
    assert abs(got.slope - fit.params[1]) <= 1e-9 * scale
    assert abs(got.intercept - fit.params[0]) <= 1e-9 * scale * y.shape[0]
    # an exact fit leaves residuals of rounding size: errors are then ~1e-16 * scale
    assert abs(got.stderr - fit.bse[1]) <= 1e-8 * fit.bse[1] + 1e-12 * scale
    assert abs(got.hac_stderr - hac.bse[1]) <= 1e-8 * hac.bse[1] + 1e-12 * scale


@pytest.mark.parametrize("call,match", [
    (lambda: theil_sen([[1.0, 2.0]]), "y must be 1-D"),
    (lambda: theil_sen([1.0, 2.0], [[1.0, 2.0]]), "x must be 1-D"),
    (lambda: ols([1.0, 2.0, 3.0], [1.0, 2.0]), "differ in length"),
    (lambda: ols([1.0, 2.0, 3.0], hac_lags=1.5), "hac_lags"),
    (lambda: mann_kendall([1.0, 2.0, 3.0], lag=0, correction="hamed_rao"), "lag"),
    (lambda: mann_kendall([1.0, 2.0, 3.0], alpha="x"), "alpha"),
    (lambda: mann_kendall(np.zeros((2, 2))), "x must be 1-D"),
])
def test_bad_arguments_more(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("n", [0, 1, 2, 15, 16, 17, 31, 32, 33, 100, 1000])
def test_count_inversions_against_brute_force(n):
    """The inversion count behind mann_kendall's S and theil_sen's trial counts: runs of 16
    sorted by insertion, then merge passes (run borders, partial runs, ties)."""
    from detector.kernels.trend import _count_inversions

    rng = np.random.default_rng(n)
    for a in (rng.normal(size=n), rng.integers(0, 3, n).astype(float), np.arange(n)[::-1] * 1.0,
              np.arange(n) * 1.0):
        i, j = np.triu_indices(n, 1)
        assert _count_inversions(np.ascontiguousarray(a)) == int(np.sum(a[i] > a[j]))


@pytest.mark.parametrize("n", [1440, 20000])
def test_theil_sen_smoothed_ramp_slopes_crowded_at_one_end(n):
    """An exponentially smoothed straight line: most pair slopes sit within rounding of one
    value at the top of the first band, so interpolating on the counts misses; the selection
    must fall back to the sampled slopes (found through the Mann-Kendall/Sen baseline)."""
    from scipy.signal import lfilter

    y = 5e8 + np.arange(n) * (1e6 / 60)
    v, _ = lfilter([0.2], [1.0, -0.8], y, zi=[0.8 * y[0]])
    got = theil_sen(v)
    if n <= 2000:
        ref = stats.theilslopes(v)
        assert got[0] == ref[0] and got[1] == pytest.approx(ref[1], rel=1e-12)
    else:
        assert got[0] == pytest.approx(1e6 / 60, rel=1e-9)


# -- the numpy helpers that replaced small kernels (a cold cache compiles less): each against
#    a naive loop written here

def _naive_differences_exact(v):
    kmax, vmax = None, 0.0
    for t in v:
        if t == 0.0:
            continue
        a = abs(t)
        vmax = max(vmax, a)
        m, e = math.frexp(a)
        mant = int(m * 2.0 ** 53)
        tz = (mant & -mant).bit_length() - 1
        k = 53 - e - tz
        kmax = k if kmax is None else max(kmax, k)
    if vmax == 0.0:
        return True
    from fractions import Fraction
    return vmax <= 2.0 ** 200 and Fraction(vmax) * Fraction(2) ** kmax <= 2 ** 52


@pytest.mark.parametrize("v", [
    [], [0.0, -0.0], [1.0, 2.0, 3.0], [0.5, 0.25, 1e6], [0.1, 0.2], [2.0 ** 52, 1.0],
    [2.0 ** 53, 1.0], [2.0 ** 52 + 2.0, 0.5], [2.0 ** 200], [2.0 ** 201], [1e-300, 1.0],
    [5e-324], [-3.0, 7.5, -0.125], [2.0 ** 52 - 1.0, 0.5], [4503599627370496.5],
])
def test_differences_exact_against_naive_loop(v):
    from detector.kernels.trend import _differences_exact

    v = np.asarray(v, dtype=float)
    assert _differences_exact(v) == _naive_differences_exact(v.tolist())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(-2 ** 60, 2 ** 60).map(float),
                          st.floats(allow_nan=False, allow_infinity=False),
                          st.sampled_from([0.5, 0.25, 3.0, 1e15, 1e-20])), max_size=20))
def test_differences_exact_hypothesis(values):
    from detector.kernels.trend import _differences_exact

    v = np.asarray(values, dtype=float)
    assert _differences_exact(v) == _naive_differences_exact(values)


def test_pair_slope_sample_against_naive_loop():
    from detector.kernels.trend import _pair_slope_sample

    rng = np.random.default_rng(5)
    xs = np.sort(rng.integers(0, 30, 60)).astype(float)  # ties in x
    ys = rng.normal(size=60)
    i, j = rng.integers(0, 60, 500), rng.integers(0, 60, 500)
    want = []
    for a, b in zip(i.tolist(), j.tolist()):
        if xs[a] == xs[b]:
            continue
        a, b = min(a, b), max(a, b)
        want.append((ys[b] - ys[a]) / (xs[b] - xs[a]))
    got = _pair_slope_sample(ys, xs, i, j)
    assert got.tolist() == want


@pytest.mark.parametrize("kind", ["normal", "ties", "constant", "signed zeros"])
def test_average_ranks_equal_scipy_rankdata(kind):
    from detector.kernels.trend import _average_ranks

    rng = np.random.default_rng(1)
    a = {"normal": rng.normal(size=101), "ties": rng.integers(0, 5, 101).astype(float),
         "constant": np.full(7, 3.0), "signed zeros": np.array([0.0, -0.0, 1.0, -0.0, -1.0])}[kind]
    assert _average_ranks(a).tolist() == stats.rankdata(a).tolist()


@pytest.mark.parametrize("seed", range(4))
def test_pairs_between_lists_the_band(seed):
    """The slopes in [lo, hi) listed by the merge sort (numpy's stable order in, pairs out)
    against all pairs, with ties in x and a cap below the count."""
    from detector.kernels.trend import _pairs_between

    rng = np.random.default_rng(seed)
    n = 80
    x = np.sort(rng.integers(0, 40, n)).astype(float)
    y = rng.normal(size=n)
    order = np.lexsort((y, x))
    x, y = x[order], y[order]
    i, j = np.triu_indices(n, 1)
    keep = x[i] < x[j]
    slopes = (y[j] - y[i])[keep] / (x[j] - x[i])[keep]
    srt = np.sort(slopes)
    a, b = int(0.3 * srt.size), int(0.6 * srt.size)
    lo, hi = (srt[a - 1] + srt[a]) / 2, (srt[b - 1] + srt[b]) / 2  # ends far from any slope
    want = srt[a:b]
    got, count = _pairs_between(y - np.median(y), x - np.median(x), y, x, lo, hi, 10 ** 6)
    assert count == want.size and np.sort(got).tolist() == want.tolist()
    got, count = _pairs_between(y - np.median(y), x - np.median(x), y, x, lo, hi, 5)
    assert count == want.size and got.size == 5 and set(got.tolist()) <= set(want.tolist())
