"""From a column table (pyarrow) to series: the three layouts and their checks.

Layouts, chosen by the columns (names compared case-insensitively):

* long: ``series, timestamp, value`` plus any label columns; each distinct
  combination of ``series`` and the labels is one series.
* single: ``timestamp, value`` (plus optional label columns, which then
  split the file into series); without labels the series is named after the
  file.
* wide: ``timestamp`` and one numeric column per series.

In the long, single and breakdown layouts, a ``restarts`` column (a restart counter: a
restart wherever it changes) or a ``start_time`` column (the process's start time: a restart
wherever it moves later by more than its wobble; numbers or date-times) gives the series
its known restarts (:attr:`detector.Series.restarts`,
:func:`detector.restart_marks.restarts_from_marks`) instead of a label; a series with fewer
than two values in it has none known. A wide file with such a column is an input error.

Bad content raises :class:`InputError` with the 1-based line (the header is
line 1) through the ``locate`` callback the reader supplies.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..series import _build
from ..timestamps import epoch_to_seconds, numeric_unit_scale

TIMESTAMP_NAMES = ("timestamp", "time")
VALUE_NAMES = ("value",)
SERIES_NAMES = ("series",)
#: Columns that say when the process restarted (not labels), in the single and long
#: layouts: a restart counter (kube-state-metrics'
#: ``kube_pod_container_status_restarts_total``) and a process start time
#: (``process_start_time_seconds``).
RESTART_COUNT_NAMES = ("restarts",)
START_TIME_NAMES = ("start_time", "process_start_time")
RESTART_NAMES = RESTART_COUNT_NAMES + START_TIME_NAMES

#: locate(row_index) -> "line N" style position, row_index 0-based over data rows
Locate = Callable[[int], int]


def _find(columns: dict[str, str], names: tuple[str, ...]) -> str | None:
    for n in names:
        if n in columns:
            return columns[n]
    return None


def table_to_series(table: pa.Table, *, source: str, default_id: str,
                    locate: Locate, unit: str = "line") -> Iterator:
    """Split ``table`` into :class:`detector.Series` (see module docstring).

    Parameters
    ----------
    table : pyarrow.Table
    source : str
        File name for messages.
    default_id : str
        Series id of a single-series file (the file's name).
    locate : callable
        Maps a 0-based data-row index to the number shown to the user.
    unit : str
        What that number counts (``"line"`` for CSV, ``"row"`` for Parquet).
    """
    if table.num_rows == 0:
        raise InputError("no data rows (only a header)" if table.num_columns else "file is empty",
                         source=source)
    columns = {}
    for name in table.column_names:
        key = name.strip().lower()
        if key in columns:
            raise InputError(f"column {name!r} appears twice", source=source, line=1
                             if unit == "line" else None)
        columns[key] = name
    ts_col = _find(columns, TIMESTAMP_NAMES)
    if ts_col is None:
        raise InputError(f"missing column 'timestamp' (found: {', '.join(table.column_names)})",
                         source=source)

    def fail(msg: str, row: int):
        pos = locate(row)
        if unit == "line":
            raise InputError(msg, source=source, line=pos)
        raise InputError(f"row {pos}: {msg}", source=source)

    ts = _timestamps(table.column(ts_col), ts_col, fail)
    val_col = _find(columns, VALUE_NAMES)
    if val_col is None:
        from .components import breakdown_columns, table_to_breakdowns

        try:
            parts = breakdown_columns(table.column_names)
        except InputError as exc:
            raise InputError(exc.message, source=source) from None
        if parts:  # one column per memory component: a breakdown per container
            yield from table_to_breakdowns(table, parts, ts, fail, default_id=default_id,
                                           ts_col=ts_col, source=source, unit=unit)
            return
        marks = [c for c in table.column_names if c.strip().lower() in RESTART_NAMES]
        if marks:
            raise InputError(f"column {marks[0]!r} says when a process restarted, but a wide "
                             "file (no 'value' column) has one series per column: give it "
                             "in the long or single layout", source=source)
        # wide: every other column is a series
        others = [c for c in table.column_names if c != ts_col]
        if not others:
            raise InputError("missing column 'value' (found only the timestamp column)",
                             source=source)
        if _find(columns, SERIES_NAMES) is not None:
            raise InputError(f"missing column 'value' (found: {', '.join(table.column_names)})",
                             source=source)
        for col in others:
            vals = _values(table.column(col), col, fail)
            yield _build(col, ts.copy(), vals, None)  # each series owns its timestamps
        return

    vals = _values(table.column(val_col), val_col, fail)
    series_col = _find(columns, SERIES_NAMES)
    mark_col, kind, marker = restart_column(table, fail, source=source, unit=unit)
    label_cols = [c for c in table.column_names
                  if c not in (ts_col, val_col, series_col, mark_col)]
    key_cols = ([series_col] if series_col else []) + label_cols
    if not key_cols:
        yield _build(default_id, ts, vals, None, restarts_of(ts, marker, kind))
        return

    codes, keys = _group_codes(table, key_cols, fail)
    if codes.size > 1 and np.any(codes[1:] < codes[:-1]):
        order = np.argsort(codes, kind="stable")
        codes, ts, vals = codes[order], ts[order], vals[order]
        marker = None if marker is None else marker[order]
    bounds = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [codes.size]))
    for a, b in zip(starts, ends):
        key = keys[codes[a]]
        labels = dict(zip(key_cols, key))
        name = labels.pop(series_col) if series_col else default_id
        sid = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
                      if labels else "")
        yield _build(sid, ts[a:b], vals[a:b], labels,  # views of arrays this reader owns
                     None if marker is None else restarts_of(ts[a:b], marker[a:b], kind))


def restart_column(table: pa.Table, fail, *, source: str, unit: str = "line"):
    """The table's restart column, if any: ``(name, kind, values)`` with kind
    ``"counter"`` or ``"start_time"`` and the values as floats (a start time in unix
    seconds), else ``(None, None, None)``; an InputError when two columns claim it."""
    marks = [c for c in table.column_names if c.strip().lower() in RESTART_NAMES]
    if len(marks) > 1:
        raise InputError(f"columns {marks[0]!r} and {marks[1]!r} both say when the process "
                         "restarted: keep one", source=source, line=1 if unit == "line"
                         else None)
    if not marks:
        return None, None, None
    col = marks[0]
    if col.strip().lower() in RESTART_COUNT_NAMES:
        return col, "counter", _values(table.column(col), col, fail)
    return col, "start_time", _start_times(table.column(col), col, fail)


def restarts_of(ts: np.ndarray, marker: np.ndarray | None, kind: str | None
                ) -> np.ndarray | None:
    """Unix seconds of the restarts a series' restart column gives
    (:func:`detector.restart_marks.restarts_from_marks`); None without the column, or
    when fewer than two of its cells hold a value (unknown: found from the drops)."""
    if marker is None:
        return None
    from ..restart_marks import restarts_from_marks

    return restarts_from_marks(ts, marker, kind)


def _start_times(col: pa.ChunkedArray, name: str, fail) -> np.ndarray:
    """A start-time column as unix seconds: numbers (s, ms, µs or ns), date-times or
    ISO-8601 text; empty cells NaN."""
    typ = col.type
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        stamps = col.cast(pa.timestamp("ns")).cast(pa.int64()).to_numpy(zero_copy_only=False)
        out = stamps.astype(np.float64) * 1e-9
        out[col.is_null().to_numpy(zero_copy_only=False)] = np.nan
        return out
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        text = col.to_pandas()
        if pd.to_numeric(text, errors="coerce").notna().sum() < text.notna().sum():
            parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
            bad = (parsed.isna() & text.notna() & (text.str.strip() != "")).to_numpy()
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                fail(f"start time {text.iloc[row]!r} in column {name!r} is neither a number "
                     "nor an ISO-8601 date-time", row)
            ns = parsed.dt.tz_localize(None).to_numpy().astype("datetime64[ns]")
            out = ns.astype(np.int64).astype(np.float64) * 1e-9
            out[parsed.isna().to_numpy()] = np.nan
            return out
    raw = _values(col, name, fail)
    finite = np.isfinite(raw)
    return raw * numeric_unit_scale(raw[finite]) if finite.any() else raw


def _group_codes(table: pa.Table, key_cols: list[str], fail):
    """Integer group codes (ordered by first appearance) and the key of each code."""
    per_col_codes, per_col_values = [], []
    for col in key_cols:
        arr = table.column(col)
        if pa.types.is_dictionary(arr.type):  # read as a dictionary (CSV long layout)
            enc = arr.combine_chunks()
            if not pa.types.is_string(enc.dictionary.type):
                enc = pc.dictionary_encode(enc.cast(pa.string()))
        else:
            enc = pc.dictionary_encode(arr.cast(pa.string())).combine_chunks()
        names = enc.dictionary.to_pylist()
        blank = [i for i, v in enumerate(names) if v is None or not v.strip()]
        if enc.null_count or blank:  # rare: find the first offending row
            idx = enc.indices.to_numpy(zero_copy_only=False)
            bad = np.isin(idx, blank)
            if enc.null_count:
                bad |= enc.is_null().to_numpy(zero_copy_only=False)
            fail(f"empty {col!r}", int(np.flatnonzero(bad)[0]))
        per_col_codes.append(enc.indices.to_numpy())
        per_col_values.append(names)
    if len(key_cols) == 1:
        codes = per_col_codes[0]
        keys = [(v,) for v in per_col_values[0]]
        return codes, keys
    combined, uniques = pd.MultiIndex.from_arrays(per_col_codes).factorize()
    keys = [tuple(per_col_values[j][c] for j, c in enumerate(u)) for u in uniques]
    return combined.astype(np.int64), keys


def _timestamps(col: pa.ChunkedArray, name: str, fail) -> np.ndarray:
    if col.null_count:
        row = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
        fail(f"missing timestamp in column {name!r}", row)
    typ = col.type
    if pa.types.is_timestamp(typ):
        scale = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}[typ.unit]
        return epoch_to_seconds(col.cast(pa.int64()).to_numpy(), scale)
    if pa.types.is_date(typ):
        return col.cast(pa.timestamp("s")).cast(pa.int64()).to_numpy().astype(np.float64)
    if pa.types.is_integer(typ) or pa.types.is_floating(typ):
        raw = col.to_numpy()
        if raw.dtype.kind == "f" and not np.isfinite(raw).all():
            row = int(np.flatnonzero(~np.isfinite(raw))[0])
            fail(f"timestamp {raw[row]} in column {name!r} is not finite", row)
        return epoch_to_seconds(raw, numeric_unit_scale(raw))
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        text = col.to_pandas()
        numeric = pd.to_numeric(text, errors="coerce")
        if not numeric.isna().any():
            out = numeric.to_numpy(np.float64)
            return out * numeric_unit_scale(out)
        parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
        bad = parsed.isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            fail(f"timestamp {text.iloc[row]!r} is neither a number nor an ISO-8601 date-time",
                 row)
        return epoch_to_seconds(
            parsed.dt.tz_localize(None).to_numpy().astype("datetime64[ns]").astype(np.int64), 1e-9)
    fail(f"column {name!r} has type {typ}, expected numbers or date-times", 0)
    raise AssertionError("unreachable")


def _values(col: pa.ChunkedArray, name: str, fail) -> np.ndarray:
    typ = col.type
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ) \
            or pa.types.is_null(typ) or pa.types.is_decimal(typ):
        if pa.types.is_null(typ):
            return np.full(len(col), np.nan)
        return np.array(col.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        text = col.to_pandas()
        numeric = pd.to_numeric(text, errors="coerce")
        stripped = text.str.strip().str.lower()
        missing_words = stripped.isin(["", "nan", "na", "n/a", "null", "none", "-nan"])
        bad = numeric.isna().to_numpy() & text.notna().to_numpy() & ~missing_words.to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            fail(f"value {text.iloc[row]!r} in column {name!r} is not a number", row)
        return numeric.to_numpy(np.float64, na_value=np.nan).copy()
    fail(f"column {name!r} has type {typ}, expected numbers", 0)
    raise AssertionError("unreachable")
