"""Report: the verdict on one series, with the numbers behind it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

#: The verdicts a report can carry.
VERDICTS = ("leak", "no_leak", "insufficient_data")


@dataclass(frozen=True)
class Report:
    """The result of :func:`detector.analyze` for one series.

    Attributes
    ----------
    leak : bool
        True when the most recent regime is leaking.
    verdict : str
        ``"leak"``, ``"no_leak"`` or ``"insufficient_data"``.
    pattern : str
        The shape recognised, e.g. ``"linear_growth"``, ``"gc_floor_growth"``,
        ``"restart_loop"``, ``"periodic"``, ``"gc_sawtooth"``, ``"level_shift"``,
        ``"warmup"``, ``"resolved_leak"``, ``"stable"``.
    score : float
        Confidence that the series leaks, in [0, 1].
    slope : float
        Growth rate of the latest regime (value units per second, e.g. bytes/s).
    onset : float or None
        Unix seconds where the current growth began.
    changepoints : list of float
        Unix seconds of the change points found.
    period : float or None
        Dominant period (seconds), if any.
    time_to_limit : float or None
        Seconds after the last sample until the limit is reached at the
        current growth rate; None without a limit or without growth.
    evidence : Mapping[str, Any]
        The numbers behind the verdict (test statistics, intervals, repairs
        made to the input), JSON-serialisable.
    """

    leak: bool
    verdict: str
    pattern: str
    score: float
    slope: float
    onset: float | None = None
    changepoints: tuple[float, ...] = ()
    period: float | None = None
    time_to_limit: float | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.leak != (self.verdict == "leak"):
            raise ValueError("leak must be True exactly when verdict is 'leak'")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be in [0, 1], got {self.score}")
        object.__setattr__(self, "changepoints", tuple(float(c) for c in self.changepoints))
        object.__setattr__(self, "evidence", MappingProxyType(dict(self.evidence)))

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-serialisable data (non-finite floats become None)."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}


#: Field names in output order (after ``series``).
FIELDS = tuple(f.name for f in fields(Report))


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    return str(value)
