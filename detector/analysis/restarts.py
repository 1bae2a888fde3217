"""Restarts: sharp drops to near the lifetime's baseline that start a new lifetime.

A restarted process (a deploy, an OOM kill) gives back all it held at once;
a garbage collector does too, but every few seconds or minutes. A drop is a
restart candidate when it is far outside the noise and removes most of what
was gained since the lifetime's baseline; candidates that recur faster than
``Config.restart_min_lifetime`` are garbage-collection cycles, not restarts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..config import Config
from ..kernels import order
from ..kernels.line import least_squares_line


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
        Drops not taken as restarts because the levels they land on climb from
        one to the next (a load that falls every evening on top of growth) or
        scatter (releases of varying depth).
    loop_reading : Lifetimes or None
        Under a GC sawtooth: other restarts, found in the floor of the cycles point by
        point, without the 3-point median that spares the floor single low cycles. A
        life of a few floor points loses its trough and its peak to that median, so a
        loop of short lives is found only this way; but a plain heap's full collections
        make such drops too, so this reading is for a restart loop only (the pipeline
        keeps it when its lifetimes pass every loop check). None when there is no
        sawtooth, when the floor has too few cells to hold a lifetime or saws like a GC
        cycle itself, when the reading finds no restarts or the same ones, when its own
        drops recur like a GC cycle, or when a lifetime of it falls inside by half of its
        restarts' median drop or more (:func:`_clean_lives`).
    source : str
        ``"drops"`` when the restarts were found from the drops, ``"given"`` when the
        caller gave them (:func:`given_lifetimes`).
    given_outside, given_at_edges : int
        Given restarts left out: outside the samples' span, and (once placed) within
        :data:`GIVEN_EDGE_SAMPLES` samples of either end.
    """

    restarts: np.ndarray
    bounds: list
    peaks: np.ndarray
    fast_drops: int = 0
    cycle: float | None = None
    rejected: int = 0
    loop_reading: "Lifetimes | None" = None
    source: str = "drops"
    given_outside: int = 0
    given_at_edges: int = 0


#: Fewest drops that can make a garbage collector's sawtooth (fewer are restarts).
GC_MIN_DROPS = 8


def median3(v: np.ndarray) -> np.ndarray:
    """The 3-point running median of ``v`` (the ends as they are): single-sample scrape
    spikes, up or down, are no restarts; every level that holds for two samples stays."""
    out = v.copy()
    a, b, c = v[:-2], v[1:-1], v[2:]
    out[1:-1] = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
    return out


def detrended_range(t: np.ndarray, v: np.ndarray) -> float:
    """The p1-p99 range of ``v`` less its least-squares line (value units): a leak's own
    growth must not hide its drops. At least 1e-12."""
    step = max(1, v.shape[0] // 10_000)
    x = t[::step] - t[0]
    slope, intercept = least_squares_line(x, v[::step])
    flat = v[::step] - (intercept + slope * x)
    p1, p99 = order.percentiles(flat, (1, 99))
    return max(float(p99 - p1), 1e-12)


def restart_drop_threshold(raw: np.ndarray, scale: float, config: Config) -> float:
    """How far a restart's drop must fall (value units): ``Config.restart_drop_sigma``
    sigmas of the sample-to-sample differences of ``raw`` (their median absolute
    deviation), and ``Config.restart_drop_fraction`` of ``scale``, the detrended range
    (:func:`detrended_range`)."""
    sigma = 1.4826 * order.mad(np.diff(raw)) / np.sqrt(2.0)
    return max(config.restart_drop_sigma * sigma, config.restart_drop_fraction * scale)


def find_lifetimes(t: np.ndarray, v: np.ndarray, config: Config, *,
                   min_lifetime: float | None = None, smooth: bool = True) -> Lifetimes:
    """Split valid samples ``(t, v)`` (sorted, finite) into lifetimes.

    Parameters
    ----------
    t : numpy.ndarray
        Unix seconds, increasing.
    v : numpy.ndarray
        Finite values.
    config : Config
    min_lifetime : float, optional
        Drops recurring faster than this (median, seconds) are garbage collection;
        default ``Config.restart_min_lifetime``.
    smooth : bool
        Take drops from the 3-point median of ``v`` (default), which removes
        single-sample spikes; False takes them from ``v`` itself (for the floor of a GC
        sawtooth, whose points are each a cycle's low: see
        :attr:`Lifetimes.loop_reading`).

    Returns
    -------
    Lifetimes
    """
    min_lifetime = config.restart_min_lifetime if min_lifetime is None else min_lifetime
    n = v.shape[0]
    if n < 4:
        return Lifetimes(np.empty(0), [(float(t[0]), float(t[-1]))] if n else [],
                         np.array([v.max()]) if n else np.empty(0))
    horizon = 3
    raw = v

    def unsplit(**found) -> Lifetimes:  # no restart: the window is one lifetime
        return Lifetimes(np.empty(0), [(float(t[0]), float(t[-1]))], np.array([raw.max()]),
                         **found)

    # a 3-point median removes single-sample scrape spikes (up or down), which are no
    # restarts, and keeps every level that holds for two samples or more
    if smooth:
        v = median3(raw)
    ahead = np.full(n, np.inf)
    for k in range(1, horizon + 1):  # lowest value within the next few samples
        ahead[:-k] = np.minimum(ahead[:-k], v[k:])
    drop = v - ahead
    scale = detrended_range(t, v)
    # a drop must clear both shares; when none clears the range's, the noise (a median
    # absolute deviation of every difference, 0.4 ms a week) cannot make one
    if not float(np.max(drop[:-1])) > config.restart_drop_fraction * scale:
        return unsplit()
    threshold = restart_drop_threshold(raw, scale, config)
    cand = np.flatnonzero(drop[:-1] > threshold)
    if cand.size == 0:
        return unsplit()
    events = drop_events(v, cand, horizon)
    kept = restarts_among(v, events, ahead[events], 1.0 - config.restart_giveback)
    if kept.size == 0:
        return unsplit()
    starts = np.concatenate(([0], kept + 1))
    ends = np.concatenate((kept + 1, [n]))
    durations = t[ends - 1] - t[starts]
    completed = durations[:-1]
    # garbage collection saws many times in a window; a handful of drops, however close,
    # are restarts (a service killed every hour when its memory fills)
    if completed.size and np.median(completed) < min_lifetime and kept.size >= GC_MIN_DROPS:
        cycle = float(np.median(np.diff(t[kept]))) if kept.size >= 3 else None
        gc = unsplit(fast_drops=int(kept.size), cycle=cycle)
        return _restarts_of_the_floor(t, raw, gc, config) if cycle is not None else gc
    # a restart gives everything back: successive lifetimes start from the same
    # baseline. Baselines that climb from drop to drop belong to a load that falls
    # every evening on top of growth that is never given back, and baselines scattered
    # over much of a drop's depth to releases of varying size -- not restarts.
    if kept.size >= 2:
        bases = np.array([float(np.min(v[a:min(b, a + max(3, (b - a) // 10))]))
                          for a, b in zip(starts, ends)])
        drops = v[kept] - np.array([float(np.min(v[e + 1:min(n, e + 1 + horizon)]))
                                    for e in kept])
        rise = bases[-1] - bases[0]
        steady = np.mean(np.diff(bases) > 0) >= 0.75
        scattered = np.ptp(bases[1:]) > config.restart_baseline_spread * float(np.median(drops))
        rejected = (steady and rise > config.restart_baseline_drift *
                    float(np.median(drops))) or scattered
    else:
        rejected = False
    if rejected:
        return unsplit(rejected=int(kept.size))
    bounds = [(float(t[a]), float(t[b - 1])) for a, b in zip(starts, ends)]
    peaks = np.array([float(raw[a:b].max()) for a, b in zip(starts, ends)])
    return Lifetimes(t[kept + 1].astype(float), bounds, peaks)


def process_exit(v: np.ndarray) -> int | None:
    """Where a run ends with its process's exit: the first of the last tenth of the
    samples ``v`` (finite, in time order) that is below half of the highest value so
    far; None when there is none (or fewer than 10 samples).

    For a series known to be one run of one process (``Config.process_exit``): its
    memory collapses when the process exits, and what follows is teardown, not a
    restart or a release.
    """
    n = v.shape[0]
    if n < 10:
        return None
    k = max(1, n // 10)
    high = np.maximum.accumulate(v)[n - k:]
    low = np.flatnonzero(v[n - k:] < 0.5 * high)
    return int(n - k + low[0]) if low.size else None


def drop_events(v: np.ndarray, cand: np.ndarray, horizon: int) -> np.ndarray:
    """One event per run of nearby drop candidates: the largest one-step drop in the run.

    ``cand`` (sorted sample indices, each <= ``len(v) - 2``) falls into runs whose
    members are at most ``horizon`` apart; a run from ``a`` to ``z`` is searched over
    ``v[a:b]`` with ``b = min(len(v) - 1, z + horizon)``, and its event is the first
    ``k`` there with the largest ``v[k] - v[k + 1]``. Vectorised (a loop over runs cost
    20 ms for the thousand teeth of a week's GC sawtooth).
    """
    n = v.shape[0]
    brk = np.flatnonzero(np.diff(cand) > horizon)
    a = cand[np.concatenate(([0], brk + 1))]
    b = np.minimum(n - 1, cand[np.concatenate((brk, [cand.size - 1]))] + horizon)
    lengths = b - a
    first = np.cumsum(lengths) - lengths  # where each run starts in the concatenation
    pos = np.arange(int(lengths.sum())) - np.repeat(first, lengths) + np.repeat(a, lengths)
    step = v[pos] - v[pos + 1]
    top = np.maximum.reduceat(step, first)
    hits = np.flatnonzero(step == np.repeat(top, lengths))
    run = np.repeat(np.arange(a.size), lengths)[hits]
    _, at = np.unique(run, return_index=True)  # the first maximum of each run
    return pos[hits[at]]


def restarts_among(v: np.ndarray, events: np.ndarray, after: np.ndarray,
                   keep_share: float) -> np.ndarray:
    """The drop events that return to about the level their lifetime started from.

    Event ``e`` (increasing sample indices) is a restart when the lowest value just
    after it, ``after``, is no more than ``base + keep_share * (v[e] - base)``, where
    ``base`` is the lowest value from the start of its lifetime (the sample after the
    previous restart, or 0) to ``e``. Returns the restarts' indices (int64). A
    compiled scan (:func:`detector.kernels.drops.returns_to_base`): a GC sawtooth
    gives thousands of drops a week.
    """
    from ..kernels.drops import returns_to_base

    return returns_to_base(v, events, after, keep_share)


#: Restarts under a GC sawtooth are looked for in the floor of its cycles; a lifetime
#: must span at least this many cycles.
MIN_CYCLES_PER_LIFETIME = 8


def _restarts_of_the_floor(t: np.ndarray, v: np.ndarray, gc: Lifetimes,
                           config: Config) -> Lifetimes:
    """Restarts of a process whose memory saws with garbage collection.

    The garbage collector's drops hide the restarts among them; a restart takes the
    floor (the low of each cycle) back to its starting level as well, a collection
    does not. The floor's own drops are judged by the same rules as raw drops, with
    lifetimes of at least :data:`MIN_CYCLES_PER_LIFETIME` cycles: once through the
    floor's 3-point median (the restarts), once point by point (the
    :attr:`Lifetimes.loop_reading`, when it differs).
    """
    width = 1.5 * gc.cycle
    cells = np.floor((t - t[0]) / width).astype(np.int64)
    n_cells = int(cells[-1]) + 1
    if n_cells < 4 * MIN_CYCLES_PER_LIFETIME // 3:
        return gc
    # the samples are in time order: each cell is a run of them (ufunc.at and a loop
    # over the cells cost 0.4 ms a week of a GC sawtooth)
    first = _run_starts(cells)
    low = np.full(n_cells, np.inf)
    low[cells[first]] = np.minimum.reduceat(v, first)
    at = np.zeros(n_cells, np.int64)  # the sample where each cell's low is (its last)
    hit = np.flatnonzero(v == low[cells])  # (none only if a cell held NaN alone)
    if hit.size:
        hit_cells = cells[hit]
        last = np.append(_run_starts(hit_cells)[1:], hit.size) - 1
        at[hit_cells[last]] = hit[last]
    have = np.isfinite(low)
    tf, f, where = t[at[have]], low[have], at[have]
    slow = find_lifetimes(tf, f, config, min_lifetime=MIN_CYCLES_PER_LIFETIME * gc.cycle)
    if slow.cycle is not None:
        return gc
    rough = find_lifetimes(tf, f, config, min_lifetime=MIN_CYCLES_PER_LIFETIME * gc.cycle,
                           smooth=False)

    def on_raw(split: Lifetimes) -> Lifetimes:
        # each restart: the first of two raw samples in a row, after the last floor point
        # of the old lifetime, below a quarter of the way down from it to the floor point
        # after the drop. The cells are wider than a GC cycle, so the low of the cell
        # after the drop may come a cycle or more after the kill: the samples in between
        # belong to the new lifetime, however high in its first cycle it began. When the
        # floor point before the drop is itself already that far down (the low of the
        # cell holding the kill came after it), the old lifetime's last one is the one
        # before
        first = []
        for r in split.restarts:
            j = int(np.searchsorted(tf, r))
            i = j - 1
            if i > 0 and f[i] < f[i - 1] - 0.25 * (f[i - 1] - f[j]):
                i -= 1
            a, b = int(where[i]), int(where[j])
            below = v[a + 1:min(b + 2, v.shape[0])] < f[i] - 0.25 * (f[i] - f[j])
            held = np.flatnonzero(below[:-1] & below[1:])
            first.append(a + 1 + int(held[0]) if held.size and a + 1 + held[0] <= b else b)
        starts = np.concatenate(([0], first))
        ends = np.concatenate((first, [v.shape[0]]))
        bounds = [(float(t[a]), float(t[b - 1])) for a, b in zip(starts, ends)]
        peaks = np.array([float(v[a:b].max()) for a, b in zip(starts, ends)])
        return Lifetimes(t[first].astype(float), bounds, peaks, fast_drops=gc.fast_drops,
                         cycle=gc.cycle)

    loop_reading = None
    if rough.cycle is None and rough.restarts.size and \
            not np.array_equal(rough.restarts, slow.restarts) and _clean_lives(tf, f, rough):
        loop_reading = on_raw(rough)
    if slow.restarts.size == 0:
        return replace(gc, rejected=slow.rejected, loop_reading=loop_reading)
    return replace(on_raw(slow), loop_reading=loop_reading)


def _clean_lives(tf: np.ndarray, f: np.ndarray, split: Lifetimes, horizon: int = 3) -> bool:
    """Whether no lifetime of ``split`` (restarts found in the floor ``(tf, f)``) falls,
    inside it, by half of a restart's median drop or more: a reading that missed some
    restarts leaves a full drop inside a lifetime, and lifetimes that span two lives
    look like growth to the kill when each life levelled off."""
    at = np.searchsorted(tf, split.restarts)
    drops = np.array([f[j - 1] - np.min(f[j:j + horizon]) for j in at])
    edges = np.concatenate(([0], at, [f.shape[0]]))
    setback = max(float(np.max(np.maximum.accumulate(f[a:b]) - f[a:b]))
                  for a, b in zip(edges[:-1], edges[1:]) if b > a)
    return setback < 0.5 * float(np.median(drops))


def floor_peaks(t: np.ndarray, v: np.ndarray, bounds: list, cycle: float) -> np.ndarray:
    """The highest point of each lifetime's floor under a GC sawtooth (value units): the
    largest of the lows of its whole cells of 1.5 cycles (``cycle`` seconds), counted from
    the lifetime's start; a lifetime shorter than one cell gives its lowest value.

    ``t``, ``v``: finite samples in time order; ``bounds``: ``(first, last)`` unix
    seconds of each lifetime (:attr:`Lifetimes.bounds`). The same measure for every
    lifetime, whatever floor its judgement used: what a lifetime held, not the tops of
    the collector's teeth, which follow the allocation rate.
    """
    width = 1.5 * cycle
    out = np.empty(len(bounds))
    for k, (first, last) in enumerate(bounds):
        a = int(np.searchsorted(t, first, side="left"))
        b = int(np.searchsorted(t, last, side="right"))
        tt, vv = t[a:b], v[a:b]
        whole = int((last - first) // width)  # cells that end inside the lifetime
        if whole == 0 or vv.shape[0] == 0:
            out[k] = float(vv.min()) if vv.shape[0] else math.nan
            continue
        # the samples are in time order: each cell is a run of them
        cell = np.floor((tt - first) / width).astype(np.int64)
        cell = cell[cell < whole]
        if cell.shape[0] == 0:  # no sample in a whole cell (bounds before the samples)
            out[k] = float(vv.min())
            continue
        out[k] = float(np.max(np.minimum.reduceat(vv[:cell.shape[0]], _run_starts(cell))))
    return out


def _run_starts(keys: np.ndarray) -> np.ndarray:
    """Index of the first element of each run of equal values of ``keys`` (1-D, not
    empty): where the cells of samples in time order begin."""
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))


#: A restart time given by the caller is moved to the nearest restart-sized fall within
#: this many samples of it, or :data:`GIVEN_RESTART_SECONDS` (whichever is longer; samples
#: only under a GC sawtooth): a restart counter or a process start time is scraped apart
#: from the memory samples (kube-state-metrics every 30-60 s), a sample or two late.
GIVEN_RESTART_SLACK = 2
GIVEN_RESTART_SECONDS = 120.0

#: A given restart that would leave fewer samples than this before it (the first
#: lifetime) or after it (the current one) is left out: so short a lifetime cannot be
#: judged.
GIVEN_EDGE_SAMPLES = 3


def given_lifetimes(t: np.ndarray, v: np.ndarray, restarts: np.ndarray,
                    config: Config, *, snap: bool = True) -> Lifetimes:
    """Lifetimes split at restarts the caller knows of (a restart counter, a process
    start time, a deploy log), not at drops: a drop elsewhere is not a restart, however
    deep, and a restart is one even when memory lands above where the lifetime began.

    Parameters
    ----------
    t, v : numpy.ndarray
        Valid samples, as :func:`find_lifetimes` takes them.
    restarts : numpy.ndarray
        Unix seconds of the restarts, any order; those at or before the first sample or
        after the last are outside the window and left out. Each starts a new lifetime at
        the first sample at or after it, moved to the sample after the nearest fall of
        the 3-point median within :data:`GIVEN_RESTART_SLACK` samples or
        :data:`GIVEN_RESTART_SECONDS` of it (whichever reaches further; samples only
        under a GC sawtooth, whose own falls are everywhere) that is one a restart could
        be found from (``Config.restart_drop_sigma`` noise sigmas and
        ``Config.restart_drop_fraction`` of the detrended range, as
        :func:`find_lifetimes` asks). One left within :data:`GIVEN_EDGE_SAMPLES` samples
        of either end is left out.
    config : Config
    snap : bool
        Move each restart to the fall near it (default); False takes the first sample at
        or after each as it is (restarts placed already: a report's, for its plot).

    Returns
    -------
    Lifetimes
        With the GC cycle (``fast_drops``, ``cycle``) that :func:`find_lifetimes`
        finds, and as ``rejected`` the drops it took for restarts (or rejected) away
        from the given ones; no ``loop_reading``.
    """
    n = t.shape[0]
    found = find_lifetimes(t, v, config)
    inside = [float(r) for r in np.asarray(restarts, dtype=float) if t[0] < r <= t[-1]]
    firsts = set()
    if snap and inside and n >= 4:
        # a fall a restart time is moved to must be one a restart could be found from:
        # out of the noise and a share of the range, on the 3-point median
        smooth = median3(v)
        needed = restart_drop_threshold(v, detrended_range(t, smooth), config)
    for r in inside:
        i = int(np.searchsorted(t, r, side="left"))
        if not snap or n < 4:
            firsts.add(i)
            continue
        lo, hi = i - GIVEN_RESTART_SLACK, i + GIVEN_RESTART_SLACK
        if found.cycle is None:  # (under a GC sawtooth falls are everywhere: samples only)
            lo = min(lo, int(np.searchsorted(t, r - GIVEN_RESTART_SECONDS, side="left")))
            hi = max(hi, int(np.searchsorted(t, r + GIVEN_RESTART_SECONDS, side="right")) - 1)
        lo, hi = max(1, lo), min(n - 1, hi)
        falls = smooth[lo - 1:hi] - smooth[lo:hi + 1]  # falls[k]: into sample lo + k
        big = np.flatnonzero(falls > needed) + lo
        # the nearest such fall (the earlier on a tie), else the time as given
        firsts.add(int(big[np.argmin(np.abs(big - i))]) if big.size else i)
    # a lifetime of a few samples at either end cannot be judged: a restart counter read
    # before memory shows the fall, or a restart just as the window begins
    kept = sorted(i for i in firsts
                  if GIVEN_EDGE_SAMPLES <= i <= n - GIVEN_EDGE_SAMPLES)
    starts = np.array(kept, dtype=np.int64)
    given_at = t[starts] if starts.size else np.empty(0)
    # drops taken for restarts (or rejected as such) that are not near a given restart
    slack = max(GIVEN_RESTART_SECONDS,
                GIVEN_RESTART_SLACK * (float(np.median(np.diff(t))) if n > 1 else 0.0))
    elsewhere = sum(1 for r in found.restarts
                    if not np.any(np.abs(given_at - r) <= slack)) if found.cycle is None else 0
    edges = np.concatenate(([0], starts, [n]))
    bounds = [(float(t[a]), float(t[b - 1])) for a, b in zip(edges[:-1], edges[1:])]
    peaks = np.array([float(v[a:b].max()) for a, b in zip(edges[:-1], edges[1:])])
    return Lifetimes(given_at.astype(float), bounds, peaks, fast_drops=found.fast_drops,
                     cycle=found.cycle, rejected=found.rejected + elsewhere,
                     source="given", given_outside=len(restarts) - len(inside),
                     given_at_edges=len(firsts) - len(kept))
