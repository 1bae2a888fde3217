"""Metric functions against hand-computed cases."""

import math

import numpy as np
import pytest

from detector.evaluate import metrics


def test_confusion_and_rates():
    c = metrics.confusion([1, 1, 1, 0, 0, 0, 0], [1, 1, 0, 1, 0, 0, 0])
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 1, 1, 3)
    assert c.precision == pytest.approx(2 / 3) and c.recall == pytest.approx(2 / 3)
    assert c.f1 == pytest.approx(2 / 3) and c.fpr == pytest.approx(1 / 4)
    empty = metrics.confusion([0, 0], [0, 0])
    assert empty.precision == 1.0 and math.isnan(empty.recall) and empty.fpr == 0.0
    with pytest.raises(ValueError, match="differ in length"):
        metrics.confusion([1], [1, 0])


def test_onset_error_and_median():
    assert metrics.onset_error(100.0, 130.0, 300.0) == pytest.approx(0.1)
    assert metrics.onset_error(None, 1.0, 10.0) is None
    assert metrics.median_or_nan([0.3, None, 0.1, 0.2]) == pytest.approx(0.2)
    assert math.isnan(metrics.median_or_nan([None]))


def test_replay_delay_finds_the_first_flagged_prefix():
    t = np.arange(0.0, 1001.0, 10.0)  # 0 .. 1000 s
    v = np.where(t >= 400, t - 400, 0.0)
    # a detector that flags once the value exceeds 150
    delay = metrics.replay_delay(lambda tt, vv: vv.max() > 150, t, v, onset=400.0,
                                 checkpoints=6)
    # prefixes end at 500, 600, 700, ...: the value first exceeds 150 at 600 (200)
    assert delay == pytest.approx(200.0)
    assert metrics.replay_delay(lambda tt, vv: False, t, v, onset=400.0) is None


def scaled_sigmoid(y):
    return 2 / (1 + math.exp(5 * y)) - 1


def test_nab_score_by_hand():
    """Ten points, a window over points 3..5, alarms at 4 (inside) and 8 (after)."""
    t = np.arange(10.0)
    alarms = np.zeros(10, bool)
    alarms[[4, 8]] = True
    raw, n = metrics.nab_raw_score(t, alarms, [(3.0, 5.0)])
    # inside: position -(5 - 4 + 1) / 3, scaled by tpWeight / scaled_sigmoid(-1)
    tp = scaled_sigmoid(-2 / 3) / scaled_sigmoid(-1.0)
    # after: position |5 - 8| / (3 - 1) = 1.5, weighted by fpWeight 0.11
    fp = 0.11 * scaled_sigmoid(1.5)
    assert n == 1
    assert raw == pytest.approx(tp + fp, abs=1e-12)
    assert raw == pytest.approx(0.943742 - 0.109878, abs=1e-5)
    assert metrics.nab_normalised([raw], [n]) == pytest.approx(100 * (raw + 1) / 2)


def test_nab_missed_window_probation_and_first_alarm_only():
    t = np.arange(20.0)
    # no alarm: the window counts -fnWeight
    assert metrics.nab_raw_score(t, np.zeros(20, bool), [(10.0, 12.0)]) == (-1.0, 1)
    # two alarms in the window: only the better (earlier) counts
    a = np.zeros(20, bool)
    a[[10, 12]] = True
    raw, _ = metrics.nab_raw_score(t, a, [(10.0, 12.0)])
    assert raw == pytest.approx(scaled_sigmoid(-1.0) / scaled_sigmoid(-1.0))
    # an alarm in the probationary period (first 3 of 20 points) is not scored
    a = np.zeros(20, bool)
    a[1] = True
    assert metrics.nab_raw_score(t, a, []) == (0.0, 0)
    # a false alarm before any window scores -fpWeight
    a = np.zeros(20, bool)
    a[5] = True
    assert metrics.nab_raw_score(t, a, [(15.0, 16.0)])[0] == pytest.approx(-0.11 - 1.0)


def test_event_precision_recall():
    t = np.arange(20.0)
    a = np.zeros(20, bool)
    a[[2, 3]] = True      # event 1: outside any window
    a[[11, 12]] = True    # event 2: inside window (10, 13)
    p, r = metrics.event_precision_recall(t, a, [(10.0, 13.0), (16.0, 18.0)])
    assert p == pytest.approx(0.5) and r == pytest.approx(0.5)
    assert metrics.event_precision_recall(t, np.zeros(20, bool), []) == (1.0, pytest.approx(
        float("nan"), nan_ok=True))


def test_nab_window_straddling_the_probation_counts():
    """20 points: probation is the first 3; a window over points 1..5 is still scored."""
    t = np.arange(20.0)
    assert metrics.nab_raw_score(t, np.zeros(20, bool), [(1.0, 5.0)]) == (-1.0, 1)
    a = np.zeros(20, bool)
    a[[2, 4]] = True  # the alarm at 2 is probationary; the one at 4 scores
    raw, n = metrics.nab_raw_score(t, a, [(1.0, 5.0)])
    assert n == 1
    assert raw == pytest.approx(scaled_sigmoid(-(5 - 4 + 1) / 5) / scaled_sigmoid(-1.0))
    # a window wholly inside the probation is not scored at all
    assert metrics.nab_raw_score(t, np.zeros(20, bool), [(0.0, 2.0)]) == (0.0, 0)


def test_nab_windows_between_samples():
    t = np.arange(0.0, 100.0, 10.0)  # samples every 10 s
    a = np.zeros(10, bool)
    a[5] = True  # t = 50: first sample of the window (45, 72) -> its left edge
    raw, n = metrics.nab_raw_score(t, a, [(45.0, 72.0), (81.0, 89.0)])
    # second window holds no sample: skipped; first spans samples 5..7 (width 3)
    assert n == 1 and raw == pytest.approx(scaled_sigmoid(-1.0) / scaled_sigmoid(-1.0))
