"""A longer rise of the floor that was judged and explained away is part of *why* a series
is no leak: the report names it (``evidence.long_run_trend``), the decision sentence says
which check set it aside, ``explain`` words it, and when the recent floor is level the
look-alike that explained the rise names the pattern (not ``stable``).

The series: 8 days at 5 minutes of a floor that fills like a cache (20 units over a time
constant of 2 days, from 100), then a dip of 8 units at day 6.6 that recovers over half a
day. The local climb at the end (out of the dip) is too small to be growth; the rise over
the whole window is significant and decelerates: a warm-up.
"""

from __future__ import annotations

import numpy as np
import pytest

import detector
from detector.analysis import lookalikes
from detector.outputs.explain import explain

DAY = 86400.0


def filled_cache(seed: int, step: float = 300.0):
    rng = np.random.default_rng(seed)
    t = 1.7e9 + step * np.arange(int(8 * DAY / step))
    d = (t - t[0]) / DAY
    floor = 100.0 + 20.0 * (1.0 - np.exp(-d / 2.0))
    dip = np.where(d > 6.6, -8.0 * np.exp(-(d - 6.6) / 0.5), 0.0)
    return t, floor + dip + 2.0 * np.abs(rng.normal(0, 2.0, t.size)) + rng.normal(0, 0.5, t.size)


def test_a_warmup_over_the_window_is_named_though_the_recent_climb_decided():
    named = 0
    for seed in range(12):
        t, v = filled_cache(seed)
        rep = detector.analyze(v, t)
        ev = rep.evidence
        assert not rep.leak
        trend = ev["long_run_trend"]
        if trend is None:  # the local climb decided alone (as a warm-up itself, say)
            assert "set aside" not in ev["decision"]
            continue
        # the rise over (nearly) the whole window, worked out and set aside as a warm-up
        assert trend["decided_by"] == "warmup", seed
        assert trend["onset"] - t[0] < 0.5 * DAY and trend["duration"] > 6 * DAY
        assert 0.1 < trend["relative_growth"] < 0.25  # ~20 units on a level of ~115
        assert trend["growth"] > 10.0 and trend["slope"] > 0
        # the local climb decided (a look-alike or a failed growth check), and the
        # sentence says both
        decided, _, aside = ev["decision"].partition("; the floor's long-run trend")
        assert decided.startswith("no leak (warmup): decided by ")
        assert aside.startswith(" (a rise of ")
        assert "was set aside by look-alike warmup (matched): " + trend["reason"] in aside
        assert "no new high" in trend["reason"]  # the number that let the veto match
        # the pattern is the look-alike that explained the rise, never "stable"
        assert rep.pattern == "warmup"
        words = " ".join(explain(rep.to_dict()))
        assert "Over a longer stretch the floor rose by" in words and "warm-up" in words
        named += 1
    assert named >= 5, named  # (seeds 1, 3, 5, 6, 8, 9 when written)


def test_no_rise_is_set_aside_for_a_leak_or_a_flat_floor():
    rng = np.random.default_rng(3)
    t = 1.7e9 + 300.0 * np.arange(int(8 * DAY / 300.0))
    leak = 100.0 + 20.0 * (t - t[0]) / (8 * DAY) + rng.normal(0, 1.0, t.size)
    flat = 100.0 + rng.normal(0, 1.0, t.size)
    rep = detector.analyze(leak, t)
    assert rep.leak and rep.evidence["long_run_trend"] is None
    assert "set aside" not in rep.evidence["decision"]
    rep = detector.analyze(flat, t)
    assert not rep.leak and rep.pattern == "stable"
    assert rep.evidence["long_run_trend"] is None  # no significant start: not worked out
    assert "set aside" not in rep.evidence["decision"]
    assert not any("longer stretch" in s for s in explain(rep.to_dict()))


def test_explain_skips_a_malformed_long_run_trend():
    fields = {"leak": False, "verdict": "no_leak", "pattern": "stable", "score": 0.1,
              "evidence": {"long_run_trend": {"decided_by": "no such check", "onset": "x"}}}
    assert not any("longer stretch" in s for s in explain(fields))
    fields["evidence"]["long_run_trend"] = {"decided_by": "recovery", "onset": "soon",
                                            "duration": None}
    words = " ".join(explain(fields))
    assert "Over a longer stretch the floor rose, but it only climbs back" in words


def test_a_matched_warmup_says_how_far_its_end_tops_the_rest():
    from detector import Config
    from detector.analysis.growth import Regime

    config = Config()
    regime = Regime(True, kind="trend", half_slope_ratio=0.1, late_share=0.1, late_high=0.12)
    check = lookalikes.warmup(regime, config)
    assert check.holds and "tops the rest's by 12% of the growth (less than 15%" in check.reason
    regime = Regime(True, kind="trend", half_slope_ratio=0.1, late_share=0.1, late_high=0.4)
    check = lookalikes.warmup(regime, config)
    assert not check.holds and "still sets new highs" in check.reason
