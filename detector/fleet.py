"""Scanning many series: one result per series, failures recorded, never fatal."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Mapping

from .config import Config
from .errors import InputError
from .report import Report
from .series import Series


@dataclass(frozen=True)
class ScanResult:
    """The outcome for one series of a scan.

    Attributes
    ----------
    series : str
        The series id.
    report : Report or None
        The report, or None when the series failed.
    error : str or None
        Why the series failed (one line), or None.
    """

    series: str
    report: Report | None = None
    error: str | None = None

    @property
    def leak(self) -> bool:
        """Whether the series was judged leaking."""
        return bool(self.report is not None and self.report.leak)

    def to_dict(self) -> dict:
        """``{"series": id, **report.to_dict()}``, plus ``error`` when it failed."""
        from .report import FIELDS

        if self.report is None:
            row = {"series": self.series, **{f: None for f in FIELDS}}
            row.update(leak=False, verdict="error", error=self.error)
            return row
        return {"series": self.series, **self.report.to_dict()}


def analyze_series(series: Series, *, limit: float | None = None,
                   config: Config | None = None) -> ScanResult:
    """Analyse one series, turning any failure into a recorded error.

    Parameters
    ----------
    series : Series
    limit : float, optional
        Memory limit in the unit of the values (bytes).
    config : Config, optional

    Returns
    -------
    ScanResult
    """
    from .pipeline import judge

    try:
        report = judge(series, limit=limit, config=config or Config())
    except InputError as exc:
        return ScanResult(series.id, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - one bad series must not stop a fleet
        return ScanResult(series.id, error=f"analysis failed: {type(exc).__name__}: {exc}")
    return ScanResult(series.id, report=report)


def scan(series: Iterable[Series], *, limits: Mapping[str, float] | float | None = None,
         config: Config | None = None,
         on_result: Callable[[ScanResult], None] | None = None) -> Iterator[ScanResult]:
    """Analyse every series in turn (serially), yielding one result each.

    Parameters
    ----------
    series : iterable of Series
    limits : float or mapping of series id to float, optional
        Memory limit(s) in the unit of the values (bytes).
    config : Config, optional
    on_result : callable, optional
        Called with each result as it is produced (progress reporting).

    Yields
    ------
    ScanResult
    """
    config = config or Config()
    for s in series:
        limit = limits.get(s.id) if isinstance(limits, Mapping) else limits
        if limit is not None and not (isinstance(limit, (int, float)) and math.isfinite(limit)):
            limit = None
        result = analyze_series(s, limit=limit, config=config)
        if on_result is not None:
            on_result(result)
        yield result
