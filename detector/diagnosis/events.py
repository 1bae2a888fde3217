"""Events: what happened to a series, and when (deploys, restarts, OOM kills, log lines).

An :class:`Event` has a time, a kind, a text and says which series it
concerns, in one of three ways:

* ``series``: a series id (``checkout-0{namespace="shop"}``) or the name
  before its labels (``checkout-0``);
* ``matchers``: PromQL label matchers (``namespace="shop",container=~"check.*"``),
  with PromQL's rule that a missing label is ``""``;
* ``labels``: a label set compared on the labels both sides have (what events
  derived from kube-state-metrics carry: an event of pod ``checkout-0``
  concerns the series of that pod, and also a workload-level series that has
  no ``pod`` label);

and an event with none of them concerns every series (a cluster upgrade).

Events files (``--events FILE``) are CSV (``.csv``, ``.csv.gz``) with a
header, or JSON lines (``.jsonl``, ``.ndjson``, ``.json``: one object per
line). Fields: ``time`` (unix seconds or ms, or ISO-8601; UTC without a
zone), ``text``, and optionally ``kind`` (a word: ``deploy``, ``restart``,
``oom_kill``, ``log``...; default ``event``), ``series`` and ``match``. A bad
line raises :class:`~detector.errors.InputError` naming the file, the line and
the field.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import InputError
from ..labels import match_labels, parse_matchers

#: The fields of an events file.
FIELDS = ("time", "text", "kind", "series", "match")
#: Other accepted names of fields (lower case).
FIELD_ALIASES = {"timestamp": "time", "message": "text", "matchers": "match",
                 "labels": "match", "type": "kind"}
#: Kinds that :mod:`.kube` derives and :mod:`.pairing` counts.
KINDS = ("deploy", "restart", "oom_kill")


@dataclass(frozen=True)
class Event:
    """One event.

    Attributes
    ----------
    time : float
        Unix seconds.
    kind : str
        ``deploy``, ``restart``, ``oom_kill``, ``log``, ``event``...
    text : str
        What happened, for people (``deploy shop/checkout:1.4.2``).
    series : str or None
        A series id, or the name before its labels.
    matchers : tuple of (name, op, value)
        PromQL label matchers (see :func:`detector.labels.parse_matchers`).
    labels : Mapping[str, str]
        A label set compared on shared labels.
    origin : str
        Where the event comes from (``events.csv, line 4``, ``kube-state-metrics``).
    """

    time: float
    kind: str
    text: str
    series: str | None = None
    matchers: tuple = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    origin: str = ""

    def concerns(self, series_id: str, labels: Mapping[str, str]) -> bool:
        """Whether this event concerns the series ``series_id`` with ``labels``."""
        if self.series is not None and self.series not in (series_id,
                                                           series_id.split("{", 1)[0]):
            return False
        if self.matchers and not match_labels(self.matchers, labels):
            return False
        return all(labels[k] == v for k, v in self.labels.items() if k in labels)

    def to_dict(self) -> dict:
        """JSON-serialisable: ``time``, ``kind``, ``text`` (and ``origin`` when known)."""
        out = {"time": self.time, "kind": self.kind, "text": self.text}
        if self.origin:
            out["origin"] = self.origin
        return out


def events_for(events: Iterable[Event], series_id: str, labels: Mapping[str, str]
               ) -> list[Event]:
    """The events that concern one series, in time order."""
    return sorted((e for e in events if e.concerns(series_id, labels)), key=lambda e: e.time)


def read_events(path: str | Path) -> list[Event]:
    """Read an events file (CSV or JSON lines; see the module docstring).

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    list of Event
        In time order.

    Raises
    ------
    InputError
        A missing or unreadable file, an unknown suffix, or a bad line (naming
        the file, the line and the field).
    """
    path = Path(path)
    source = str(path)
    name = path.name.lower()
    if not path.is_file():
        raise InputError("no such file" if not path.exists() else "not a file", source=source)
    try:
        raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
        text = raw.decode("utf-8-sig")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the events file: {exc}", source=source) from None
    stem = name[:-3] if name.endswith(".gz") else name
    if stem.endswith((".jsonl", ".ndjson", ".json")):
        rows = _json_lines(text, source)
    elif stem.endswith((".csv", ".tsv", ".txt")):
        rows = _csv_rows(text, source, "\t" if stem.endswith(".tsv") else ",")
    else:
        raise InputError("unknown events file type: expected .csv, .csv.gz, .jsonl or .json "
                         "(JSON lines)", source=source)
    events = [_event(row, source, line) for line, row in rows]
    return sorted(events, key=lambda e: e.time)


def _json_lines(text: str, source: str):
    for line, content in enumerate(text.splitlines(), start=1):
        if not content.strip():
            continue
        try:
            row = json.loads(content)
        except json.JSONDecodeError as exc:
            raise InputError(f"not a JSON object: {exc.msg} (column {exc.colno})",
                             source=source, line=line) from None
        if not isinstance(row, dict):
            raise InputError(f"expected a JSON object, got {type(row).__name__}",
                             source=source, line=line)
        yield line, {_field(k, source, line): v for k, v in row.items()}


def _csv_rows(text: str, source: str, delimiter: str):
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = None
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [_field(c, source, line) for c in row]
            if len(set(header)) != len(header):
                raise InputError("a field appears twice in the header", source=source, line=line)
            continue
        if len(row) != len(header):
            raise InputError(f"expected {len(header)} fields ({', '.join(header)}), got "
                             f"{len(row)}", source=source, line=line)
        yield line, dict(zip(header, row))
    if header is None:
        raise InputError("the events file is empty", source=source)


def _field(name, source: str, line: int) -> str:
    key = str(name).strip().lower()
    key = FIELD_ALIASES.get(key, key)
    if key not in FIELDS:
        raise InputError(f"unknown field {str(name)!r} (expected {', '.join(FIELDS)})",
                         source=source, line=line)
    return key


def _event(row: dict, source: str, line: int) -> Event:
    def bad(fieldname: str, message: str):
        raise InputError(f"field {fieldname!r}: {message}", source=source, line=line)

    if "time" not in row or row["time"] in (None, ""):
        bad("time", "missing (unix seconds or ISO-8601)")
    when = _time(row["time"])
    if when is None:
        bad("time", f"{row['time']!r} is neither unix seconds nor an ISO-8601 date-time")
    text = row.get("text")
    if text is None or not str(text).strip():
        bad("text", "missing (what happened)")
    kind = str(row.get("kind") or "event").strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", kind):
        bad("kind", f"{row.get('kind')!r} is not a word (deploy, restart, oom_kill, log...)")
    series = row.get("series")
    series = str(series).strip() if series not in (None, "") else None
    matchers: tuple = ()
    if row.get("match") not in (None, ""):
        try:
            matchers = parse_matchers(str(row["match"]))
        except ValueError as exc:
            bad("match", str(exc))
    return Event(when, kind, str(text).strip(), series, matchers,
                 origin=f"{Path(source).name}, line {line}")


def _time(value) -> float | None:
    """Unix seconds from a number (s or ms, by magnitude) or an ISO-8601 string; None if neither."""
    from ..timestamps import parse_time

    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        try:
            seconds = parse_time(str(value))
        except ValueError:
            return None
    if not math.isfinite(seconds):
        return None
    return seconds / 1000.0 if abs(seconds) > 1e11 else seconds  # milliseconds


__all__ = ["Event", "FIELDS", "KINDS", "events_for", "read_events"]
