"""Growth: where the floor's growth began, where it stopped, and whether it is real.

The floor of one lifetime is cut into straight-line segments (exact optimal
segmentation, :func:`detector.kernels.linear_segments`). Walking back from the
end, rising segments and upward jumps join the growth regime. A setback (a
falling segment or a downward jump) ends the walk only when it gave back all the
growth before it: a *partial release* that leaves the floor above where the
growth before it began does not (memory that falls 10 points when batch work
ends, but not back to where it was, and a goroutine count that gives a few back,
are still one climb). Flat segments before the regime are not part of it (the
onset is where growth began); flat segments after it are a plateau.

:func:`growth_checks` says whether the regime's growth is real: significant
(Mann-Kendall with the Hamed-Rao correction for autocorrelation), sizeable
(relative to the floor's noise and to the level) and sustained (long enough,
enough points). Whether something else explains it is for
:mod:`detector.analysis.lookalikes`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..config import Config
from ..kernels import order
from .checks import Check, at_least
from .floor import Floor

#: At most this many points are segmented (longer floors are averaged down).
MAX_POINTS = 400

#: The floor's usual high before a regime: this percentile of its points there.
PRE_HIGH_PERCENTILE = 90

SHORT_FACTOR = 2.0


@dataclass(frozen=True)
class Regime:
    """The growth regime of one lifetime's floor (or its absence).

    Attributes
    ----------
    found : bool
        Some rising segment or upward jump leads to the end of the lifetime.
    kind : str
        ``"climb"``: walked back from the end through rising segments, upward
        jumps and partial releases; ``"trend"``: the long-run trend of the
        floor from the onset that gives it the strongest evidence.
    onset : float or None
        Unix seconds where growth began.
    last_growth : float or None
        Unix seconds of the last growth event (end of the last rising segment,
        or the last upward jump).
    t, y : numpy.ndarray
        The floor points of the regime (unix seconds, value units).
    growth : float
        End level minus the level before the regime (value units).
    pre_level, end_level : float
        Fitted floor level before the regime and at its end (value units).
    pre_high : float or None
        The floor's usual high before the regime (its :data:`PRE_HIGH_PERCENTILE`
        th percentile there, value units), when there are at least 3 points.
    rising, jumps_up : int
        Rising segments and upward jumps in the regime.
    step_spacing : float
        Mean time between growth events (seconds); 0 for a single one.
    plateau : float
        Time from the last growth event to the end (seconds).
    releases : int
        Partial releases inside the regime.
    half_slope_ratio : float or None
        Theil-Sen slope of the second half of the growing part over that of
        the first half (None when the first half does not rise).
    late_share : float or None
        Share of the growth made in the second half of the growing part: from
        the median of its middle fifth to that of its last fifth, over the rise
        from its first fifth to its last (medians, so dips weigh little). About
        0.5 for steady growth, near 0 for a warm-up.
    late_high : float or None
        How far the end of the regime tops what came before it, as a share of
        ``growth`` (:func:`late_high`, over all the regime's points, a plateau
        after the growth included): about 0.26 for steady growth, about 0 for a
        plateau.
    slope : float
        Theil-Sen slope over the regime (value units per second); over the
        whole floor when there is no regime.
    slope_interval : (float, float)
        95 % interval of that slope.
    sigma : float
        Noise of the floor (value units; :func:`robust_noise`).
    scale : float
        ``sigma``, bounded below by 1e-9 of the level.
    n_points : int
        Floor points judged (after averaging down to :data:`MAX_POINTS`).
    support : float
        Time each floor point summarises (seconds).
    changepoints : list of float
        Unix seconds of the segment boundaries.
    segments : int
        Number of segments.
    level_change : bool
        Without a regime: some boundary jumps up or down (a level shift).
    """

    found: bool
    kind: str = "climb"
    onset: float | None = None
    last_growth: float | None = None
    t: np.ndarray = field(default_factory=lambda: np.empty(0))
    y: np.ndarray = field(default_factory=lambda: np.empty(0))
    growth: float = 0.0
    pre_level: float = math.nan
    end_level: float = math.nan
    pre_high: float | None = None
    rising: int = 0
    jumps_up: int = 0
    step_spacing: float = 0.0
    plateau: float = 0.0
    releases: int = 0
    half_slope_ratio: float | None = None
    late_share: float | None = None
    late_high: float | None = None
    slope: float = 0.0
    slope_interval: tuple = (math.nan, math.nan)
    sigma: float = 0.0
    scale: float = 0.0
    n_points: int = 0
    support: float = 0.0
    changepoints: list = field(default_factory=list)
    segments: int = 0
    level_change: bool = False

    @property
    def duration(self) -> float:
        """Time the regime's evidence spans (seconds): onset to the last floor point, plus
        what one floor point summarises."""
        if not self.found or self.t.size == 0:
            return 0.0
        return float(self.t[-1] - self.onset) + self.support

    def stats(self) -> dict:
        """The numbers behind the regime, JSON-serialisable."""
        return {"floor_points": self.n_points, "regime_points": int(self.y.size),
                "onset": float(self.onset) if self.found and self.onset is not None else None,
                "noise_sigma": self.sigma, "growth": self.growth,
                "duration": self.duration, "plateau": self.plateau,
                "releases": self.releases, "rising_segments": self.rising,
                "jumps_up": self.jumps_up, "half_slope_ratio": self.half_slope_ratio,
                "late_share": self.late_share, "late_high": self.late_high,
                "segments": self.segments}


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
    sigma = 1.4826 * order.mad(d) / math.sqrt(2.0)
    if sigma == 0.0:  # plateaus (integers, rolling minima): fall back to the mean deviation
        sigma = float(np.mean(np.abs(d - np.mean(d)))) * math.sqrt(math.pi / 2) / math.sqrt(2.0)
    return sigma


def trend_test(y: np.ndarray, plain=None, memo: dict | None = None) -> tuple[float, float, float]:
    """One-sided Mann-Kendall test for an upward trend, corrected for autocorrelation.

    The variance of S is inflated by the Hamed-Rao factor n/n* (from the
    autocorrelation of the detrended ranks at significant lags), but never
    deflated: negative autocorrelation, or a factor the correction cannot
    estimate, leaves the plain tie-corrected variance (a conservative test).

    ``plain``, the uncorrected ``mann_kendall(y)``, is reused when given. ``memo``
    (a dict the caller keeps while one floor is judged) holds the results by the
    memory ``y`` occupies: the climb, the long-run trend's starts and the growth
    checks test stretches of the same floor array, often the same stretch. It also
    holds the pair slopes of the arrays whose stretches from a start to their end are
    tested (:func:`_suffix_sen_slope`): the arrays must not be modified while the memo
    is kept.

    Returns
    -------
    (p, z, inflation) : float
        One-sided p-value for an increase, the z statistic, and the factor
        applied to the variance.
    """
    if memo is not None:
        key = (y.__array_interface__["data"][0], y.shape[0], y.strides[0])
        if key not in memo:  # the array is kept with its result: its memory cannot be
            memo[key] = (_corrected_test(y, plain, memo), y)  # freed and reused
        return memo[key][0]
    return _corrected_test(y, plain, None)


def _corrected_test(y: np.ndarray, plain, memo: dict | None) -> tuple[float, float, float]:
    """:func:`trend_test` without its memo of results; ``memo`` lends the Sen slopes of
    stretches that end where their floor ends (:func:`_suffix_sen_slope`)."""
    from scipy.special import ndtr

    from ..kernels import hamed_rao_factor, mann_kendall

    if y.shape[0] < 4 or np.ptp(y) == 0:
        return 1.0, 0.0, 1.0
    plain = mann_kendall(y) if plain is None else plain
    sen = _suffix_sen_slope(y, memo) if memo is not None else None
    # = mann_kendall(y, correction="hamed_rao").var_s
    corrected = plain.var_s * hamed_rao_factor(y, sen_slope=sen)
    inflation = 1.0
    if plain.var_s > 0 and np.isfinite(corrected) and corrected > plain.var_s:
        inflation = float(corrected / plain.var_s)
    var = plain.var_s * inflation
    if not var > 0:
        return 1.0, 0.0, inflation
    z = mk_z(float(plain.s), var)
    return float(ndtr(-z)), float(z), inflation


def _suffix_sen_slope(y: np.ndarray, memo: dict) -> float | None:
    """Sen's slope over positions of ``y`` when it is a stretch that ends where the array
    holding it ends (a start of a floor to its end: the climb, the long-run trend's
    starts), from that array's :class:`~detector.kernels.suffix_slopes.SuffixSlopes`,
    kept in ``memo``: the starts of one floor share one list of pair slopes. None for any
    other stretch (the caller then lists its own)."""
    from ..kernels.suffix_slopes import SuffixSlopes

    base = y if y.base is None else y.base
    if not isinstance(base, np.ndarray) or base.ndim != 1 or base.dtype != np.float64 \
            or not base.flags.c_contiguous or y.strides[0] != base.itemsize:
        return None
    n = base.shape[0]
    start = base.__array_interface__["data"][0]
    if y.__array_interface__["data"][0] + y.nbytes != start + base.nbytes or \
            not SuffixSlopes.can_hold(n):
        return None
    key = ("suffix_slopes", start, n)
    if key not in memo:  # (it holds the array: its memory is not reused meanwhile)
        memo[key] = SuffixSlopes(base)
    return memo[key].sen_slope(n - y.shape[0])


def mk_z(s: float, var: float) -> float:
    """The Mann-Kendall z of a statistic ``s`` with variance ``var`` (> 0), with the
    continuity correction: (s - sign(s)) / sqrt(var), 0 when s is 0."""
    return (s - math.copysign(1.0, s)) / math.sqrt(var) if s else 0.0


def late_share(y: np.ndarray) -> float | None:
    """Share of a rise made in the second half of ``y``: from the median of its middle
    fifth to that of its last fifth, over the rise from its first fifth to its last
    (:attr:`Regime.late_share`); None when the last fifth is not above the first."""
    k = max(1, y.size // 5)
    mid = y.size // 2
    first, last = order.median(y[:k]), order.median(y[-k:])
    middle = order.median(y[max(0, mid - k // 2):max(1, mid - k // 2 + k)])
    return float((last - middle) / (last - first)) if last > first else None


def late_high(y: np.ndarray, growth: float) -> float | None:
    """How far the last fifth of ``y`` tops what came before it, as a share of ``growth``:
    the 90th percentile of the last fifth minus that of the rest, over ``growth`` (None
    for fewer than 10 points or no growth).

    Steady growth tops the rest by about 0.26 of its rise (0.98 against 0.72, without
    noise); a plateau by about 0, whatever climbed before it.
    """
    if y.size < 10 or not growth > 0:
        return None
    k = max(2, y.size // 5)
    return float((order.percentiles(y[-k:], (90,))[0] - order.percentiles(y[:-k], (90,))[0])
                 / growth)


def reduce_points(t: np.ndarray, y: np.ndarray, max_points: int):
    """Average ``(t, y)`` down to at most ``max_points`` points, keeping the latest whole."""
    n = y.shape[0]
    if n <= max_points:
        return t, y
    k = int(math.ceil(n / max_points))
    m = n // k
    off = n - m * k
    return t[off:].reshape(m, k).mean(axis=1), y[off:].reshape(m, k).mean(axis=1)


def find_regime(floor: Floor, *, level: float, config: Config,
                segmented: tuple | None = None) -> Regime:
    """Find the growth regime of a lifetime's floor (see module docstring).

    Parameters
    ----------
    floor : Floor
        Floor points of the lifetime.
    level : float
        Typical value of the lifetime (value units); bounds the noise scale below.
    config : Config
        ``segment_penalty``, ``segment_rise_sigma``, ``min_floor_points``.
    segmented : tuple, optional
        :func:`segment_floor` of the same floor, level and config, when already made.

    Returns
    -------
    Regime
    """
    from ..kernels import theil_sen_interval

    t_all, y_all, segs, up, down, common = segmented or segment_floor(floor, level, config)
    common = dict(common)
    n = y_all.shape[0]
    if n < config.min_floor_points:
        return Regime(False, **common)
    jumps = common.pop("jumps")
    rise_min = config.segment_rise_sigma * common["scale"]
    tr = t_all - t_all[0]

    # walk back from the end through growth; a setback ends the walk only when it gave
    # back all the growth before it (the floor fell to where that growth began)
    k = len(segs) - 1
    releases = 0
    while k > 0:
        prev = segs[k - 1]
        setback = (-jumps[k] if down[k] else 0.0) + (
            prev["y_a"] - prev["y_b"] if prev["kind"] == "falling" else 0.0)
        if setback > 0:
            rise_after = segs[-1]["y_b"] - segs[k]["y_a"]
            high_before = prev["y_a"] if prev["kind"] == "falling" else prev["y_b"]
            rise_before = high_before - min(sg["y_a"] for sg in segs[:k])
            small = setback < config.staircase_setback * max(rise_after, rise_before)
            if not small and not _partial_release(segs, up, down, k, y_all, rise_min):
                break
            releases += not small
        k -= 1
    regime = list(range(k, len(segs))) if segs[-1]["kind"] != "falling" else []
    # growth starts at a rise or an upward jump
    while regime and segs[regime[0]]["kind"] != "rising" and not (
            up[regime[0]] and regime[0] > 0):
        regime.pop(0)
    plateau_segs = []
    while regime and segs[regime[-1]]["kind"] == "flat" and not up[regime[-1]]:
        plateau_segs.insert(0, regime.pop())
    if not regime:
        ts_slope, _, lo, hi = theil_sen_interval(y_all, tr)
        return Regime(False, slope=float(ts_slope), slope_interval=(lo, hi),
                      level_change=any(up[1:]) or any(down[1:]), **common)

    first = segs[regime[0]]
    i0 = first["start"]
    pre_level = segs[regime[0] - 1]["y_b"] if regime[0] > 0 else first["y_a"]
    end_level = segs[(plateau_segs or regime)[-1]]["y_b"]
    if up[regime[0]] and regime[0] > 0:
        # growth began with a step: include the end of the level before it
        prev = segs[regime[0] - 1]
        i0 = max(prev["start"], prev["end"] - max(3, (prev["end"] - prev["start"]) // 3))
    climb = _regime("climb", t_all, y_all, segs, up, regime, i0, first["t_a"], first["start"],
                    pre_level, end_level, releases, common)
    return climb


def find_trend(floor: Floor, *, level: float, config: Config,
               segmented: tuple | None = None, only_significant: bool = False,
               memo: dict | None = None,
               could_leak: Callable[[Regime, bool], bool] | None = None) -> Regime:
    """The long-run trend of a lifetime's floor: from the segment boundary where an upward
    trend has the strongest evidence (largest autocorrelation-corrected Mann-Kendall z) to
    the end. Its growth is the Theil-Sen rise over that stretch, so brief dips and partial
    releases inside it weigh as little as any other point.

    Parameters and result as :func:`find_regime` (``kind="trend"``). With
    ``only_significant``, a floor on which no start reaches ``Config.alpha`` gives no
    trend, and the search stops as soon as no start left can (the uncorrected test bounds
    the corrected one): for callers that use the trend only when it is a leak, which a
    trend that is not significant never is. ``memo``: see :func:`trend_test`.

    ``could_leak(regime, fitted)`` (with ``only_significant``): a predicate on a start's
    regime made without its costly statistics (the Theil-Sen interval, the halves'
    slopes, the late share and high are left out), true when every check that needs none
    of them holds; it is asked first with the levels not fitted (``fitted`` False: the
    levels and growth are NaN, only what the segments tell counts), then with them.
    When it is false for every start that could be significant, no start can give a
    leaking trend whichever wins, and no autocorrelation correction is worked out: the
    result is then no trend, as for a floor without a significant start. (The corrected
    test only inflates the variance, so the winning start's uncorrected p is below
    ``Config.alpha`` too: it is among the starts asked about.)
    """
    from scipy.special import ndtr

    from ..kernels import mann_kendall, theil_sen

    t_all, y_all, segs, up, down, common = segmented or segment_floor(floor, level, config)
    common = {k: v for k, v in common.items() if k != "jumps"}
    n = y_all.shape[0]
    if n < config.min_floor_points:
        return Regime(False, kind="trend", **common)
    need = max(config.min_floor_points, n // 5)
    starts = [c for c in sorted({0, *(sg["start"] for sg in segs)}) if n - c >= need]
    # the strongest evidence: the corrected z is largest from where the growth began (the
    # earliest start on a tie). The correction only inflates the variance, so the plain z
    # bounds the corrected one: starts are tried from the largest plain z down, and the
    # search stops once no plain z can beat the best corrected z (exact, and it spares
    # most of the autocorrelation corrections, the costly part)
    plain = {}
    for c in starts:
        y = y_all[c:]
        if y.shape[0] >= 4 and np.ptp(y) > 0:
            mk = mann_kendall(y)
            if mk.var_s > 0:
                plain[c] = (mk, mk_z(float(mk.s), float(mk.var_s)))
    fits = {}

    def trend_from(c: int, light: bool = False, fit: bool = True) -> Regime:
        if fit and c not in fits:
            fits[c] = theil_sen(y_all[c:], t_all[c:] - t_all[c])
        slope, intercept = fits[c] if fit else (math.nan, math.nan)
        pre_level = float(intercept)
        end_level = pre_level + float(slope) * float(t_all[-1] - t_all[c])
        inside = [j for j, sg in enumerate(segs) if sg["end"] > c]
        releases = sum(1 for j in inside if segs[j]["kind"] == "falling" or (
            down[j] and j > 0 and segs[j]["start"] > c))
        return _regime("trend", t_all, y_all, segs, up, inside, c, float(t_all[c]), c,
                       pre_level, end_level, releases, common, light=light)

    by_plain_z = sorted(plain, key=lambda c: (-plain[c][1], c))
    if could_leak is not None and only_significant:
        # first what the segments alone tell (no fit), then the fitted growth
        maybe = [c for c in by_plain_z
                 if plain[c][1] > 0 and ndtr(-plain[c][1]) < config.alpha
                 and could_leak(trend_from(c, light=True, fit=False), False)]
        if not any(could_leak(trend_from(c, light=True), True) for c in maybe):
            return Regime(False, kind="trend", **common)
    best, best_z = None, 0.0
    for c in by_plain_z:
        mk, bound = plain[c]
        if bound < best_z or bound <= 0:
            break
        if only_significant and not ndtr(-bound) < config.alpha:
            break  # neither this start nor any after it can be significant
        _, z, _ = trend_test(y_all[c:], plain=mk, memo=memo)
        if z > best_z or (z == best_z and best is not None and c < best and z > 0):
            best, best_z = c, z
    if best is None or (only_significant and not ndtr(-best_z) < config.alpha):
        return Regime(False, kind="trend", **common)
    return trend_from(best)


def segment_floor(floor: Floor, level: float, config: Config) -> tuple:
    """The floor averaged down, its noise, and its straight-line segments: what
    :func:`find_regime` and :func:`find_trend` both start from (make it once, pass it as
    ``segmented``)."""
    from ..kernels import linear_segments, segment_fits

    t_all, y_all = reduce_points(floor.t, floor.y, MAX_POINTS)
    n = y_all.shape[0]
    sigma = robust_noise(y_all) if n >= 3 else 0.0
    scale = max(sigma, 1e-9 * max(abs(level), 1.0))
    common = dict(sigma=sigma, scale=scale, n_points=int(n), support=floor.support)
    if n < config.min_floor_points:
        return t_all, y_all, [], [], [], common
    t0 = t_all[0]
    tr = t_all - t0
    rise_min = config.segment_rise_sigma * scale
    min_size = max(3, n // 30)
    penalty = config.segment_penalty * scale ** 2 * math.log(n)
    ends = linear_segments(y_all, penalty, t=tr, min_size=min_size)
    segs = []
    for start, end, slope, intercept, _ in segment_fits(y_all, ends, t=tr):
        a, b = tr[start], tr[end - 1]
        y_a, y_b = intercept + slope * a, intercept + slope * b
        rise = y_b - y_a
        kind = "rising" if rise > rise_min else ("falling" if rise < -rise_min else "flat")
        segs.append(dict(start=start, end=end, t_a=a + t0, t_b=b + t0, y_a=y_a, y_b=y_b,
                         slope=slope, kind=kind))
    jumps = _jumps(segs, y_all, tr)
    common.update(changepoints=[sg["t_a"] for sg in segs[1:]], segments=len(segs))
    return (t_all, y_all, segs, [j > rise_min for j in jumps], [j < -rise_min for j in jumps],
            common | {"jumps": jumps})


def _regime(kind, t_all, y_all, segs, up, members, i0, onset, first_start, pre_level,
            end_level, releases, common, light: bool = False) -> Regime:
    """A found regime from its segments and first point, with its statistics; ``light``
    leaves out the costly ones (the slope's interval, the halves' slopes, the late share
    and high: NaN or None), which only the warm-up veto and the report read."""
    from ..kernels import theil_sen, theil_sen_interval

    common = {k: v for k, v in common.items() if k != "jumps"}
    t0 = t_all[0]
    rising = [j for j in members if segs[j]["kind"] == "rising"]
    jumps_up = [j for j in members if up[j] and j > 0 and segs[j]["start"] > i0]
    events = [segs[j]["t_b"] for j in rising] + [segs[j]["t_a"] for j in jumps_up]
    if kind == "trend":
        # a long trend climbs in segments too gentle to count as rising one by one:
        # a segment still grows when it gains more than the floor's noise
        events += [segs[j]["t_b"] for j in members
                   if segs[j]["y_b"] - segs[j]["y_a"] > common["scale"]]
    last_growth = max(events) if events else float(t_all[-1])
    t_reg, y_reg = t_all[i0:], y_all[i0:]
    steps = sorted(set([segs[j]["t_a"] for j in jumps_up] + [segs[j]["t_a"] for j in rising]))
    spacing = (steps[-1] - steps[0]) / (len(steps) - 1) if len(steps) > 1 else 0.0
    base = dict(kind=kind, onset=float(onset), last_growth=float(last_growth), t=t_reg,
                y=y_reg, growth=float(end_level - pre_level), pre_level=float(pre_level),
                end_level=float(end_level), pre_high=_pre_high(y_all[:first_start]),
                rising=len(rising), jumps_up=len(jumps_up), step_spacing=float(spacing),
                plateau=float(t_all[-1] - last_growth), releases=releases, **common)
    if light:
        return Regime(True, slope=math.nan, **base)
    ts_slope, _, lo, hi = theil_sen_interval(y_reg, t_reg - t0) if y_reg.size >= 3 else (
        0.0, 0.0, math.nan, math.nan)
    # the growing part, halved: a warm-up's second half grows far slower than its first
    # (for a trend, the whole stretch it spans)
    core = t_reg <= last_growth if kind == "climb" else np.ones(t_reg.shape[0], bool)
    tc, yc = t_reg[core], y_reg[core]
    half = tc.shape[0] // 2
    ratio = None
    if half >= 3:
        s1 = theil_sen(yc[:half], tc[:half])[0]
        s2 = theil_sen(yc[half:], tc[half:])[0]
        if s1 > 0:
            ratio = float(s2 / s1)
    late = late_share(yc) if tc.shape[0] >= 10 else None
    return Regime(True, half_slope_ratio=ratio, late_share=late,
                  late_high=late_high(y_reg, float(end_level - pre_level)),
                  slope=float(ts_slope), slope_interval=(float(lo), float(hi)), **base)


def _pre_high(before: np.ndarray) -> float | None:
    """The floor's usual high before a regime (:attr:`Regime.pre_high`): None for fewer
    than 3 points."""
    return order.percentiles(before, (PRE_HIGH_PERCENTILE,))[0] if before.size >= 3 else None


def _jumps(segs: list, y: np.ndarray, t: np.ndarray) -> list[float]:
    """What the data do across each boundary (medians of three points each side) beyond
    what either neighbouring segment's slope explains: fitted lines overshoot when drawn
    through a staircase, and a steep ramp moves more than the noise from one point to the
    next without jumping. Entry 0 (no boundary) is 0."""
    jumps = [0.0]
    for k in range(1, len(segs)):
        b = segs[k]["start"]
        i = slice(max(segs[k - 1]["start"], b - 3), b)
        j = slice(b, min(segs[k]["end"], b + 3))
        step = order.median(y[j]) - order.median(y[i])
        dt = order.median(t[j]) - order.median(t[i])
        rates = (segs[k - 1]["slope"], segs[k]["slope"], 0.0)
        explained = min(max(step, min(rates) * dt), max(rates) * dt)
        jumps.append(step - explained)
    return jumps


def _partial_release(segs: list, up: list, down: list, k: int, y: np.ndarray,
                     margin: float) -> bool:
    """Whether the setback entering segment ``k`` (a fall before it, or a jump down into
    it) left the floor above where the growth before it began.

    The growth before the setback is the run of rising segments and upward jumps that
    ends at it; the floor after it is the lowest point from segment ``k`` to the end.
    """
    def grows(i):
        return segs[i]["kind"] == "rising" or up[i]

    j = k - 1
    if segs[j]["kind"] == "falling":
        j -= 1
    if j < 0 or not grows(j):
        return False  # nothing grew before the setback: the regime cannot reach back
    while j > 0 and grows(j - 1) and not down[j]:
        j -= 1
    began = segs[j - 1]["y_b"] if up[j] else segs[j]["y_a"]
    after = float(np.min(y[segs[k]["start"]:]))
    return after > began + margin


def growth_checks(regime: Regime, *, level: float, swing: float, period: float | None,
                  lifetime: tuple[float, float], config: Config,
                  memo: dict | None = None) -> list[Check]:
    """The evidence that a regime's growth is real: significant, sizeable, sustained.

    Parameters
    ----------
    regime : Regime
        A found regime (``regime.found``).
    level : float
        Typical value of the lifetime (value units), for relative growth.
    swing : float
        The lifetime's p5-p95 spread of values (value units): growth shorter than
        :data:`SHORT_FACTOR` x ``Config.min_leak_duration`` must be a
        ``Config.short_growth_swing`` share of it.
    period : float or None
        Dominant period (seconds): growth must span ``Config.min_periods`` of them.
    lifetime : (float, float)
        First and last unix seconds of the lifetime.
    config : Config
    memo : dict, optional
        Trend tests already made on this floor, and its pair slopes (see
        :func:`trend_test`).

    Returns
    -------
    list of Check
        ``significant``, ``above_noise``, ``relative_growth``, ``duration``, ``points``,
        and ``short_growth_swing`` for growth shorter than :data:`SHORT_FACTOR` x
        ``Config.min_leak_duration``;
        all hold for real growth.
    """
    p, z, inflation = trend_test(regime.y, memo=memo)
    return [Check("significant", z > 0 and p < config.alpha, p, config.alpha,
                  f"Mann-Kendall p = {p:.2g} (Hamed-Rao variance x{inflation:.2g}), "
                  f"z = {z:.2f}; needs p < {config.alpha:g} and z > 0")] + size_checks(
        regime, level=level, swing=swing, period=period, lifetime=lifetime, config=config)


def size_checks(regime: Regime, *, level: float, swing: float, period: float | None,
                lifetime: tuple[float, float], config: Config) -> list[Check]:
    """The growth checks but significance (:func:`growth_checks`, same parameters): the
    growth's size and span, from the regime's level, growth, points and onset alone.

    Returns
    -------
    list of Check
        ``above_noise``, ``relative_growth``, ``duration``, ``points``, and
        ``short_growth_swing`` for growth shorter than :data:`SHORT_FACTOR` x
        ``Config.min_leak_duration``.
    """
    checks = []
    # many points pin a trend down better than few: the ratio shrinks with sqrt(points)
    n_reg = regime.y.size
    ratio = max(config.min_noise_ratio_floor, config.min_noise_ratio * math.sqrt(
        min(1.0, config.noise_ratio_points / max(n_reg, 1))))
    checks.append(at_least("above_noise", regime.growth / regime.scale, ratio,
                           "growth in noise sigmas of the floor"))
    checks.append(at_least("relative_growth", regime.growth / max(abs(level), 1e-12),
                           config.min_relative_growth, "growth as a share of the level"))
    span = max(lifetime[1] - lifetime[0], 1e-9)
    need = min(config.min_leak_duration, config.min_leak_fraction * span)
    if period:
        need = max(need, config.min_periods * period)
    checks.append(at_least("duration", regime.duration, need,
                           "seconds of growth (at least min(min_leak_duration, "
                           "min_leak_fraction x lifetime), and min_periods periods)"))
    checks.append(at_least("points", n_reg, config.min_floor_points, "floor points in the regime"))
    if regime.duration < SHORT_FACTOR * config.min_leak_duration:
        # short growth could be an old generation filling before its first full
        # collection, or a cache filling: it counts when it moves the floor by a good
        # share of what the series swings anyway
        checks.append(at_least("short_growth_swing", regime.growth / max(swing, 1e-300),
                               config.short_growth_swing,
                               f"growth of {regime.duration:.0f} s (shorter than "
                               f"{SHORT_FACTOR * config.min_leak_duration:.0f} s) as a share "
                               f"of the p5-p95 "
                               f"swing"))
    return checks
