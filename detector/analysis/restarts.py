"""Restarts: sharp drops to near the lifetime's baseline that start a new lifetime.

A restarted process (a deploy, an OOM kill) gives back all it held at once;
a garbage collector does too, but every few seconds or minutes. A drop is a
restart candidate when it is far outside the noise and removes most of what
was gained since the lifetime's baseline; candidates that recur faster than
``Config.restart_min_lifetime`` are garbage-collection cycles, not restarts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Config


@dataclass(frozen=True)
class Lifetimes:
    """The lifetimes of a series, split at restarts.

    Attributes
    ----------
    restarts : numpy.ndarray
        Unix seconds of the first sample after each restart.
    bounds : list of (float, float)
        ``(first, last)`` unix seconds of each lifetime.
    peaks : numpy.ndarray
        Highest value of each lifetime before its restart (value units); the
        last (ongoing) lifetime's maximum last.
    fast_drops : int
        Sharp drops that recur too fast to be restarts (GC cycles).
    cycle : float or None
        Median time between those fast drops (seconds): the GC cycle.
    rejected : int
        Drops not taken as restarts because the baseline climbed from one to
        the next (a load that falls every evening on top of growth).
    """

    restarts: np.ndarray
    bounds: list
    peaks: np.ndarray
    fast_drops: int = 0
    cycle: float | None = None
    rejected: int = 0


def find_lifetimes(t: np.ndarray, v: np.ndarray, config: Config) -> Lifetimes:
    """Split valid samples ``(t, v)`` (sorted, finite) into lifetimes.

    Parameters
    ----------
    t : numpy.ndarray
        Unix seconds, increasing.
    v : numpy.ndarray
        Finite values.
    config : Config

    Returns
    -------
    Lifetimes
    """
    n = v.shape[0]
    if n < 4:
        return Lifetimes(np.empty(0), [(float(t[0]), float(t[-1]))] if n else [],
                         np.array([v.max()]) if n else np.empty(0))
    horizon = 3
    raw = v
    # a 3-point median removes single-sample scrape spikes (up or down), which are no
    # restarts, and keeps every level that holds for two samples or more
    v = v.copy()
    a, b, c = raw[:-2], raw[1:-1], raw[2:]
    v[1:-1] = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))  # median of 3
    ahead = np.full(n, np.inf)
    for k in range(1, horizon + 1):  # lowest value within the next few samples
        ahead[:-k] = np.minimum(ahead[:-k], v[k:])
    drop = v - ahead
    d1 = np.diff(raw)
    sigma = 1.4826 * np.median(np.abs(d1 - np.median(d1))) / np.sqrt(2.0)
    # the range of the detrended values: a leak's own growth must not hide its GC drops
    step = max(1, n // 10_000)
    slope, intercept = np.polyfit(t[::step] - t[0], v[::step], 1)
    flat = v[::step] - (intercept + slope * (t[::step] - t[0]))
    scale = max(float(np.percentile(flat, 99) - np.percentile(flat, 1)), 1e-12)
    threshold = max(config.restart_drop_sigma * sigma, config.restart_drop_fraction * scale)
    cand = np.flatnonzero(drop[:-1] > threshold)
    if cand.size == 0:
        return Lifetimes(np.empty(0), [(float(t[0]), float(t[-1]))], np.array([raw.max()]))
    # one event per run of nearby candidates: the largest one-step drop in the run
    events = []
    i = 0
    while i < cand.size:
        j = i
        while j + 1 < cand.size and cand[j + 1] <= cand[j] + horizon:
            j += 1
        a, b = int(cand[i]), min(n - 1, int(cand[j]) + horizon)
        events.append(a + int(np.argmax(v[a:b] - v[a + 1:b + 1])))
        i = j + 1
    events = np.array(events)
    # a restart lands near the lifetime's baseline: most of the gain is given back
    kept = []
    life_start = 0
    for e in events:
        base = float(np.min(v[life_start:e + 1]))
        after = float(np.min(v[e + 1:min(n, e + 1 + horizon)]))
        if after <= base + (1 - config.restart_giveback) * (v[e] - base):
            kept.append(e)
            life_start = e + 1
    kept = np.array(kept, dtype=np.int64)
    if kept.size == 0:
        return Lifetimes(np.empty(0), [(float(t[0]), float(t[-1]))], np.array([raw.max()]))
    starts = np.concatenate(([0], kept + 1))
    ends = np.concatenate((kept + 1, [n]))
    durations = t[ends - 1] - t[starts]
    completed = durations[:-1]
    if completed.size and np.median(completed) < config.restart_min_lifetime:
        cycle = float(np.median(np.diff(t[kept]))) if kept.size >= 3 else None
        return Lifetimes(np.empty(0), [(float(t[0]), float(t[-1]))], np.array([raw.max()]),
                         fast_drops=int(kept.size), cycle=cycle)
    # a restart gives everything back: successive lifetimes start from the same
    # baseline. Baselines that climb from drop to drop belong to a load that falls
    # every evening on top of growth that is never given back -- not restarts.
    if kept.size >= 2:
        bases = np.array([float(np.min(v[a:min(b, a + max(3, (b - a) // 10))]))
                          for a, b in zip(starts, ends)])
        drops = v[kept] - np.array([float(np.min(v[e + 1:min(n, e + 1 + horizon)]))
                                    for e in kept])
        rise = bases[-1] - bases[0]
        steady = np.mean(np.diff(bases) > 0) >= 0.75
        if steady and rise > config.restart_baseline_drift * float(np.median(drops)):
            return Lifetimes(np.empty(0), [(float(t[0]), float(t[-1]))],
                             np.array([raw.max()]), rejected=int(kept.size))
    bounds = [(float(t[a]), float(t[b - 1])) for a, b in zip(starts, ends)]
    peaks = np.array([float(raw[a:b].max()) for a, b in zip(starts, ends)])
    return Lifetimes(t[kept + 1].astype(float), bounds, peaks)
