"""The rules of practice as a TOML file (``--rules FILE``), with the practice as defaults.

Every table and key is optional; what a file leaves out keeps the default
below (``--rules default`` uses the defaults alone)::

    [static]            # a value above a share of the memory limit
    memory = 0.8        # the series itself (a breakdown's working set)
    rss = 0.7           # a breakdown's RSS
    swap = 0.3          # a breakdown's swap; false switches a rule off

    [band]              # a value above mean + k sigma of the preceding window
    window = "1h"
    k = 2.0
    enabled = true

    [persistence]       # a condition alerts once it has held this long
    for = "5m"

    [breadth]           # a fleet alert when several instances of a workload alert at once
    min_instances = 3
    by = ["namespace", "container"]   # labels naming the workload

    [[maintenance]]     # nothing fires inside; explicit ranges ...
    start = "2024-06-02T01:00:00Z"
    end = "2024-06-02T03:00:00Z"
    match = 'namespace="shop"'        # optional: only the series these matchers select

    [[maintenance]]     # ... or weekly recurring ones
    weekly = "Sun 01:00-03:00"        # days: Mon..Sun, ranges (Mon-Fri), lists (Sat,Sun), *
    tz = "Europe/Berlin"              # optional, default UTC

A bad file raises :class:`~detector.errors.InputError` naming the file, the
line and the field (``rules.toml, line 7: field 'band.k': must be a number >= 0,
got "two"``).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError

#: Static rules of practice: (what, share of the limit).
DEFAULT_STATIC = (("memory", 0.8), ("rss", 0.7), ("swap", 0.3))
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Maintenance:
    """A maintenance window: an explicit range, or a weekly recurring one.

    Attributes
    ----------
    start, end : float or None
        Unix seconds of an explicit window (both ends included).
    days : tuple of int
        Weekly: the weekdays it starts on (0 = Monday).
    from_seconds, to_seconds : float
        Weekly: seconds after local midnight when it starts and ends (an end
        before the start runs past midnight).
    tz : str
        Weekly: the IANA time zone of those times (default UTC).
    matchers : tuple of (name, op, value)
        Only series these label matchers select; empty: every series.
    """

    start: float | None = None
    end: float | None = None
    days: tuple[int, ...] = ()
    from_seconds: float = 0.0
    to_seconds: float = 0.0
    tz: str = "UTC"
    matchers: tuple = ()

    def applies_to(self, series_id: str, labels) -> bool:
        """Whether the window concerns a series with these labels."""
        from .labels import match_labels

        return not self.matchers or match_labels(self.matchers, labels)

    def intervals(self, t0: float, t1: float) -> list[tuple[float, float]]:
        """The window's occurrences overlapping ``[t0, t1]`` (unix seconds)."""
        if self.start is not None:
            return [(self.start, self.end)] if self.end >= t0 and self.start <= t1 else []
        zone = _zone(self.tz)
        out = []
        day = _dt.datetime.fromtimestamp(t0, zone).date() - _dt.timedelta(days=1)
        last = _dt.datetime.fromtimestamp(t1, zone).date()
        while day <= last:
            if day.weekday() in self.days:
                midnight = _dt.datetime(day.year, day.month, day.day, tzinfo=zone)
                a = _local(midnight, self.from_seconds)
                span = (self.to_seconds - self.from_seconds) % 86400.0 or 86400.0
                b = _local(midnight, self.from_seconds + span)
                if b >= t0 and a <= t1:
                    out.append((a, b))
            day += _dt.timedelta(days=1)
        return out


@dataclass(frozen=True)
class Rules:
    """The rules of practice to apply beside the leak verdict.

    Attributes
    ----------
    static : tuple of (str, float)
        ``(what, share)``: ``memory`` (the series, a breakdown's primary) or a
        breakdown component (``rss``, ``swap``, ``cache``...) above ``share``
        of the memory limit.
    band : bool
        Whether the dynamic band rule applies.
    band_window : float
        Seconds of the preceding window of the band.
    band_k : float
        Band half-width in sigmas.
    for_seconds : float
        Persistence (seconds) before any condition alerts.
    breadth_min : int
        Instances of one workload that must alert at once for a fleet alert.
    breadth_by : tuple of str
        Labels whose values name the workload.
    maintenance : tuple of Maintenance
    source : str
        Where the rules come from (a file name, or ``defaults``).
    """

    static: tuple[tuple[str, float], ...] = DEFAULT_STATIC
    band: bool = True
    band_window: float = 3600.0
    band_k: float = 2.0
    for_seconds: float = 300.0
    breadth_min: int = 3
    breadth_by: tuple[str, ...] = ("namespace", "container")
    maintenance: tuple[Maintenance, ...] = field(default_factory=tuple)
    source: str = "defaults"


def load_rules(path: str | Path) -> Rules:
    """Read a rules file (see the module docstring); ``"default"`` gives :class:`Rules`().

    Raises
    ------
    InputError
        A missing file, TOML that does not parse, an unknown table or key, or a
        bad value: naming the file, the line and the field.
    """
    import tomllib

    if str(path) == "default":
        return Rules()
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the rules file: {exc}", source=source) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise InputError(f"not valid TOML: {message}" + (f" (column {m.group(2)})" if m else ""),
                         source=source, line=int(m.group(1)) if m else None) from None
    return _Reader(doc, text, source).rules()


class _Reader:
    """Checks a parsed rules document, naming the line of every bad field."""

    def __init__(self, doc: dict, text: str, source: str):
        self.doc, self.lines, self.source = doc, text.splitlines(), source

    def fail(self, where: tuple, message: str):
        name = ".".join(str(w) for w in where).replace(".[", "[")
        name = re.sub(r"\.(\d+)", lambda m: f"[{int(m.group(1)) + 1}]", name)
        raise InputError(f"field {name!r}: {message}", source=self.source,
                         line=_line_of(self.lines, where))

    def table(self, name: str, keys: tuple[str, ...]) -> dict:
        value = self.doc.get(name, {})
        if not isinstance(value, dict):
            self.fail((name,), "must be a table ([" + name + "])")
        for key in value:
            if key not in keys:
                self.fail((name, key), f"unknown key (expected {', '.join(keys)})")
        return value

    def number(self, where, value, *, minimum=0.0, integer=False, maximum=math.inf):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and \
            math.isfinite(value) and minimum <= value <= maximum
        if integer:
            ok = ok and isinstance(value, int)
        if not ok:
            kind = "an integer" if integer else "a number"
            bound = f" in [{minimum:g}, {maximum:g}]" if maximum < math.inf else \
                f" >= {minimum:g}"
            self.fail(where, f"must be {kind}{bound}, got {value!r}")
        return value

    def duration(self, where, value) -> float:
        from .timestamps import parse_duration

        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.number(where, value, minimum=1e-9)
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(where, str(exc))

    def rules(self) -> Rules:
        for name in self.doc:
            if name not in ("static", "band", "persistence", "breadth", "maintenance"):
                self.fail((name,), "unknown table (expected static, band, persistence, "
                                   "breadth, maintenance)")
        static = dict(DEFAULT_STATIC)
        for key, value in self.table("static", tuple(sorted(
                {"memory", "rss", "swap", "cache", "mapped_file", "usage", "working_set"}))
                                     ).items():
            if value is False:
                static.pop(key, None)
            else:
                static[key] = self.number(("static", key), value, minimum=1e-9, maximum=1.0)
        band = self.table("band", ("window", "k", "enabled"))
        enabled = band.get("enabled", True)
        if not isinstance(enabled, bool):
            self.fail(("band", "enabled"), f"must be true or false, got {enabled!r}")
        persistence = self.table("persistence", ("for",))
        breadth = self.table("breadth", ("min_instances", "by"))
        by = breadth.get("by", ["namespace", "container"])
        if isinstance(by, str):
            by = [by]
        if not isinstance(by, list) or not by or not all(
                isinstance(b, str) and re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", b) for b in by):
            self.fail(("breadth", "by"), f"must be a label name or a list of them, got {by!r}")
        maintenance = self.doc.get("maintenance", [])
        if not isinstance(maintenance, list):
            self.fail(("maintenance",), "must be an array of tables ([[maintenance]])")
        return Rules(
            static=tuple(static.items()), band=enabled,
            band_window=self.duration(("band", "window"), band.get("window", "1h")),
            band_k=self.number(("band", "k"), band.get("k", 2.0)),
            for_seconds=self.duration(("persistence", "for"), persistence["for"])
            if "for" in persistence else 300.0,
            breadth_min=self.number(("breadth", "min_instances"), breadth.get(
                "min_instances", 3), minimum=1, integer=True),
            breadth_by=tuple(by),
            maintenance=tuple(self.window(i, w) for i, w in enumerate(maintenance)),
            source=self.source)

    def window(self, i: int, w) -> Maintenance:
        from .labels import parse_matchers
        from .timestamps import parse_time

        where = ("maintenance", i)
        if not isinstance(w, dict):
            self.fail(where, "must be a table ([[maintenance]])")
        for key in w:
            if key not in ("start", "end", "weekly", "tz", "match"):
                self.fail(where + (key,), "unknown key (expected start and end, or weekly "
                                          "and tz; and match)")
        matchers = ()
        if "match" in w:
            try:
                matchers = parse_matchers(str(w["match"]))
            except ValueError as exc:
                self.fail(where + ("match",), str(exc))
        if "weekly" in w:
            if "start" in w or "end" in w:
                self.fail(where + ("weekly",), "give weekly, or start and end, not both")
            tz = w.get("tz", "UTC")
            try:
                _zone(str(tz))
            except ValueError as exc:
                self.fail(where + ("tz",), str(exc))
            days, a, b = self.weekly(where + ("weekly",), w["weekly"])
            return Maintenance(days=days, from_seconds=a, to_seconds=b, tz=str(tz),
                               matchers=matchers)
        if "tz" in w:
            self.fail(where + ("tz",), "applies to weekly windows (start and end carry "
                                       "their own zone)")
        times = []
        for key in ("start", "end"):
            if key not in w:
                self.fail(where + (key,), "missing (give start and end, or weekly)")
            value = w[key]
            if isinstance(value, _dt.datetime):
                value = value.replace(tzinfo=value.tzinfo or _dt.timezone.utc).timestamp()
            try:
                times.append(parse_time(str(value)) if not isinstance(value, (int, float))
                             or isinstance(value, bool) else float(value))
            except ValueError as exc:
                self.fail(where + (key,), str(exc))
        if times[1] < times[0]:
            self.fail(where + ("end",), "ends before it starts")
        return Maintenance(start=times[0], end=times[1], matchers=matchers)

    def weekly(self, where, text):
        m = re.fullmatch(r"\s*(\S+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", str(text))
        if m is None:
            self.fail(where, f"expected 'DAYS HH:MM-HH:MM' (e.g. 'Sun 01:00-03:00', "
                             f"'Mon-Fri 22:00-23:30'), got {text!r}")
        days: set[int] = set()
        for part in m.group(1).lower().split(","):
            if part == "*":
                days.update(range(7))
                continue
            ends = part.split("-")
            if len(ends) > 2 or any(e[:3] not in _DAYS for e in ends):
                self.fail(where, f"{part!r} is not a day (Mon..Sun, Mon-Fri, Sat,Sun or *)")
            a, b = (_DAYS.index(e[:3]) for e in (ends[0], ends[-1]))
            days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        h1, m1, h2, m2 = (int(g) for g in m.groups()[1:])
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            self.fail(where, f"{text!r} holds a time that is not HH:MM")
        return tuple(sorted(days)), h1 * 3600.0 + m1 * 60.0, h2 * 3600.0 + m2 * 60.0


def _zone(name: str):
    if name.upper() == "UTC":
        return _dt.timezone.utc
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Europe/Berlin; "
                         "the system's tzdata or the tzdata package must be installed)") \
            from None


def _local(midnight: _dt.datetime, seconds: float) -> float:
    """Unix seconds of ``seconds`` after a local midnight (wall clock, so DST days are right)."""
    day = midnight + _dt.timedelta(days=int(seconds // 86400))
    rest = seconds % 86400
    wall = day.replace(hour=int(rest // 3600), minute=int(rest % 3600 // 60))
    return wall.timestamp()


def _line_of(lines: list[str], where: tuple) -> int | None:
    """The line of a field: ``("band", "k")``, ``("maintenance", 2, "start")``, ``("static",)``."""
    table, rest = where[0], list(where[1:])
    index = rest.pop(0) if rest and isinstance(rest[0], int) else None
    key = rest[0] if rest else None
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")
    current, count, found = None, -1, None
    for no, line in enumerate(lines, start=1):
        h = header.match(line)
        if h:
            current = h.group(1)
            if current == table:
                count += 1
                if index is None or count == index:
                    found = found or no
            continue
        in_table = current == table and (index is None or count == index)
        top_level = current is None and re.match(rf"^\s*{re.escape(table)}\s*=", line)
        if key is None and top_level:
            return no
        if in_table and key is not None and re.match(rf"^\s*{re.escape(key)}\s*=", line):
            return no
        if current is None and key is not None and \
                re.match(rf"^\s*{re.escape(table)}\.{re.escape(key)}\s*=", line):
            return no
    return found


__all__ = ["DEFAULT_STATIC", "Maintenance", "Rules", "load_rules"]
