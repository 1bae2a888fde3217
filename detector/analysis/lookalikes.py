"""Look-alikes: the normal behaviours that a growing memory series can be mistaken for.

Each function is one named test returning a :class:`~detector.analysis.checks.Check`
whose ``holds`` means *the look-alike matches*. Two kinds:

* **vetoes** explain the growth regime away: memory that grows but is not leaking.

  ===============  ==============================================================
  warmup           growth that decelerates to a plateau (a cache or heap filling)
  recovery         growth back to the level held before a dip, not beyond it
  level_shift      a single step between two flat levels (a deploy, a config)
  resolved_leak    growth that stopped long ago: flat since
  batch_work       the same ramp in every lifetime, released at its end
  ===============  ==============================================================

* **readings** say how the series was read before growth was judged; they never
  veto a leak, but name the benign pattern when there is no growth:

  ===================  ==========================================================
  gc_sawtooth          fast drops back to a floor: the floor is judged, not the teeth
  periodic_load        a daily or weekly cycle: like is compared with like
  scheduled_restarts   drops back to the starting level: lifetimes are judged apart
  partial_release      drops that stop short of the starting level: not restarts,
                       the floor's trend across them is judged
  ===================  ==========================================================
"""

from __future__ import annotations

import math

from ..config import Config
from .checks import Check
from .growth import Regime

#: Look-alikes that explain growth away (a matched one means no leak).
VETOES = ("warmup", "recovery", "level_shift", "resolved_leak", "batch_work")
#: Look-alikes that describe how the series was read.
READINGS = ("gc_sawtooth", "periodic_load", "scheduled_restarts", "partial_release")


def warmup(regime: Regime, config: Config) -> Check:
    """Growth that decelerates to a plateau: the second half of the growing part climbs at
    less than ``Config.saturation_ratio`` of the first half's rate, and makes less than
    ``Config.warmup_late_share`` of the growth (block medians: on a noisy floor a steady
    leak's halves differ in slope by chance, not in where the growth was made), and the
    end sets no new high: the last fifth tops the rest by less than
    ``Config.warmup_new_high`` of the growth (a cache that has filled stays at its
    level; memory that keeps reaching new highs after a fast start is still growing)."""
    ratio, late, high = regime.half_slope_ratio, regime.late_share, regime.late_high
    if ratio is None or late is None:
        return Check("warmup", False, late, config.warmup_late_share,
                     "too few points (or no rise in the first half) to compare the halves")
    slows = (f"second half of the growth climbs at {ratio:.2f} x the first half's rate "
             f"(saturating below {config.saturation_ratio:g}) and makes {late:.0%} of "
             f"the growth (a warm-up makes less than {config.warmup_late_share:.0%})")
    matched = ratio < config.saturation_ratio and late < config.warmup_late_share
    if matched and high is not None and high >= config.warmup_new_high:
        return Check("warmup", False, high, config.warmup_new_high,
                     f"{slows}; but the 90th percentile of the regime's last fifth tops the "
                     f"rest's by {high:.0%} of the growth (a warm-up's end, by less than "
                     f"{config.warmup_new_high:.0%}): it still sets new highs")
    if matched and high is not None:
        slows += (f"; the 90th percentile of the regime's last fifth tops the rest's by "
                  f"{high:.0%} of the growth (less than {config.warmup_new_high:.0%}: no "
                  f"new high)")
    return Check("warmup", matched, late, config.warmup_late_share, slows)


def recovery(regime: Regime, reference_high: float | None, config: Config) -> Check:
    """Growth back to the usual level after a dip: the regime must end above the floor's
    earlier high (its 90th percentile before the onset, or the previous healthy
    lifetime's) by ``Config.new_high_fraction`` of its growth."""
    highs = [h for h in (regime.pre_high, reference_high)
             if h is not None and math.isfinite(h)]
    if not highs:
        return Check("recovery", False, None, None, "no earlier floor to compare with")
    high = max(highs)
    excess = regime.end_level - high
    need = config.new_high_fraction * max(regime.growth, 0.0)
    matched = not excess > need
    return Check("recovery", matched, excess, need,
                 f"ends {excess:.4g} above the earlier high {high:.4g}; a new high needs "
                 f"{need:.4g} ({config.new_high_fraction:g} of the growth)")


def level_shift(regime: Regime) -> Check:
    """A single upward step between two flat levels."""
    matched = regime.rising == 0 and regime.jumps_up == 1
    # a category, not a measure: it never decides by a margin
    return Check("level_shift", matched, None, None,
                 "one step and no rising segment" if matched else
                 f"{regime.rising} rising segments and {regime.jumps_up} steps")


def resolved_leak(regime: Regime, lifetime: tuple[float, float], config: Config) -> Check:
    """Growth that stopped: flat since the last growth for longer than
    ``Config.plateau_fraction`` of the lifetime (and 2.5 step spacings of stepwise
    growth)."""
    span = max(lifetime[1] - lifetime[0], 1e-9)
    allowed = max(config.plateau_fraction * span, 2.5 * regime.step_spacing)
    matched = regime.plateau > allowed
    return Check("resolved_leak", matched, regime.plateau, allowed,
                 f"flat for {regime.plateau:.0f} s since the last growth; "
                 f"{'more' if matched else 'not more'} than the {allowed:.0f} s allowed")


def gc_sawtooth(cycle: float | None, growth_real: bool) -> Check:
    """Fast drops back to a floor (garbage collection): the floor is judged, not the teeth."""
    if cycle is None:
        return Check("gc_sawtooth", False, None, None, "no fast recurring drops")
    return Check("gc_sawtooth", not growth_real, cycle, None,
                 f"drops every {cycle:.0f} s (median): judged on the floor of each cycle, "
                 + ("which grows" if growth_real else "which does not grow"))


def periodic_load(period: float | None, calendar: bool, growth_real: bool) -> Check:
    """A daily, weekly or other dominant cycle: like is compared with like."""
    if period is None:
        return Check("periodic_load", False, None, None, "no dominant period")
    kind = "calendar " if calendar else ""
    return Check("periodic_load", not growth_real, period, None,
                 f"{kind}period of {period:.0f} s: judged on the floor after the cycle is "
                 "taken out, " + ("which grows" if growth_real else "which does not grow"))


def scheduled_restarts(n_lifetimes: int, restart_loop: bool, current_leak: bool) -> Check:
    """Drops back to the starting level split the series into lifetimes judged apart."""
    matched = n_lifetimes >= 2 and not restart_loop and not current_leak
    return Check("scheduled_restarts", matched, float(n_lifetimes - 1), None,
                 f"{n_lifetimes - 1} restarts" + (
                     ": lifetimes do not leak" if matched else "") if n_lifetimes >= 2
                 else "no restarts")


def partial_release(rejected_drops: int, releases: int) -> Check:
    """Drops that stop short of the starting level: releases, not restarts."""
    n = rejected_drops + releases
    return Check("partial_release", n > 0, float(n), None,
                 f"{rejected_drops} sharp drops not taken as restarts (they stop short of the "
                 f"starting level) and {releases} partial releases inside the growth"
                 if n else "no partial releases")
