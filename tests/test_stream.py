"""OnlineDetector: the batch verdict on the same buffer, durable state, events, bounds."""

import numpy as np
import pytest

import detector
from detector import InputError
from detector.evaluate.synthetic import generate_dataset
from detector.stream import STATE_VERSION, OnlineDetector, OnlineFleet


def feed(det, t, v):
    events = []
    for a, b in zip(t.tolist(), v.tolist()):
        events += det.update(a, b)
    return events


def test_replayed_reports_agree_with_batch():
    """Sample by sample, the final verdict equals analyze on the same buffer."""
    data = generate_dataset(34, seed=11)
    agree = 0
    for s in data:
        det = OnlineDetector(limit=s.limit, history=30 * 86400, max_samples=100_000,
                             series_id=s.id)
        feed(det, s.timestamps, s.values)
        batch = detector.analyze(s.values, s.timestamps, limit=s.limit)
        agree += det.report.leak == batch.leak
        assert det.report.leak == batch.leak  # the buffer holds the whole series here
    assert agree == len(data)


def test_short_history_still_mostly_agrees():
    data = generate_dataset(34, seed=12)
    agree = 0
    for s in data:
        det = OnlineDetector(limit=s.limit, history=3 * 86400, series_id=s.id)
        det.update_many(s.timestamps, s.values)
        # the buffer holds only the last 3 days: compare with analyze on that stretch
        keep = s.timestamps >= s.timestamps[-1] - 3 * 86400
        agree += det.report.leak == detector.analyze(s.values[keep], s.timestamps[keep],
                                                     limit=s.limit).leak
    assert agree == len(data)


def test_out_of_order_and_duplicates_as_the_batch_path():
    rng = np.random.default_rng(0)
    t = 1.7e9 + np.arange(0, 2 * 86400, 60.0)
    v = 5e8 + (t - t[0]) * 3e3 + rng.normal(0, 1e6, t.size)
    order = rng.permutation(t.size)
    dup = rng.choice(t.size, 100)
    tt = np.r_[t[order], t[dup]]
    vv = np.r_[v[order], v[dup] + 1.0]
    det = OnlineDetector(history=30 * 86400)
    det.update_many(tt, vv)
    batch = detector.Series.from_arrays(vv, tt)
    np.testing.assert_array_equal(det.timestamps, batch.timestamps)
    np.testing.assert_array_equal(det.values, batch.values)
    assert det.report.slope == pytest.approx(detector.analyze(vv, tt).slope)


def test_state_round_trip_mid_stream():
    s = generate_dataset(17, seed=3)[4]  # a late-onset leak
    half = s.timestamps.size // 2
    a = OnlineDetector(limit=s.limit, series_id=s.id)
    ev_a = feed(a, s.timestamps[:half], s.values[:half])
    b = OnlineDetector.from_state(a.to_state())
    ev_a += feed(a, s.timestamps[half:], s.values[half:])
    ev_b = feed(b, s.timestamps[half:], s.values[half:])
    assert a.report == b.report
    assert [e.kind for e in ev_a[len(ev_a) - len(ev_b):]] == [e.kind for e in ev_b]
    assert a.to_state() == b.to_state()


def test_state_errors():
    state = OnlineDetector().to_state()
    bumped = state[:7] + (STATE_VERSION + 1).to_bytes(2, "little") + state[9:]
    with pytest.raises(InputError, match="unknown detector state version 2"):
        OnlineDetector.from_state(bumped)
    with pytest.raises(InputError, match="bad magic"):
        OnlineDetector.from_state(b"pickle...")
    with pytest.raises(InputError, match="truncated"):
        det = OnlineDetector()
        det.update_many(np.arange(100.0), np.ones(100))
        OnlineDetector.from_state(det.to_state()[:-8])


def _with_meta(state: bytes, change) -> bytes:
    """``state`` with its JSON header edited by ``change(dict)``."""
    import json
    import struct

    head = 7
    version, length = struct.unpack_from("<HI", state, head)
    meta = json.loads(state[head + 6:head + 6 + length])
    change(meta)
    body = json.dumps(meta).encode()
    return state[:head] + struct.pack("<HI", version, len(body)) + body + \
        state[head + 6 + length:]


def _with_config(state: bytes, change) -> bytes:
    """``state`` with its saved thresholds edited by ``change(dict)``."""
    return _with_meta(state, lambda meta: change(meta["config"]))


def test_state_thresholds_from_other_versions():
    """A state written before a threshold existed restores it at its default; one written
    by a newer detector with a threshold this one does not know restores without it; a
    threshold out of range is an InputError naming it."""
    det = OnlineDetector(series_id="web-1")
    det.update_many(1.7e9 + np.arange(0, 3600.0, 15.0), np.linspace(5e8, 6e8, 240))
    state = det.to_state()
    older = OnlineDetector.from_state(
        _with_config(state, lambda c: c.pop("completed_max_bins")))
    assert older.config == det.config and older.report == det.report
    newer = OnlineDetector.from_state(
        _with_config(state, lambda c: c.update(a_threshold_from_the_future=1.0)))
    assert newer.config == det.config and len(newer) == len(det)
    with pytest.raises(InputError, match="bad threshold: Config.max_bins must be >= 16"):
        OnlineDetector.from_state(_with_config(state, lambda c: c.update(max_bins=3)))
    meta_only = _with_config(state, lambda c: c.clear())
    assert OnlineDetector.from_state(meta_only).config == det.config  # every default
    with pytest.raises(InputError, match="corrupt detector state"):
        OnlineDetector.from_state(_with_meta(state, lambda m: m.update(config=[1, 2])))


def test_events_with_hysteresis():
    """A leak that is fixed: one start event, one stop event, nothing in between."""
    rng = np.random.default_rng(1)
    t = 1.7e9 + np.arange(0, 10 * 86400, 60.0)
    x = t - t[0]
    v = 5e8 + np.where(x < 3 * 86400, x * 3e3, 0.0) + rng.normal(0, 2e6, t.size)
    det = OnlineDetector(history=4 * 86400)
    kinds = [e.kind for e in feed(det, t, v)]
    assert kinds == ["leak_started", "leak_stopped"]
    assert not det.leaking and not det.report.leak


def test_memory_is_bounded():
    det = OnlineDetector(history=3600, max_samples=500)
    t = np.arange(0, 20_000, 1.0)
    det.update_many(t, np.ones(t.size))
    assert len(det) <= 500 and det.timestamps[0] >= t[-1] - 3600
    assert det._t.shape[0] <= max(1024, 2 * 500 + 2)


def test_band_alert_in_streaming_form():
    det = OnlineDetector(band_window=240)  # an hour at 15 s
    t = np.arange(0, 3600 * 3, 15.0)
    v = np.ones(t.size) * 100 + np.random.default_rng(2).normal(0, 1, t.size)
    det.update_many(t, v)
    assert not det.band_alert
    det.update_many(t[-1] + 15 * np.arange(1, 40), np.full(39, 200.0))
    assert det.band_alert


def test_fleet_and_bad_input():
    fleet = OnlineFleet(max_series=2, history=86400)
    fleet.update("a", 1.0, 1.0)
    fleet.update("b", 1.0, 1.0)
    with pytest.raises(InputError, match="fleet holds 2 series"):
        fleet.update("c", 1.0, 1.0)
    with pytest.raises(InputError, match="timestamp must be finite"):
        fleet.update("a", float("nan"), 1.0)
    with pytest.raises(ValueError, match="history"):
        OnlineDetector(history=0)
    assert fleet.leaking() == []
    # restarts noted per series, through the same cap
    fleet.note_restarts("a", [0.5])
    assert fleet.detectors["a"]._restarts == [0.5] and fleet.detectors["b"]._restarts is None
    with pytest.raises(InputError, match="fleet holds 2 series"):
        fleet.note_restarts("c")


def test_catch_up_judges_once_after_the_batch():
    # a daily load: replayed sample by sample, the first rising half-day looks like growth
    # along the way; taken as one batch, only the state after it counts
    t = 1.7e9 + np.arange(0, 2 * 86400, 60.0)
    v = 4e8 + 1e8 * np.sin(2 * np.pi * (t - t[0]) / 86400) + \
        np.random.default_rng(5).normal(0, 2e6, t.size)
    replayed = OnlineDetector(cadence=3600.0)
    assert [e.kind for e in replayed.update_many(t, v)] == ["leak_started", "leak_stopped"]
    batch = OnlineDetector(cadence=3600.0)
    events = batch.catch_up(t, v)
    assert events == []  # the state after the batch is no leak: nothing to announce
    assert batch.report.to_dict() == detector.analyze(v, t).to_dict()
    assert batch.leaking == detector.analyze(v, t).leak
    # an empty batch does nothing; a later batch inside the cadence runs nothing
    assert batch.catch_up([], []) == []
    more = t[-1] + 60.0 * np.arange(1, 10)
    assert batch.catch_up(more, np.full(more.size, 4e8)) == []
    assert len(batch) == t.size + more.size
    with pytest.raises(InputError, match="equal length"):
        batch.catch_up([1.0, 2.0], [1.0])


# -- the event sequence against a naive reference: the documented semantics written plainly
#    (a sorted list as the buffer, the batch pipeline at every cadence step)

def reference_events(batches, *, history, max_samples, cadence, clear_score=0.3,
                     catch_up=False):
    """Events of an OnlineDetector fed ``batches`` of (t, v): one sample at a time
    (``update``), or one ``catch_up`` per batch."""
    import bisect
    import math

    keys, vals = [], []
    last_run, leaking, events = -math.inf, False, []

    def take(t, v):
        v = v if math.isfinite(v) else math.nan
        i = bisect.bisect_left(keys, t)
        if i < len(keys) and keys[i] == t:
            vals[i] = v  # a duplicate time keeps the last value
        else:
            keys.insert(i, t)
            vals.insert(i, v)
        while keys[0] < keys[-1] - history:
            del keys[0], vals[0]
        while len(keys) > max_samples:
            del keys[0], vals[0]

    def run(now):
        nonlocal last_run, leaking
        last_run = now
        rep = detector.analyze(np.array(vals), np.array(keys))
        if not leaking and rep.leak:
            leaking = True
            events.append(("leak_started", now, rep.score, rep.pattern))
        elif leaking and not rep.leak and rep.score < clear_score:
            leaking = False
            events.append(("leak_stopped", now, rep.score, rep.pattern))

    for ts, vs in batches:
        for t, v in zip(ts.tolist(), vs.tolist()):
            take(t, v)
            if not catch_up and t - last_run >= cadence:
                run(t)
        if catch_up and keys[-1] - last_run >= cadence:
            run(keys[-1])
    return events, keys, vals


def stream_input(step, days, seed, disorder):
    """A leak that starts on day 1 and is fixed on day 2 (plus noise), in polls of 7
    samples; with ``disorder``, some polls arrive shuffled, repeat samples and hold
    NaN or inf values."""
    rng = np.random.default_rng(seed)
    t = 1.7e9 + np.arange(0, days * 86400, step)
    x = t - t[0]
    v = 5e8 + np.clip(x - 86400, 0, 86400) * 2e3 * (x < 2 * 86400) + rng.normal(0, 2e6, t.size)
    batches = []
    for a in range(0, t.size, 7):
        bt, bv = t[a:a + 7].copy(), v[a:a + 7].copy()
        if disorder and rng.random() < 0.2:
            order = rng.permutation(bt.size)
            bt, bv = bt[order], bv[order]
        if disorder and rng.random() < 0.1:
            bt, bv = np.r_[bt, bt[:2]], np.r_[bv, bv[:2] + 1.0]
        if disorder and rng.random() < 0.1:
            bv[rng.integers(0, bv.size)] = rng.choice([np.nan, np.inf])
        batches.append((bt, bv))
    return batches


@pytest.mark.parametrize("step,days,disorder", [(300.0, 4, False), (300.0, 4, True),
                                                (60.0, 3, True)])
@pytest.mark.parametrize("mode", ["update", "catch_up"])
def test_events_equal_the_naive_reference(step, days, disorder, mode):
    """Sample by sample (update) or poll by poll (catch_up), with the buffer's history
    and sample cap both biting: the same events (kind, time, score, pattern) and the same
    buffer as the plain reference."""
    batches = stream_input(step, days, int(step) + days, disorder)
    kw = dict(history=1.5 * 86400, max_samples=700 if step == 300.0 else 2000,
              cadence=3600.0)
    want, keys, vals = reference_events(batches, catch_up=mode == "catch_up", **kw)
    det = OnlineDetector(**kw)
    got = []
    for ts, vs in batches:
        got += det.update_many(ts, vs) if mode == "update" else det.catch_up(ts, vs)
    assert [(e.kind, e.timestamp, e.score, e.pattern) for e in got] == want
    assert {e.kind for e in got} == {"leak_started", "leak_stopped"}  # the test bites
    assert det.timestamps.tolist() == keys
    np.testing.assert_array_equal(det.values, np.array(vals))


def test_catch_up_in_bulk_equals_sample_by_sample():
    """catch_up copies an in-order poll into the buffer in one go (in chunks when it is
    longer than the sample cap): the state is the one sample-by-sample intake leaves,
    band included."""
    rng = np.random.default_rng(3)
    t = 1.7e9 + np.arange(0, 3 * 86400, 60.0)
    v = 5e8 + rng.normal(0, 2e6, t.size)
    v[rng.integers(0, t.size, 30)] = np.nan
    v[rng.integers(0, t.size, 5)] = np.inf
    for kw in (dict(), dict(history=86400.0, max_samples=500)):
        bulk = OnlineDetector(cadence=1e12, **kw)
        single = OnlineDetector(cadence=1e12, **kw)
        for a in (0, 1, 1500, 1501, 4000):
            b = {0: 1, 1: 1500, 1500: 1501, 1501: 4000, 4000: t.size}[a]
            bulk.catch_up(t[a:b], v[a:b])
            for x, y in zip(t[a:b].tolist(), v[a:b].tolist()):
                single._take(x, y)
        single._last_run = bulk._last_run
        assert bulk.to_state() == single.to_state()
        assert bulk._band_hits == single._band_hits
    with pytest.raises(InputError, match="timestamp must be finite, got nan"):
        bulk.catch_up([t[-1] + 60.0, np.nan, t[-1] + 180.0], [1.0, 2.0, 3.0])
    assert bulk.timestamps[-1] == t[-1] + 60.0  # what came before the bad one is taken


def test_a_stream_judges_with_the_restarts_it_is_told_of():
    import json
    import struct

    from test_given_restarts import DAY, loop_on_a_moving_background

    t, v, kills = loop_on_a_moving_background(1)
    blind, told = OnlineDetector(series_id="a"), OnlineDetector(series_id="b")
    told.note_restarts()  # known from the start: restarts only where noted
    for k in range(0, t.size, 500):
        blind.catch_up(t[k:k + 500], v[k:k + 500])
        told.note_restarts(kills[(kills > t[k]) & (kills <= t[min(k + 500, t.size) - 1])])
        told.catch_up(t[k:k + 500], v[k:k + 500])
    assert blind.report.evidence["lifetimes"]["restarts_from"] == "drops"
    assert blind.report.pattern != "restart_loop"
    rep = told.report
    assert rep.evidence["lifetimes"]["restarts_from"] == "given"
    assert rep.pattern == "restart_loop" and told.leaking
    # the state keeps them; one written before restarts existed restores without
    back = OnlineDetector.from_state(told.to_state())
    assert back._restarts == told._restarts and back.report.pattern == "restart_loop"
    state = blind.to_state()
    head = len(b"DTSTATE")
    version, length = struct.unpack_from("<HI", state, head)
    meta = json.loads(state[head + 6:head + 6 + length])
    assert meta["restarts"] is None
    for restarts, ok in ((None, True), ([1.0, "x"], False), (5, False), ([True], False)):
        if restarts is None:
            del meta["restarts"]
        else:
            meta["restarts"] = restarts
        body = json.dumps(meta).encode()
        forged = state[:head] + struct.pack("<HI", version, len(body)) + body \
            + state[head + 6 + length:]
        if ok:
            assert OnlineDetector.from_state(forged)._restarts is None
        else:
            with pytest.raises(InputError, match="corrupt detector state"):
                OnlineDetector.from_state(forged)
    with pytest.raises(InputError, match="finite"):
        told.note_restarts([float("nan")])
    # restarts older than the buffer are let go as it moves on
    short = OnlineDetector(history=2 * DAY)
    short.note_restarts(kills)
    short.catch_up(t, v)
    short.report
    assert short._restarts == [k for k in kills.tolist() if k > t[-1] - 2 * DAY]
