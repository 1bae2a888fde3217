"""Long-format files read one series at a time, in bounded memory.

A long file (``series,timestamp,value[,labels...]``) whose rows are grouped by
series (every series' rows contiguous, as a database export or a Prometheus
dump writes them) need never be held whole in memory:

1. :func:`plan` reads only the key columns (``series`` and the labels), batch by
   batch, and records where each series' run of rows starts and stops. A series
   whose rows come back after another series began means the file is
   *interleaved*; the plan then says so (and callers read the file whole).
2. :func:`stream` reads all columns batch by batch and yields each series as
   soon as its last row has been read.
3. :class:`RowSpan` names a range of whole series in a Parquet file; a worker
   process loads it by reading only the row groups that cover it.

Splitting rows into validated series is :func:`.table.table_to_series`, so a
streamed file gives the very same series, in the same order, with the same
error messages (file and line or row) as a whole-file read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..series import Series
from .table import RESTART_NAMES, SERIES_NAMES, TIMESTAMP_NAMES, VALUE_NAMES, table_to_series

#: Rows per batch while planning and streaming (a batch of 3 columns is ~20 MB).
BATCH_ROWS = 1 << 20


@dataclass(frozen=True)
class Plan:
    """Where each series' rows are in a long-format file.

    Attributes
    ----------
    path : str
        The file.
    fmt : str
        ``"parquet"`` or ``"csv"``.
    keys : tuple of str
        The key columns (series id and labels).
    starts, stops : numpy.ndarray
        int64 0-based data-row index of the first row, and one past the last
        row, of each run of rows sharing a key, in file order.
    grouped : bool
        True when every key has exactly one run (the file can be streamed).
    reason : str or None
        Why the file is not grouped (the first key seen again, and its row).
    """

    path: str
    fmt: str
    keys: tuple[str, ...]
    starts: np.ndarray
    stops: np.ndarray
    grouped: bool
    reason: str | None = None
    #: False for a plan made from row counts (:func:`plan_from_rows`): :func:`load_runs`
    #: then checks that each run it reads begins and ends where the key changes
    verified: bool = True

    @property
    def n_rows(self) -> int:
        """Data rows in the file."""
        return int(self.stops[-1]) if self.stops.size else 0


def file_format(path: str | Path) -> str:
    """``"parquet"`` or ``"csv"``, from the file name."""
    name = Path(path).name.lower()
    return "parquet" if name.endswith((".parquet", ".pq", ".parq")) else "csv"


def key_columns(column_names: list[str]) -> list[str] | None:
    """The key columns (series id and labels) of a long layout, else None.

    Long means a ``value`` column, a timestamp column and at least one other
    column; the single (``timestamp,value``) and wide layouts return None.
    """
    keys = {c.strip().lower(): c for c in column_names}
    ts = next((keys[n] for n in TIMESTAMP_NAMES if n in keys), None)
    val = next((keys[n] for n in VALUE_NAMES if n in keys), None)
    if ts is None or val is None:
        return None
    rest = [c for c in column_names if c not in (ts, val)
            and c.strip().lower() not in RESTART_NAMES]  # restart columns are no keys
    series = [c for c in rest if c.strip().lower() in SERIES_NAMES]
    return (series + [c for c in rest if c not in series]) or None


def column_names(path: str | Path) -> list[str]:
    """The column names of a Parquet or CSV file (reads the schema or header only)."""
    path = Path(path)
    if file_format(path) == "parquet":
        import pyarrow.parquet as pq

        try:
            return list(pq.ParquetFile(path).schema_arrow.names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"cannot read Parquet: {exc}", source=str(path)) from None
    from .csv import _open_binary, _delimiter
    import csv as _csv

    try:
        with _open_binary(path) as fh:
            first = fh.readline().decode("utf-8", errors="replace").rstrip("\r\n")
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read file: {exc}", source=str(path)) from None
    return next(_csv.reader([first], delimiter=_delimiter(path)), [])


def _batches(path: Path, columns: list[str] | None, *, row_groups=None,
             keys: tuple[str, ...] = ()) -> Iterator[pa.RecordBatch]:
    """Record batches of ``columns`` (all when None), in file order.

    Parquet key columns (``keys``) are read as dictionaries: the integer codes
    Parquet stores, not one string per row (10x faster to plan).
    """
    if file_format(path) == "parquet":
        import pyarrow.parquet as pq

        try:
            # pre_buffer (the default) keeps every row group's buffers until the reader
            # ends: memory then grows with the file (pyarrow 26); without it, one batch
            pf = pq.ParquetFile(path, pre_buffer=False, read_dictionary=list(keys))
            yield from pf.iter_batches(batch_size=BATCH_ROWS, columns=columns,
                                       row_groups=row_groups)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"cannot read Parquet: {exc}", source=str(path)) from None
        return
    from .csv import open_csv_stream

    yield from open_csv_stream(path, columns)


def _encode(col: pa.Array) -> tuple[np.ndarray, list]:
    """Per-row integer codes and the value of each code (None for nulls: code -1)."""
    if not pa.types.is_dictionary(col.type):
        if not pa.types.is_string(col.type):
            col = col.cast(pa.string())
        col = pc.dictionary_encode(col)
    indices = col.indices
    if indices.null_count:
        indices = indices.fill_null(-1)
    # the codes as Parquet gives them (int32, no copy): a copy of 8 bytes a row, made
    # for every row of a file, was half the time of planning it
    idx = indices.to_numpy(zero_copy_only=False)
    values = col.dictionary.cast(pa.string()).to_pylist()
    return idx, values


def plan(path: str | Path, keys: list[str]) -> Plan:
    """Find the run of rows of every series in a long file (reads the key columns only).

    Parameters
    ----------
    path : str or pathlib.Path
        A long-format Parquet or CSV file.
    keys : list of str
        Its key columns (:func:`key_columns`).

    Returns
    -------
    Plan
        Memory: a few bytes per row of one batch, plus two integers per run.
    """
    path = Path(path)
    try:
        return _plan(path, keys)
    except pa.ArrowInvalid as exc:  # read whole, which names the bad line or row
        empty = np.zeros(0, dtype=np.int64)
        return Plan(str(path), file_format(path), tuple(keys), empty, empty, grouped=False,
                    reason=f"cannot be read in batches ({exc})")


def plan_from_rows(path: str | Path, keys: list[str], rows) -> Plan | None:
    """The plan of a Parquet file from the row counts of its series, in file order (a
    scan's results record them: ``n_input``), without reading the key columns.

    Parameters
    ----------
    path : str or pathlib.Path
        A long-format Parquet file.
    keys : list of str
        Its key columns.
    rows : iterable of int or None
        Data rows of each series from the file's first one on; may go on past the
        file's last series (those of the files after it), None where not known.

    Returns
    -------
    Plan or None
        From the counts that add up to the file's rows exactly; None when no run of
        counts from the first does (an unknown or non-positive count comes first, or
        they step over the total): plan the file by reading instead. The plan is not
        ``verified``: :func:`load_runs` checks each run it reads.
    """
    import pyarrow.parquet as pq

    try:
        n_rows = pq.ParquetFile(path).metadata.num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read Parquet: {exc}", source=str(path)) from None
    counts, have = [], 0
    for n in rows:
        if n is None or n <= 0 or have >= n_rows:
            break
        counts.append(int(n))
        have += int(n)
    if not counts or have != n_rows:
        return None
    stops = np.cumsum(np.asarray(counts, dtype=np.int64))
    return Plan(str(path), "parquet", tuple(keys), stops - np.asarray(counts), stops,
                grouped=True, verified=False)


class MisplacedRuns(ValueError):
    """A plan made from row counts does not fit the file: a run it gives does not begin
    or end where the key changes."""


def _plan(path: Path, keys: list[str]) -> Plan:
    starts: list[int] = []
    stops: list[int] = []
    seen: set[tuple] = set()
    last_key: tuple | None = None
    reason = None
    offset = 0
    for batch in _batches(path, keys, keys=tuple(keys)):
        n = batch.num_rows
        if n == 0:
            continue
        encoded = [_encode(batch.column(c)) for c in keys]
        change = np.zeros(n, dtype=bool)
        change[0] = True
        for idx, _ in encoded:
            change[1:] |= idx[1:] != idx[:-1]
        run_starts = np.flatnonzero(change)
        for a in run_starts.tolist():
            key = tuple(None if idx[a] < 0 else vals[idx[a]] for idx, vals in encoded)
            if key == last_key:  # the run continues across the batch boundary
                continue
            if key in seen and reason is None:
                shown = ", ".join("-" if k is None else k for k in key)
                reason = f"series {shown!r} reappears at data row {offset + a + 1} after " \
                         "other series began (rows are not grouped by series)"
            if stops:
                stops[-1] = offset + a
            starts.append(offset + a)
            stops.append(offset + n)
            if last_key is not None:
                seen.add(last_key)
            last_key = key
        stops[-1] = offset + n
        offset += n
    return Plan(str(path), file_format(path), tuple(keys), np.asarray(starts, dtype=np.int64),
                np.asarray(stops, dtype=np.int64), grouped=reason is None, reason=reason)


def _to_series(table: pa.Table, path: Path, offset: int) -> Iterator[Series]:
    """Split a table of whole series starting at data row ``offset`` into Series."""
    source = str(path)
    stem = path.name.rsplit(".", 1)[0]
    table = table.unify_dictionaries()  # key columns read as dictionaries, one per batch
    if file_format(path) == "parquet":
        return table_to_series(table, source=source, default_id=stem,
                               locate=lambda row: offset + row + 1, unit="row")
    from .csv import physical_line

    return table_to_series(table, source=source, default_id=stem,
                           locate=lambda row: physical_line(path, offset + row + 2))


def stream(path: str | Path, the_plan: Plan) -> Iterator[Series]:
    """Yield the series of a grouped long file one at a time, each once complete.

    Parameters
    ----------
    path : str or pathlib.Path
        The file the plan was made from.
    the_plan : Plan
        Its plan; must be ``grouped``.

    Yields
    ------
    Series
        In file order. Memory held: one batch plus the rows of the series
        being read.
    """
    path = Path(path)
    if not the_plan.grouped:
        raise ValueError("stream() needs a grouped file; read an interleaved one whole")
    yielded = 0
    try:
        for s in _stream(path, the_plan.stops, the_plan.keys):
            yield s
            yielded += 1
    except pa.ArrowInvalid:
        # a block the streaming parser rejects (a CSV value that is not a number, a
        # timestamp in another format): the whole-file reader gives the exact error,
        # or the remaining series when it copes (same series, same order)
        from . import read_whole

        for i, s in enumerate(read_whole(path)):
            if i >= yielded:
                yield s


def _stream(path: Path, stops: np.ndarray, keys: tuple[str, ...]) -> Iterator[Series]:
    buf: list[pa.RecordBatch] = []
    buf_start = buf_end = 0
    done = 0  # runs yielded so far
    for batch in _batches(path, None, keys=keys):
        buf.append(batch)
        buf_end += batch.num_rows
        ready = int(np.searchsorted(stops, buf_end, side="right"))
        if ready > done:
            table = pa.Table.from_batches(buf)
            cut = int(stops[ready - 1]) - buf_start
            yield from _to_series(table.slice(0, cut), path, buf_start)
            rest = table.slice(cut)
            buf = rest.combine_chunks().to_batches() if rest.num_rows else []
            buf_start += cut
            done = ready
    if buf:
        yield from _to_series(pa.Table.from_batches(buf), path, buf_start)


@dataclass(frozen=True)
class RowSpan:
    """Whole series of a grouped Parquet file: data rows ``start`` to ``stop`` (exclusive).

    Small and picklable: a worker process or a Dask worker loads it itself,
    reading only the row groups that cover it (the path must be readable
    there, under the same name).
    """

    path: str
    start: int
    stop: int
    n_series: int
    keys: tuple[str, ...] = ()

    def load(self) -> Iterator[Series]:
        """Read the span and yield its series in file order."""
        import pyarrow.parquet as pq

        path = Path(self.path)
        try:
            meta = pq.ParquetFile(path).metadata
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"cannot read Parquet: {exc}", source=self.path) from None
        groups, first, row = [], None, 0
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            if row + n > self.start and row < self.stop:
                groups.append(g)
                first = row if first is None else first
            row += n
        need = self.stop - self.start
        skip = self.start - (first or 0)
        parts: list[pa.RecordBatch] = []
        have = 0
        for batch in _batches(path, None, row_groups=groups, keys=self.keys):
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            batch = batch.slice(skip, need - have)
            skip = 0
            parts.append(batch)
            have += batch.num_rows
            if have >= need:
                break
        return _to_series(pa.Table.from_batches(parts), path, self.start)


def load_runs(the_plan: Plan, runs: Iterable[int]) -> Iterator[tuple[int, Series]]:
    """The series of some runs of a grouped Parquet file, reading only their row groups.

    Parameters
    ----------
    the_plan : Plan
        The file's plan (``fmt == "parquet"``, grouped).
    runs : iterable of int
        Indices of runs (series) in file order.

    Yields
    ------
    (int, Series)
        Run index and its series, by increasing index. Each row group holding a
        wanted run is decoded once, however many wanted runs it holds; other
        runs are not turned into series.

    Raises
    ------
    MisplacedRuns
        The plan was made from row counts (``verified`` false) and a wanted run
        does not begin and end where the key changes (the row before it and the
        row after it hold other keys, its rows one). Series of earlier runs may
        have been yielded already.
    """
    import pyarrow.parquet as pq

    path = Path(the_plan.path)
    runs = sorted(set(runs))
    try:
        pf = pq.ParquetFile(path, read_dictionary=list(the_plan.keys))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read Parquet: {exc}", source=str(path)) from None
    sizes = [pf.metadata.row_group(g).num_rows for g in range(pf.metadata.num_row_groups)]
    ends = np.cumsum(sizes)
    k = 0
    while k < len(runs):
        start = int(the_plan.starts[runs[k]])
        g0 = int(np.searchsorted(ends, start, side="right"))
        j = k  # take the next runs while they start in the row groups read for these
        g1 = int(np.searchsorted(ends, int(the_plan.stops[runs[j]]) - 1, side="right"))
        while j + 1 < len(runs) and int(np.searchsorted(
                ends, int(the_plan.starts[runs[j + 1]]), side="right")) <= g1:
            j += 1
            g1 = max(g1, int(np.searchsorted(ends, int(the_plan.stops[runs[j]]) - 1,
                                             side="right")))
        if not the_plan.verified:  # the rows on either side too, to check the ends
            g0 -= int(g0 > 0 and start == int(ends[g0 - 1]))
            g1 += int(g1 + 1 < len(ends) and int(the_plan.stops[runs[j]]) == int(ends[g1]))
        first_row = int(ends[g0 - 1]) if g0 > 0 else 0
        # decode up to the row after the last run wanted (the check needs it), not the
        # rest of its row group: a third less to decode on average
        table = _read_rows(pf, path, list(range(g0, g1 + 1)),
                           int(the_plan.stops[runs[j]]) - first_row + 1)
        for i in runs[k:j + 1]:
            a, b = int(the_plan.starts[i]), int(the_plan.stops[i])
            if not the_plan.verified:
                _check_run(table, the_plan.keys, a - first_row, b - first_row, i)
            for s in _to_series(table.slice(a - first_row, b - a), path, a):
                yield i, s
        k = j + 1


def _read_rows(pf, path: Path, groups: list[int], rows: int) -> pa.Table:
    """The first ``rows`` rows (or fewer, at the end) of row groups ``groups`` of ``pf``."""
    parts, have = [], 0
    try:
        for batch in pf.iter_batches(batch_size=READ_BATCH_ROWS, row_groups=groups):
            parts.append(batch)
            have += batch.num_rows
            if have >= rows:
                break
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read Parquet: {exc}", source=str(path)) from None
    if not parts:
        return pf.schema_arrow.empty_table()
    return pa.Table.from_batches(parts)


#: Rows decoded at a time when reading series out of a row group.
READ_BATCH_ROWS = 65_536


def spans(the_plan: Plan, rows: int) -> Iterator[RowSpan]:
    """Cut a grouped Parquet file's plan into spans of whole series of about ``rows`` rows."""
    a = 0
    n = the_plan.starts.size
    while a < n:
        b = a + 1
        while b < n and the_plan.stops[b - 1] - the_plan.starts[a] < rows:
            b += 1
        yield RowSpan(the_plan.path, int(the_plan.starts[a]), int(the_plan.stops[b - 1]), b - a,
                      the_plan.keys)
        a = b


def _check_run(table: pa.Table, keys: tuple[str, ...], a: int, b: int, run: int) -> None:
    """Raise :class:`MisplacedRuns` unless rows ``a`` to ``b`` (exclusive) of ``table``
    share one key and the rows just outside them (where the table has them) do not."""
    n = table.num_rows
    lo, hi = max(0, a - 1), min(n, b + 1)
    part = table.select(list(keys)).slice(lo, hi - lo).unify_dictionaries()
    codes = [_encode(part.column(c).combine_chunks())[0] for c in keys]
    change = np.zeros(hi - lo, dtype=bool)
    for idx in codes:
        change[1:] |= idx[1:] != idx[:-1]
    inside = change[a - lo + 1:b - lo]
    if inside.any() or (a > 0 and not change[a - lo]) or (b < n and not change[b - lo]):
        raise MisplacedRuns(f"series {run} is not at rows {a}..{b} of its row groups")
