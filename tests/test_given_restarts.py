"""Restarts the caller knows of (``analyze(restarts=...)``): a restart counter, a process
start time, a deploy log. The series is split into lifetimes there and only there.

Found from the drops alone, a restart must land back near where its lifetime began; on a
background that moves by itself the landings of an OOM-kill loop scatter and the loop is
read as partial releases (docs/real-data-leaks.md). Given the kill times, it is a loop.
And a caller who knows there was no restart keeps a deep partial release from being read
as one.
"""

from __future__ import annotations

import numpy as np
import pytest

import detector
from detector import InputError

HOUR = 3600.0
DAY = 86400.0


def loop_on_a_moving_background(seed: int, step: float = 300.0):
    """8 days at 5 minutes: a daily wave of +-3 and a 3.3-day wave of +-2 around 90, noise
    1, and an OOM-kill loop on top: lives of 36 h +- 20 % that each climb 20 to their kill.
    Returns (t, v, kill times)."""
    rng = np.random.default_rng(seed)
    t = 1.7e9 + step * np.arange(int(8 * DAY / step))
    d = (t - t[0]) / DAY
    background = 90 + 3 * np.sin(2 * np.pi * d) + 2 * np.sin(2 * np.pi * d / 3.3 + 1) \
        + rng.normal(0, 1.0, t.size)
    lengths = 36 * HOUR * (1 + rng.uniform(-0.2, 0.2, 10))
    starts = t[0] + np.concatenate(([0.0], np.cumsum(lengths)))
    starts = starts[starts < t[-1]]
    life = np.searchsorted(starts, t, side="right") - 1
    return t, background + 20 * (t - starts[life]) / lengths[life], starts[1:]


def test_given_kill_times_make_a_loop_that_the_drops_alone_do_not():
    from_drops = given = 0
    for seed in range(8):
        t, v, kills = loop_on_a_moving_background(seed)
        from_drops += detector.analyze(v, t).pattern == "restart_loop"
        rep = detector.analyze(v, t, restarts=kills)
        lt = rep.evidence["lifetimes"]
        # a kill within 3 samples of the end leaves a lifetime too short to judge
        first = np.searchsorted(t, kills)
        judged = kills[first <= t.size - 3]
        assert lt["restarts_from"] == "given" and lt["count"] == judged.size + 1
        # each lifetime starts at the first sample at or after its kill
        assert np.all(np.array(lt["restarts"]) - judged >= 0)
        assert np.all(np.array(lt["restarts"]) - judged < 300.0)
        note = next(n for n in rep.evidence["notes"] if n.startswith("restarts given: "))
        assert ("within 3 samples of an end" in note) == (judged.size < kills.size)
        given += rep.leak and rep.pattern == "restart_loop"
    assert from_drops == 0
    assert given >= 6, given


def partial_release(step: float = 60.0):
    """A day at 1 min: memory climbs from 100 to 200, falls back to 104 at noon (close
    enough to its start to pass for a restart), and climbs again to 200."""
    t = 1.7e9 + step * np.arange(int(DAY / step))
    u = (t - t[0]) / DAY
    v = np.where(u < 0.5, 100 + 200 * u, 104 + 192 * (u - 0.5))
    return t, v + np.random.default_rng(1).normal(0, 0.5, t.size)


def test_no_restart_given_keeps_a_deep_release_in_one_lifetime():
    t, v = partial_release()
    found = detector.analyze(v, t)
    assert found.evidence["lifetimes"]["count"] == 2  # the drop read as a restart
    rep = detector.analyze(v, t, restarts=[])
    lt = rep.evidence["lifetimes"]
    assert lt["count"] == 1 and lt["restarts"] == [] and lt["restarts_from"] == "given"
    assert lt["partial_drops"] >= 1  # the drop is still seen, as a release
    assert "restarts given: none splits the series" in " ".join(rep.evidence["notes"])
    assert found.evidence["lifetimes"]["restarts_from"] == "drops"


def test_a_restart_time_scraped_late_or_early_is_moved_to_the_fall():
    t, v = partial_release()
    drop_at = t[np.argmax(v[:-1] - v[1:]) + 1]  # first sample after the fall
    for offset in (-2, -1, 0, 1, 2):
        rep = detector.analyze(v, t, restarts=[drop_at + offset * 60.0])
        assert rep.evidence["lifetimes"]["restarts"] == [drop_at], offset
    # further away than the slack, the time is taken as given
    rep = detector.analyze(v, t, restarts=[drop_at + 10 * 60.0])
    assert rep.evidence["lifetimes"]["restarts"] == [drop_at + 10 * 60.0]
    # sampled every 10 s, a restart counter scraped every minute is up to 6 samples late:
    # 2 minutes of slack reach back to the fall
    t10, v10 = partial_release(step=10.0)
    at10 = t10[np.argmax(v10[:-1] - v10[1:]) + 1]
    for late in (0.0, 50.0, 110.0):
        rep = detector.analyze(v10, t10, restarts=[at10 + late])
        assert rep.evidence["lifetimes"]["restarts"] == [at10], late
    rep = detector.analyze(v10, t10, restarts=[at10 + 300.0])
    assert rep.evidence["lifetimes"]["restarts"] == [at10 + 300.0]


def test_restart_times_in_other_units_and_outside_the_window():
    t, v = partial_release()
    drop_at = t[np.argmax(v[:-1] - v[1:]) + 1]
    expect = [drop_at]
    as_ms = detector.analyze(v, t, restarts=[drop_at * 1000, (t[-1] + 3600) * 1000])
    assert as_ms.evidence["lifetimes"]["restarts"] == expect
    as_dt = detector.analyze(v, t, restarts=np.array([int(drop_at)], dtype="datetime64[s]"))
    assert as_dt.evidence["lifetimes"]["restarts"] == expect
    scalar = detector.analyze(v, t, restarts=drop_at)
    assert scalar.evidence["lifetimes"]["restarts"] == expect
    # at or before the first sample, or after the last: outside the window, left out
    outside = detector.analyze(v, t, restarts=[t[0], t[0] - 60.0, t[-1] + 60.0])
    assert outside.evidence["lifetimes"]["count"] == 1


@pytest.mark.parametrize("restarts, match", [
    ([1.7e9, float("nan")], r"restarts: the time at position 1 is missing"),
    ([1.7e9, None], r"restarts: the time at position 1 is missing"),
    (float("nan"), r"restarts: the time at position 0 is missing"),
    (np.array([1.7e9, None], dtype=object), r"restarts: the time at position 1 is missing"),
    ([True], r"restarts: .*booleans"),
    (["soon"], r"restarts: "),
    ([[1.7e9, 1.7e9 + 60]], r"restarts: .*1-D"),
])
def test_bad_restart_times_name_the_series_and_the_position(restarts, match):
    t, v = partial_release()
    with pytest.raises(InputError, match=match) as err:
        detector.analyze(v, t, restarts=restarts, series_id="web-1")
    assert "web-1" in str(err.value)


def test_the_plot_draws_the_lifetimes_the_report_judged():
    from detector.analysis.trace import trace

    t, v, kills = loop_on_a_moving_background(1)
    series = detector.Series.from_arrays(v, t, id="loop")
    rep = detector.analyze(series, restarts=kills)
    tr = trace(series, rep)
    np.testing.assert_array_equal(tr.restarts, rep.evidence["lifetimes"]["restarts"])
    assert tr.lifetimes.shape[0] == rep.evidence["lifetimes"]["count"] == kills.size + 1
    # and a partial release the caller says was no restart stays inside one lifetime
    t, v = partial_release()
    series = detector.Series.from_arrays(v, t, id="release")
    rep = detector.analyze(series, restarts=[])
    tr = trace(series, rep)
    assert tr.lifetimes.shape[0] == 1 and tr.restarts.size == 0
    assert trace(series, detector.analyze(series)).lifetimes.shape[0] == 2


def test_restarts_at_the_edges_or_in_another_unit_are_left_out_and_said_so():
    rng = np.random.default_rng(4)
    t = 1.7e9 + 300.0 * np.arange(int(8 * DAY / 300.0))
    leak = 100.0 + 20.0 * (t - t[0]) / (8 * DAY) + rng.normal(0, 1.0, t.size)
    plain = detector.analyze(leak, t)
    assert plain.leak
    # a counter read at the window's end before memory shows the fall, and a restart
    # just as the window begins: lifetimes of a sample or two, not judged
    for at in (t[-1], t[-2], t[1]):
        rep = detector.analyze(leak, t, restarts=[at])
        lt = rep.evidence["lifetimes"]
        assert lt["count"] == 1 and rep.leak == plain.leak and rep.pattern == plain.pattern
        note = next(n for n in rep.evidence["notes"] if n.startswith("restarts given"))
        assert "1 within 3 samples of an end" in note
    rep = detector.analyze(leak, t, restarts=[t[3], t[-3]])  # 3 samples: judged
    assert rep.evidence["lifetimes"]["count"] == 3
    # times in seconds since the start, not unix seconds: every one outside, and said so
    rep = detector.analyze(leak, t, restarts=[3600.0, 7200.0])
    note = next(n for n in rep.evidence["notes"] if n.startswith("restarts given"))
    assert "2 of the 2 times given fall outside the samples (all: are they in the " \
           "samples' unit?)" in note


def test_a_restart_is_not_moved_to_a_scrape_dip_or_a_quantum():
    t, v = partial_release()
    drop_at = t[np.argmax(v[:-1] - v[1:]) + 1]
    # a one-sample dip deeper than the fall, two samples after it: the 3-point median
    # sees through it
    dipped = v.copy()
    k = int(np.searchsorted(t, drop_at))
    dipped[k + 2] -= 100.0  # (to 5: a negative value would be missing)
    rep = detector.analyze(dipped, t, restarts=[drop_at])
    assert rep.evidence["lifetimes"]["restarts"] == [drop_at]
    # memory that moves in whole units (a noise MAD of 0) along a daily wave of +-40:
    # where the wave falls, one unit at a time, no fall near a given time is a restart's,
    # and the time stays where it was given
    tq = 1.7e9 + 60.0 * np.arange(2 * 1440)
    q = np.floor(100 + 40 * np.sin(2 * np.pi * (tq - tq[0]) / DAY))
    step_down = 720 + int(np.flatnonzero(q[720:-1] - q[721:] > 0)[0]) + 1  # into it
    at = tq[step_down + 1] - 30.0  # a sample after a one-unit fall, between two samples
    rep = detector.analyze(q, tq, restarts=[at])
    assert rep.evidence["lifetimes"]["restarts"] == [at + 30.0]


@pytest.mark.parametrize("seed", range(4))
def test_under_a_gc_sawtooth_a_restart_stays_at_its_kill(seed):
    """A JVM heap at 1 s killed in a loop (tests/test_lookalikes.py): its collections
    fall every 40-100 s, as deep as a kill's, so a given restart is moved only within 2
    samples, not to a collection a minute away."""
    from test_lookalikes import jvm_restart_loop

    t, v, kills = jvm_restart_loop(seed)
    rep = detector.analyze(v, t, restarts=kills)
    placed = np.array(rep.evidence["lifetimes"]["restarts"])
    assert placed.size == kills.size
    assert np.max(np.abs(placed - kills)) <= 2.0


def test_under_a_gc_sawtooth_a_restart_is_not_moved_to_a_collection():
    """Collections every 60 s give back 0.5 GB; a kill gives back the 0.1 GB the live set
    grew by, too little to be a restart's fall on its own. A restart given at the kill
    stays there: it is not moved to a collection within two minutes of it."""
    rng = np.random.default_rng(0)
    t = 1.7e9 + np.arange(2 * 3600, dtype=float)
    kills = t[0] + np.array([1210.5, 2450.5, 3640.5, 4850.5, 6050.5])
    life = np.searchsorted(kills, t, side="right")
    starts = np.concatenate(([t[0]], kills))[life]
    v = 0.3e9 + 0.5e9 * ((t - t[0]) % 60.0) / 60.0 + 0.1e9 * (t - starts) / 1200.0 \
        + rng.normal(0, 2e6, t.size)
    rep = detector.analyze(v, t, restarts=kills)
    assert rep.evidence["lifetimes"]["gc_like_drops"] > 0
    placed = np.array(rep.evidence["lifetimes"]["restarts"])
    assert np.max(np.abs(placed - kills)) <= 1.0  # the first sample after each kill
