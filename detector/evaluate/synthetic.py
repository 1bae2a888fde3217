"""A seeded generator of labelled memory series: leaks and the shapes that look like them.

Every series is drawn from ranges rather than one fixed shape per pattern:

==================  =========================================================================
level               100 MB - 8 GB, log-uniform (bytes); goroutine counts 20 - 2000
sampling interval   1, 5, 10, 15, 30, 60, 120 or 300 s; coarser (whole seconds) when the series
                    would exceed :data:`MAX_SAMPLES` samples
history             6 h - 14 days, log-uniform; patterns with a daily load 2.5 - 14 days (weekly
                    loads 14 - 21 days), restart patterns 2 - 10 days
noise               Gaussian; sigma a share of the level from one of three tiers: low
                    0.1 - 0.5 %, medium 0.5 - 1.5 %, high 1.5 - 3 % (:data:`NOISE_TIERS`)
leak growth         what a leak gains over its growth regime, as a share of the level:
                    0.3 - 3 (log-uniform); one leak in four is *hard*: 0.18 - 0.3
damage              15 % of the series (every ``noisy_leak``): gaps (absent timestamps and
                    NaN stretches), isolated NaN samples and scrape spikes (x 1.5 - 3)
limit               ``restart_loop``: the value it is killed at; otherwise 70 % of the series
                    get one, 1.05 - 3 x their highest value
==================  =========================================================================

Labels: ``leak`` (the most recent regime leaks), ``onset`` (unix seconds where the
current leak's growth began: the first sample for leaks that grow all along, the
start of growth for ``late_onset``, the first step for ``stepwise_growth``; ``None``
for healthy series) and ``pattern`` (one of :data:`PATTERNS`; the names the detector
reports where they coincide). ``params`` records every drawn parameter.

Timestamps are always increasing here (gaps are absent timestamps); the detector's
handling of unsorted and duplicated input is tested elsewhere.

Numpy only, vectorised: 340 series (about 6 million samples) take well under a second. The
same seed gives the same series, byte for byte (for a given numpy version).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

DAY = 86400.0
HOUR = 3600.0
WEEK = 7 * DAY

#: Largest number of samples in one series.
MAX_SAMPLES = 50_000

#: Patterns whose label is ``leak=True``.
LEAK_PATTERNS = ("linear_growth", "periodic_growth", "gc_floor_growth", "restart_loop",
                 "late_onset", "stepwise_growth", "convex_growth", "noisy_leak")
#: Patterns whose label is ``leak=False`` (look-alikes of a leak).
BENIGN_PATTERNS = ("stable", "periodic", "gc_sawtooth", "level_shift", "warmup",
                   "batch_spikes", "scheduled_restarts", "resolved_leak", "random_walk")
#: Every pattern name.
PATTERNS = LEAK_PATTERNS + BENIGN_PATTERNS

#: The cycle :func:`generate_dataset` walks through: every pattern once, then the
#: three hardest look-alikes again, so that 8 of 20 (40 %) series leak.
SCHEDULE = PATTERNS + ("periodic", "level_shift", "random_walk")

#: Sampling intervals drawn from (seconds).
INTERVALS = (1.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0)

#: Noise tiers: name -> (probability, (low, high) sigma as a share of the level).
NOISE_TIERS = {"low": (0.35, (0.001, 0.005)), "medium": (0.45, (0.005, 0.015)),
               "high": (0.20, (0.015, 0.03))}

#: Share of leaks drawn with a small growth (hard but fair).
HARD_SHARE = 0.25


@dataclass(frozen=True)
class LabelledSeries:
    """One generated series and its labels.

    Attributes
    ----------
    id : str
        ``<pattern>-<index>``, e.g. ``late_onset-0004``.
    timestamps : numpy.ndarray
        float64 unix seconds, increasing (gaps are absent timestamps).
    values : numpy.ndarray
        float64 bytes (goroutine counts for ``stepwise_growth``); NaN = missing sample.
    limit : float or None
        Memory limit in the unit of ``values`` (bytes), when the container has one.
    leak : bool
        Whether the most recent regime leaks.
    onset : float or None
        Unix seconds where the current leak's growth began; None when not a leak.
    pattern : str
        One of :data:`PATTERNS`.
    params : dict
        The drawn parameters (JSON-serialisable; seconds, bytes, shares of the level).
    """

    id: str
    timestamps: np.ndarray
    values: np.ndarray
    limit: float | None
    leak: bool
    onset: float | None
    pattern: str
    params: dict = field(default_factory=dict)


# ---- building blocks ---------------------------------------------------------------------

def _log_uniform(rng, low, high):
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _grid(rng, interval, duration, start):
    """Sample times: ``(timestamps, seconds since start, interval)``."""
    if interval is None:
        interval = float(rng.choice(INTERVALS))
    n = int(duration // interval) + 1
    if n > MAX_SAMPLES:  # keep series small enough for a quick evaluation
        interval = float(math.ceil(duration / (MAX_SAMPLES - 1)))
        n = int(duration // interval) + 1
    x = np.arange(n) * interval
    return start + x, x, float(interval)


def _cycles(rng, x, mean, jitter):
    """Phase in [0, 1) within cycles of jittered length, and the cycle index.

    Cycle lengths are ``mean`` (seconds) times U(1 - jitter, 1 + jitter); the
    series starts partway through its first cycle.
    """
    lengths = rng.uniform(1 - jitter, 1 + jitter, int(x[-1] / (mean * (1 - jitter))) + 3) * mean
    ends = np.cumsum(lengths)
    xx = x + rng.uniform(0, lengths[0])
    idx = np.searchsorted(ends, xx, side="right")
    begins = np.concatenate(([0.0], ends))[idx]
    return (xx - begins) / lengths[idx], idx


def _gc_cycle(rng, interval):
    """Mean GC cycle (seconds): 30 s - 15 min, and at least 4 samples long (so that
    a scrape every 5 min still sees the sawtooth rather than aliased noise)."""
    low = max(30.0, 4 * interval)
    return rng.uniform(low, max(900.0, 2 * low))


def _daily(rng, x, span, amplitude):
    """A daily load of one of several shapes, sometimes quieter on weekends.

    Returns ``(load in bytes, params)``; the load lies in [0, amplitude].
    """
    shape = str(rng.choice(["sine", "business", "peaky", "asymmetric"]))
    p = (x / DAY + rng.uniform(0, 1)) % 1.0  # phase within the day
    params: dict = {"load_shape": shape, "load_amplitude": amplitude}
    if shape == "sine":
        prof = 0.5 * (1 + np.sin(2 * math.pi * p))
    elif shape == "business":  # a square wave: busy hours at a higher level
        width = rng.uniform(0.3, 0.5)
        prof = (p < width).astype(float)
        params["busy_fraction"] = width
    elif shape == "peaky":
        prof = np.clip(np.sin(2 * math.pi * p), 0, None) ** 3
    else:  # fast rise, slow exponential decay
        rise, decay = rng.uniform(0.03, 0.2), rng.uniform(0.08, 0.3)
        tail = math.exp(-(1 - rise) / decay)
        prof = np.where(p < rise, p / rise, (np.exp(-(p - rise) / decay) - tail) / (1 - tail))
        params.update(rise_fraction=rise, decay_fraction=decay)
    if span >= WEEK and rng.random() < 0.4:  # quieter weekends (a weekly component)
        quiet = rng.uniform(0.3, 0.8)
        weekend = ((x / DAY + rng.integers(0, 7)) // 1 % 7) >= 5
        prof = prof * np.where(weekend, quiet, 1.0)
        params["weekend_factor"] = quiet
    return amplitude * prof, params


def _weekly(rng, x, amplitude):
    """A weekly load: busy working days, quiet weekends, softened edges."""
    p = (x / WEEK + rng.uniform(0, 1)) % 1.0
    prof = 0.5 * (1 + np.tanh((5 / 7 - p) * 40) * np.tanh(p * 40))
    return amplitude * prof, {"load_shape": "weekly", "load_amplitude": amplitude}


def _ar1(rng, n, a, sd):
    """A stationary AR(1) path ``y[i] = a y[i-1] + e[i]`` with standard deviation ``sd``.

    Vectorised: the recursion is a convolution with ``a**k``, truncated where
    ``a**k < 1e-18`` and done by FFT.
    """
    e = rng.normal(0.0, sd * math.sqrt(1 - a * a), n)
    y0 = rng.normal(0.0, sd)
    k = n if a >= 1 - 1e-15 else min(n, int(math.ceil(-41.5 / math.log(max(a, 1e-300)))) + 1)
    kernel = a ** np.arange(k)
    size = 1 << (n + k - 2).bit_length()
    y = np.fft.irfft(np.fft.rfft(e, size) * np.fft.rfft(kernel, size), size)[:n]
    return y + y0 * a ** np.arange(1, n + 1)


def _noise_sigma(rng, noise, base):
    if noise is not None:
        return float(noise) * base, "given"
    names = list(NOISE_TIERS)
    tier = names[int(rng.choice(len(names), p=[NOISE_TIERS[t][0] for t in names]))]
    low, high = NOISE_TIERS[tier][1]
    return rng.uniform(low, high) * base, tier


def _damage(rng, t, v, heavy):
    """Gaps (absent timestamps, NaN stretches), NaN samples and scrape spikes."""
    n = t.size
    keep = np.ones(n, bool)
    for _ in range(int(rng.integers(1, 4 if heavy else 2))):
        a = int(rng.integers(0, n))
        keep[a:a + int(n * rng.uniform(0.01, 0.06))] = False
    v = v.copy()
    if rng.random() < 0.5:
        a = int(rng.integers(0, n))
        v[a:a + int(n * rng.uniform(0.005, 0.03))] = np.nan
    v[rng.random(n) < (0.03 if heavy else 0.01)] = np.nan
    spikes = rng.random(n) < (0.004 if heavy else 0.001)
    v[spikes] = v[spikes] * rng.uniform(1.5, 3.0, int(spikes.sum()))
    return t[keep], v[keep]


def _jsonable(d):
    out = {}
    for k, val in d.items():
        if isinstance(val, (bool, np.bool_)):
            out[k] = bool(val)
        elif isinstance(val, (np.floating, float)):
            out[k] = float(val)
        elif isinstance(val, (np.integer, int)):
            out[k] = int(val)
        else:
            out[k] = val if isinstance(val, str) or val is None else str(val)
    return out


# ---- public ------------------------------------------------------------------------------

def generate(pattern: str, *, seed: int, interval: float | None = None,
             duration: float | None = None, level: float | None = None,
             noise: float | None = None, start: float = 1.7e9, index: int = 0
             ) -> LabelledSeries:
    """Generate one labelled series.

    Parameters
    ----------
    pattern : str
        One of :data:`PATTERNS`. Leaks: ``linear_growth``; ``periodic_growth``
        (growth under a daily load, sometimes quieter weekends); ``gc_floor_growth``
        (GC sawtooth whose floor rises; mean cycles of 30 s - 15 min,
        jittered +-30 %, at least 4 samples long, amplitude 30 - 150 % of the level);
        ``restart_loop`` (climbs to the limit, is killed, restarts at the baseline;
        lifetimes of 2 h - a quarter of the window, jittered +-30 %); ``late_onset`` (flat, then
        growth from 30 - 70 % of the window); ``stepwise_growth`` (integer counts
        that jitter by 0.5 % of the level: 10 - 60 steps up at random times; half
        of the series also step down 1 - 3 times, by 25 - 100 % of a step);
        ``convex_growth`` (growth as ``(t / T) ** p``, p 1.5 - 3); ``noisy_leak``
        (linear growth with heavy damage). Healthy: ``stable``;
        ``periodic`` (daily sine, business-hours,
        peaky or asymmetric load of 10 - 100 % of the level, or a weekly load over
        14 - 21 days); ``gc_sawtooth``; ``level_shift`` (-40 % to +80 %, at 20 - 80 %
        of the window, over 0 - 30 min); ``warmup`` (``1 - exp(-t / tau)``, tau 2 - 12 %
        of the window, gaining 20 - 150 %); ``batch_spikes`` (jobs every 15 min -
        6 h lasting 5 - 30 % of it, flat or ramping, 20 - 150 % of the level);
        ``scheduled_restarts`` (every 6, 12 or 24 h, each lifetime warming up with
        tau 3 - 15 % of it); ``resolved_leak`` (grows from 0 - 30 % to 40 - 70 % of
        the window, then flat, half of them after a restart to the baseline);
        ``random_walk`` (Ornstein-Uhlenbeck: sd 2 - 10 % of the level, mean
        reversion time 0.5 - 5 % of the window).
    seed : int
        Seed of this series' random stream (combined with the pattern).
    interval : float, optional
        Sampling interval (seconds); default drawn from :data:`INTERVALS`. Made
        coarser when the series would have more than :data:`MAX_SAMPLES` samples.
    duration : float, optional
        History (seconds); default drawn per pattern (see the module docstring).
    level : float, optional
        Base level (bytes); default log-uniform in 100 MB - 8 GB. Ignored by
        ``stepwise_growth``, whose level is a count of 20 - 2000.
    noise : float, optional
        Noise sigma as a share of the level; default drawn from :data:`NOISE_TIERS`.
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
    weekly = pattern == "periodic" and rng.random() < 0.15
    if duration is None:
        if weekly:
            duration = rng.uniform(14, 21) * DAY
        elif pattern in ("periodic_growth", "periodic"):
            duration = rng.uniform(2.5, 14) * DAY
        elif pattern in ("restart_loop", "scheduled_restarts"):
            duration = rng.uniform(2, 10) * DAY
        else:
            duration = _log_uniform(rng, 6 * HOUR, 14 * DAY)
    t, x, interval = _grid(rng, interval, duration, start)
    span = float(x[-1])
    base = float(level) if level is not None else _log_uniform(rng, 100e6, 8e9)
    sigma, tier = _noise_sigma(rng, noise, base)
    leak = pattern in LEAK_PATTERNS
    hard = leak and rng.random() < HARD_SHARE
    gain = rng.uniform(0.18, 0.3) if hard else _log_uniform(rng, 0.3, 3.0)
    growth = base * gain  # what a leak gains over its growth regime (bytes)
    params: dict = {"interval": interval, "duration": span, "level": base,
                    "noise_sigma": sigma, "noise_tier": tier}
    if leak:
        params.update(hard=hard, growth=growth)
    onset = start if leak else None
    limit = None
    v = np.full(t.size, base)

    if pattern == "linear_growth" or pattern == "noisy_leak":
        v = v + growth * x / span
    elif pattern == "periodic_growth":
        amp = base * (rng.uniform(0.5, 1.0) if hard else rng.uniform(0.1, 0.8))
        load, extra = _daily(rng, x, span, amp)
        v = v + load + growth * x / span
        params.update(extra)
    elif pattern == "gc_floor_growth":
        cycle = _gc_cycle(rng, interval)
        phase, _ = _cycles(rng, x, cycle, 0.3)
        amp = base * rng.uniform(0.3, 1.5)
        v = v + amp * phase + growth * x / span
        params.update(gc_cycle=cycle, gc_amplitude=amp)
    elif pattern == "restart_loop":
        life = rng.uniform(2 * HOUR, max(2.5 * HOUR, span / 4))
        phase, idx = _cycles(rng, x, life, 0.3)
        v = base + growth * phase
        limit = (base + growth) * rng.uniform(1.0, 1.05)
        params.update(lifetime=life, restarts=int(idx[-1] - idx[0]))
    elif pattern == "late_onset":
        at = span * rng.uniform(0.3, 0.7)
        v = v + np.where(x > at, growth * (x - at) / (span - at), 0.0)
        onset = start + at
        params.update(onset_fraction=at / span)
    elif pattern == "stepwise_growth":
        base = float(rng.integers(20, 2000))
        n_steps = int(rng.integers(10, 60))
        times = np.sort(rng.uniform(0, span * 0.95, n_steps))
        n_down = int(rng.integers(1, 4)) if rng.random() < 0.5 else 0  # rarely down
        size = max(1, int(math.ceil(base * gain / (n_steps - 2 * n_down))))
        steps = np.full(n_steps, size)
        down = rng.choice(np.arange(1, n_steps), n_down, replace=False)
        steps[down] = -np.maximum(1, (size * rng.uniform(0.25, 1.0, n_down)).astype(int))
        counts = np.concatenate(([0], np.cumsum(steps)))
        jitter = int(max(1, base * 0.005))
        v = (base + counts[np.searchsorted(times, x, side="right")]
             + rng.integers(0, jitter + 1, t.size)).astype(float)
        onset = start + float(times[0])
        sigma = 0.0
        params.update(level=base, n_steps=n_steps, down_steps=n_down, step=size,
                      count_jitter=jitter, noise_sigma=0.0, growth=float(counts[-1]))
    elif pattern == "convex_growth":
        power = rng.uniform(1.5, 3.0)
        v = v + growth * (x / span) ** power
        params.update(power=power)
    elif pattern == "stable":
        pass
    elif pattern == "periodic":
        amp = base * rng.uniform(0.1, 1.0)
        load, extra = _weekly(rng, x, amp) if weekly else _daily(rng, x, span, amp)
        v = v + load
        params.update(extra)
    elif pattern == "gc_sawtooth":
        cycle = _gc_cycle(rng, interval)
        phase, _ = _cycles(rng, x, cycle, 0.3)
        amp = base * rng.uniform(0.3, 1.5)
        v = v + amp * phase
        params.update(gc_cycle=cycle, gc_amplitude=amp)
    elif pattern == "level_shift":
        at = span * rng.uniform(0.2, 0.8)
        ramp = rng.uniform(0, 30 * 60)
        shift = base * rng.uniform(-0.4, 0.8)
        v = v + shift * np.clip((x - at) / max(ramp, 1e-9), 0, 1)
        params.update(shift_fraction=at / span, shift=shift, ramp_seconds=ramp)
    elif pattern == "warmup":
        tau = span * rng.uniform(0.02, 0.12)
        v = v + base * rng.uniform(0.2, 1.5) * (1 - np.exp(-x / tau))
        params.update(tau=tau)
    elif pattern == "batch_spikes":
        every = float(rng.choice([900.0, 1800.0, HOUR, 2 * HOUR, 6 * HOUR]))
        length = every * rng.uniform(0.05, 0.3)
        height = base * rng.uniform(0.2, 1.5)
        p = (x + rng.uniform(0, every)) % every
        ramping = bool(rng.random() < 0.4)
        job = np.where(p < length, (p / length) if ramping else 1.0, 0.0)
        v = v + height * job
        params.update(every=every, length=length, height=height, ramping=ramping)
    elif pattern == "scheduled_restarts":
        life = float(rng.choice([6 * HOUR, 12 * HOUR, DAY]))
        tau = life * rng.uniform(0.03, 0.15)
        p = (x + rng.uniform(0, life)) % life
        v = v + base * rng.uniform(0.3, 1.0) * (1 - np.exp(-p / tau))
        params.update(lifetime=life, tau=tau)
    elif pattern == "resolved_leak":
        begin = span * rng.uniform(0.0, 0.3)
        stop = span * rng.uniform(0.4, 0.7)
        v = v + growth * np.clip((x - begin) / (stop - begin), 0, 1)
        restarted = bool(rng.random() < 0.5)
        if restarted:  # fixed by a restart: back to baseline, flat since
            v = np.where(x > stop, base, v)
        params.update(old_onset=start + begin, stopped=start + stop, growth=growth,
                      restarted=restarted)
    elif pattern == "random_walk":
        corr = rng.uniform(0.005, 0.05) * span  # mean-reversion time (seconds)
        sd = base * rng.uniform(0.02, 0.1)
        v = v + _ar1(rng, t.size, math.exp(-interval / corr), sd)
        params.update(reversion_seconds=corr, walk_sd=sd)

    if sigma > 0:
        v = v + rng.normal(0, 1, t.size) * sigma
    if limit is not None:  # the OOM killer fires at the limit
        v = np.minimum(v, limit)
    if pattern == "noisy_leak" or (pattern != "stepwise_growth" and rng.random() < 0.15):
        t, v = _damage(rng, t, v, heavy=pattern == "noisy_leak")
        params.update(damaged=True)
    if limit is None and rng.random() < 0.7:
        limit = float(np.nanmax(v)) * rng.uniform(1.05, 3.0)
    if pattern != "stepwise_growth":
        v = np.maximum(v, 0.0)
    return LabelledSeries(id=f"{pattern}-{index:04d}", timestamps=t, values=v,
                          limit=None if limit is None else float(limit), leak=leak,
                          onset=None if onset is None else float(onset), pattern=pattern,
                          params=_jsonable(params))


def generate_dataset(n_series: int = 300, *, seed: int = 0, patterns=None
                     ) -> list[LabelledSeries]:
    """A balanced labelled dataset.

    Parameters
    ----------
    n_series : int
        Number of series. With the default patterns every pattern appears once
        ``n_series >= 17``, and the leak share is 40 % for multiples of 20.
    seed : int
        Dataset seed; series ``i`` is ``generate(..., seed=seed * 1_000_003 + i)``.
    patterns : sequence of str, optional
        Patterns to cycle through; default :data:`SCHEDULE` (every pattern, then
        ``periodic``, ``level_shift`` and ``random_walk`` again: 8 leaks in 20).

    Returns
    -------
    list of LabelledSeries
        Series ``i`` has pattern ``patterns[i % len(patterns)]`` and id
        ``<pattern>-<i>``.
    """
    if n_series < 1:
        raise ValueError(f"n_series must be >= 1, got {n_series}")
    patterns = SCHEDULE if patterns is None else tuple(patterns)
    return [generate(patterns[i % len(patterns)], seed=seed * 1_000_003 + i, index=i)
            for i in range(n_series)]
