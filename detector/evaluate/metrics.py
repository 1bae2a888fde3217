"""Metrics of the offline evaluation: series-level confusion, onset error, delay, NAB.

All times are unix seconds; durations seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

#: NAB's standard profile (Lavin & Ahmad 2015).
NAB_STANDARD = {"tpWeight": 1.0, "fpWeight": 0.11, "fnWeight": 1.0}


@dataclass(frozen=True)
class Confusion:
    """Series-level confusion counts and the rates derived from them.

    Attributes
    ----------
    tp, fp, fn, tn : int
    """

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 1.0 when nothing was flagged (no false alarm)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); NaN without positives."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else math.nan

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (0 when both are 0)."""
        p, r = self.precision, self.recall
        if math.isnan(r):
            return math.nan
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def fpr(self) -> float:
        """fp / (fp + tn); NaN without negatives."""
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else math.nan


def confusion(truth: Sequence[bool], predicted: Sequence[bool]) -> Confusion:
    """Count true/false positives/negatives of series-level verdicts."""
    t = np.asarray(truth, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    if t.shape != p.shape:
        raise ValueError(f"truth and predicted differ in length ({t.size} vs {p.size})")
    return Confusion(int(np.sum(t & p)), int(np.sum(~t & p)), int(np.sum(t & ~p)),
                     int(np.sum(~t & ~p)))


def onset_error(true_onset: float | None, predicted_onset: float | None,
                window: float) -> float | None:
    """|predicted - true| / window duration, or None when either onset is missing."""
    if true_onset is None or predicted_onset is None or not window > 0:
        return None
    return abs(predicted_onset - true_onset) / window


def median_or_nan(values) -> float:
    """Median of the non-None values (NaN when there are none)."""
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.median(vals)) if vals else math.nan


def replay_delay(detect, timestamps: np.ndarray, values: np.ndarray, onset: float,
                 *, checkpoints: int = 20) -> float | None:
    """Detection delay in a replay: the first prefix end at which ``detect`` flags, minus onset.

    Parameters
    ----------
    detect : callable (timestamps, values) -> bool
        The detector, run on a prefix of the series.
    timestamps, values : numpy.ndarray
        The whole series.
    onset : float
        True onset (unix seconds).
    checkpoints : int
        Prefix ends tried, evenly spaced from the onset to the end.

    Returns
    -------
    float or None
        Seconds from the onset to the first flagged prefix end; None if never flagged.
    """
    end = float(timestamps[-1])
    for k in range(1, checkpoints + 1):
        cut = onset + (end - onset) * k / checkpoints
        m = int(np.searchsorted(timestamps, cut, side="right"))
        if m >= 2 and detect(timestamps[:m], values[:m]):
            return float(timestamps[m - 1] - onset)
    return None


def _scaled_sigmoid(position: float) -> float:
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def nab_raw_score(timestamps: Sequence[float], alarms: Sequence[bool],
                  windows: Sequence[tuple[float, float]], *, profile=NAB_STANDARD,
                  probation: float = 0.15) -> tuple[float, int]:
    """NAB's raw score of one series for a binary detector, and its number of scored windows.

    Follows NAB's ``Sweeper.calcSweepScore`` / ``calcScoreByThreshold`` at a
    threshold between 0 and 1: inside a window, the first (earliest) alarm
    scores ``tpWeight * scaled_sigmoid(position) / scaled_sigmoid(-1)``; a
    window without an alarm scores ``-fnWeight``; an alarm outside the windows
    scores ``fpWeight * scaled_sigmoid(distance past the last window)``
    (``-fpWeight`` before any window). The first ``min(floor(0.15 n), 750)``
    points are probationary and not scored; a window counts once any of its
    points lies past them (NAB's ``_prepareScoreByThresholdParts``). Windows
    need not start on a sample: a window starts at its first sample.
    """
    ts = list(timestamps)
    a = np.asarray(alarms, dtype=bool)
    n = len(ts)
    if a.shape != (n,):
        raise ValueError(f"timestamps and alarms differ in length ({n} vs {a.size})")
    probation_len = min(math.floor(probation * n), probation * 5000)
    max_tp = _scaled_sigmoid(-1.0)
    limits = sorted((float(s), float(e)) for s, e in windows)
    idx = np.asarray(ts, dtype=float)
    fp = 0.0
    window_scores: dict[int, float] = {}
    prev_right, prev_width = None, None
    w = 0
    cur = None  # (k, left index, right index, width)
    for i in range(n):
        while cur is None and w < len(limits) and idx[i] >= limits[w][0]:
            right = int(np.searchsorted(idx, limits[w][1], side="right")) - 1
            if right >= i:  # a window holding no sample is skipped
                cur = (w, i, right, float(right - i + 1))
            w += 1
        if cur is not None:
            k, left, right, width = cur
            if i >= probation_len:
                # NAB counts a window once any of its points is past probation
                window_scores.setdefault(k, -profile["fnWeight"])
                if a[i]:
                    score = _scaled_sigmoid(-(right - i + 1) / width) * profile["tpWeight"] / max_tp
                    window_scores[k] = max(window_scores[k], score)
            if i >= right:
                prev_right, prev_width = right, width
                cur = None
        elif a[i] and i >= probation_len:
            pos = 3.0 if prev_right is None else abs(prev_right - i) / max(prev_width - 1, 1.0)
            fp += _scaled_sigmoid(pos) * profile["fpWeight"]
    return fp + sum(window_scores.values()), len(window_scores)


def nab_normalised(raw_scores: Sequence[float], n_windows: Sequence[int], *,
                   profile=NAB_STANDARD) -> float:
    """NAB's normalised score over a corpus: 100 (raw - null) / (perfect - null).

    The null detector never alarms (``-fnWeight`` per window); the perfect one
    alarms at the start of every window (``+tpWeight`` per window).
    """
    total_windows = int(sum(n_windows))
    if total_windows == 0:
        return math.nan
    null = -profile["fnWeight"] * total_windows
    perfect = profile["tpWeight"] * total_windows
    return 100.0 * (float(sum(raw_scores)) - null) / (perfect - null)


def event_precision_recall(timestamps: Sequence[float], alarms: Sequence[bool],
                           windows: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Event-level precision and recall of alarm intervals against anomaly windows.

    An alarm event is a run of consecutive alarmed samples; it is a true
    positive when it overlaps a window. A window is detected when an alarm
    event overlaps it. Returns ``(precision, recall)``; precision is 1.0 with
    no alarm, recall NaN with no window.
    """
    ts = np.asarray(timestamps, dtype=float)
    a = np.asarray(alarms, dtype=bool)
    edges = np.diff(np.concatenate(([0], a.astype(np.int8), [0])))
    starts = ts[np.flatnonzero(edges == 1)] if a.any() else np.empty(0)
    ends = ts[np.flatnonzero(edges == -1) - 1] if a.any() else np.empty(0)
    hits = [any(s <= we and e >= ws for ws, we in windows) for s, e in zip(starts, ends)]
    found = [any(s <= we and e >= ws for s, e in zip(starts, ends)) for ws, we in windows]
    precision = float(np.mean(hits)) if hits else 1.0
    recall = float(np.mean(found)) if found else math.nan
    return precision, recall
