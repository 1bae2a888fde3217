"""Rolling kernels against pandas, and against an exact-enough naive loop where pandas loses
precision (large levels with small noise)."""

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from detector.kernels import rolling_max, rolling_mean_std, rolling_min


def naive_mean_std(x, w):
    """Per window: deviations from the window's first value (exact for nearby values,
    Sterbenz), then a two-pass mean and std of those with math.fsum. NaN/inf -> NaN."""
    x = np.asarray(x, float)
    n = len(x)
    mean = np.full(n, np.nan)
    std = np.full(n, np.nan)
    for i in range(w - 1, n):
        win = x[i - w + 1:i + 1]
        if np.isfinite(win).all():
            d = win - win[0]
            md = math.fsum(d) / w
            mean[i] = win[0] + md
            std[i] = math.sqrt(math.fsum((d - md) ** 2) / (w - 1))
    return mean, std


def exact_std(win):
    fs = [Fraction(v) for v in win]
    mu = sum(fs) / len(fs)
    return math.sqrt(float(sum((v - mu) ** 2 for v in fs) / (len(fs) - 1)))


def close(a, b, rtol=1e-9, atol=1e-9):
    return (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= atol + rtol * np.abs(b))


def check_pandas(x, w):
    """Equal to pandas within 1e-9, except where pandas' own running sums have drifted
    (a large value that left the window leaves a residue in its Welford sums, e.g.
    [5018, 0, -1, 0] with w=3 gives std 0.57735027080 instead of sqrt(1/3)): there,
    and everywhere, ours must equal the naive per-window loop within 1e-9."""
    x = np.asarray(x, float)
    m, s = rolling_mean_std(x, w)
    r = pd.Series(x).rolling(w)
    pm, ps = r.mean().to_numpy(), r.std().to_numpy()
    nm, ns = naive_mean_std(x, w)
    np.testing.assert_array_equal(np.isnan(m), np.isnan(pm))
    np.testing.assert_array_equal(np.isnan(s), np.isnan(ps))
    for ours, ref, naive in ((m, pm, nm), (s, ps, ns)):
        assert close(ours, naive).all(), np.flatnonzero(~close(ours, naive))
        trusted = close(ref, naive)
        np.testing.assert_allclose(ours[trusted], ref[trusted], rtol=1e-9, atol=1e-9)
    for got, ref in ((rolling_min(x, w), r.min()), (rolling_max(x, w), r.max())):
        np.testing.assert_array_equal(got, ref.to_numpy())
    return (~close(ps, ns)).sum()


def check_naive(x, w, rtol=1e-9):
    m, s = rolling_mean_std(x, w)
    rm, rs = naive_mean_std(x, w)
    np.testing.assert_array_equal(np.isnan(m), np.isnan(rm))
    finite = np.asarray(x, float)[np.isfinite(x)]
    scale = float(np.abs(finite).max()) if finite.size else 1.0
    # near-zero means of large values: absolute error at the scale of the values
    np.testing.assert_allclose(m, rm, rtol=1e-13, atol=1e-14 * scale, equal_nan=True)
    np.testing.assert_allclose(s, rs, rtol=rtol, atol=1e-300, equal_nan=True)


@pytest.mark.parametrize("seed", range(8))
def test_random_with_nan_and_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 3000))
    x = rng.integers(-3, 4, n).astype(float) if seed % 2 else rng.normal(0, 10, n)
    x[rng.random(n) < 0.02] = np.nan
    if n > 10:
        x[:3] = np.nan
        x[-2:] = np.nan
    w = int(rng.integers(2, 60))
    assert check_pandas(x, w) == 0  # well-scaled data: pandas is exact enough everywhere
    check_naive(x, w)


@pytest.mark.parametrize("n,w", [(0, 2), (1, 2), (2, 2), (2, 3), (3, 5), (5, 5), (6, 5)])
def test_tiny_and_short(n, w):
    x = np.arange(n, dtype=float) * 1.5 - 2
    check_pandas(x, w)
    m, s = rolling_mean_std(x, w)
    assert m.shape == s.shape == (n,) and m.dtype == np.float64
    assert np.isnan(m[:w - 1]).all() and np.isfinite(m[w - 1:]).all()


def test_window_larger_than_input_and_window_one_for_extremes():
    x = np.array([3.0, 1.0, 2.0])
    assert np.isnan(rolling_mean_std(x, 10)[0]).all()
    assert np.isnan(rolling_min(x, 10)).all()
    np.testing.assert_array_equal(rolling_min(x, 1), x)
    np.testing.assert_array_equal(rolling_max(x, 1), x)
    np.testing.assert_array_equal(rolling_min(np.array([np.nan, 1.0]), 1), [np.nan, 1.0])


def test_constant_windows_give_exact_zero():
    x = np.r_[np.arange(10.0), np.full(50, 7.25), np.arange(10.0)]
    m, s = rolling_mean_std(x, 8)
    assert (s[17:60] == 0).all() and (m[17:60] == 7.25).all()
    check_pandas(x, 8)
    # a constant stretch at a large level, and one cut by NaN
    y = np.full(40, 1e12 + 0.5)
    y[20] = np.nan
    m, s = rolling_mean_std(y, 5)
    assert (s[4:20] == 0).all() and (m[4:20] == 1e12 + 0.5).all()
    assert np.isnan(s[20:25]).all() and (s[25:] == 0).all()
    check_pandas(y, 5)


@pytest.mark.parametrize("seed", range(4))
def test_lean_kernel_hands_over_mid_series(seed):
    """The all-finite kernel stops at the first block holding a NaN; the general kernel
    resumes there with the run of equal values that began before it (a window that
    turns constant after the hand-over must still give std exactly 0)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, 1000) * 0.1
    x[450:600] = 7.25
    x[590] = np.nan
    m, s = rolling_mean_std(x, 100)
    assert (s[549:590] == 0).all() and (m[549:590] == 7.25).all()
    assert np.isnan(s[590:690]).all() and np.isfinite(s[690:]).all()
    check_pandas(x, 100)
    check_naive(x, 100)
    y = rng.normal(0, 1, 5000)
    y[-1] = np.inf  # a single bad value at the very end
    check_pandas(y, 64)


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_nan_holes(where):
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, 500)
    x[{"start": slice(0, 30), "middle": slice(240, 260), "end": slice(470, 500)}[where]] = np.nan
    check_pandas(x, 25)
    check_naive(x, 25)


def test_all_nan():
    check_pandas(np.full(20, np.nan), 3)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("pos", [0, 7, 19])
def test_inf_is_missing_as_in_pandas(bad, pos):
    """pandas' rolling treats +-inf as missing; so do we (documented)."""
    x = np.arange(20.0)
    x[pos] = bad
    check_pandas(x, 3)
    m, s = rolling_mean_std(x, 3)
    assert np.isnan(m[pos:pos + 3]).all() and np.isnan(s[pos:pos + 3]).all()
    if pos + 3 < 20:
        assert m[pos + 3] == pos + 2 and s[pos + 3] == 1.0
    assert np.isnan(rolling_min(x, 3)[pos:pos + 3]).all()


def test_large_levels_keep_their_precision():
    """Near 1e12 with unit noise pandas' std is off by ~1e-3 relative; ours is within
    1e-9 of the naive loop (whose own accuracy is checked against exact fractions)."""
    rng = np.random.default_rng(3)
    x = 1e12 + rng.normal(0, 1, 5000)
    x[1000] = np.nan
    check_naive(x, 50)
    # the reference itself, against exact rational arithmetic on a few windows
    _, rs = naive_mean_std(x[:200], 50)
    for i in (49, 120, 199):
        assert rs[i] == pytest.approx(exact_std(x[i - 49:i + 1]), rel=1e-13)
    # slow drift with small noise, short window
    x3 = 1e12 + np.arange(20000) * 0.01 + rng.normal(0, 1, 20000)
    check_naive(x3, 7)
    # a leak-like drift across many windows
    x2 = 1e9 + np.arange(20000) * 1e4 + rng.normal(0, 1, 20000)
    check_naive(x2, 100)
    _, rs2 = naive_mean_std(x2[:300], 100)
    assert rs2[250] == pytest.approx(exact_std(x2[151:251]), rel=1e-13)
    # and pandas is indeed worse on both: the naive reference is the one to trust
    ps = pd.Series(x).rolling(50).std().to_numpy()
    assert np.nanmax(np.abs(ps - naive_mean_std(x, 50)[1])) > 1e-6
    ps2 = pd.Series(x2).rolling(100).std().to_numpy()
    assert np.nanmax(np.abs(ps2 / naive_mean_std(x2, 100)[1] - 1)) > 1e-9


def test_where_pandas_drifts_we_do_not():
    """Found by hypothesis: after 5018 leaves the window, pandas' std of [0, -1, 0] is off
    by 3e-9 relative; ours is sqrt(1/3) to the last bits."""
    m, s = rolling_mean_std([5018.0, 0.0, -1.0, 0.0], 3)
    assert s[3] == pytest.approx(math.sqrt(1 / 3), rel=1e-15) and m[3] == pytest.approx(-1 / 3)
    assert abs(pd.Series([5018.0, 0.0, -1.0, 0.0]).rolling(3).std().iloc[3]
               - math.sqrt(1 / 3)) > 1e-9
    assert check_pandas([5018.0, 0.0, -1.0, 0.0], 3) == 1


def test_negative_values():
    rng = np.random.default_rng(9)
    x = -1e3 - rng.gamma(2.0, 3.0, 2000)
    check_pandas(x, 13)
    check_naive(x, 13)
    # at -1e6 pandas' std already drifts ~3e-9 relative: the naive loop only
    check_naive(-1e6 - rng.gamma(2.0, 3.0, 2000), 13)


finite_or_missing = st.one_of(
    st.floats(-1e6, 1e6), st.integers(-3, 3).map(float), st.just(np.nan),
    st.sampled_from([np.inf, -np.inf]))


@settings(max_examples=80, deadline=None)
@given(st.lists(finite_or_missing, max_size=200), st.integers(2, 20))
def test_hypothesis_against_pandas(values, w):
    check_pandas(values, w)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(-4, 4), st.integers(-2, 2).map(float), st.just(np.nan)),
                max_size=200),
       st.integers(2, 20), st.sampled_from([0.0, 1e12, -3e9]))
def test_hypothesis_large_levels_against_naive(values, w, level):
    x = level + np.asarray(values, float)
    check_naive(x, w, rtol=1e-9)
    r = pd.Series(x).rolling(w)
    np.testing.assert_array_equal(rolling_min(x, w), r.min().to_numpy())
    np.testing.assert_array_equal(rolling_max(x, w), r.max().to_numpy())


def test_out_buffers_are_used_and_checked():
    x = np.random.default_rng(0).normal(size=100)
    x[50] = np.nan  # the general kernel writes into the buffers too
    bm, bs = np.full(100, 5.0), np.full(100, 5.0)
    m, s = rolling_mean_std(x, 10, out_mean=bm, out_std=bs)
    assert m is bm and s is bs
    check_naive(x, 10)
    rm, rs = naive_mean_std(x, 10)
    np.testing.assert_allclose(bm, rm, rtol=1e-13, equal_nan=True)
    for kwargs in (dict(out_mean=np.empty(99)), dict(out_std=np.empty(100, np.float32)),
                   dict(out_mean=np.empty(200)[::2]), dict(out_std=[0.0] * 100)):
        name = next(iter(kwargs))
        with pytest.raises(ValueError, match=f"{name} must be"):
            rolling_mean_std(x, 10, **kwargs)
    with pytest.raises(ValueError, match="out_mean must not overlap x"):
        rolling_mean_std(x, 10, out_mean=x)
    with pytest.raises(ValueError, match="out_mean and out_std must not overlap"):
        rolling_mean_std(x, 10, out_mean=bm, out_std=bm)


@pytest.mark.parametrize("call,match", [
    (lambda: rolling_mean_std(np.ones(5), 1), "window must be >= 2"),
    (lambda: rolling_mean_std(np.ones((2, 2)), 2), "x must be 1-D"),
    (lambda: rolling_mean_std(np.ones(5), 2.5), "window must be an integer"),
    (lambda: rolling_mean_std(np.ones(5), True), "window must be an integer"),
    (lambda: rolling_mean_std(np.array([1 + 1j, 2]), 2), "x must be real"),
    (lambda: rolling_min(np.ones(5), 0), "window must be >= 1"),
    (lambda: rolling_max(np.ones((1, 5)), 2), "x must be 1-D"),
    (lambda: rolling_max(["a"], 1), "x must be a 1-D array of numbers"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _lane_b(n, w):
    """First output of the kernel's second lane (the complete blocks of w outputs after
    block 0 are split into two halves run in lockstep)."""
    return w + ((n // w - 1) // 2) * w


@pytest.mark.parametrize("w", [2, 3, 5, 8, 17])
def test_lane_and_block_borders(w):
    """Every length from below one window to past a few lanes' worth of blocks: lanes with
    zero, one or more blocks, an odd number of complete blocks, a partial last block."""
    rng = np.random.default_rng(w)
    for n in range(0, 9 * w + 3):
        x = rng.integers(-2, 3, n).astype(float) if n % 3 == 0 else rng.normal(0, 5, n)
        check_pandas(x, w)
        check_naive(x, w)


@pytest.mark.parametrize("w", [2, 4, 9, 32])
@pytest.mark.parametrize("where", ["lane_b_start", "lane_b_start-1", "lane_b_end",
                                   "first_lean", "last_lean", "block_end"])
def test_missing_value_at_lane_and_block_borders(w, where):
    rng = np.random.default_rng(7)
    n = 14 * w + w // 2
    pb = _lane_b(n, w)
    pos = {"lane_b_start": pb, "lane_b_start-1": pb - 1, "lane_b_end": pb - 1 + (pb - w),
           "first_lean": w, "last_lean": pb - 1, "block_end": 3 * w - 1}[where]
    for bad in (np.nan, np.inf):
        for level in (0.0, 1e12):
            x = level + rng.normal(0, 1, n)
            x[pos] = bad
            check_pandas(x, w) if level == 0.0 else None
            check_naive(x, w)
            m, s = rolling_mean_std(x, w)
            assert np.isnan(m[pos:pos + w]).all() and np.isnan(s[pos:pos + w]).all()
            assert np.isfinite(m[w - 1:pos]).all() and np.isfinite(s[pos + w:]).all()


def test_dense_gaps_then_clean_data():
    """Blocks after a gapped block go straight to the general loop; once a block is clean
    the lean loop resumes with sums computed afresh (in either lane)."""
    rng = np.random.default_rng(11)
    for w in (3, 10, 50):
        n = 40 * w
        x = rng.normal(0, 1, n)
        pb = _lane_b(n, w)
        x[w:4 * w][rng.random(3 * w) < 0.3] = np.nan  # lane a, dense
        x[pb + 2 * w:pb + 5 * w:w // 2 + 1] = np.nan  # lane b, sparse
        check_pandas(x, w)
        check_naive(x, w)


def test_constant_runs_across_block_and_lane_borders():
    """A run of equal values covering whole windows gives std exactly 0 and mean exactly the
    value wherever the run crosses a block or lane border, also at 1e12 and after noise."""
    rng = np.random.default_rng(5)
    for w in (2, 3, 7, 20):
        n = 12 * w + 5
        pb = _lane_b(n, w)
        for start, length in ((pb - w - 1, 2 * w + 3), (2 * w - 1, w), (w, 3 * w),
                              (pb, w), (n - w - 2, w + 2), (0, n)):
            for level in (7.25, 1e12 + 0.5, -3e9):
                x = level + rng.normal(0, 1, n)
                x[start:start + length] = level
                m, s = rolling_mean_std(x, w)
                first = max(start + w - 1, w - 1)
                last = min(start + length, n)
                assert (s[first:last] == 0).all() and (m[first:last] == level).all()
                check_naive(x, w)
        x = np.repeat(rng.integers(0, 3, n // 4 + 1).astype(float), 4)[:n]  # many short runs
        check_pandas(x, w)


@pytest.mark.parametrize("level", [0.0, 1e12, -3e9])
def test_long_windows_and_drift_in_both_lanes(level):
    """Windows of hundreds to thousands of samples (blocks that long in both lanes), on a
    drifting series; reference: a vectorised two-pass over each window's deviations from
    its first value (the naive loop's method, without the per-window Python loop)."""
    from numpy.lib.stride_tricks import sliding_window_view

    rng = np.random.default_rng(13)
    for w, n in ((500, 3 * 500 + 1), (500, 7 * 500 + 499), (1999, 4 * 1999 + 7)):
        x = level + np.arange(n) * 3.0 + rng.normal(0, 1, n)
        x[n // 2] = np.nan
        m, s = rolling_mean_std(x, w)
        win = sliding_window_view(x, w)
        d = win - win[:, :1]
        md = d.mean(axis=1)
        rm = np.r_[np.full(w - 1, np.nan), win[:, 0] + md]
        rs = np.r_[np.full(w - 1, np.nan), np.sqrt(((d - md[:, None]) ** 2).sum(axis=1) / (w - 1))]
        np.testing.assert_allclose(m, rm, rtol=1e-13, atol=1e-14 * (abs(level) + 3 * n),
                                   equal_nan=True)
        np.testing.assert_allclose(s, rs, rtol=1e-9, equal_nan=True)
        if level == 0.0:
            r = pd.Series(x).rolling(w)
            np.testing.assert_allclose(m, r.mean().to_numpy(), rtol=1e-9, equal_nan=True)
            np.testing.assert_allclose(s, r.std().to_numpy(), rtol=1e-9, equal_nan=True)


def test_large_value_leaving_a_lane_block_leaves_no_residue():
    """Found by hypothesis: 185363.83 entering a block's starting sums and leaving in the
    block's loop must take away exactly the square it brought (the std of [0, 1] after it
    was 0.7071041 when the loop used (v - a)((v - h) + (a - h)) instead of the squares)."""
    x = np.array([np.nan, 0, 0, 0, 0, 0, np.nan, 0, 0, np.nan, 0, np.nan, 0, 0, 0,
                  185363.826171875, 0, 1.0])
    m, s = rolling_mean_std(x, 2)
    assert s[-1] == math.sqrt(0.5) and m[-1] == 0.5
    check_pandas(x, 2)
    for w in (2, 3, 5):  # the same at every block position, in both lanes
        for pos in range(w, 12 * w - 1):
            y = np.zeros(12 * w + 3)
            y[pos] = 185363.826171875
            y[pos + w:] = np.arange(y.size - pos - w) % 3
            check_pandas(y, w)
            check_naive(y, w)


def test_fresh_outputs_are_two_rows_of_one_array():
    x = np.random.default_rng(1).normal(size=1000)
    m, s = rolling_mean_std(x, 10)
    assert m.flags.c_contiguous and s.flags.c_contiguous and m.flags.writeable
    assert m.base is s.base and m.base is not None and m.base.shape == (2, 1000)
    m2, s2 = rolling_mean_std(x, 10, out_mean=np.empty(1000))  # one buffer given: own std
    assert s2.base is None and np.array_equal(s2, s, equal_nan=True)
