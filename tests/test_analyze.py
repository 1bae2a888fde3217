"""detector.analyze: the public contract and the patterns of GUIDE section 3.

The series here are built in the test, independently of the evaluation
generator, from the textbook shape of each pattern plus noise, over several
seeds, sampling intervals and window lengths.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest

import detector
from detector import Config, InputError, Report

DAY = 86400.0
T0 = 1.7e9


def grid(days, step):
    return T0 + np.arange(0, days * DAY, step)


def make(pattern, seed, step=60.0, days=3.0):
    rng = np.random.default_rng(seed)
    t = grid(days, step)
    x = t - t[0]
    span = x[-1]
    base = rng.uniform(3e8, 2e9)
    noise = rng.normal(0, base * rng.uniform(0.002, 0.01), t.size)
    rate = base * rng.uniform(0.4, 1.5) / span  # gains 40-150 % of the base over the window
    onset = None
    if pattern == "linear":
        v = base + rate * x
        onset = t[0]
    elif pattern == "daily_growth":
        v = base + 0.3 * base * np.sin(2 * np.pi * x / DAY) + rate * x
        onset = t[0]
    elif pattern == "gc_floor":
        cycle = rng.uniform(300, 900)
        v = base + rate * x + 0.6 * base * ((x % cycle) / cycle)
        onset = t[0]
    elif pattern == "late_onset":
        start = span * rng.uniform(0.4, 0.6)
        v = base + np.where(x > start, (x - start) * rate * 2.5, 0.0)
        onset = t[0] + start
    elif pattern == "steps":
        steps = np.sort(rng.uniform(0, span, 40))
        v = np.round(100 + np.searchsorted(steps, x) * 2 + rng.integers(0, 2, t.size)).astype(float)
        noise = 0.0
        onset = t[0]
    elif pattern == "convex":
        v = base + base * 1.2 * (x / span) ** 2
        onset = t[0]
    elif pattern == "oom_loop":
        life = rng.uniform(4, 8) * 3600
        v = base + (x % life) / life * 2 * base
        onset = t[0]
    elif pattern == "flat":
        v = np.full(t.size, base)
    elif pattern == "daily":
        v = base + 0.5 * base * np.clip(np.sin(2 * np.pi * x / DAY + rng.uniform(0, 6)), 0, 1)
    elif pattern == "gc_flat":
        cycle = rng.uniform(300, 900)
        v = base + 0.8 * base * ((x % cycle) / cycle)
    elif pattern == "level_shift":
        v = base + np.where(x > span * rng.uniform(0.3, 0.7), 0.4 * base, 0.0)
    elif pattern == "warmup":
        v = base + 0.6 * base * (1 - np.exp(-x / (span * rng.uniform(0.03, 0.08))))
    elif pattern == "batch":
        v = base + np.where((x % 3600) < 300, 0.5 * base, 0.0)
    elif pattern == "scheduled_restarts":
        life = DAY
        v = base + 0.5 * base * (1 - np.exp(-(x % life) / 3600))
    elif pattern == "resolved":
        stop = span * rng.uniform(0.35, 0.6)
        v = base + np.minimum(x, stop) * rate * 2
    elif pattern == "random_walk":
        ou = np.zeros(t.size)
        for i in range(1, t.size):
            ou[i] = ou[i - 1] * (1 - 1 / 500) + rng.normal(0, 0.01 * base)
        v = base + ou
    else:
        raise ValueError(pattern)
    return t, v + noise, onset


LEAKS = ["linear", "daily_growth", "gc_floor", "late_onset", "steps", "convex", "oom_loop"]
HEALTHY = ["flat", "daily", "gc_flat", "level_shift", "warmup", "batch", "scheduled_restarts",
           "resolved", "random_walk"]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("pattern", LEAKS)
def test_leaks_are_flagged(pattern, seed):
    t, v, onset = make(pattern, seed, step=[30.0, 60.0, 120.0][seed])
    rep = detector.analyze(v, t)
    assert rep.leak and rep.verdict == "leak", (rep.pattern, rep.evidence["decision"])
    assert rep.slope > 0 and 0.5 <= rep.score <= 1
    assert rep.onset is not None
    assert abs(rep.onset - onset) <= 0.1 * (t[-1] - t[0]), (rep.onset - onset) / (t[-1] - t[0])


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("pattern", HEALTHY)
def test_healthy_series_are_not_flagged(pattern, seed):
    t, v, _ = make(pattern, seed, step=[30.0, 60.0, 120.0][seed])
    rep = detector.analyze(v, t)
    assert not rep.leak and rep.verdict == "no_leak", (rep.pattern, rep.evidence["decision"])
    assert rep.score < 0.5 and rep.onset is None


@pytest.mark.parametrize("pattern,expected", [
    ("linear", "linear_growth"), ("daily_growth", "periodic_growth"),
    ("gc_floor", "gc_floor_growth"), ("oom_loop", "restart_loop"), ("daily", "periodic"),
    ("gc_flat", "gc_sawtooth"), ("level_shift", "level_shift"), ("warmup", "warmup"),
    ("resolved", "resolved_leak"), ("flat", "stable"),
])
def test_patterns_are_named(pattern, expected):
    t, v, _ = make(pattern, 11)
    assert detector.analyze(v, t).pattern == expected


def test_resolved_leak_keeps_old_onset():
    t, v, _ = make("resolved", 5)
    rep = detector.analyze(v, t)
    assert rep.pattern == "resolved_leak" and not rep.leak
    assert rep.evidence["resolved_onset"] == pytest.approx(t[0], abs=0.05 * (t[-1] - t[0]))


def test_period_is_reported_in_seconds():
    t, v, _ = make("daily", 2, step=300.0, days=7)
    rep = detector.analyze(v, t)
    assert rep.period == pytest.approx(DAY, rel=0.05)


def test_time_to_limit_and_interval():
    t = grid(2, 60.0)
    v = 1e9 + (t - t[0]) * 1e4 + np.random.default_rng(0).normal(0, 1e6, t.size)
    rep = detector.analyze(v, t, limit=4e9)
    expected = (4e9 - v[-1]) / 1e4
    assert rep.time_to_limit == pytest.approx(expected, rel=0.05)
    lo, hi = rep.evidence["time_to_limit_interval"]
    assert lo <= rep.time_to_limit <= hi
    # an aligned limit array: its last value counts
    rep2 = detector.analyze(v, t, limit=np.r_[np.full(t.size - 1, 2e9), 4e9])
    assert rep2.time_to_limit == pytest.approx(rep.time_to_limit)


def test_restart_loop_reveals_the_limit():
    t, v, _ = make("oom_loop", 3)
    rep = detector.analyze(v, t)
    assert rep.pattern == "restart_loop" and rep.time_to_limit is not None
    assert rep.evidence["revealed_limit"] == pytest.approx(v.max(), rel=0.05)


def test_gaps_nan_and_spikes_do_not_hide_a_leak():
    t, v, _ = make("linear", 4)
    rng = np.random.default_rng(4)
    v = v.copy()
    v[1000:1400] = np.nan                                   # a gap
    v[rng.random(v.size) < 0.02] = np.nan                   # holes
    spikes = rng.random(v.size) < 0.005
    v[spikes] *= 3                                          # scrape spikes
    keep = np.ones(t.size, bool)
    keep[2000:2300] = False                                 # missing timestamps
    rep = detector.analyze(v[keep], t[keep])
    assert rep.leak


def test_unsorted_duplicated_input_gives_the_same_verdict():
    t, v, _ = make("linear", 6)
    rng = np.random.default_rng(6)
    order = rng.permutation(t.size)
    dup = rng.choice(t.size, 50)
    t2 = np.r_[t[order], t[dup]]
    v2 = np.r_[v[order], v[dup]]
    a, b = detector.analyze(v, t), detector.analyze(v2, t2)
    assert a.leak == b.leak and a.slope == pytest.approx(b.slope, rel=1e-6)
    assert b.evidence["input"]["n_duplicates"] == 50 and not b.evidence["input"]["was_sorted"]


def test_pandas_series_with_datetime_index():
    t, v, _ = make("linear", 7)
    s = pd.Series(v, index=pd.to_datetime(t, unit="s", utc=True))
    rep = detector.analyze(s)
    assert rep.leak and rep.onset == pytest.approx(detector.analyze(v, t).onset)


def test_datetime64_timestamps_and_ms():
    t, v, _ = make("linear", 8)
    a = detector.analyze(v, t)
    b = detector.analyze(v, (t * 1000).astype(np.int64))
    c = detector.analyze(v, (t * 1e9).astype("datetime64[ns]"))
    assert a.slope == pytest.approx(b.slope) == pytest.approx(c.slope)


def test_negative_values_are_missing():
    t, v, _ = make("flat", 9)
    v = v.copy()
    v[:10] = -1
    rep = detector.analyze(v, t)
    assert rep.evidence["input"]["n_negative"] == 10 and not rep.leak


@pytest.mark.parametrize("n,step,reason", [
    (10, 60.0, "valid samples"),
    (100, 10.0, "of valid history"),
])
def test_insufficient_data_says_what_is_missing(n, step, reason):
    t = T0 + np.arange(n) * step
    rep = detector.analyze(np.ones(n), t)
    assert rep.verdict == "insufficient_data" and not rep.leak
    assert reason in rep.evidence["insufficient"]


def test_no_valid_sample_is_insufficient_even_when_none_are_required():
    # min_samples=0 lets an all-missing series past the count: it is still reported as
    # insufficient, not an IndexError from the span of no samples
    t = T0 + np.arange(100) * 15.0
    for v in (np.full(100, np.nan), -np.ones(100)):  # (negative values are missing)
        rep = detector.analyze(v, t, config=Config(min_samples=0))
        assert rep.verdict == "insufficient_data"
        assert rep.evidence["insufficient"] == "no valid samples"


def test_too_sparse_is_insufficient():
    t = grid(2, 60.0)
    v = np.ones(t.size)
    v[np.random.default_rng(0).random(t.size) < 0.7] = np.nan
    rep = detector.analyze(v, t)
    assert rep.verdict == "insufficient_data" and "missing" in rep.evidence["insufficient"]


def test_report_contract_and_json():
    t, v, _ = make("late_onset", 1)
    rep = detector.analyze(v, t, limit=1e12)
    assert isinstance(rep, Report)
    d = rep.to_dict()
    json.dumps(d, allow_nan=False)
    for key in ("leak", "verdict", "pattern", "score", "slope", "onset", "changepoints",
                "period", "time_to_limit", "evidence"):
        assert key in d
    assert all(isinstance(c, float) for c in rep.changepoints)
    assert any(abs(c - rep.onset) < 3600 * 3 for c in rep.changepoints)
    with pytest.raises(Exception):
        rep.leak = False  # frozen


def test_without_timestamps_slope_is_per_sample():
    v = 1000 + np.arange(5000) * 0.5 + np.random.default_rng(0).normal(0, 5, 5000)
    rep = detector.analyze(v)
    assert rep.leak and rep.slope == pytest.approx(0.5, rel=0.05)


def test_config_is_honoured_and_validated():
    t, v, _ = make("linear", 2)
    assert not detector.analyze(v, t, config=Config(min_relative_growth=10.0)).leak
    with pytest.raises(ValueError, match="alpha"):
        Config(alpha=2.0)
    with pytest.raises(ValueError, match="negative_is_missing"):
        Config(negative_is_missing=1)
    with pytest.raises(InputError, match="config must be"):
        detector.analyze(v, t, config={"alpha": 0.1})


@pytest.mark.parametrize("kwargs,match", [
    (dict(values=[[1, 2]]), "1-D"),
    (dict(values=[1, 2, 3], timestamps=[1, 2]), "differ in length"),
    (dict(values=["a", "b"]), "not a number"),
    (dict(values=np.ones(100), timestamps=np.arange(100), limit="lots"), "limit"),
])
def test_bad_input_is_a_clear_error(kwargs, match):
    with pytest.raises(InputError, match=match):
        detector.analyze(**kwargs)


def test_constant_and_tiny_inputs():
    assert detector.analyze([]).verdict == "insufficient_data"
    assert detector.analyze([1.0]).verdict == "insufficient_data"
    rep = detector.analyze(np.full(5000, 7.0), T0 + np.arange(5000) * 60.0)
    assert rep.verdict == "no_leak" and rep.pattern == "stable"
    assert math.isfinite(rep.slope)


def _cycles(ramp_share, seed, days=3.0, step=60.0, cycle=4 * 3600.0):
    """Cycles of `cycle` seconds: flat at the baseline, then a ramp over the last
    `ramp_share` of the cycle to twice the baseline, then a drop back."""
    rng = np.random.default_rng(seed)
    t = grid(days, step)
    phase = ((t - t[0]) % cycle) / cycle
    ramp = np.clip((phase - (1 - ramp_share)) / ramp_share, 0.0, 1.0)
    return t, 5e8 * (1.0 + ramp) + rng.normal(0, 2e6, t.size)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ramping_batch_jobs_are_not_a_restart_loop(seed):
    # memory at its baseline for three quarters of every cycle, a ramp, then a release:
    # work that comes and goes, not memory that grows with uptime
    t, v = _cycles(0.25, seed)
    rep = detector.analyze(v, t)
    assert not rep.leak, rep.evidence["lifetimes"]
    assert rep.pattern == "batch_spikes"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_growth_over_whole_lifetimes_is_a_restart_loop(seed):
    # the same drops, but growth from each restart to the next: a leak killed by OOM
    t, v = _cycles(1.0, seed)
    rep = detector.analyze(v, t, limit=1.0e9)
    assert rep.leak and rep.pattern == "restart_loop", rep.evidence["lifetimes"]
    assert rep.evidence["lifetimes"]["growth_coverage"] > 0.9


def _staircase(setback, seed, days=2.0, step=60.0):
    """A goroutine count climbing by 50 at irregular times (1-3 h apart), giving
    `setback` back at every fourth step."""
    rng = np.random.default_rng(seed)
    t = grid(days, step)
    at = T0 + np.cumsum(rng.uniform(3600, 3 * 3600, 64))
    k = np.searchsorted(at, t)
    steps = 50.0 * k - setback * (k // 4)
    return t, np.round(1000.0 + steps + rng.normal(0, 0.5, t.size))


@pytest.mark.parametrize("seed", [0, 1])
def test_staircase_with_small_setbacks_is_one_growth(seed):
    t, v = _staircase(30.0, seed)
    rep = detector.analyze(v, t)
    assert rep.leak and rep.pattern == "stepwise_growth"
    # the growth began at the start, not after the last setback
    assert rep.onset - t[0] < 0.1 * (t[-1] - t[0])


def test_a_large_give_back_ends_the_growth():
    # the same climb, then most of it released and flat for a day: not leaking now
    t, v = _staircase(0.0, 0)
    half = t.size // 2
    v[half:] = v[half] - 0.7 * (v[half] - 1000.0) + np.random.default_rng(3).normal(
        0, 0.5, t.size - half)
    rep = detector.analyze(np.round(v), t)
    assert not rep.leak


@pytest.mark.parametrize("seed, index", [(0, 45), (0, 305), (1, 45)])
def test_goroutine_staircases_that_step_down_are_one_growth(seed, index):
    # generated goroutine counts that climb in steps and now and then give a few back:
    # judged from their last step alone (before the setback rule) they looked like a
    # warm-up or stable; the leak and its onset span the whole climb
    from detector.evaluate.synthetic import generate

    s = generate("stepwise_growth", seed=seed * 1_000_003 + index, index=index)
    rep = detector.analyze(s.values, s.timestamps, limit=s.limit)
    assert rep.leak and rep.pattern == "stepwise_growth"
    assert abs(rep.onset - s.onset) < 0.05 * (s.timestamps[-1] - s.timestamps[0])
