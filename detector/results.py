"""ScanResult: the outcome of one series in a scan.

It sits below both the fleet runner (:mod:`detector.fleet`), which produces
results, and the writers (:mod:`detector.outputs`), which serialise them, so
neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class ScanResult:
    """The outcome for one series of a scan.

    Attributes
    ----------
    series : str
        The series id.
    fields : Mapping or None
        ``Report.to_dict()`` of the series (JSON-serialisable), or None when it
        failed.
    error : str or None
        Why the series failed (one line), or None.
    labels : Mapping[str, str]
        The series' labels (e.g. ``{"namespace": "x", "pod": "y"}``), maybe empty.
    """

    series: str
    fields: Mapping[str, Any] | None = None
    error: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def leak(self) -> bool:
        """Whether the series was judged leaking."""
        return bool(self.fields is not None and self.fields["leak"])

    def get(self, name: str) -> Any:
        """A report field (``score``, ``slope``, ...), None when the series failed."""
        return None if self.fields is None else self.fields.get(name)

    def to_dict(self) -> dict:
        """``{"series": id, **report.to_dict()}``, plus ``error`` when it failed."""
        from .report import FIELDS

        if self.fields is None:
            row = {"series": self.series, **{f: None for f in FIELDS}}
            row.update(leak=False, verdict="error", error=self.error)
            return row
        return {"series": self.series, **self.fields}

    def to_record(self) -> dict:
        """Everything, JSON-serialisable: :meth:`to_dict` plus ``labels`` (for journals)."""
        return {"row": self.to_dict(), "labels": dict(self.labels)}

    @classmethod
    def from_record(cls, record: Mapping) -> "ScanResult":
        """Inverse of :meth:`to_record` (also accepts a bare :meth:`to_dict` row)."""
        row = dict(record.get("row", record))
        labels = dict(record.get("labels") or {}) if "row" in record else {}
        sid = str(row.pop("series"))
        if row.get("verdict") == "error":
            return cls(sid, error=row.get("error") or "failed", labels=labels)
        row.pop("error", None)
        return cls(sid, fields=row, labels=labels)
