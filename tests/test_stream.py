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
