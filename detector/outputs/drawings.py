"""Which series of a scan get a drawing, and the traces behind those drawings.

A report draws every leaking series, and any other asked for (``--plot-all``,
``--plot SERIES``). Drawing needs the samples again, which a scan does not
keep; the traces (:class:`detector.analysis.trace.Trace`, a few kilobytes
each) are taken

* as the scan goes (:class:`Keeper`): the series passing through this process
  are held until their result arrives, then traced or dropped, so memory holds
  only the series in flight;
* or afterwards, by reading the source again (:func:`retrace`): what
  ``detector report`` does with a saved scan, and what a scan does when worker
  processes read the files themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Mapping, Sequence

from ..analysis.trace import Trace, trace
from ..config import Config
from ..errors import InputError
from ..results import ScanResult
from ..series import Series


def matches(series_id: str, name: str) -> bool:
    """Whether ``name`` names ``series_id``: the whole id, or its name before ``{``."""
    return series_id == name or series_id.split("{", 1)[0] == name


@dataclass(frozen=True)
class Selection:
    """The series to draw.

    Attributes
    ----------
    all : bool
        Every series that was judged (``--plot-all``).
    names : tuple of str
        Ids (or names before ``{``) of series to draw too (``--plot``).
    """

    all: bool = False
    names: tuple[str, ...] = ()

    def wants(self, result: ScanResult) -> bool:
        """Whether ``result``'s series gets a drawing (failed series never do)."""
        if result.fields is None:
            return False
        return result.leak or self.all or any(matches(result.series, n) for n in self.names)

    def unmatched(self, results: Sequence[ScanResult]) -> list[str]:
        """The ``names`` that name no series of ``results``."""
        return [n for n in self.names if not any(matches(r.series, n) for r in results)]


class Keeper:
    """Traces the wanted series of a running scan.

    Parameters
    ----------
    selection : Selection
    config : Config, optional
        The configuration of the scan.
    parallel : bool
        The scan runs on worker processes: a source with units of its own (files
        the workers read themselves) is then read again after the scan instead of
        being routed through this process.

    Examples
    --------
    >>> keeper = Keeper(Selection())                                # doctest: +SKIP
    >>> for r in run(keeper.watch(source)): keeper.on_result(r)    # doctest: +SKIP
    >>> traces = keeper.finish(source, results)                     # doctest: +SKIP
    """

    def __init__(self, selection: Selection, config: Config | None = None, *,
                 parallel: bool = False):
        self.selection = selection
        self.config = config or Config()
        self.parallel = parallel
        self.traces: dict[str, Trace] = {}
        self._pending: dict[str, Series] = {}
        self._watched = False

    def watch(self, source: Iterable[Series]) -> Iterable[Series]:
        """The source to scan: ``source`` itself, or a view of it that lets series be kept."""
        if self.parallel and hasattr(source, "units"):
            return source
        self._watched = True
        return self._through(source)

    def _through(self, source: Iterable[Series]) -> Iterator[Series]:
        for s in source:
            self._pending[s.id] = s
            yield s

    def on_result(self, result: ScanResult) -> None:
        """Trace the result's series if it is wanted; let it go either way."""
        series = self._pending.pop(result.series, None)
        if series is not None and self.selection.wants(result):
            self.traces[result.series] = trace(series, result.fields, self.config)

    def finish(self, source: Iterable[Series], results: Sequence[ScanResult]) -> dict[str, Trace]:
        """The traces of every wanted series (reading ``source`` again if it was not watched)."""
        if self._watched:
            return self.traces
        return retrace(source, results, self.selection, self.config)


def _by_position(source, results, selection, config, on_trace) -> dict[str, Trace] | None:
    """The traces, reading only the wanted series when the source can give a series by its
    place (the results of a scan are in source order); None when it cannot, or when the
    series found there are not the ones of the results (other files, another order)."""
    if not hasattr(source, "series_at"):
        return None
    positions = [i for i, r in enumerate(results) if selection.wants(r)]
    # the rows of each series, as the scan recorded them, place the series in a Parquet
    # file without a pass over its key columns (a few seconds for 400 M rows); where the
    # series found there are not the expected ones, the file is planned by reading
    from ..sources.grouped import MisplacedRuns

    rows = [_rows_of(r) for r in results]
    for hint in (rows, None):
        out: dict[str, Trace] = {}
        try:
            for pos, series in source.series_at(positions, rows=hint):
                result = results[pos]
                if series.id != result.series:
                    return None
                out[series.id] = _traced(series, result.fields, config, on_trace)
        except MisplacedRuns:  # counts from another file: plan this one by reading it
            continue
        return out if len(out) == len(positions) else None
    return None


def _traced(series: Series, fields, config: Config, on_trace) -> Trace:
    made = trace(series, fields, config)
    if on_trace is not None:
        on_trace(series.id, made)
    return made


def _rows_of(result: ScanResult) -> int | None:
    """The data rows the series of ``result`` was read from (None when not recorded)."""
    try:
        n = result.fields["evidence"]["input"]["n_input"]
    except (TypeError, KeyError):
        return None
    return int(n) if isinstance(n, int) and n > 0 else None


def retrace(source: Iterable[Series], results: Sequence[ScanResult], selection: Selection,
            config: Config | None = None, *, where: str = "the source",
            on_trace: Callable[[str, Trace], None] | None = None) -> dict[str, Trace]:
    """Read ``source`` again and trace the wanted series of ``results``.

    Parameters
    ----------
    source : iterable of Series
        What was scanned. When it has ``series_at(positions)`` (as
        :class:`detector.sources.files.FileSource`) and the results are in its
        order, only the wanted series are read; else it is read through.
    results : sequence of ScanResult
        The scan's results (their fields are the reports drawn).
    selection : Selection
    config : Config, optional
    where : str
        How to name the source in errors.
    on_trace : callable, optional
        Called with each series id and its trace as soon as it is made (to draw
        while the next series are read: :class:`detector.outputs.html.Drawer`);
        a series may be handed over twice when a first way of finding it fails.

    Returns
    -------
    dict of str to Trace

    Raises
    ------
    InputError
        A wanted series is not in the source (any more).
    """
    config = config or Config()
    wanted: Mapping[str, ScanResult] = {r.series: r for r in results if selection.wants(r)}
    out = _by_position(source, results, selection, config, on_trace)
    if out is not None:
        return out
    out = {}
    for s in source:
        r = wanted.get(s.id)
        if r is not None and s.id not in out:
            out[s.id] = _traced(s, r.fields, config, on_trace)
            if len(out) == len(wanted):
                break
    missing = [sid for sid in wanted if sid not in out]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(f"series {missing[0]}{more} of the results is not in {where}; "
                         "give the files that were scanned")
    return out
