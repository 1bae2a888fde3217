"""Files as a fleet source: series yielded lazily, and units of work for workers.

:class:`FileSource` is what ``detector scan FILE...`` scans. Iterating it
yields every series of every file, one at a time; a long-format Parquet file
whose rows are grouped by series, and such a CSV file of at least
``stream_min_bytes``, is streamed (:mod:`.grouped`), never held whole (planning
costs one extra pass over the key columns: cheap in Parquet, a second parse in
CSV, hence the threshold). Smaller CSV files, single and wide layouts, and long
files whose series are interleaved are read whole (the latter noted in
:attr:`FileSource.notes`).

For parallel scans :meth:`FileSource.units` cuts the work into picklable units:
a grouped Parquet file into :class:`.grouped.RowSpan` ranges that each worker
reads itself, anything else into :class:`SeriesBatch` es read here and shipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..errors import InputError
from ..series import Series
from . import grouped, read_whole

#: CSV files smaller than this (bytes on disk) are read whole: one parse, not two.
STREAM_MIN_BYTES = 64 << 20

#: Rows of data per unit of parallel work (about 25 series of 40,320 samples per 1 M).
UNIT_ROWS = 1 << 21


@dataclass(frozen=True)
class SeriesBatch:
    """Series already read, shipped to a worker as they are (picklable)."""

    series: tuple[Series, ...]

    def load(self) -> Iterator[Series]:
        """Yield the series."""
        return iter(self.series)


def batches(series: Iterable[Series], rows: int = UNIT_ROWS) -> Iterator[SeriesBatch]:
    """Group series into batches of about ``rows`` samples each (at least one series)."""
    buf: list[Series] = []
    n = 0
    for s in series:
        buf.append(s)
        n += len(s)
        if n >= rows:
            yield SeriesBatch(tuple(buf))
            buf, n = [], 0
    if buf:
        yield SeriesBatch(tuple(buf))


class FileSource:
    """The series of CSV and Parquet files, read lazily.

    Parameters
    ----------
    paths : sequence of str or pathlib.Path
        The files, scanned in this order. Missing files raise at once.
    stream_min_bytes : int
        Long grouped CSV files at least this large (bytes) are streamed
        (Parquet ones always). Default :data:`STREAM_MIN_BYTES`; 0 streams
        every long CSV file.

    Attributes
    ----------
    notes : list of str
        Why a long file was read whole (its series are interleaved),
        filled while iterating.
    """

    def __init__(self, paths: Sequence[str | Path], *, stream_min_bytes: int = STREAM_MIN_BYTES):
        self.paths = [Path(p) for p in paths]
        self.stream_min_bytes = stream_min_bytes
        self.notes: list[str] = []
        for p in self.paths:
            if not p.exists():
                raise InputError("no such file", source=str(p))

    def _plan(self, path: Path) -> grouped.Plan | None:
        """A grouped plan when the file should be streamed, else None (read whole)."""
        if path.is_dir():
            return None
        if grouped.file_format(path) == "csv" and path.stat().st_size < self.stream_min_bytes:
            return None
        keys = grouped.key_columns(grouped.column_names(path))
        if keys is None:
            return None
        the_plan = grouped.plan(path, keys)
        if not the_plan.grouped:
            self.notes.append(f"{path}: read whole: {the_plan.reason}")
            return None
        return the_plan

    def __iter__(self) -> Iterator[Series]:
        for path in self.paths:
            the_plan = self._plan(path)
            if the_plan is None:
                yield from read_whole(path)
            else:
                yield from grouped.stream(path, the_plan)

    def series_at(self, positions: Iterable[int], *,
                  rows: Sequence[int | None] | None = None) -> Iterator[tuple[int, Series]]:
        """The series at ``positions`` of the iteration order (0-based), in that order.

        What a report needs after a scan: the few series it draws, found by their
        place in the scan's results. A grouped Parquet file gives each one alone
        (only the row groups that hold it are read); other files are read through
        and the wanted series kept.

        Parameters
        ----------
        positions : iterable of int
            0-based positions among all the series of all the files.
        rows : sequence of int or None, optional
            Data rows of every series, in iteration order (None where unknown), as a
            scan's results record them (``n_input``). Where they add up to a Parquet
            file's rows, that file's series are found from them instead of by a pass
            over its key columns; the caller must check that the series found are the
            ones it expects (counts from another file would place them wrongly).

        Yields
        ------
        (int, Series)
            Position and series, by increasing position; positions past the
            last series yield nothing.
        """
        wanted = sorted(set(positions))
        first = 0  # position of the current file's first series
        w = 0
        for path in self.paths:
            if w >= len(wanted):
                return
            the_plan = self._plan_from_rows(path, rows, first) if rows is not None else None
            the_plan = the_plan or self._plan(path)
            if the_plan is not None and the_plan.fmt == "parquet":
                n = int(the_plan.starts.size)
                mine = []
                while w < len(wanted) and wanted[w] < first + n:
                    mine.append(wanted[w] - first)
                    w += 1
                for i, s in grouped.load_runs(the_plan, mine):
                    yield first + i, s
                first += n
                continue
            for s in read_whole(path) if the_plan is None else grouped.stream(path, the_plan):
                if w < len(wanted) and wanted[w] == first:
                    yield first, s
                    w += 1
                first += 1

    @staticmethod
    def _plan_from_rows(path: Path, rows: Sequence[int | None], first: int
                        ) -> grouped.Plan | None:
        """The plan of the Parquet file ``path`` from the row counts of its series, which
        begin at ``rows[first]``; None when they do not make up the file exactly."""
        if path.is_dir() or grouped.file_format(path) != "parquet":
            return None
        keys = grouped.key_columns(grouped.column_names(path))
        if keys is None:
            return None
        return grouped.plan_from_rows(path, keys, rows[first:])

    def units(self, rows: int = UNIT_ROWS) -> Iterator[grouped.RowSpan | SeriesBatch]:
        """Picklable units of work of about ``rows`` samples, in file order.

        Parameters
        ----------
        rows : int
            Target data rows (samples) per unit; a unit always holds whole series.

        Yields
        ------
        RowSpan or SeriesBatch
            Each has ``load() -> Iterator[Series]``.
        """
        for path in self.paths:
            the_plan = self._plan(path)
            if the_plan is not None and the_plan.fmt == "parquet":
                # at least ~16 units per file, so progress is journalled as it goes
                yield from grouped.spans(the_plan, max(1, min(rows, the_plan.n_rows // 16)))
            elif the_plan is not None:
                yield from batches(grouped.stream(path, the_plan), rows)
            else:
                yield from batches(read_whole(path), rows)
