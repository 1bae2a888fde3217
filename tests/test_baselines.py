"""Each baseline behaves as its description says, on constructed series."""

import numpy as np
import pytest

from detector.evaluate.baselines import (BASELINES, _precog_changepoints, coroot_slope,
                                         mann_kendall_sen, precog, prometheus_predict_linear,
                                         sigma_band)

H = 3600.0


def grid(hours, step=60.0):
    return 1.7e9 + np.arange(0, hours * H, step)


def test_predict_linear_fires_on_a_climb_toward_the_limit_after_an_hour():
    t = grid(24)
    v = 1e9 + (t - t[0]) * 1e4  # +36 MB/h
    limit = 1e9 + 30 * H * 1e4  # reached at 30 h: inside 24 h of the end only after ~6 h
    r = prometheus_predict_linear(t, v, limit)
    assert r.leak
    # the prediction first crosses the limit once t + 24 h > 30 h, i.e. after 6 h of data;
    # the 6-hour window is full at 6 h too; then "for: 1h"
    assert r.onset == pytest.approx(t[0] + 6 * H, abs=0.5 * H)
    assert not prometheus_predict_linear(t, np.full(t.size, 1e9), limit).leak


def test_predict_linear_without_limit_uses_relative_growth():
    t = grid(12)
    assert prometheus_predict_linear(t, 1e9 + (t - t[0]) * 5e3, None).leak  # +43 %/day
    assert not prometheus_predict_linear(t, 1e9 + (t - t[0]) * 5e2, None).leak  # +4 %/day


def test_predict_linear_needs_six_hours():
    t = grid(5)
    assert not prometheus_predict_linear(t, 1e9 + (t - t[0]) * 1e6, 1e9).leak


def test_coroot_threshold_is_10_mb_per_hour():
    t = grid(10)
    assert coroot_slope(t, 5e8 + (t - t[0]) * 11e6 / H).leak
    assert not coroot_slope(t, 5e8 + (t - t[0]) * 9e6 / H).leak


def test_band_fires_on_a_daily_peak_and_not_on_flat_noise():
    t = grid(48)
    rng = np.random.default_rng(0)
    peaky = 5e8 + 3e8 * np.maximum(0, np.sin(2 * np.pi * (t - t[0]) / 86400)) ** 8
    assert sigma_band(t, peaky + rng.normal(0, 1e6, t.size)).leak
    assert not sigma_band(t, 5e8 + rng.normal(0, 1e6, t.size)).leak


def test_mann_kendall_sen_as_kats_needs_significance_and_tau_above_08():
    t = grid(24)
    x = (t - t[0]) / H
    assert mann_kendall_sen(t, 5e8 + x * 1e6).leak  # clean climb: tau = 1
    assert not mann_kendall_sen(t, 5e8 - x * 1e6).leak  # decreasing
    # a weak but significant trend in noise: tau well below 0.8 after smoothing
    rng = np.random.default_rng(1)
    weak = 5e8 + x * 1e5 + rng.normal(0, 2e7, t.size)
    assert not mann_kendall_sen(t, weak).leak
    # Kats with threshold=0 judges by the p-value alone: then it is a trend
    assert mann_kendall_sen(t, weak, tau=0.0).leak
    # no autocorrelation correction: a random walk that wandered upwards is a trend
    walk = 5e8 + np.cumsum(np.r_[0, np.abs(rng.normal(0, 1e6, t.size - 1))])
    assert mann_kendall_sen(t, walk).leak


def test_precog_change_points_are_mad_outliers_of_the_differences_merged_within_6h():
    g_t = np.arange(0.0, 48 * H, 300.0)
    y = np.zeros(g_t.size)
    y[100:] += 50.0   # a jump at index 100 (8.3 h)
    y[110:] += 50.0   # another 50 min later: merged into the first
    y[400:] += 50.0   # one at 33.3 h
    y += np.random.default_rng(3).normal(0, 0.01, g_t.size)
    cps = _precog_changepoints(g_t, y, 3.5, 6 * H)
    assert cps == [0, 100, 400, g_t.size - 1]


def test_precog_finds_the_last_change_and_fires_only_within_seven_days():
    t = grid(72, step=300.0)
    x = t - t[0]
    # flat for two days, then a climb: change points (|MAD z| of the differences > 3.5)
    # appear once it begins, so the judged segment lies inside the climb
    v = 1e9 + np.where(x > 48 * H, (x - 48 * H) * 2e3, 0.0)
    v = v + np.random.default_rng(2).normal(0, 2e6, t.size)
    limit_near = v[-1] + 2e3 * 3 * 86400  # reached in 3 days
    limit_far = v[-1] + 2e3 * 30 * 86400  # reached in 30 days
    r = precog(t, v, limit_near)
    assert r.leak and t[0] + 47 * H <= r.onset < t[-1]
    assert not precog(t, v, limit_far).leak
    assert not precog(t, np.full(t.size, 1e9), limit_near).leak


def test_every_baseline_survives_gaps_and_tiny_inputs():
    t = grid(30)
    v = 1e9 + (t - t[0]) * 1e4
    v[100:200] = np.nan
    for name, fn in BASELINES.items():
        assert isinstance(fn(t, v, 2e9).leak, bool), name
        assert fn(t[:2], v[:2], None).leak is False, name
