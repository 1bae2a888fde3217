"""Replicates: what completed lifetimes say about the current one.

After a restart a process starts again from its baseline, so completed
lifetimes are replicates of the current one:

* **restart loop** (a leak): memory grows with uptime in every lifetime, from the
  restart to the kill, again and again. The evidence is pooled over the completed
  lifetimes (the Mann-Kendall S and its variance add up over independent
  lifetimes), so a loop of short lives, each too short to convince alone, is still
  found; the growth must begin early in each life (memory that sits at its baseline
  and ramps only before each drop is work, not a leak), the peaks must not fall
  (under a GC sawtooth, the peaks of the floor: what a lifetime holds), and the
  current lifetime must grow too, or be too young to tell. An OOM-kill
  loop is the strongest leak evidence there is.
* **batch work** (a look-alike): a ramp confined to the end of each lifetime,
  released at its drop, or any ramp repeated between drops that keep a clock
  (work that piles up all day and is released every night at the same hour); a
  ramp in the current lifetime no longer or larger than those released before
  is the same work again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..config import Config
from ..kernels import order
from .checks import Check
from .floor import Floor
from .growth import late_share, mk_z
from .verdict import LifetimeVerdict

#: Significance of the pooled test that growth begins early in each lifetime.
UPTIME_ALPHA = 0.05


@dataclass(frozen=True)
class Replicates:
    """The completed lifetimes, judged together.

    Attributes
    ----------
    restart_loop : Check
        Holds when the lifetimes make a restart loop (a leak).
    loop_checks : list of Check
        The parts of that judgement that were asked (pooled trend, rises, growth from
        the start, peaks, current lifetime, ...): cheapest first, up to the first that
        fails (:data:`ASKED_ORDER`), listed in the order reports give them.
    batch_work : Check
        Holds when the current lifetime's growth is the same work as the ramps
        released at the ends of earlier lifetimes, or, under restarts on a clock,
        no more than the earlier lifetimes grew by the same age (a veto).
    completed : int
        Completed lifetimes long enough to be judged, among the most recent ones
        (``pipeline.MAX_JUDGED_LIFETIMES``).
    leaking : int
        Those that leak on their own.
    coverage : float or None
        Median share of a leaking lifetime that its growth spans.
    pattern : str
        The healthy pattern ``batch_work`` names when it holds: ``"batch_spikes"``,
        or ``"scheduled_restarts"`` when it held by the same-age comparison.
    unasked : list of str
        The loop checks left unasked after the first that failed.
    """

    restart_loop: Check
    batch_work: Check
    completed: int
    leaking: int
    coverage: float | None
    loop_checks: list = field(default_factory=list)
    pattern: str = "batch_spikes"
    unasked: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"completed_judged": self.completed, "completed_leaking": self.leaking,
                "growth_coverage": None if self.coverage is None else round(self.coverage, 4),
                "restart_loop_checks": [c.to_dict() for c in self.loop_checks],
                "restart_loop_unasked": list(self.unasked)}


def judge_replicates(completed: list[LifetimeVerdict], floors: list[Floor],
                     current: LifetimeVerdict, current_floor: Floor, peaks: np.ndarray, *,
                     level: float, config: Config,
                     restarts: list[float],
                     limit: float | None = None,
                     hold_peaks: np.ndarray | None = None) -> Replicates:
    """Judge the completed lifetimes together with the current one.

    Parameters
    ----------
    completed : list of LifetimeVerdict
        Completed lifetimes long enough to be judged, among the most recent ones
        (``pipeline.MAX_JUDGED_LIFETIMES``), oldest first.
    floors : list of Floor
        Their floor points, aligned with ``completed``.
    current : LifetimeVerdict
        The ongoing lifetime.
    current_floor : Floor
        Its floor points.
    peaks : numpy.ndarray
        Highest value of every lifetime (value units), the current one last.
    level : float
        Typical value of the series (value units), for relative growth.
    config : Config
        ``alpha``, ``min_relative_growth``, ``restart_loop_min_coverage``,
        ``min_leaking_lifetimes``.
    restarts : list of float
        Unix seconds where each lifetime long enough to be judged began with a restart,
        the current one's last, for the clock: all of them, also when only the most
        recent lifetimes are judged.
    limit : float, optional
        The memory limit (value units): lifetimes whose peaks reach
        :data:`AT_LIMIT` of it were killed there, even when the kills keep a clock.
    hold_peaks : numpy.ndarray, optional
        The levels whose fall ``peaks_hold`` judges, aligned with ``peaks``: under a GC
        sawtooth, the peaks of each lifetime's floor (:func:`.restarts.floor_peaks`);
        default ``peaks``.

    Returns
    -------
    Replicates
    """
    leaking = [v for v in completed if v.leak]
    coverage = [_coverage(v) for v in leaking]
    median_cov = float(np.median(coverage)) if coverage else None
    clock = _on_a_clock(restarts)
    clocked = clock[0]
    loop_checks, unasked = _loop_checks([v.bounds for v in completed], floors,
                                        current.bounds, current.leak, current_floor, peaks,
                                        clock, level=level, config=config, limit=limit,
                                        hold_peaks=hold_peaks)
    loop = bool(loop_checks) and all(c.holds for c in loop_checks)
    failed = [c for c in loop_checks if not c.holds]
    if loop:
        reason = "; ".join(c.reason for c in loop_checks)
    elif not loop_checks:
        reason = f"{len(completed)} completed lifetimes: too few to judge a loop"
    else:
        reason = "not a restart loop: " + "; ".join(c.reason for c in failed) + (
            f" (not asked after it: {', '.join(unasked)})" if unasked else "")
    restart_loop = Check("restart_loop", loop, float(len(completed)),
                         float(config.min_leaking_lifetimes - 1), reason)

    # batch work: ramps confined to the end of their lifetimes, twice or more -- or any
    # ramp repeated between drops that keep a clock (work piling up all day and released
    # every night at the same hour is a load cycle, however much of the day it takes)
    released = [v for v, c in zip(leaking, coverage)
                if c < config.restart_loop_min_coverage or clocked]
    recurring = len(released) >= 2 and not loop
    how = "between drops on a clock" if clocked else "only before their drop"
    pattern = "batch_spikes"
    if recurring and current.leak:
        growth_max = max(v.regime.growth for v in released)
        duration_max = max(v.regime.duration for v in released)
        same = (current.regime.growth <= 1.5 * growth_max
                and current.regime.duration <= 1.5 * duration_max)
        batch = Check("batch_work", same, current.regime.growth, 1.5 * growth_max,
                      f"{len(released)} earlier lifetimes ramped {how}; the "
                      f"current growth is {'no more' if same else 'more'} than 1.5 x theirs")
    elif clocked and current.leak and not loop and len(completed) >= 2:
        # restarts on a schedule: the earlier lifetimes are replicates of the current one
        # at every age; growth no larger than theirs by the same age is the same again
        age = current.bounds[1] - current.bounds[0]
        past = float(np.median([_growth_by_age(f, v.bounds[0], age)
                                for v, f in zip(completed, floors)]))
        same = current.regime.growth <= 1.5 * past
        batch = Check("batch_work", same, current.regime.growth, 1.5 * past,
                      f"restarts on a clock; by the current lifetime's age ({age / 3600:.3g} h) "
                      f"the {len(completed)} earlier lifetimes grew {past:.4g} (median); the "
                      f"current growth is {'no more' if same else 'more'} than 1.5 x that")
        pattern = "scheduled_restarts"
    else:
        batch = Check("batch_work", recurring, float(len(released)), 2.0,
                      f"{len(released)} earlier lifetimes ramped {how}"
                      + (" (recurring work)" if recurring else ""))
    return Replicates(restart_loop, batch, len(completed), len(leaking), median_cov,
                      loop_checks, pattern=pattern, unasked=unasked)


def _growth_by_age(floor: Floor, start: float, age: float) -> float:
    """How far a lifetime's floor rose within ``age`` seconds of its ``start``: the
    highest floor point by then less the lowest before it (value units; 0 with fewer
    than two points)."""
    y = floor.y[floor.t - start <= age]
    if y.size < 2:
        return 0.0
    return float(np.max(y - np.minimum.accumulate(y)))


def loop_possible(bounds: list, floors: list[Floor], current_bounds: tuple,
                  current_floor: Floor, peaks: np.ndarray, *, level: float, config: Config,
                  restarts: list[float], limit: float | None = None,
                  hold_peaks: np.ndarray | None = None) -> bool:
    """Whether lifetimes could make a restart loop, from their floors alone: every loop
    check of :func:`judge_replicates` holds, except that the current lifetime's may
    still hold by its own verdict (a leak), which is not known here. False means
    :func:`judge_replicates` would find no loop in the same lifetimes whatever their
    verdicts: a reading kept only for a loop need not judge them. Arguments as
    :func:`judge_replicates`, with ``bounds`` (and ``current_bounds``) for the
    completed (and current) lifetimes' verdicts. The checks are asked cheapest first
    (:data:`CHEAP_FIRST`), and the first that fails answers."""
    parts = _loop_parts(bounds, floors, current_bounds, None, current_floor, peaks,
                        _on_a_clock(restarts), level=level, config=config, limit=limit,
                        hold_peaks=hold_peaks)
    if not parts:
        return False
    return all(parts[name]().holds for name in CHEAP_FIRST)


#: The loop checks in the order they are asked, cheapest first: the pooled trends
#: (last) correct every lifetime's floor for autocorrelation, a few ms a series.
ASKED_ORDER = ("kills_off_the_clock", "lifetimes_rise", "loop_growth", "peaks_hold",
               "grows_to_kill", "killed_at_peak", "current_lifetime", "grows_from_start",
               "pooled_trend")

#: The loop checks :func:`loop_possible` asks: all but ``current_lifetime``, which may
#: hold by the current lifetime's verdict.
CHEAP_FIRST = tuple(name for name in ASKED_ORDER if name != "current_lifetime")


def _loop_checks(bounds, floors, current_bounds, current_leak, current_floor, peaks, clock, *,
                 level, config, limit, hold_peaks=None) -> tuple[list[Check], list[str]]:
    """The parts of the restart-loop judgement that were asked, in the order reports give
    them (that of :func:`_loop_parts`), and the names of those left unasked, in the order
    they would have been asked; both empty when there are too few lifetimes. Arguments as
    :func:`_loop_parts`.

    A loop needs every check to hold, so they are asked in :data:`ASKED_ORDER` (a check
    missing from it, last) and the first that fails decides: the others are left unasked
    (lifetimes on a clock, the commonest no, then spare the pooled trends). The verdict is
    the same as with every check asked; the report lists the asked ones and names the
    others.
    """
    parts = _loop_parts(bounds, floors, current_bounds, current_leak, current_floor, peaks,
                        clock, level=level, config=config, limit=limit, hold_peaks=hold_peaks)
    order = [name for name in ASKED_ORDER if name in parts] + [
        name for name in parts if name not in ASKED_ORDER]
    asked = {}
    for name in order:
        asked[name] = parts[name]()
        if not asked[name].holds:
            break
    return [asked[name] for name in parts if name in asked], \
        [name for name in order if name not in asked]


def _loop_parts(bounds, floors, current_bounds, current_leak, current_floor, peaks, clock, *,
                level, config, limit, hold_peaks=None) -> dict:
    """Each loop check by name, as a function that makes it, in the order reports give
    them; empty when there are too few lifetimes. ``bounds`` are the completed lifetimes'
    (aligned with ``floors``), ``clock`` is :func:`_on_a_clock` of the lifetimes' starts,
    ``current_leak`` the current lifetime's verdict (None: not known, and its check then
    holds only by the floor)."""
    usable = [(b, f) for b, f in zip(bounds, floors) if f.y.size >= 4]
    if len(usable) < max(1, config.min_leaking_lifetimes - 1):
        return {}
    rises = np.array([_rise(f.y) for _, f in usable])

    def pooled_trend():
        z, p, bound = _pooled_trend([f.y for _, f in usable], config.alpha)
        return Check("pooled_trend", z > 0 and p < config.alpha, p, config.alpha,
                     f"memory grows with uptime across {len(usable)} lifetimes (pooled "
                     f"Mann-Kendall p {'>=' if bound else '='} {p:.2g}"
                     f"{', uncorrected' if bound else ''}, needs < {config.alpha:g})")

    def lifetimes_rise():
        share = float(np.mean(rises > 0))
        return Check("lifetimes_rise", share >= 2 / 3, share, 2 / 3,
                     f"{share:.0%} of the lifetimes end above where they began")

    def loop_growth():
        rel = float(np.median(rises)) / max(abs(level), 1e-12)
        return Check("loop_growth", rel >= config.min_relative_growth, rel,
                     config.min_relative_growth,
                     f"a lifetime gains {rel:.1%} of the level (median)")

    def grows_from_start():
        z1, p1, bound1 = _pooled_trend([f.y[:max(2, f.y.size // 2)] for _, f in usable],
                                       UPTIME_ALPHA)
        return Check("grows_from_start", z1 > 0 and p1 < UPTIME_ALPHA, p1, UPTIME_ALPHA,
                     f"the growth begins early in each lifetime (first halves: pooled "
                     f"p {'>=' if bound1 else '='} {p1:.2g}, needs < {UPTIME_ALPHA:g}); a "
                     "ramp only before each drop is work")

    def grows_to_kill():
        # lifetimes that do not rise make none of their rise late
        shares = [late_share(f.y) for _, f in usable]
        late = float(np.median([0.0 if x is None else x for x in shares]))
        return Check("grows_to_kill", late >= config.warmup_late_share, late,
                     config.warmup_late_share,
                     f"the growth goes on until each drop: second halves make {late:.0%} of "
                     f"it (lifetimes that level off, under "
                     f"{config.warmup_late_share:.0%}, are warm-ups after scheduled "
                     "restarts)")

    def killed_at_peak():
        at_peak = float(np.mean([_ends_at_peak(f.y) for _, f in usable]))
        return Check("killed_at_peak", at_peak >= 2 / 3, at_peak, 2 / 3,
                     f"{at_peak:.0%} of the lifetimes are highest in their last fifth when "
                     "they drop (a kill at the peak; a dip strikes anywhere)")

    def peaks_hold():
        rise = float(np.median(rises))
        held = peaks if hold_peaks is None else hold_peaks
        hold = _peaks_hold(held[:-1], rise) if held.size >= 3 else True
        which = "the peaks" if hold_peaks is None else "the floor's peaks"
        return Check("peaks_hold", hold, None, None,
                     f"{which} do not fall" if hold else
                     f"{which} fall by more than half of what a lifetime gains")

    def kills_off_the_clock():
        clocked, every = clock
        # drops on a clock are a schedule ... unless the peaks reach the limit: then kills
        # there happen to keep time
        at_limit = limit is not None and limit > 0 and peaks.size >= 2 and \
            float(np.median(peaks[:-1])) >= AT_LIMIT * limit
        if not clocked:
            why = "the drops do not keep a clock (kills come when memory runs out)"
        elif at_limit:
            why = (f"the drops come every {every / 3600:.4g} h, but the lifetimes peak at "
                   f">= {AT_LIMIT:.0%} of the limit: kills at the limit")
        else:
            why = (f"the drops come every {every / 3600:.4g} h to within "
                   f"{CLOCK_TOLERANCE:.0%}: a schedule (a daily load, a cron restart), not "
                   "kills when memory runs out")
        return Check("kills_off_the_clock", not clocked or at_limit, every, None, why)

    def current_lifetime():
        lives = [b[1] - b[0] for b, _ in usable]
        age = current_bounds[1] - current_bounds[0]
        young = age < 0.5 * float(np.median(lives)) or current_floor.y.size < 4
        up = current_floor.y.size >= 4 and _pooled_trend([current_floor.y], 0.0)[0] > 0
        climbing = bool(current_leak) or (up and _rise(current_floor.y) > 0)
        return Check("current_lifetime", young or climbing, None, None,
                     "the current lifetime " + ("leaks" if current_leak else "climbs again"
                                                if climbing else "is too young to tell"
                                                if young else "does not grow"))

    return {f.__name__: f for f in (pooled_trend, lifetimes_rise, loop_growth,
                                    grows_from_start, grows_to_kill, killed_at_peak,
                                    peaks_hold, kills_off_the_clock, current_lifetime)}


#: Share of the memory limit at which a lifetime's peak is a kill at the limit.
AT_LIMIT = 0.9

#: Drops whose spacing varies by less than this share of a whole number of hours keep a
#: clock: a schedule, not kills.
CLOCK_TOLERANCE = 0.02


def _on_a_clock(starts: list[float]) -> tuple[bool, float | None]:
    """Whether lifetimes starting at ``starts`` (unix seconds) restart on a schedule.

    The median interval must be within :data:`CLOCK_TOLERANCE` of a whole number of
    hours, at least two intervals must be within that tolerance of it, and every other
    one within it of a whole multiple of it (a skipped run of the schedule, or a restart
    the detector did not see). Returns (clocked, median interval in seconds or None).
    """
    gaps = np.diff(np.asarray(starts, dtype=float))
    if gaps.size < 2:
        return False, float(gaps[0]) if gaps.size else None
    every = float(np.median(gaps))
    hours = max(1.0, round(every / 3600.0))
    if every <= 0 or abs(every - hours * 3600.0) > CLOCK_TOLERANCE * every:
        return False, every
    k = np.maximum(1.0, np.round(gaps / every))
    on_beat = np.abs(gaps - k * every) <= CLOCK_TOLERANCE * k * every
    single = int(np.sum(on_beat & (k == 1)))
    return bool(np.all(on_beat) and single >= 2), every


def _pooled_trend(series: list[np.ndarray], alpha: float | None = None
                  ) -> tuple[float, float, bool]:
    """Mann-Kendall over independent stretches: S and its variance (inflated for each
    stretch's autocorrelation) summed; (z, one-sided p for an increase, bound).

    The correction only inflates the variances, so the uncorrected test bounds the
    corrected one: with ``alpha`` given, when the uncorrected p is already >= ``alpha``
    the costly corrections are skipped and that p is returned as a lower bound
    (``bound`` True). The sign of z never depends on the correction.
    """
    from scipy.special import ndtr

    from ..kernels import hamed_rao_factor, mann_kendall

    s_sum, var_plain = 0.0, 0.0
    kept = []
    for y in series:
        if y.size >= 3 and np.ptp(y) > 0:
            r = mann_kendall(y)
            s_sum += float(r.s)
            var_plain += float(r.var_s)
            kept.append((y, float(r.var_s)))

    def z_p(var_sum):
        if var_sum <= 0:
            return 0.0, 1.0
        z = mk_z(s_sum, var_sum)
        return z, float(ndtr(-z))

    z, p = z_p(var_plain)
    if alpha is not None and p >= alpha:
        return z, p, True
    var_sum = 0.0
    for y, var in kept:
        if y.size >= 8:  # inflated for autocorrelation (Hamed-Rao), never deflated
            # (= mann_kendall(y, correction="hamed_rao").var_s, without counting S again)
            corrected = float(var * hamed_rao_factor(y))
            if math.isfinite(corrected) and corrected > var:
                var = corrected
        var_sum += var
    z, p = z_p(var_sum)
    return z, p, False


def loop_onset(t: np.ndarray, v: np.ndarray, lives: list, judged: list) -> float:
    """Where a restart loop began: the first of the unbroken run of lifetimes, ending with
    the judged ones, that each climb at least a tenth as fast as a judged lifetime does
    (the median judged rate).

    Only the most recent lifetimes are judged (``pipeline.MAX_JUDGED_LIFETIMES``); the
    older ones belong to the loop when they climb as the judged ones do, and a lifetime
    that does not (a healthy stretch before the loop set in) ends the walk back. Rates,
    not rises: the window's first lifetime began before the window and shows only the end
    of its climb. A lifetime's rise is the median of its last third of samples less that
    of its first third; its rate, that over its duration.

    Parameters
    ----------
    t, v : numpy.ndarray
        Unix seconds and values of the valid samples, in time order.
    lives : list of (float, float)
        ``(first, last)`` unix seconds of every completed lifetime long enough to judge,
        oldest first.
    judged : list of (float, float)
        Bounds of the judged ones among them (the most recent), oldest first; not empty.

    Returns
    -------
    float
        Unix seconds of the loop's first sample.
    """
    def rate(bounds):
        a, b = np.searchsorted(t, bounds[0], "left"), np.searchsorted(t, bounds[1], "right")
        span = bounds[1] - bounds[0]
        return _rise(v[a:b]) / span if b - a >= 3 and span > 0 else math.nan

    need = 0.1 * float(np.median([rate(b) for b in judged]))
    onset = float(judged[0][0])
    for bounds in reversed([b for b in lives if b[0] < judged[0][0]]):
        if not (need > 0 and rate(bounds) >= need):
            break
        onset = float(bounds[0])
    return onset


def _rise(y: np.ndarray) -> float:
    """Median of the last third minus median of the first third (value units)."""
    k = max(1, y.size // 3)
    return order.median(y[-k:]) - order.median(y[:k])


def _ends_at_peak(y: np.ndarray) -> bool:
    """The median of the last fifth of ``y`` is the highest median of its five fifths."""
    parts = np.array_split(y, 5) if y.size >= 5 else [y]
    medians = [order.median(p) for p in parts if p.size]
    return medians[-1] >= max(medians)


def _coverage(v: LifetimeVerdict) -> float:
    """Share of the lifetime that its growth spans (onset to the end)."""
    return (v.bounds[1] - v.regime.onset) / max(v.bounds[1] - v.bounds[0], 1e-9)


def _peaks_hold(peaks: np.ndarray, rise: float = 0.0) -> bool:
    """The peaks of completed lifetimes do not fall: the later half's median is at least
    the earlier half's, less a tenth of the peaks' spread, 5 % of their level, or half of
    ``rise`` (what a lifetime gains, value units). Lifetimes that each climb far more
    than their peaks sink are a loop over a falling background, not a load that wanes."""
    half = peaks.size // 2
    early, late = np.median(peaks[:half + peaks.size % 2]), np.median(peaks[half:])
    slack = max(0.1 * (np.max(peaks) - np.min(peaks)), 0.05 * abs(early), 0.5 * max(rise, 0.0))
    return bool(late >= early - slack)
