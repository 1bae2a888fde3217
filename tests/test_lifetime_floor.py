"""The floor of each lifetime: completed lifetimes are binned more coarsely than the
current one (``Config.completed_max_bins``), the trace draws the floors the pipeline
judged, and a lifetime sees the window's period only when it spans two of them."""

from __future__ import annotations

import numpy as np
import pytest

import detector
from detector import Config, Series
from detector.analysis import pipeline, trace
from detector.analysis.pipeline import lifetime_floor
from detector.analysis.regularise import bin_series
from detector.analysis.seasonality import Period
from detector.evaluate.synthetic import generate


def _loop(seed: int):
    """A week at 15 s of a restart loop: five or so lifetimes, each climbing to a kill."""
    return generate("restart_loop", seed=seed, interval=15.0, duration=40320 * 15.0)


def _judged_floors(monkeypatch, g, config=None):
    """(bounds, floor points) of every lifetime ``analyze`` judged, in the order judged."""
    seen = []
    judge_lifetime = pipeline.judge_lifetime

    def recording(floor, **kw):
        seen.append((kw["bounds"], floor))
        return judge_lifetime(floor, **kw)

    monkeypatch.setattr(pipeline, "judge_lifetime", recording)
    rep = detector.analyze(g.values, g.timestamps, limit=g.limit, config=config)
    return rep, seen


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_completed_lifetimes_are_binned_coarser_than_the_current(monkeypatch, seed):
    g = _loop(seed)
    rep, seen = _judged_floors(monkeypatch, g)
    assert rep.evidence["lifetimes"]["count"] >= 3
    *completed, (current_bounds, current) = seen
    assert completed and current_bounds[1] == pytest.approx(float(g.timestamps[-1]))
    cfg = Config()
    for (a, b), floor in completed:
        # a bin spans at least (b - a) / completed_max_bins seconds
        assert floor.y.size <= cfg.completed_max_bins
        assert floor.support >= (b - a) / cfg.completed_max_bins * (1 - 1e-9)
    # the current lifetime keeps the fine grid: more bins than any completed one may have
    assert current.support < (current_bounds[1] - current_bounds[0]) / cfg.completed_max_bins


def test_completed_bins_never_finer_than_max_bins(monkeypatch):
    g = _loop(2)
    cfg = Config(max_bins=100, completed_max_bins=180)
    _, seen = _judged_floors(monkeypatch, g, cfg)
    assert len(seen) >= 3
    for (a, b), floor in seen[:-1]:
        assert floor.y.size <= 100
        assert floor.support >= (b - a) / 100 * (1 - 1e-9)


def test_the_trace_draws_the_floors_the_pipeline_judged(monkeypatch):
    g = _loop(1)
    rep, seen = _judged_floors(monkeypatch, g)
    series = Series.from_arrays(g.values, g.timestamps, id="loop")
    tr = trace.trace(series, rep)
    judged_t = np.concatenate([fl.t for _, fl in seen])
    judged_y = np.concatenate([fl.y for _, fl in seen])
    np.testing.assert_array_equal(tr.floor_t, judged_t)
    np.testing.assert_array_equal(tr.floor_y, judged_y)


def test_completed_max_bins_is_checked():
    with pytest.raises(ValueError, match="completed_max_bins must be >= 16"):
        Config(completed_max_bins=8)
    with pytest.raises(ValueError, match="completed_max_bins must be an integer"):
        Config(completed_max_bins=100.5)


def test_a_lifetime_sees_the_period_when_it_spans_two_of_them():
    # a daily load over three weeks at 5 min; the current lifetime's bins are 840 s wide
    # (a week in 720 bins), so the day is 103 of them
    t = 1.7e9 + np.arange(0, 21 * 86400, 300.0)
    v = 5e8 + 1e8 * np.sin(2 * np.pi * (t - t[0]) / 86400)
    series = Series.from_arrays(v, t, id="daily")
    cfg = Config()
    day = Period(86400.0, 103, 0.9, calendar=True)
    width = 840.0
    # three days, completed (180 bins of 1,440 s): it spans two days, so it sees the day,
    # counted in its own bins; 103 bins of 1,440 s would be 1.7 days, more than half of it
    a = float(t[0])
    bins, period, floor = lifetime_floor(series, (a, a + 3 * 86400), cfg, day, width, None,
                                         completed=True)
    assert period is not None and period.seconds == 86400.0
    assert period.bins == round(86400.0 / bins.width)
    assert floor.y.size >= 3
    # exactly two days: the day fits twice (the old test, 103 bins of the current grid
    # times this lifetime's 960 s bins, said it did not)
    _, period, _ = lifetime_floor(series, (a, a + 2 * 86400), cfg, day, width, None,
                                  completed=True)
    assert period is not None
    # 2.7 days: 180 bins would be 1,296 s wide, 66.7 to a day; a calendar period re-bins
    # the lifetime to a whole number of bins a day, as the current lifetime is
    bins, period, _ = lifetime_floor(series, (a, a + 2.7 * 86400), cfg, day, width, None,
                                     completed=True)
    assert period.bins == 67
    assert bins.width * period.bins == pytest.approx(86400.0, rel=1e-12)
    # a day and a half does not span two of them
    _, period, _ = lifetime_floor(series, (a, a + 1.5 * 86400), cfg, day, width, None,
                                  completed=True)
    assert period is None


def test_the_current_lifetime_keeps_its_own_bins():
    t = 1.7e9 + np.arange(0, 7 * 86400, 60.0)
    v = 5e8 + 100.0 * (t - t[0])
    series = Series.from_arrays(v, t, id="ramp")
    cfg = Config()
    bounds = (float(t[0]), float(t[-1]))
    bins = bin_series(series, cfg.max_bins, *bounds)
    got, period, floor = lifetime_floor(series, bounds, cfg, None, bins.width, None,
                                        completed=False, bins=bins)
    assert got is bins and period is None
    coarse, _, _ = lifetime_floor(series, bounds, cfg, None, bins.width, None, completed=True)
    assert len(coarse) == cfg.completed_max_bins and len(bins) == cfg.max_bins


def test_the_level_to_exceed_is_read_on_the_current_grid(monkeypatch):
    """The last healthy completed lifetime sets the level the current one must exceed
    (``reference_high``, the 90th percentile of its floor). The current floor is on the
    fine grid, and a floor of wider bins sits lower, so the level is read on the fine
    grid too, not on the coarse floor the completed lifetime was judged on."""
    g = generate("scheduled_restarts", seed=6, interval=15.0, duration=40320 * 15.0)
    calls = []
    judge_lifetime = pipeline.judge_lifetime

    def recording(floor, **kw):
        calls.append((kw["bounds"], floor, kw.get("reference_high")))
        return judge_lifetime(floor, **kw)

    monkeypatch.setattr(pipeline, "judge_lifetime", recording)
    detector.analyze(g.values, g.timestamps, limit=g.limit)
    *completed, (_, _, reference) = calls
    assert reference is not None
    series = Series.from_arrays(g.values, g.timestamps, id="restarts")
    cfg = Config()
    current_bins = bin_series(series, cfg.max_bins, *calls[-1][0])
    fine = {b: float(np.percentile(lifetime_floor(series, b, cfg, None, current_bins.width,
                                                  None, completed=False)[2].y, 90))
            for b, _, _ in completed}
    coarse = {b: float(np.percentile(fl.y, 90)) for b, fl, _ in completed}
    match = [b for b in fine if fine[b] == reference]
    assert match, "the level is none of the completed lifetimes' fine floors"
    assert coarse[match[-1]] < reference
