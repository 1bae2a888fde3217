"""The verdict on one lifetime, and the names of what was found.

A lifetime leaks when its floor has a growth regime whose growth is real (every
check of :func:`~detector.analysis.growth.growth_checks` holds) and no look-alike
vetoes it (:data:`~detector.analysis.lookalikes.VETOES`)::

    leak = regime found  and  all(growth checks)  and  not any(vetoes)

The series' verdict adds the lifetimes around it
(:mod:`detector.analysis.replicates`)::

    leak = (current lifetime leaks and it is not batch work again) or restart loop
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from ..config import Config
from . import lookalikes
from .checks import Check
from .floor import Floor
from .growth import (Regime, find_regime, find_trend, growth_checks, segment_floor,
                     size_checks)


@dataclass(frozen=True)
class LifetimeVerdict:
    """The judgement of one lifetime's floor.

    Attributes
    ----------
    regime : Regime
    growth : list of Check
        Evidence that the growth is real (empty without a regime).
    vetoes : list of Check
        The look-alikes that could explain the growth away.
    bounds : (float, float)
        First and last unix seconds of the lifetime.
    other : LifetimeVerdict or None
        The other reading of the floor that was considered and not chosen (the
        long-run trend when the local climb decided, or the climb when the trend
        did), for inspection; no report reads it. The trend is looked for only to
        see whether it leaks, so when no start could be significant, or none could
        pass the checks that need no autocorrelation correction
        (:func:`trend_could_leak`), it is a verdict without a regime.
    """

    regime: Regime
    growth: list = field(default_factory=list)
    vetoes: list = field(default_factory=list)
    bounds: tuple = (math.nan, math.nan)
    other: "LifetimeVerdict | None" = None

    @property
    def growth_real(self) -> bool:
        """A regime exists and every growth check holds."""
        return self.regime.found and all(c.holds for c in self.growth)

    @property
    def leak(self) -> bool:
        """Real growth that no look-alike explains."""
        return self.growth_real and not any(c.holds for c in self.vetoes)

    def check(self, name: str) -> Check | None:
        """The growth check or veto called ``name``, if it was made."""
        return next((c for c in (*self.growth, *self.vetoes) if c.name == name), None)

    def holds(self, name: str) -> bool:
        """Whether the check called ``name`` was made and holds."""
        c = self.check(name)
        return c is not None and c.holds

    @property
    def margin(self) -> float:
        """The deciding margin: the smallest over growth checks (> 0 when they hold) and
        vetoes (> 0 when they do not match); -inf without a regime."""
        if not self.regime.found:
            return -math.inf
        margins = [c.margin for c in self.growth] + [-c.margin for c in self.vetoes]
        return min(margins) if margins else -math.inf

    @property
    def deciding(self) -> Check | None:
        """The check with the smallest margin (the one that decided)."""
        if not self.regime.found:
            return None
        ranked = [(c.margin, c) for c in self.growth] + [(-c.margin, c) for c in self.vetoes]
        return min(ranked, key=lambda mc: mc[0])[1] if ranked else None

    @property
    def set_aside(self) -> "LifetimeVerdict | None":
        """The floor's long-run trend when it was worked out and set aside while the local
        climb decided (``other`` with a regime, beside a verdict that is no trend's)."""
        other = self.other
        if self.regime.kind == "trend" or other is None or not other.regime.found:
            return None
        return other

    @property
    def onset(self) -> float | None:
        return self.regime.onset

    @property
    def slope(self) -> float:
        return self.regime.slope

    @property
    def growth_end(self) -> float | None:
        """Where growth stopped, when the plateau after it is too long to be current."""
        return self.regime.last_growth if self.holds("resolved_leak") else None

    @property
    def shape(self) -> str:
        """``linear``, ``convex``, ``stepwise``, ``decelerating``, ``level_shift``,
        ``recovery`` or ``flat``."""
        r = self.regime
        if not r.found:
            return "level_shift" if r.level_change else "flat"
        if self.holds("level_shift"):
            return "level_shift"
        if self.holds("recovery"):
            return "recovery"
        if self.holds("warmup"):
            return "decelerating"
        if r.jumps_up >= 2 and r.jumps_up >= r.rising:
            return "stepwise"
        ratio = r.half_slope_ratio
        return "convex" if ratio is not None and ratio > CONVEX_RATIO else "linear"

    def to_dict(self) -> dict:
        """The checks and the regime's numbers, JSON-serialisable."""
        return {"kind": self.regime.kind if self.regime.found else None,
                "growth": [c.to_dict() for c in self.growth],
                "vetoes": [c.to_dict() for c in self.vetoes],
                "regime": self.regime.stats(), "shape": self.shape}


#: Second-half / first-half growth rate above which growth is called convex.
CONVEX_RATIO = 1.8


def judge_lifetime(floor: Floor, *, level: float, swing: float, period: float | None,
                   config: Config,
                   bounds: tuple[float, float], reference_high: float | None = None) -> LifetimeVerdict:
    """Judge the floor of one lifetime.

    Parameters
    ----------
    floor : Floor
        Floor points of the lifetime.
    level : float
        Typical value of the lifetime (value units), for relative growth.
    swing : float
        p5-p95 spread of the lifetime's values (value units).
    period : float or None
        Dominant period (seconds), if any.
    config : Config
    bounds : (float, float)
        First and last unix seconds of the lifetime.
    reference_high : float, optional
        The usual high of the floor in the previous (healthy) lifetime: growth
        back to it after a restart is a recovery, not a leak.

    Returns
    -------
    LifetimeVerdict
    """
    memo = {}  # trend tests of stretches of this floor: the climb's, the trend's starts

    def judged(regime):
        if not regime.found:
            return LifetimeVerdict(regime, bounds=bounds)
        growth = growth_checks(regime, level=level, swing=swing, period=period,
                               lifetime=bounds, config=config, memo=memo)
        vetoes = [lookalikes.warmup(regime, config),
                  lookalikes.recovery(regime, reference_high, config),
                  lookalikes.level_shift(regime),
                  lookalikes.resolved_leak(regime, bounds, config)]
        return LifetimeVerdict(regime, growth, vetoes, bounds)

    # the local climb first; when it is no leak, the floor's long-run trend
    segmented = segment_floor(floor, level, config)
    climb = judged(find_regime(floor, level=level, config=config, segmented=segmented))
    if climb.leak:
        return climb
    # (the trend is used only when it leaks: starts that cannot be significant, or whose
    # growth fails a check that needs no autocorrelation correction, are not worked out)

    def could_leak(regime, fitted):
        return trend_could_leak(regime, fitted, level=level, swing=swing, period=period,
                                bounds=bounds, reference_high=reference_high, config=config)

    trend = judged(find_trend(floor, level=level, config=config, segmented=segmented,
                              only_significant=True, memo=memo, could_leak=could_leak))
    if trend.leak:
        return replace(trend, other=climb)
    return replace(climb, other=trend)


def trend_could_leak(regime: Regime, fitted: bool = True, *, level: float, swing: float,
                     period: float | None, bounds: tuple[float, float],
                     reference_high: float | None, config: Config) -> bool:
    """Whether a long-run trend regime could still leak, judged on what needs neither the
    autocorrelation correction nor the warm-up statistics: False when a growth check other
    than ``significant`` fails or the ``recovery``, ``level_shift`` or ``resolved_leak``
    look-alike matches (the other parameters as :func:`judge_lifetime`).

    ``regime`` may be light (:func:`~detector.analysis.growth.find_trend`'s
    ``could_leak``); with ``fitted`` False its levels are not fitted, and only the checks
    that need no growth are made (``duration``, ``points``, ``level_shift``,
    ``resolved_leak``).
    """
    if lookalikes.level_shift(regime).holds or \
            lookalikes.resolved_leak(regime, bounds, config).holds:
        return False
    sized = size_checks(regime, level=level, swing=swing, period=period, lifetime=bounds,
                        config=config)
    if not all(c.holds for c in sized if fitted or c.name in ("duration", "points")):
        return False
    return not (fitted and lookalikes.recovery(regime, reference_high, config).holds)


def leak_pattern(current: LifetimeVerdict, *, cycle: float | None, periodic: bool) -> str:
    """The name of a leak found in the current lifetime."""
    if cycle is not None:
        return "gc_floor_growth"
    if periodic:
        return "periodic_growth"
    return {"stepwise": "stepwise_growth", "convex": "convex_growth"}.get(current.shape,
                                                                        "linear_growth")


def benign_pattern(current: LifetimeVerdict, *, completed_leaked: bool, restarts: bool,
                   cycle: float | None, periodic: bool) -> str:
    """The name of what a healthy series does: the look-alike that explains it."""
    if completed_leaked and not current.leak:
        return "resolved_leak"
    span = max(current.bounds[1] - current.bounds[0], 1e-9)
    r = current.regime
    if r.found:
        restart_or = "scheduled_restarts" if restarts else None
        if current.holds("level_shift"):
            return restart_or or "level_shift"
        if current.holds("warmup"):
            return restart_or or "warmup"
        if current.holds("recovery"):
            return "recovery"
        if current.holds("resolved_leak"):
            if r.last_growth - r.onset < 0.05 * span:
                return restart_or or "level_shift"  # a step, not a slope
            if current.holds("above_noise") and current.holds("relative_growth"):
                early = r.onset - current.bounds[0] <= 0.1 * span
                return (restart_or or "warmup") if early and current.shape == "decelerating" \
                    else "resolved_leak"
    if restarts:
        return "scheduled_restarts"
    if cycle is not None:
        return "gc_sawtooth"
    if periodic:
        return "periodic"
    if current.shape == "level_shift":
        return "level_shift"
    # the recent floor is level, but a longer rise of it was judged and explained away:
    # the look-alike that explained it names the pattern
    trend = current.set_aside
    if trend is not None and trend.deciding is not None and trend.deciding.holds \
            and trend.deciding.name in lookalikes.VETOES:
        return trend.deciding.name
    return "stable"
