"""A seeded generator of labelled memory series: leaks and the shapes that look like them.

Every series is drawn from ranges rather than fixed shapes: a level of
100 MB to 8 GB, sampling every 1 s to 5 min, a history of hours to weeks
(at most ``MAX_SAMPLES`` samples), noise of 0.2-2 % of the level, and the
pattern's own parameters (growth, period, GC cycle, onset...). Labels:
``leak`` (the most recent regime leaks), ``onset`` (unix seconds where the
current leak's growth began) and ``pattern``.

Same seed, same series, byte for byte.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

DAY = 86400.0
HOUR = 3600.0
MiB = 2.0 ** 20

#: Largest number of samples in one series.
MAX_SAMPLES = 50_000

LEAK_PATTERNS = ("linear_growth", "periodic_growth", "gc_floor_growth", "restart_loop",
                 "late_onset", "stepwise_growth", "convex_growth", "noisy_leak")
BENIGN_PATTERNS = ("stable", "periodic", "gc_sawtooth", "level_shift", "warmup",
                   "batch_spikes", "scheduled_restarts", "resolved_leak", "random_walk")
PATTERNS = LEAK_PATTERNS + BENIGN_PATTERNS

#: Sampling intervals drawn from (seconds).
INTERVALS = (1.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0)


@dataclass(frozen=True)
class LabelledSeries:
    """One generated series and its labels.

    Attributes
    ----------
    id : str
        ``<pattern>-<n>``.
    timestamps : numpy.ndarray
        float64 unix seconds, increasing (gaps are missing timestamps).
    values : numpy.ndarray
        float64 bytes (counts for ``stepwise_growth``); NaN = missing sample.
    limit : float or None
        Memory limit (bytes), when the container has one.
    leak : bool
        Whether the most recent regime leaks.
    onset : float or None
        Unix seconds where the current leak's growth began.
    pattern : str
        One of :data:`PATTERNS`.
    params : dict
        The drawn parameters (JSON-serialisable).
    """

    id: str
    timestamps: np.ndarray
    values: np.ndarray
    limit: float | None
    leak: bool
    onset: float | None
    pattern: str
    params: dict = field(default_factory=dict)


def _grid(rng, interval, duration, start):
    if interval is None:
        interval = float(rng.choice(INTERVALS))
    n = int(duration // interval) + 1
    if n > MAX_SAMPLES:  # keep series small enough for a quick evaluation
        interval = math.ceil(duration / (MAX_SAMPLES - 1))
        n = int(duration // interval) + 1
    t = start + np.arange(n) * interval
    return t, t - start, float(interval)


def _daily(rng, x, amplitude):
    """A daily (sometimes also weekly) load profile of one of several shapes."""
    shape = rng.choice(["sine", "business", "peaky"])
    phase = rng.uniform(0, 2 * math.pi)
    s = np.sin(2 * math.pi * x / DAY + phase)
    if shape == "business":
        prof = (s > 0.2).astype(float)
    elif shape == "peaky":
        prof = np.clip(s, 0, None) ** 3
    else:
        prof = 0.5 * (s + 1)
    if rng.random() < 0.3:
        prof = prof * (1 - 0.4 * ((x // DAY) % 7 >= 5))  # quieter weekends
    return amplitude * prof, str(shape)


def _sawtooth(rng, x, amplitude):
    """A GC sawtooth with jittered cycle lengths."""
    cycle = rng.uniform(30, 900)
    jitter = rng.uniform(0.7, 1.3, int(x[-1] / (cycle * 0.7)) + 2) * cycle
    ends = np.cumsum(jitter)
    idx = np.searchsorted(ends, x, side="right")
    starts = np.concatenate(([0.0], ends))[idx]
    lengths = jitter[np.minimum(idx, jitter.size - 1)]
    return amplitude * (x - starts) / lengths, float(cycle)


def generate(pattern: str, *, seed: int, interval: float | None = None,
             duration: float | None = None, level: float | None = None,
             noise: float | None = None, start: float = 1.7e9, index: int = 0
             ) -> LabelledSeries:
    """Generate one labelled series.

    Parameters
    ----------
    pattern : str
        One of :data:`PATTERNS`.
    seed : int
        Seed of this series' random stream.
    interval : float, optional
        Sampling interval (seconds); default drawn from :data:`INTERVALS`.
    duration : float, optional
        History (seconds); default drawn per pattern (periodic patterns get at
        least 2.5 days so that two periods are in view).
    level : float, optional
        Base level (bytes); default log-uniform in 100 MB - 8 GB.
    noise : float, optional
        Noise sigma as a share of the level; default 0.2-2 %.
    start : float
        Unix seconds of the first sample.
    index : int
        Number used in the id.

    Returns
    -------
    LabelledSeries
    """
    if pattern not in PATTERNS:
        raise ValueError(f"pattern must be one of {', '.join(PATTERNS)}, got {pattern!r}")
    rng = np.random.default_rng([seed, PATTERNS.index(pattern)])
    periodic = pattern in ("periodic_growth", "periodic")
    if duration is None:
        if periodic:
            duration = rng.uniform(2.5, 14) * DAY
        elif pattern in ("restart_loop", "scheduled_restarts"):
            duration = rng.uniform(2, 10) * DAY
        else:
            duration = float(np.exp(rng.uniform(np.log(6 * HOUR), np.log(14 * DAY))))
    t, x, interval = _grid(rng, interval, duration, start)
    span = float(x[-1])
    base = level if level is not None else float(np.exp(rng.uniform(np.log(100e6), np.log(8e9))))
    sigma = (noise if noise is not None else rng.uniform(0.002, 0.02)) * base
    params: dict = {"interval": interval, "duration": span, "level": base,
                    "noise_sigma": sigma}
    leak = pattern in LEAK_PATTERNS
    onset = start if leak else None
    limit = None
    growth = base * rng.uniform(0.2, 3.0)  # what a leak gains over its regime
    v = np.full(t.size, base)

    if pattern == "linear_growth":
        v = v + growth * x / span
    elif pattern == "periodic_growth":
        load, shape = _daily(rng, x, base * rng.uniform(0.1, 0.8))
        growth = base * rng.uniform(0.2, 1.0)
        v = v + load + growth * x / span
        params.update(load_shape=shape)
    elif pattern == "gc_floor_growth":
        saw, cycle = _sawtooth(rng, x, base * rng.uniform(0.3, 1.5))
        v = v + saw + growth * x / span
        params.update(gc_cycle=cycle)
    elif pattern == "restart_loop":
        life = rng.uniform(2 * HOUR, max(2.5 * HOUR, span / 4))
        peak = base + growth
        phase = rng.uniform(0, life)
        v = base + growth * ((x + phase) % life) / life
        limit = peak * rng.uniform(1.0, 1.05)
        params.update(lifetime=life)
    elif pattern == "late_onset":
        at = span * rng.uniform(0.3, 0.7)
        v = v + np.where(x > at, growth * (x - at) / (span - at), 0.0)
        onset = start + at
        params.update(onset_fraction=at / span)
    elif pattern == "stepwise_growth":
        base = float(rng.integers(20, 2000))
        n_steps = int(rng.integers(10, 60))
        steps = np.sort(rng.uniform(0, span, n_steps))
        size = max(1, int(base * rng.uniform(0.3, 2.0) / n_steps))
        v = base + size * np.searchsorted(steps, x) + rng.integers(0, 2, t.size)
        v = v.astype(float)
        onset = start + float(steps[0])
        sigma = 0.0
        params.update(level=base, n_steps=n_steps, step=size, noise_sigma=0.0)
    elif pattern == "convex_growth":
        power = rng.uniform(1.5, 3.0)
        v = v + growth * (x / span) ** power
        params.update(power=power)
    elif pattern == "noisy_leak":
        v = v + growth * x / span
    elif pattern == "stable":
        pass
    elif pattern == "periodic":
        load, shape = _daily(rng, x, base * rng.uniform(0.1, 1.0))
        v = v + load
        params.update(load_shape=shape)
    elif pattern == "gc_sawtooth":
        saw, cycle = _sawtooth(rng, x, base * rng.uniform(0.3, 1.5))
        v = v + saw
        params.update(gc_cycle=cycle)
    elif pattern == "level_shift":
        at = span * rng.uniform(0.2, 0.8)
        v = v + np.where(x > at, base * rng.uniform(-0.4, 0.8), 0.0)
        params.update(shift_at=at / span)
    elif pattern == "warmup":
        tau = span * rng.uniform(0.02, 0.12)
        v = v + base * rng.uniform(0.2, 1.5) * (1 - np.exp(-x / tau))
        params.update(tau=tau)
    elif pattern == "batch_spikes":
        every = rng.choice([900.0, 1800.0, HOUR, 2 * HOUR, 6 * HOUR])
        length = every * rng.uniform(0.05, 0.3)
        v = v + np.where((x % every) < length, base * rng.uniform(0.2, 1.5), 0.0)
        params.update(every=float(every), length=float(length))
    elif pattern == "scheduled_restarts":
        life = float(rng.choice([6 * HOUR, 12 * HOUR, DAY]))
        tau = life * rng.uniform(0.03, 0.15)
        v = v + base * rng.uniform(0.3, 1.0) * (1 - np.exp(-(x % life) / tau))
        params.update(lifetime=life, tau=tau)
    elif pattern == "resolved_leak":
        begin = span * rng.uniform(0.0, 0.3)
        stop = span * rng.uniform(0.4, 0.7)
        v = v + growth * np.clip((x - begin) / (stop - begin), 0, 1)
        if rng.random() < 0.5:  # fixed by a restart: back to baseline, flat since
            v = np.where(x > stop, base, v)
        params.update(old_onset=start + begin, stopped=start + stop)
    elif pattern == "random_walk":
        corr = rng.uniform(0.005, 0.05) * span  # mean-reversion time (seconds)
        a = math.exp(-interval / corr)
        steps = rng.normal(0, 1, t.size) * base * rng.uniform(0.02, 0.1) * math.sqrt(1 - a * a)
        ou = np.empty(t.size)
        ou[0] = 0.0
        # an AR(1) filter, vectorised through scipy
        from scipy.signal import lfilter

        ou = lfilter([1.0], [1.0, -a], steps)
        v = v + ou
        params.update(reversion_seconds=corr)

    v = v + rng.normal(0, 1, t.size) * sigma
    if pattern == "noisy_leak" or (pattern not in ("stepwise_growth",) and rng.random() < 0.15):
        t, v = _damage(rng, t, v, heavy=pattern == "noisy_leak")
        params.update(damaged=True)
    if limit is None and rng.random() < 0.7:
        top = float(np.nanmax(v))
        limit = top * rng.uniform(1.05, 3.0)
    v = np.maximum(v, 0.0) if pattern != "stepwise_growth" else v
    return LabelledSeries(id=f"{pattern}-{index:04d}", timestamps=t, values=v,
                          limit=None if limit is None else float(limit), leak=leak,
                          onset=None if onset is None else float(onset), pattern=pattern,
                          params=_jsonable(params))


def _damage(rng, t, v, heavy):
    """Gaps (missing timestamps), NaN holes and scrape spikes."""
    n = t.size
    keep = np.ones(n, bool)
    for _ in range(int(rng.integers(1, 4 if heavy else 2))):
        a = int(rng.integers(0, n))
        keep[a:a + int(n * rng.uniform(0.01, 0.06))] = False
    v = v.copy()
    v[rng.random(n) < (0.03 if heavy else 0.01)] = np.nan
    spikes = rng.random(n) < (0.004 if heavy else 0.001)
    v[spikes] = v[spikes] * rng.uniform(1.5, 3.0, spikes.sum())
    return t[keep], v[keep]


def _jsonable(d):
    out = {}
    for k, val in d.items():
        if isinstance(val, (np.floating, float)):
            out[k] = float(val)
        elif isinstance(val, (np.integer, int)):
            out[k] = int(val)
        else:
            out[k] = val if isinstance(val, (str, bool)) or val is None else str(val)
    return out


def generate_dataset(n_series: int = 300, *, seed: int = 0, patterns=PATTERNS
                     ) -> list[LabelledSeries]:
    """A balanced labelled dataset: every pattern, in turn, with its own seed.

    Parameters
    ----------
    n_series : int
        Number of series (>= the number of patterns to cover them all).
    seed : int
        Dataset seed.
    patterns : sequence of str
        Patterns to draw from (default all).

    Returns
    -------
    list of LabelledSeries
        About 8/17 of them leaks with the default patterns.
    """
    if n_series < 1:
        raise ValueError(f"n_series must be >= 1, got {n_series}")
    out = []
    for i in range(n_series):
        pattern = patterns[i % len(patterns)]
        out.append(generate(pattern, seed=seed * 1_000_003 + i, index=i))
    return out
