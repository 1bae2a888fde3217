"""Trace: the picture of a verdict, against independent references and the pipeline's evidence."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import detector
from detector.analysis.pipeline import MAX_JUDGED_LIFETIMES
from detector.analysis.trace import Trace, trace
from detector.config import Config
from detector.evaluate.synthetic import SCHEDULE, generate
from detector.series import Series
from detector.sources.files import FileSource


def columns_reference(t, v, centres):
    """Min and max of the samples in each column, by pandas (the columns' edges from the centres)."""
    width = centres[1] - centres[0] if centres.size > 1 else 1.0
    start = centres[0] - width / 2
    idx = np.floor((t - start) / width).astype(np.int64)
    idx = np.clip(idx, 0, centres.size - 1)
    frame = pd.DataFrame({"i": idx, "v": v}).dropna()
    g = frame.groupby("i")["v"]
    lo = np.full(centres.size, np.nan)
    hi = np.full(centres.size, np.nan)
    lo[g.min().index] = g.min().to_numpy()
    hi[g.max().index] = g.max().to_numpy()
    return lo, hi


def random_series(rng, n, *, nan_frac=0.0, ties=False, constant=False):
    # sampling jitter keeps every sample clear of the columns' edges, where the test's
    # edges (rebuilt from the centres) and the binning's may round apart
    t = 1.7e9 + np.cumsum(rng.choice([15.0, 15.0, 15.0, 30.0], n)) + rng.uniform(0.1, 0.9, n)
    v = rng.normal(1e9, 1e7, n)
    if ties:
        v = np.round(v / 1e7) * 1e7
    if constant:
        v[:] = 5e8
    v[rng.random(n) < nan_frac] = np.nan
    return t, v


@pytest.mark.parametrize("case", ["plain", "nan", "ties", "constant", "tiny", "long"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_columns_are_min_and_max_of_the_samples(case, seed):
    rng = np.random.default_rng(seed)
    n = {"tiny": 5, "long": 50_000}.get(case, 3000)
    t, v = random_series(rng, n, nan_frac=0.2 if case == "nan" else 0.0,
                         ties=case == "ties", constant=case == "constant")
    s = Series.from_arrays(v, t, id="x")
    tr = trace(s, {"verdict": "insufficient_data"}, columns=400)
    assert tr.t.size <= 400
    lo, hi = columns_reference(s.timestamps, s.values, tr.t)
    np.testing.assert_array_equal(np.isnan(tr.lo), np.isnan(lo))
    np.testing.assert_array_equal(tr.lo[~np.isnan(lo)], lo[~np.isnan(lo)])
    np.testing.assert_array_equal(tr.hi[~np.isnan(hi)], hi[~np.isnan(hi)])


def test_a_single_sample_spike_survives_the_reduction():
    rng = np.random.default_rng(5)
    t = 1.7e9 + 15.0 * np.arange(200_000)
    v = rng.normal(1e9, 1e6, t.size)
    v[123_457] = 3e9
    v[7] = 1e8
    tr = trace(Series.from_arrays(v, t, id="spiky"), {"verdict": "insufficient_data"},
               columns=800)
    assert tr.t.size == 800  # 250 samples per column
    assert np.nanmax(tr.hi) == 3e9 and np.nanmin(tr.lo) == 1e8
    col = int(np.argmax(tr.hi))
    width = tr.t[1] - tr.t[0]
    assert abs(tr.t[col] - t[123_457]) <= width / 2 + 1e-6


def _demo():
    from detector.cli import _demo_files

    path, limits = _demo_files()
    return list(FileSource([path])), limits


def reduced_count(n, max_points=400):
    """How many points the regime judge keeps of n floor points (it averages them down)."""
    if n <= max_points:
        return n
    return n // math.ceil(n / max_points)


@pytest.fixture(scope="module")
def demo_traces():
    series, limits = _demo()
    out = []
    for s in series:
        rep = detector.analyze(s, limit=limits.get(s.id))
        out.append((s, rep, trace(s, rep)))
    return out


def test_the_trace_matches_what_the_pipeline_judged(demo_traces):
    for s, rep, tr in demo_traces:
        ev = rep.evidence
        assert isinstance(tr, Trace)
        assert tr.series == s.id
        # the floor of the latest lifetime is the one judged
        current = tr.floor_lifetime == tr.lifetimes.shape[0] - 1
        assert reduced_count(int(current.sum())) == ev["regime"]["floor_points"], s.id
        assert tr.floor_method == ev["floor_method"], s.id
        assert tr.lifetimes.shape[0] == ev["lifetimes"]["count"]
        np.testing.assert_array_equal(tr.restarts, ev["lifetimes"]["restarts"])
        np.testing.assert_array_equal(tr.changepoints, rep.changepoints)
        assert tr.period == rep.period
        # floor points lie inside their lifetimes and within the samples' range
        for k, (a, b) in enumerate(tr.lifetimes):
            sel = tr.floor_lifetime == k
            assert np.all((tr.floor_t[sel] >= a - 86400) & (tr.floor_t[sel] <= b + 86400))
        assert np.all(tr.floor_y >= np.nanmin(s.values) - 1e-6 * abs(np.nanmin(s.values))
                      - np.nanstd(s.values))
        if rep.leak:
            assert tr.onset == rep.onset
            assert tr.trend_slope == rep.slope
            assert tr.trend_start is not None and tr.trend_start <= tr.trend_end


def _floors_the_pipeline_used(series, limit, monkeypatch):
    """The Floor of every lifetime as the pipeline judged it (recorded as it runs; the
    pipeline also makes a fine floor of one completed lifetime for the level the current
    one must exceed, which is not a judged floor)."""
    import detector.analysis.pipeline as pipeline

    seen = []
    real = pipeline.judge_lifetime

    def recording(floor, **kwargs):
        seen.append(floor)
        return real(floor, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(pipeline, "judge_lifetime", recording)
        rep = detector.analyze(series, limit=limit)
    return rep, seen


@pytest.mark.parametrize("pattern", ["periodic", "periodic_growth", "gc_floor_growth",
                                     "restart_loop", "gc_sawtooth", "scheduled_restarts",
                                     "warmup", "linear_growth"])
@pytest.mark.parametrize("days", [3.0, 3.3, 9.7])
def test_the_floor_is_the_one_the_pipeline_judged(pattern, days, monkeypatch):
    """Odd durations make the day-aligned re-binning of the pipeline matter."""
    g = generate(pattern, seed=int(days * 10), interval=60.0, duration=days * 86400.0)
    series = Series.from_arrays(g.values, g.timestamps, id=pattern)
    rep, floors = _floors_the_pipeline_used(series, g.limit, monkeypatch)
    if rep.verdict == "insufficient_data":
        return
    tr = trace(series, rep)
    # the current lifetime and at most MAX_JUDGED_LIFETIMES completed ones before it
    n_lives = tr.lifetimes.shape[0]
    assert len(floors) == min(n_lives, MAX_JUDGED_LIFETIMES + 1)
    first = n_lives - len(floors)
    assert not np.any(tr.floor_lifetime < first)  # older lifetimes are not drawn
    for k, fl in enumerate(floors, start=first):
        sel = tr.floor_lifetime == k
        np.testing.assert_array_equal(tr.floor_t[sel], fl.t)
        np.testing.assert_array_equal(tr.floor_y[sel], fl.y)
    assert tr.floor_method == floors[-1].method


def test_the_trend_is_the_theil_sen_line_of_the_floor(demo_traces):
    """An independent fit (scipy's theilslopes) of the traced floor in the trend's stretch
    lies inside the trend's interval, for every leak growing in one lifetime."""
    checked = 0
    for s, rep, tr in demo_traces:
        if not rep.leak or tr.lifetimes.shape[0] > 1:
            continue
        sel = (tr.floor_t >= tr.trend_start) & (tr.floor_t <= tr.trend_end)
        slope, intercept, lo, hi = stats.theilslopes(tr.floor_y[sel], tr.floor_t[sel])
        a, b = tr.trend_slope_interval
        width = b - a
        assert a - width <= slope <= b + width, (s.id, slope, tr.trend_slope_interval)
        t_m, y_m = tr.trend_pivot
        assert t_m == np.median(tr.floor_t[sel]) and y_m == np.median(tr.floor_y[sel])
        checked += 1
    assert checked >= 5


def test_a_weighed_regime_without_a_leak_draws_its_slope_on_its_own_stretch():
    """A flat floor that sags and climbs back (a recovery, no leak): the report has no
    onset, but its slope is that of the climb back, so the trend is drawn from the
    climb's onset (``evidence.regime.onset``), not across the window, and an
    independent Theil-Sen fit of the floor there lies inside its interval."""
    rng = np.random.default_rng(3)
    interval = 300.0
    n = int(3 * 86400 / interval)
    t = 1.7e9 + interval * np.arange(n)
    v = 100 + rng.normal(0, 0.5, n)
    dip, fall = int(0.75 * n), 24
    v[dip:dip + fall] = 100 - 12 * np.linspace(0, 1, fall) + rng.normal(0, 0.5, fall)
    rest = n - dip - fall
    v[dip + fall:] = 88 + 12.4 * np.linspace(0, 1, rest) + rng.normal(0, 0.5, rest)
    rep = detector.analyze(v, t)
    assert not rep.leak and rep.onset is None
    onset = rep.evidence["regime"]["onset"]
    assert t[dip] < onset < t[-1]
    tr = trace(Series.from_arrays(v, t, id="sag"), rep)
    assert tr.trend_start == onset
    sel = (tr.floor_t >= tr.trend_start) & (tr.floor_t <= tr.trend_end)
    slope = stats.theilslopes(tr.floor_y[sel], tr.floor_t[sel])[0]
    a, b = tr.trend_slope_interval
    assert a - (b - a) <= slope <= b + (b - a), (slope, (a, b))


def test_projection_reaches_the_limit_when_the_report_says(demo_traces):
    n = 0
    for s, rep, tr in demo_traces:
        if rep.time_to_limit is None:
            assert tr.limit_at is None
            continue
        t0, y0 = tr.projection
        assert t0 == s.timestamps[np.isfinite(s.values)][-1]
        assert tr.limit_at == pytest.approx(t0 + rep.time_to_limit)
        # the start of the projection is a level the series really reached recently
        recent = s.values[s.timestamps >= t0 - 0.1 * (t0 - tr.lifetimes[-1][0])]
        assert np.nanmin(recent) <= y0 <= np.nanmax(recent) * (1 + 1e-12)
        early, late = tr.limit_at_interval
        assert early <= tr.limit_at <= (late if late is not None else math.inf)
        n += 1
    assert n >= 4


def test_restart_loop_limit_is_revealed_without_a_given_limit():
    s = generate("restart_loop", seed=3, interval=60.0, duration=4 * 86400.0)
    series = Series.from_arrays(s.values, s.timestamps, id="loop")
    rep = detector.analyze(series)
    assert rep.pattern == "restart_loop"
    tr = trace(series, rep.to_dict())
    assert tr.limit_revealed and tr.limit == rep.evidence["revealed_limit"]
    assert tr.restarts.size >= 2 and tr.lifetimes.shape == (tr.restarts.size + 1, 2)
    # the trend is drawn over the latest lifetime only
    assert tr.trend_start >= tr.lifetimes[-1][0]


@pytest.mark.parametrize("pattern", sorted(set(SCHEDULE)))
def test_every_pattern_traces_from_its_json_report(pattern):
    g = generate(pattern, seed=11, interval=60.0, duration=3 * 86400.0)
    series = Series.from_arrays(g.values, g.timestamps, id=pattern)
    rep = detector.analyze(series, limit=g.limit)
    tr = trace(series, rep.to_dict(), Config())
    assert tr.t.size > 0 and tr.floor_t.size == tr.floor_y.size == tr.floor_lifetime.size
    assert np.all(np.isfinite(tr.floor_y))


def test_evidence_is_read_defensively():
    g = generate("linear_growth", seed=1, interval=60.0, duration=3 * 86400.0)
    series = Series.from_arrays(g.values, g.timestamps, id="x")
    fields = detector.analyze(series).to_dict()
    fields["evidence"] = {"slope_interval": "?", "time_to_limit_interval": [None],
                          "limit": "a lot", "growth_end": [1, 2]}
    fields["time_to_limit"] = 3600.0
    tr = trace(series, fields)
    assert tr.limit is None and tr.limit_at is None
    assert math.isnan(tr.trend_slope_interval[0])
    fields["evidence"] = None
    assert trace(series, fields).trend_slope == fields["slope"]
