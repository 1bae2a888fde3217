"""Checks: one named test, the number that decided it, and the threshold it was held to.

Every part of a verdict is a :class:`Check`. The evidence that growth is real
(significant, sizeable, sustained) is a list of checks that must all hold; each
look-alike of a leak (warm-up, recovery, level shift, ...) is a check that
*matches* when the look-alike explains the growth. The report lists them all,
so a person can read why a series was, or was not, called a leak (of a restart
loop's checks, which must all hold, those asked up to the first that failed, and
the names of the rest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One named test.

    Attributes
    ----------
    name : str
        What is tested (``"significant"``, ``"warmup"``, ...).
    holds : bool
        For growth evidence: the criterion is met. For a look-alike: the
        look-alike matches (it explains the growth).
    value : float or None
        The number that decided it (units in ``reason``).
    threshold : float or None
        What ``value`` was compared with.
    reason : str
        One sentence a person can read.
    """

    name: str
    holds: bool
    value: float | None = None
    threshold: float | None = None
    reason: str = ""

    @property
    def margin(self) -> float:
        """``log(value / threshold)`` signed so that > 0 means ``holds``; +-inf if undefined."""
        if self.value is None or self.threshold is None:
            return math.inf if self.holds else -math.inf
        m = log_ratio(abs(self.value), abs(self.threshold))
        if not math.isfinite(m):
            return math.inf if self.holds else -math.inf
        return abs(m) if self.holds else -abs(m)

    def to_dict(self) -> dict:
        """JSON-serialisable form (non-finite numbers become None)."""
        return {"name": self.name, "holds": bool(self.holds), "value": _finite(self.value),
                "threshold": _finite(self.threshold), "reason": self.reason}


def at_least(name: str, value: float, threshold: float, what: str) -> Check:
    """A check that holds when ``value >= threshold`` (``what`` describes the numbers)."""
    ok = bool(value >= threshold) if math.isfinite(value) else value > 0
    return Check(name, ok, float(value), float(threshold),
                 f"{what}: {format_value(value)} {'>=' if ok else '<'} {format_value(threshold)}")


def log_ratio(value: float, threshold: float) -> float:
    """``log(value / threshold)`` without overflow; -inf for value <= 0."""
    if threshold <= 0:
        return math.inf if value > 0 else -math.inf
    if value <= 0:
        return -math.inf
    return math.log(value) - math.log(threshold)


def _finite(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def format_value(x: float) -> str:
    """A number as the checks' reasons write it (3 significant digits, or a whole number
    from 100 to 1e5)."""
    if not math.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        return f"{x:.3g}"
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"
