"""Rules of practice against naive loops and hand-made cases."""

import numpy as np
import pandas as pd
import pytest

from detector import rules


def naive_persistent(t, c, for_seconds):
    out = np.zeros(len(c), bool)
    for i in range(len(c)):
        if not c[i]:
            continue
        j = i
        while j > 0 and c[j - 1]:
            j -= 1
        out[i] = t[i] - t[j] >= for_seconds
    return out


@pytest.mark.parametrize("seed", range(6))
def test_persistent_matches_naive(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 400))
    t = np.cumsum(rng.uniform(5, 30, n))
    c = rng.random(n) < 0.7
    f = float(rng.uniform(0, 200))
    np.testing.assert_array_equal(rules.persistent(t, c, for_seconds=f), naive_persistent(t, c, f))


def test_static_threshold_shares_and_nan():
    t = np.arange(5.0)
    v = np.array([70, 81, np.nan, 90, 79.0])
    assert rules.static_threshold(t, v, limit=100).tolist() == [False, True, False, True, False]
    assert rules.static_threshold(t, v, limit=100, share=rules.STATIC_SHARES["host_rss"]
                                  ).tolist() == [False, True, False, True, True]
    lim = np.array([100, 200, 100, 100, np.nan])
    assert rules.static_threshold(t, v, limit=lim).tolist() == [False, False, False, True, False]


def test_dynamic_band_matches_pandas_reference():
    rng = np.random.default_rng(4)
    n = 2000
    t = np.arange(n) * 15.0
    v = rng.normal(0, 1, n)
    v[[500, 1200, 1700]] += 8
    v[900] = np.nan
    got = rules.dynamic_band(t, v, window=15 * 60, k=2, side="both")
    s = pd.Series(v)
    mean = s.rolling(60).mean().shift(1)
    std = s.rolling(60).std().shift(1)
    ref = ((s > mean + 2 * std) | (s < mean - 2 * std)).to_numpy() & mean.notna().to_numpy() \
        & std.notna().to_numpy() & s.notna().to_numpy()
    np.testing.assert_array_equal(got, ref)
    assert got[[500, 1200, 1700]].all()


def test_band_fires_on_every_daily_peak_but_static_does_not():
    """The seed practice's weakness: a 2-sigma band alerts on healthy daily peaks."""
    t = np.arange(0, 3 * 86400, 60.0)
    v = 5e8 + 2e8 * np.maximum(0, np.sin(2 * np.pi * t / 86400)) ** 8 + \
        np.random.default_rng(0).normal(0, 1e6, t.size)
    band = rules.alert_intervals(t, v, rule="band", window=3600, for_seconds=300)
    static = rules.alert_intervals(t, v, rule="static", limit=2e9)
    assert len(band) >= 3 and static == []


def test_intervals_and_windows():
    t = np.arange(10.0) * 60
    c = np.array([0, 1, 1, 0, 1, 1, 1, 0, 0, 1], bool)
    assert rules.intervals(t, c) == [(60, 120), (240, 360), (540, 540)]
    c2 = rules.outside_windows(t, c, [(250, 300)])
    assert rules.intervals(t, c2) == [(60, 120), (240, 240), (360, 360), (540, 540)]


def test_breadth_three_at_once():
    alerts = {"a": [(0, 100)], "b": [(50, 150)], "c": [(80, 90), (95, 200)], "d": [(300, 400)]}
    assert rules.breadth(alerts, min_instances=3) == [(80, 90, ["a", "b", "c"]),
                                                      (95, 100, ["a", "b", "c"])]
    assert rules.breadth(alerts, min_instances=2) == [(50, 150, ["a", "b", "c"])]
    assert rules.breadth(alerts, min_instances=4) == []


def naive_breadth_times(alerts, grid, k):
    return np.array([sum(any(a <= x <= b for a, b in ivs) for ivs in alerts.values()) >= k
                     for x in grid])


@pytest.mark.parametrize("seed", range(5))
def test_breadth_matches_naive_on_a_grid(seed):
    rng = np.random.default_rng(seed)
    alerts = {}
    for i in range(6):
        starts = np.sort(rng.choice(np.arange(0, 1000, 10), 4, replace=False))
        alerts[f"i{i}"] = [(float(s), float(s + rng.integers(1, 8) * 10 - 5)) for s in starts]
        # make them disjoint per instance
        ivs = sorted(alerts[f"i{i}"])
        merged = [ivs[0]]
        for a, b in ivs[1:]:
            if a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
            else:
                merged.append((a, b))
        alerts[f"i{i}"] = merged
    grid = np.arange(0, 1100, 2.5)
    out = rules.breadth(alerts, min_instances=3)
    got = np.array([any(a <= x < b for a, b, _ in out) for x in grid])
    ref = naive_breadth_times(alerts, grid, 3)
    # the intervals are closed on the left, open at the moment the count drops
    edges = {b for _, b, _ in out}
    mask = np.array([x not in edges for x in grid])
    np.testing.assert_array_equal(got[mask], ref[mask])


@pytest.mark.parametrize("call,match", [
    (lambda: rules.static_threshold([0, 1], [1], limit=1), "differ in shape"),
    (lambda: rules.static_threshold([1, 0], [1, 1], limit=1), "strictly increasing"),
    (lambda: rules.static_threshold([0, 1], [1, 1], limit=1, share=0), "share"),
    (lambda: rules.dynamic_band([0, 1], [1, 1], window=0), "window must be > 0"),
    (lambda: rules.dynamic_band([0, 1], [1, 1], window=10, side="up"), "side"),
    (lambda: rules.persistent([0, 1], [True], for_seconds=5), "differ in shape"),
    (lambda: rules.outside_windows([0, 1], [True, True], [(5, 1)]), "ends before"),
    (lambda: rules.breadth({"a": [(0, 1)]}, min_instances=0), "min_instances"),
    (lambda: rules.alert_intervals([0, 1], [1, 1], rule="static"), "needs a limit"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
