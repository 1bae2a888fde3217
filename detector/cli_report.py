"""The report and plot commands, and the report options of ``detector scan``.

``detector scan ... --report FILE`` writes the HTML report of the scan;
``detector report RESULTS -o FILE`` writes it from a saved scan, reading the
scanned files again for the drawings; ``detector plot FILE -o PNG`` draws one
series. The commands only parse and check arguments and call
:mod:`detector.outputs`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from .errors import InputError

PANEL = "HTML report"

ReportFile = Annotated[Optional[Path], typer.Option(
    "--report", rich_help_panel=PANEL,
    help="Also write an HTML report to FILE: fleet summary, the leaking series in a "
         "sortable table, and a plot of each (one self-contained file).")]
PlotAll = Annotated[bool, typer.Option(
    "--plot-all", rich_help_panel=PANEL,
    help="Plot every series in the report, not only the leaking ones.")]
PlotSeries = Annotated[Optional[List[str]], typer.Option(
    "--plot", metavar="SERIES", rich_help_panel=PANEL,
    help="Plot this series too (its id, or its name before '{'); repeatable.")]

TestRun = Annotated[bool, typer.Option(
    "--test-run",
    help="Each series is one test run of a process, from its start to its exit (minutes "
         "at 1 s in CI): judge runs from 2 minutes, and do not judge the exit at the end "
         "(detector.Config.for_test_runs()). 'report' also finds it in the results of a "
         "scan that had it.")]


def config_of(test_run: bool):
    """The thresholds for ``--test-run`` or the defaults."""
    from .config import Config

    return Config.for_test_runs() if test_run else Config()


#: Suffixes the results of a scan can be read back from, and their format.
RESULT_FORMATS = {".json": "json", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}

#: Suffixes ``detector plot`` writes.
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def check_options(report: Path | None, plot_all: bool, plot: list[str] | None) -> None:
    """Refuse report options that cannot work, before a long scan starts."""
    if report is None and (plot_all or plot):
        raise typer.BadParameter("--plot-all and --plot need --report FILE")
    if report is not None and not report.parent.exists():
        raise typer.BadParameter(f"directory {str(report.parent)!r} does not exist",
                                 param_hint="--report")
    if report is not None and not has_matplotlib():
        raise typer.BadParameter("plots need matplotlib: pip install 'detector[plot]'",
                                 param_hint="--report")


def has_matplotlib() -> bool:
    """Whether matplotlib (the ``plot`` extra) is installed."""
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def describe(inputs: list[str]) -> str:
    """What a scan read, for the report's header."""
    return "the bundled demo fleet" if inputs == ["--demo"] else ", ".join(inputs)


def keeper(report: Path | None, plot_all: bool, plot: list[str] | None, *, parallel: bool,
           config=None):
    """A :class:`~detector.outputs.drawings.Keeper` for the scan, or None without --report."""
    if report is None:
        return None
    from .outputs.drawings import Keeper, Selection

    return Keeper(Selection(plot_all, tuple(plot or ())), config, parallel=parallel)


def _drawing_progress(total: int):
    """A rich progress bar on stderr when it is a terminal and there is much to draw."""
    if not sys.stderr.isatty() or total < 20:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(TextColumn("drawing"), BarColumn(), MofNCompleteColumn(),
                    console=Console(stderr=True), transient=True)


def write_report(path: Path, results, traces, *, source: str, workers: int = 1,
                 drawer=None) -> None:
    """Draw the traces and write the report page to ``path`` atomically.

    ``drawer``, a :class:`~detector.outputs.html.Drawer` the traces were handed to as
    they were made, finishes the drawings it began; else they are drawn here.

    Raises
    ------
    InputError
        A series asked for with ``--plot`` is not among the results.
    """
    from .outputs import plot as P
    from .outputs import write_atomic
    from .outputs.html import render_drawings, render_report

    def draw(on_drawn=None):
        if drawer is None:
            return render_drawings(traces, workers=workers, on_drawn=on_drawn)
        drawer.on_drawn = on_drawn
        return drawer.finish(traces)

    progress = _drawing_progress(len(traces))
    if progress is None:
        drawings = draw()
    else:
        with progress:
            task = progress.add_task("draw", total=len(traces))
            drawings = draw(lambda: progress.advance(task))
    page = render_report(results, drawings, source=source, key=P.key_svg() if traces else None)
    write_atomic(page.encode(), path)


def check_selection(selection, results) -> None:
    """Refuse ``--plot`` names that name no series of the results."""
    unmatched = selection.unmatched(results)
    if unmatched:
        raise InputError(f"no series named {unmatched[0]!r} among the {len(results)} results",
                         source="--plot")


def read_results_file(path: Path):
    """The results of a saved scan (JSON, CSV or Parquet, by suffix), or a one-line error."""
    from .outputs import read_results

    if not path.exists():
        raise InputError("no such file", source=str(path))
    suffix = path.suffix.lower()
    if suffix not in RESULT_FORMATS:
        raise InputError("expected the results of detector scan as .json, .csv or .parquet "
                         "(--format json|csv|parquet --output FILE)", source=str(path))
    return read_results(path, RESULT_FORMATS[suffix])


def report(
    results_file: Path = typer.Argument(..., metavar="RESULTS",
                                        help="Results of detector scan (--format json, csv or "
                                             "parquet --output FILE)."),
    paths: Optional[List[Path]] = typer.Argument(
        None, help="The files that were scanned (read again for the plots).",
        show_default=False),
    output: Path = typer.Option(..., "--output", "-o", help="Write the HTML report to FILE."),
    demo: bool = typer.Option(False, "--demo", help="The results are of the bundled demo."),
    plot_all: PlotAll = False,
    plot: PlotSeries = None,
    workers: int = typer.Option(1, "--workers", "-w", min=1,
                                help="Processes to draw the plots on."),
    test_run: TestRun = False,
):
    """Write the HTML report of a saved scan (the scanned files are read again for plots)."""
    from .cli import EXIT_INPUT, _demo_files, _fail
    from .outputs.drawings import Selection, retrace
    from .outputs.html import Drawer
    from .sources.files import FileSource

    if bool(demo) == bool(paths):
        raise typer.BadParameter("give the files that were scanned, or --demo")
    check_options(output, plot_all, plot)
    try:
        results = read_results_file(results_file)
        selection = Selection(plot_all, tuple(plot or ()))
        check_selection(selection, results)
        files = [_demo_files()[0]] if demo else list(paths)
        where = describe(["--demo"] if demo else [str(p) for p in files])
        # with --workers, the plots are drawn on other processes while the series are
        # read and traced here
        drawer = Drawer(workers) if workers > 1 else None
        try:
            traces = retrace(FileSource(files), results, selection, config_of(test_run),
                             where=where, on_trace=drawer.add if drawer else None)
            write_report(output, results, traces, source=where, drawer=drawer)
        finally:
            if drawer is not None:
                drawer.close()
    except InputError as exc:
        _fail(str(exc), EXIT_INPUT)
    n = sum(r.leak for r in results)
    typer.echo(f"detector: {output}: {len(results)} series, {n} leaking, "
               f"{len(traces)} plotted", err=True)


def plot(
    path: Path = typer.Argument(..., metavar="SERIES_FILE",
                                help="A CSV or Parquet file holding the series."),
    output: Path = typer.Option(..., "--output", "-o",
                                help="Write the plot to FILE (.png, .svg or .pdf)."),
    series: Optional[str] = typer.Option(None, "--series", "-s",
                                         help="Which series of the file (its id, or its name "
                                              "before '{'); needed when it holds several."),
    limit: Optional[str] = typer.Option(None, "--limit",
                                        help="Memory limit, e.g. 2GiB, for time-to-limit."),
    test_run: TestRun = False,
):
    """Analyse one series and draw the verdict on it (the drawing of the HTML report)."""
    from .cli import EXIT_INPUT, EXIT_LEAK, EXIT_OK, _fail, parse_size

    if output.suffix.lower() not in PLOT_SUFFIXES:
        raise typer.BadParameter("expected a .png, .svg or .pdf file", param_hint="--output")
    if not output.parent.exists():
        raise typer.BadParameter(f"directory {str(output.parent)!r} does not exist",
                                 param_hint="--output")
    size = parse_size(limit) if limit else None
    if not has_matplotlib():
        _fail("plots need matplotlib: pip install 'detector[plot]'", EXIT_INPUT)
    try:
        result = draw_one(path, output, series=series, limit=size, config=config_of(test_run))
    except InputError as exc:
        _fail(str(exc), EXIT_INPUT)
    from .outputs.explain import verdict_sentence

    typer.echo(f"{result.series}: {verdict_sentence(result.fields)} Plot: {output}")
    raise typer.Exit(EXIT_LEAK if result.leak else EXIT_OK)


def draw_one(path: Path, output: Path, *, series: str | None, limit: float | None,
             config=None):
    """Read, analyse and draw one series of ``path``; returns its ScanResult."""
    from .analysis.trace import trace
    from .fleet import analyze_series
    from .outputs import plot as P
    from .outputs.drawings import matches
    from .sources import read_path

    chosen, ids = None, []
    for s in read_path(path):
        ids.append(s.id)
        if series is None or matches(s.id, series):
            if chosen is not None:
                raise InputError(f"holds several series ({chosen.id}, {s.id}, ...): choose "
                                 "one with --series", source=str(path))
            chosen = s
    if chosen is None:
        what = f"no series named {series!r}" if series else "no series"
        shown = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
        raise InputError(what + (f" (it holds {shown})" if ids else ""), source=str(path))
    result = analyze_series(chosen, limit=limit, config=config)
    if result.fields is None:
        raise InputError(result.error or "analysis failed", source=chosen.id)
    P.save(trace(chosen, result.fields, config), output,
           title=f"{chosen.id}   {P.caption(result.fields)}")
    return result
