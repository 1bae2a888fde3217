"""When a process restarted, read from a series that marks it: a restart counter or a start
time, sampled beside the memory series (a file's ``restarts`` or ``start_time`` column,
kube-state-metrics' ``kube_pod_container_status_restarts_total``,
``process_start_time_seconds``, ``node_boot_time_seconds``).

A restart counter marks a restart wherever it changes: up at a restart, down when the pod
is recreated under the same name (a StatefulSet rollout), which is a restart too. A start
time marks one wherever it moves later by more than :data:`START_TIME_JITTER`: client
libraries and node_exporter report a start time that wobbles by a second from scrape to
scrape (it is computed from the boot time and clock ticks), and a wobble is no restart.
"""

from __future__ import annotations

import numpy as np

#: Seconds a start time may wobble from one sample to the next without a restart.
START_TIME_JITTER = 10.0

#: Values above this are start times (unix seconds or finer), not counts: a restart
#: counter never gets there.
START_TIME_MIN = 1e8


def restarts_from_marks(t: np.ndarray, marks: np.ndarray, kind: str | None = None
                        ) -> np.ndarray | None:
    """Unix seconds of the restarts a marking series shows.

    Parameters
    ----------
    t : numpy.ndarray
        Unix seconds of the samples (any order; of equal times the last counts, as a
        series keeps the last value of a duplicated timestamp).
    marks : numpy.ndarray
        The counter or the start time at those samples (unix seconds, ms, µs or ns for a
        start time, told apart by magnitude); NaN where it was not sampled.
    kind : {"counter", "start_time"}, optional
        Default: a start time when every value is above :data:`START_TIME_MIN`, else a
        counter.

    Returns
    -------
    numpy.ndarray or None
        The time of each sample at which the marks show a restart since the sample before
        (an empty array: none); None when fewer than two samples have a mark, which tells
        nothing about restarts (unknown, not "none").
    """
    from .timestamps import numeric_unit_scale

    t = np.asarray(t, dtype=np.float64)
    m = np.asarray(marks, dtype=np.float64)
    by_time = np.argsort(t, kind="stable")
    t, m = t[by_time], m[by_time]
    last = np.ones(t.shape[0], dtype=bool)  # the last row of each run of equal times
    last[:-1] = t[1:] != t[:-1]
    t, m = t[last], m[last]
    known = np.isfinite(t) & np.isfinite(m)
    t, m = t[known], m[known]
    if t.shape[0] < 2:
        return None
    if kind is None:
        kind = "start_time" if bool(np.all(m > START_TIME_MIN)) else "counter"
    step = np.diff(m)
    if kind == "counter":
        restarted = step != 0
    elif kind == "start_time":
        restarted = step * numeric_unit_scale(m) > START_TIME_JITTER
    else:
        raise ValueError(f"kind must be 'counter' or 'start_time', got {kind!r}")
    return t[1:][restarted]
