"""Regimes: where growth began, whether it is still going on, and whether it is a leak.

The floor of one lifetime is cut into straight-line segments (exact optimal
segmentation, :func:`detector.kernels.linear_segments`). Walking back from
the end, rising segments and upward jumps are merged into the growth regime
(a staircase of goroutine counts is growth too); flat segments before it are
not part of it (the onset is where growth began), a flat stretch after it is
a plateau. The regime is a leak when its growth is

* significant: Mann-Kendall with the Hamed-Rao correction for
  autocorrelation, and a positive Theil-Sen slope;
* sizeable: relative to the level and to the noise;
* sustained: long enough, and not decelerating to a plateau (a warm-up);
* current: any plateau after it is short;
* new: it ends above what the lifetime held before it began (a recovery from
  a dip back to the usual level is not a leak).

Each criterion yields a margin (log of value over threshold); the smallest
margin decides, so every "no" has a named reason in the evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..config import Config
from .floor import Floor

#: At most this many points are segmented (longer floors are averaged down).
MAX_POINTS = 400


@dataclass(frozen=True)
class RegimeVerdict:
    """The judgement of one lifetime's floor.

    Attributes
    ----------
    leak : bool
    growth_found : bool
        A growth regime exists (leaking or not).
    margins : dict
        Criterion name -> log(value / threshold); all > 0 for a leak.
    onset : float or None
        Unix seconds where the growth regime began.
    growth_end : float or None
        Unix seconds where growth stopped (start of the final plateau), when
        it stopped.
    slope : float
        Theil-Sen slope over the regime (value units per second); over the
        whole lifetime when there is no regime.
    slope_interval : (float, float)
        95 % interval of that slope.
    changepoints : list of float
        Unix seconds of the segment boundaries.
    shape : str
        ``"linear"``, ``"convex"``, ``"stepwise"``, ``"decelerating"``,
        ``"flat"``, ``"level_shift"``, ``"recovery"``.
    stats : dict
        Numbers behind the verdict.
    """

    leak: bool
    growth_found: bool
    margins: dict = field(default_factory=dict)
    onset: float | None = None
    growth_end: float | None = None
    slope: float = 0.0
    slope_interval: tuple = (math.nan, math.nan)
    changepoints: list = field(default_factory=list)
    shape: str = "flat"
    stats: dict = field(default_factory=dict)

    @property
    def margin(self) -> float:
        """The smallest margin (the deciding criterion); -inf without a regime."""
        return min(self.margins.values()) if self.margins else -math.inf

    @property
    def failed(self) -> list[str]:
        """Criteria that were not met."""
        return [k for k, v in self.margins.items() if v <= 0]


def robust_noise(y: np.ndarray, lag: int = 3) -> float:
    """Noise sigma of ``y`` from its lag-``lag`` differences (MAD, Gaussian-consistent).

    A lag of a few points sees past the short-range correlation that
    smoothing (and rolling minima) leave between neighbours, which would
    make first differences underestimate the noise. Never 0 for varied data.
    """
    n = y.shape[0]
    if n < 3:
        return 0.0
    lag = max(1, min(lag, n // 3))
    d = y[lag:] - y[:-lag]
    sigma = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2.0)
    if sigma == 0.0:  # plateaus (integers, rolling minima): fall back to the mean deviation
        sigma = float(np.mean(np.abs(d - np.mean(d)))) * math.sqrt(math.pi / 2) / math.sqrt(2.0)
    return sigma


def trend_test(y: np.ndarray) -> tuple[float, float, float]:
    """One-sided Mann-Kendall test for an upward trend, corrected for autocorrelation.

    The variance of S is inflated by the Hamed-Rao factor n/n* (from the
    autocorrelation of the detrended ranks at significant lags), but never
    deflated: negative autocorrelation, or a factor the correction cannot
    estimate, leaves the plain tie-corrected variance (a conservative test).

    Returns
    -------
    (p, z, inflation) : float
        One-sided p-value for an increase, the z statistic, and the factor
        applied to the variance.
    """
    from scipy.special import ndtr

    from ..kernels import mann_kendall

    if y.shape[0] < 4 or np.ptp(y) == 0:
        return 1.0, 0.0, 1.0
    plain = mann_kendall(y)
    corrected = mann_kendall(y, correction="hamed_rao")
    inflation = 1.0
    if plain.var_s > 0 and np.isfinite(corrected.var_s) and corrected.var_s > plain.var_s:
        inflation = float(corrected.var_s / plain.var_s)
    var = plain.var_s * inflation
    if not var > 0:
        return 1.0, 0.0, inflation
    s_stat = float(plain.s)
    z = (s_stat - np.sign(s_stat)) / math.sqrt(var)  # continuity correction
    return float(ndtr(-z)), float(z), inflation


def _reduce(t: np.ndarray, y: np.ndarray, max_points: int):
    n = y.shape[0]
    if n <= max_points:
        return t, y
    k = int(math.ceil(n / max_points))
    m = n // k
    off = n - m * k  # keep the latest points whole
    return t[off:].reshape(m, k).mean(axis=1), y[off:].reshape(m, k).mean(axis=1)


def _margin(value: float, threshold: float) -> float:
    if threshold <= 0:
        return math.inf if value > 0 else -math.inf
    if value <= 0:
        return -math.inf
    return math.log(value) - math.log(threshold)  # no overflow for extreme ratios


def judge_floor(floor: Floor, *, level: float, period: float | None, config: Config,
                lifetime: tuple[float, float], reference_high: float | None = None
                ) -> RegimeVerdict:
    """Judge the floor of one lifetime.

    Parameters
    ----------
    floor : Floor
        Floor points of the lifetime.
    level : float
        Typical value of the lifetime (value units), for relative growth.
    period : float or None
        Dominant period (seconds), if any: growth must span two of them.
    config : Config
    lifetime : (float, float)
        First and last unix seconds of the lifetime.
    reference_high : float, optional
        The usual high of the floor in the previous (healthy) lifetime: growth
        back to it after a restart is a recovery, not a leak.

    Returns
    -------
    RegimeVerdict
    """
    from scipy import stats

    from ..kernels import linear_segments, segment_fits, theil_sen, theil_sen_interval

    t_all, y_all = _reduce(floor.t, floor.y, MAX_POINTS)
    n = y_all.shape[0]
    if n < config.min_floor_points:
        return RegimeVerdict(False, False, stats={"floor_points": int(n)}, shape="flat")
    t0 = t_all[0]
    tr = t_all - t0
    sigma = robust_noise(y_all)
    scale = max(sigma, 1e-9 * max(abs(level), 1.0))
    min_size = max(3, n // 30)
    penalty = config.segment_penalty * scale ** 2 * math.log(n)
    ends = linear_segments(y_all, penalty, t=tr, min_size=min_size)
    fits = segment_fits(y_all, ends, t=tr)
    segs = []
    for start, end, slope, intercept, rss in fits:
        a, b = tr[start], tr[end - 1]
        y_a, y_b = intercept + slope * a, intercept + slope * b
        rise = y_b - y_a
        kind = "rising" if rise > config.segment_rise_sigma * scale else (
            "falling" if rise < -config.segment_rise_sigma * scale else "flat")
        segs.append(dict(start=start, end=end, t_a=a + t0, t_b=b + t0, y_a=y_a, y_b=y_b,
                         slope=slope, kind=kind))
    # a jump is what the data do across a boundary (medians of three points each
    # side) beyond what either neighbouring segment's slope explains: fitted lines
    # overshoot when drawn through a staircase, and a steep ramp moves more than the
    # noise from one point to the next without jumping
    jumps = [0.0]
    for k in range(1, len(segs)):
        b = segs[k]["start"]
        i = slice(max(segs[k - 1]["start"], b - 3), b)
        j = slice(b, min(segs[k]["end"], b + 3))
        step = float(np.median(y_all[j]) - np.median(y_all[i]))
        dt = float(np.median(tr[j]) - np.median(tr[i]))
        rates = (segs[k - 1]["slope"], segs[k]["slope"], 0.0)
        explained = min(max(step, min(rates) * dt), max(rates) * dt)
        jumps.append(step - explained)
    up = [j > config.segment_rise_sigma * scale for j in jumps]
    down = [j < -config.segment_rise_sigma * scale for j in jumps]
    changepoints = [s["t_a"] for s in segs[1:]]

    # walk back: the regime is the maximal run of segments without a fall or a drop; a
    # staircase that keeps climbing may step down a little (a goroutine count gives a
    # few back): a setback smaller than a share of the rise after it does not end it
    k = len(segs) - 1
    while k > 0:
        prev = segs[k - 1]
        setback = -jumps[k] if down[k] else 0.0
        if prev["kind"] == "falling":
            setback += prev["y_a"] - prev["y_b"]
        if setback > 0:
            rise_after = segs[-1]["y_b"] - segs[k]["y_a"]
            high_before = prev["y_a"] if prev["kind"] == "falling" else prev["y_b"]
            rise_before = high_before - min(sg["y_a"] for sg in segs[:k])
            if not setback < config.staircase_setback * max(rise_after, rise_before):
                break
        k -= 1
    regime = list(range(k, len(segs))) if segs[-1]["kind"] != "falling" else []
    # leading flat or falling segments are not growth: growth starts at a rise or an
    # upward jump
    while regime and segs[regime[0]]["kind"] != "rising" and not (
            up[regime[0]] and regime[0] > 0):
        regime.pop(0)
    # trailing plateau: flat segments entered without an upward jump
    plateau = []
    while regime and segs[regime[-1]]["kind"] == "flat" and not up[regime[-1]]:
        plateau.insert(0, regime.pop())
    if not regime:
        shape = "level_shift" if any(up[1:]) or any(down[1:]) else "flat"
        ts_slope, ts_icpt, lo, hi = theil_sen_interval(y_all, tr)
        return RegimeVerdict(False, False, slope=float(ts_slope), slope_interval=(lo, hi),
                             changepoints=changepoints, shape=shape,
                             stats={"floor_points": int(n), "noise_sigma": sigma,
                                    "segments": len(segs)})

    first = segs[regime[0]]
    onset = first["t_a"]
    i0 = first["start"]
    # growth events: rising segments and upward jumps; the last one ends the growth
    rising = [j for j in regime if segs[j]["kind"] == "rising"]
    jumps_up = [j for j in regime if up[j] and j > 0]
    last_growth = max([segs[j]["t_b"] for j in rising] + [segs[j]["t_a"] for j in jumps_up])
    pre_level = segs[regime[0] - 1]["y_b"] if regime[0] > 0 else first["y_a"]
    end_level = segs[(plateau or regime)[-1]]["y_b"]
    growth = end_level - pre_level
    if jumps_up and jumps_up[0] == regime[0]:
        # growth began with a step: include the end of the level before it
        prev = segs[regime[0] - 1]
        i0 = max(prev["start"], prev["end"] - max(3, (prev["end"] - prev["start"]) // 3))
    t_reg, y_reg = t_all[i0:], y_all[i0:]
    n_reg = y_reg.shape[0]
    # each floor point summarises `support` seconds: the regime's evidence spans that much more
    duration = float(t_all[-1] - onset) + floor.support
    lifetime_span = max(lifetime[1] - lifetime[0], 1e-9)
    plateau_len = float(t_all[-1] - last_growth)

    margins = {}
    # significance (autocorrelation-aware) and direction
    p, z, inflation = trend_test(y_reg)
    margins["significant"] = (math.log(config.alpha / max(p, 1e-300)) if z > 0 else -math.inf)
    ts_slope, ts_icpt, lo, hi = theil_sen_interval(y_reg, t_reg - t0) if n_reg >= 3 else (
        0.0, 0.0, math.nan, math.nan)
    # size relative to noise and to level
    # many points pin a trend down better than few: the ratio shrinks with sqrt(points)
    ratio_needed = max(config.min_noise_ratio_floor, config.min_noise_ratio * math.sqrt(
        min(1.0, config.noise_ratio_points / max(n_reg, 1))))
    margins["above_noise"] = _margin(growth, ratio_needed * scale)
    margins["relative_growth"] = _margin(growth, config.min_relative_growth * max(abs(level),
                                                                                  1e-12))
    # sustained: long enough, enough points, and two periods if the series is periodic
    need = max(config.min_leak_duration, 2 * period if period else 0.0)
    margins["duration"] = _margin(duration, need)
    margins["points"] = _margin(n_reg + 0.5, float(config.min_floor_points))
    # more than one step: a single jump between two flat levels is a level shift
    if not rising and len(jumps_up) == 1:
        margins["not_single_step"] = -math.inf
    # current: the time since the last growth must be short
    steps = sorted(set([segs[j]["t_a"] for j in jumps_up] + [segs[j]["t_a"] for j in rising]))
    spacing = (steps[-1] - steps[0]) / (len(steps) - 1) if len(steps) > 1 else 0.0
    allowed = max(config.plateau_fraction * lifetime_span, 2.5 * spacing)
    margins["current"] = _margin(allowed, plateau_len) if plateau_len > 0 else math.inf
    # not a warm-up: the second half of the growth still grows
    core = t_reg <= last_growth
    tc, yc = t_reg[core], y_reg[core]
    half = tc.shape[0] // 2
    ratio = math.inf
    if half >= 3:
        s1 = theil_sen(yc[:half], tc[:half])[0]
        s2 = theil_sen(yc[half:], tc[half:])[0]
        if s1 > 0:
            ratio = s2 / s1
            margins["not_saturating"] = _margin(ratio, config.saturation_ratio) if ratio > 0 \
                else -math.inf
    # new: it ends above what the lifetime held before the growth began
    before = y_all[:first["start"]]
    highs = ([float(np.percentile(before, 90))] if before.size >= 3 else []) + (
        [reference_high] if reference_high is not None and np.isfinite(reference_high) else [])
    if highs:
        pre_high = max(highs)
        excess = end_level - pre_high
        margins["new_high"] = _margin(excess, config.new_high_fraction * max(growth, 1e-300)) \
            if excess > 0 else -math.inf
    leak = all(v > 0 for v in margins.values())
    growth_end = float(last_growth) if margins["current"] <= 0 else None

    if "not_single_step" in margins:
        shape = "level_shift"
    elif margins.get("new_high", 1.0) <= 0:
        shape = "recovery"
    elif margins.get("not_saturating", 1.0) <= 0:
        shape = "decelerating"
    elif len(jumps_up) >= 2 and len(jumps_up) >= len(rising):
        shape = "stepwise"
    elif ratio != math.inf and ratio > config.convex_ratio:
        shape = "convex"
    else:
        shape = "linear"
    return RegimeVerdict(
        leak=leak, growth_found=True, margins=margins, onset=float(onset),
        growth_end=growth_end, slope=float(ts_slope), slope_interval=(float(lo), float(hi)),
        changepoints=changepoints, shape=shape,
        stats={"floor_points": int(n), "regime_points": int(n_reg), "noise_sigma": sigma,
               "growth": float(growth), "relative_growth": float(growth / max(abs(level), 1e-12)),
               "mk_p": p, "mk_z": z, "mk_variance_inflation": inflation,
               "duration": duration, "plateau": plateau_len,
               "half_slope_ratio": None if ratio == math.inf else float(ratio),
               "segments": len(segs)})
