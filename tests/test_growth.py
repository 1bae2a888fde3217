"""The long-run trend of a lifetime's floor (``detector.analysis.growth.find_trend``).

``judge_lifetime`` asks for the trend only to see whether it is a leak, and a trend that is
not significant never is: with ``only_significant`` the search may stop as soon as no start
left can be significant. These tests hold that shortcut to the full search on the same
floors: it must find the same trend whenever the full search's is significant, and none
otherwise. Likewise ``could_leak``: the search may give up when no start's growth can pass
the checks that need no autocorrelation correction, and only then.
"""

from __future__ import annotations

import numpy as np
import pytest

from detector import Config
from detector.analysis.floor import Floor
from detector.analysis import lookalikes
from detector.analysis.growth import find_trend, growth_checks, segment_floor, trend_test
from detector.analysis.verdict import trend_could_leak


def floors(seed: int, count: int):
    """Floors of every kind the search meets: flat or rising, white or autocorrelated
    noise, steps, releases, warm-ups, 20 to 400 points."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(20, 401))
        t = 1.7e9 + 300.0 * np.arange(n)
        u = np.linspace(0, 1, n)
        phi = rng.choice([0.0, 0.5, 0.9])
        e = np.zeros(n)
        shocks = rng.normal(0, 1, n)
        for i in range(n):  # AR(1) noise: what the Hamed-Rao correction is for
            e[i] = (phi * e[i - 1] if i else 0.0) + shocks[i]
        shape = rng.choice(["flat", "ramp", "late", "warmup", "steps", "release"])
        g = {"flat": 0 * u, "ramp": u, "late": np.maximum(0, u - 0.6) / 0.4,
             "warmup": 1 - np.exp(-u / 0.1), "steps": np.floor(u * 4) / 4,
             "release": u - 0.5 * (u > 0.7)}[shape]
        y = 100.0 + rng.choice([0.0, 1.0, 3.0, 10.0]) * g + e
        yield Floor(t, y, "bins", 300.0)


@pytest.mark.parametrize("seed", range(4))
def test_only_significant_finds_the_trend_of_the_full_search_when_it_is_significant(seed):
    config = Config()
    found = missing = 0
    for floor in floors(seed, 60):
        segmented = segment_floor(floor, 100.0, config)
        full = find_trend(floor, level=100.0, config=config, segmented=segmented)
        short = find_trend(floor, level=100.0, config=config, segmented=segmented,
                           only_significant=True, memo={})
        significant = full.found and trend_test(full.y)[0] < config.alpha
        assert short.found == significant
        if significant:
            found += 1
            assert short.onset == full.onset
            assert short.growth == full.growth
            assert np.array_equal(short.y, full.y)
        else:
            missing += full.found
    assert found >= 10 and missing >= 5  # both cases were met


def test_the_memo_gives_what_the_test_gives_on_every_stretch():
    """``trend_test`` with a memo: stretches that share memory but not length or stride
    are told apart, a repeated stretch is answered from the memo, and every answer is
    the test's own."""
    rng = np.random.default_rng(5)
    y = np.cumsum(rng.normal(0, 1, 300)) + 0.05 * np.arange(300)
    memo = {}
    # (y[200:100:-1] ends, backwards, where y ends: a stride apart from y[200:])
    stretches = [y[2:], y[2:-1], y[2:], y[2::2], y[40:], y[2:], y[200:100:-1]]
    got = [trend_test(s, memo=memo) for s in stretches]
    assert got == [trend_test(s.copy()) for s in stretches]
    results = [k for k in memo if k[0] != "suffix_slopes"]
    assert len(results) == 5  # y[2:] tested once
    assert len({g for g in got}) == 5
    # y[2:] and y[40:] end where y ends: their Sen slopes came from one list of y's pairs
    assert [k for k in memo if k[0] == "suffix_slopes"] == [
        ("suffix_slopes", y.__array_interface__["data"][0], 300)]


def leaks(regime, *, level, swing, bounds, reference_high, config):
    """The verdict's rule, written out: a found regime leaks when every growth check
    holds and no look-alike matches."""
    if not regime.found:
        return False
    checks = growth_checks(regime, level=level, swing=swing, period=None, lifetime=bounds,
                           config=config)
    vetoes = [lookalikes.warmup(regime, config),
              lookalikes.recovery(regime, reference_high, config),
              lookalikes.level_shift(regime),
              lookalikes.resolved_leak(regime, bounds, config)]
    return all(c.holds for c in checks) and not any(v.holds for v in vetoes)


@pytest.mark.parametrize("seed", range(4))
def test_could_leak_gives_up_only_on_trends_that_cannot_leak(seed):
    config = Config()
    rng = np.random.default_rng(100 + seed)
    given_up = kept_leaking = 0
    for floor in floors(seed, 60):
        level = 100.0
        swing = float(np.percentile(floor.y, 95) - np.percentile(floor.y, 5))
        bounds = (float(floor.t[0]), float(floor.t[-1]))
        reference_high = rng.choice([None, 101.0, 105.0])
        segmented = segment_floor(floor, level, config)
        full = find_trend(floor, level=level, config=config, segmented=segmented,
                          only_significant=True, memo={})

        def could_leak(regime, fitted):
            return trend_could_leak(regime, fitted, level=level, swing=swing, period=None,
                                    bounds=bounds, reference_high=reference_high,
                                    config=config)

        short = find_trend(floor, level=level, config=config, segmented=segmented,
                           only_significant=True, memo={}, could_leak=could_leak)
        leak = leaks(full, level=level, swing=swing, bounds=bounds,
                     reference_high=reference_high, config=config)
        if short.found:
            assert short.onset == full.onset and short.growth == full.growth
            assert np.array_equal(short.y, full.y)
            kept_leaking += leak
        else:
            assert not leak  # given up on a trend that leaks: the shortcut is wrong
            given_up += full.found
    assert given_up >= 5 and kept_leaking >= 5, (given_up, kept_leaking)


def trend_floors(seed: int, count: int):
    """Floors whose local climb is cut short near the end (a dip, a release after a
    staircase) over growth that goes on: the long-run trend decides, and often leaks.
    Points 300 s apart, or 10 s (growth then lasts minutes: the short-growth checks)."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(40, 401))
        step = float(rng.choice([300.0, 10.0]))
        t = 1.7e9 + step * np.arange(n)
        u = np.linspace(0, 1, n)
        a = float(rng.choice([5.0, 10.0, 20.0]))
        if rng.random() < 0.5:
            g = a * u - 0.4 * a * ((u > 0.85) & (u < 0.92))
        else:
            g = a * np.floor(u * 6) / 6 - 0.3 * a * (u > 0.9)
        e = np.zeros(n)
        shocks = rng.normal(0, float(rng.choice([0.5, 1.0, 2.0])), n)
        for i in range(n):
            e[i] = (0.7 * e[i - 1] if i else 0.0) + shocks[i]
        yield Floor(t, 100.0 + g + e, "bins", step)


@pytest.mark.parametrize("seed", range(4))
def test_judge_lifetime_decides_as_without_the_shortcut(seed, monkeypatch):
    """The whole lifetime verdict, with ``judge_lifetime``'s own wiring of the shortcut
    (its level, swing, period, bounds and the previous lifetime's high), against the
    same verdict made with a search that never gives up: the same verdict, deciding check,
    regime and checks, over levels, swings, periods, lifetimes longer than the floor and
    reference highs that reach the recovery, plateau and short-growth boundaries."""
    from detector.analysis import verdict

    config = Config()
    rng = np.random.default_rng(200 + seed)
    full_search = verdict.find_trend

    def never_gives_up(*args, could_leak=None, **kwargs):
        return full_search(*args, **kwargs)

    cases = []
    for floor in [*floors(seed + 10, 40), *trend_floors(seed, 40)]:
        span = float(floor.t[-1] - floor.t[0])
        level = float(rng.choice([100.0, 100.0, 30.0, 400.0]))
        swing = float(np.percentile(floor.y, 95) - np.percentile(floor.y, 5)) * float(
            np.exp(rng.uniform(np.log(0.5), np.log(10.0))))
        period = rng.choice([None, span / 12, span / 3])
        extra = float(rng.choice([0.0, 0.5, 3.0])) * span
        bounds = (float(floor.t[0] - extra), float(floor.t[-1]))
        high = None if rng.random() < 0.4 else float(np.percentile(floor.y, 90)) + float(
            rng.normal(0, 2))
        cases.append((floor, dict(level=level, swing=swing, period=period, bounds=bounds,
                                  reference_high=high, config=config)))

    def judge_all():
        out, trends = [], []
        for floor, kw in cases:
            v = verdict.judge_lifetime(floor, **kw)
            out.append((v.leak, v.regime.kind if v.regime.found else None,
                        None if v.deciding is None else v.deciding.reason,
                        v.regime.stats(), [c.to_dict() for c in (*v.growth, *v.vetoes)]))
            trend = v if v.regime.kind == "trend" else v.other  # (no report reads .other)
            trends.append(trend is not None and trend.regime.found)
        return out, trends

    with_shortcut, found_with = judge_all()
    monkeypatch.setattr(verdict, "find_trend", never_gives_up)
    without, found_without = judge_all()
    assert without == with_shortcut
    # both sides met: trends the shortcut gave up on, and trends that leak
    assert sum(a and not b for a, b in zip(found_without, found_with)) >= 5
    assert sum(kind == "trend" for _, kind, *_ in with_shortcut) >= 5
