"""Command line: ``detector scan`` (and friends). Parses arguments, calls the library.

Exit codes: 0 no leak, 1 at least one leak, 2 usage or input error (or a
series that could not be analysed, when none leaks), 3 data source
unreachable.
"""

from __future__ import annotations

import json
import re
import sys
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import List, Optional

import typer

from . import __version__
from .errors import InputError, SourceUnreachable

EXIT_OK, EXIT_LEAK, EXIT_INPUT, EXIT_UNREACHABLE = 0, 1, 2, 3

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Tell a real memory leak from normal behaviour in memory time series.",
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


def _version(value: bool):
    if value:
        typer.echo(f"detector {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")):
    """Tell a real memory leak from normal behaviour in memory time series."""


_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([KMGTP]i?B?|B)?\s*$", re.I)
_UNITS = {"": 1, "B": 1, "K": 1e3, "KB": 1e3, "M": 1e6, "MB": 1e6, "G": 1e9, "GB": 1e9,
          "T": 1e12, "TB": 1e12, "KI": 2**10, "KIB": 2**10, "MI": 2**20, "MIB": 2**20,
          "GI": 2**30, "GIB": 2**30, "TI": 2**40, "TIB": 2**40, "P": 1e15, "PB": 1e15,
          "PI": 2**50, "PIB": 2**50}


def parse_size(text: str) -> float:
    """Parse a size such as ``2GiB``, ``512MB`` or ``1e9`` into bytes."""
    m = _SIZE.match(text)
    if not m or (m.group(2) or "").upper() not in _UNITS:
        raise typer.BadParameter(f"{text!r} is not a size (examples: 2GiB, 512MB, 1e9)")
    return float(m.group(1)) * _UNITS[(m.group(2) or "").upper()]


def _demo_files():
    root = resources.files("detector.demo_data")
    data = root / "fleet.csv.gz"
    if not data.is_file():
        raise InputError("the bundled demo data is missing from this installation "
                         "(datasets/demo/fleet.csv.gz)", source="--demo")
    limits = {}
    labels = root / "labels.json"
    if labels.is_file():
        meta = json.loads(labels.read_text())
        items = meta.get("series", meta) if isinstance(meta, dict) else {}
        for sid, lab in items.items():
            if isinstance(lab, dict) and lab.get("limit"):
                limits[sid] = float(lab["limit"])
    return data, limits


def _progress():
    """A rich progress bar on stderr when it is a terminal, else None (total may be unknown)."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
        TimeElapsedColumn

    return Progress(TextColumn("scanning"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=Console(stderr=True), transient=True)


def _fail(message: str, code: int):
    typer.echo(f"detector: error: {message}", err=True)
    raise typer.Exit(code)


class Executor(str, Enum):
    processes = "processes"
    dask = "dask"


def _open_source(paths, demo: bool, limits):
    """Step 1 of a scan: a lazy iterable of Series, the limits, and what was scanned.

    A new source (a server, a store) plugs in here and nowhere else.
    """
    from .sources.files import FileSource

    if demo:
        demo_path, demo_limits = _demo_files()
        return FileSource([demo_path]), (limits if limits is not None else demo_limits), \
            ["--demo"]
    return FileSource(list(paths)), limits, [str(Path(p).resolve()) for p in paths]


@app.command()
def scan(
    paths: Optional[List[Path]] = typer.Argument(
        None, help="CSV (.csv, .csv.gz) or Parquet files: long 'series,timestamp,value', "
                   "single 'timestamp,value', or wide 'timestamp,<series>...'.",
        show_default=False),
    demo: bool = typer.Option(False, "--demo", help="Scan the bundled demo fleet."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Write results to FILE (atomically) "
                                               "instead of standard output; progress is "
                                               "journalled in FILE.journal meanwhile."),
    limit: Optional[str] = typer.Option(None, "--limit",
                                        help="Memory limit for every series, e.g. 2GiB, "
                                             "for time-to-limit."),
    workers: int = typer.Option(1, "--workers", "-w", min=1,
                                help="Worker processes (1: serial, in this process)."),
    executor: Optional[Executor] = typer.Option(
        None, "--executor", help="processes (default with --workers > 1) or dask.",
        show_default=False),
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", help="Dask scheduler address (tcp://host:8786) for "
                                  "--executor dask; without it a local cluster of --workers "
                                  "processes is started."),
    resume: bool = typer.Option(False, "--resume",
                                help="Skip series already in --output's journal (or in the "
                                     "finished --output): an interrupted scan continues."),
    openmetrics: Optional[Path] = typer.Option(
        None, "--openmetrics", help="Also write the results as Prometheus metrics to FILE "
                                    "(for node_exporter's textfile collector), atomically."),
):
    """Scan series for memory leaks; one result per series."""
    from .config import Config
    from .fleet import run
    from .journal import Journal, journal_path, read_journal
    from .openmetrics import render_openmetrics
    from .outputs import read_results, render, write_atomic

    if demo and paths:
        raise typer.BadParameter("give either PATHS or --demo, not both")
    if not demo and not paths:
        raise typer.BadParameter("give at least one file to scan, or --demo")
    if fmt is Format.parquet and output is None:
        raise typer.BadParameter("--format parquet needs --output FILE")
    if resume and output is None:
        raise typer.BadParameter("--resume needs --output FILE (where progress is kept)")
    if scheduler and executor is not Executor.dask:
        raise typer.BadParameter("--scheduler needs --executor dask")
    for opt, target in (("--output", output), ("--openmetrics", openmetrics)):
        if target is not None and not target.parent.exists():
            raise typer.BadParameter(f"directory {str(target.parent)!r} does not exist",
                                     param_hint=opt)
    limits: dict | float | None = parse_size(limit) if limit else None
    kind = executor.value if executor else ("processes" if workers > 1 else "serial")

    results = []
    journal = None
    try:
        # (1) the source: a lazy iterable of Series, and the limits
        source, limits, inputs = _open_source(paths, demo, limits)
        header = {"inputs": inputs, "limit": limit}
        done = {}
        if output is not None:
            jpath = journal_path(output)
            from_output = False
            if resume:
                done = read_journal(jpath, header)
                if not done and not jpath.exists() and output.exists():
                    if fmt is Format.table:
                        typer.echo("detector: note: a table cannot be read back; "
                                   "scanning everything again", err=True)
                    else:
                        done = {r.series: r for r in read_results(output, fmt.value)}
                        from_output = True
            journal = Journal(jpath, header, resume=resume)
            if from_output:  # so a second interruption still knows them
                for r in done.values():
                    journal.append(r)
        # (2) the fleet runner
        progress = _progress()
        stream = run(source, limits=limits, config=Config(), executor=kind, workers=workers,
                     scheduler=scheduler, done=done)
        if progress is not None:
            with progress:
                task = progress.add_task("scan", total=None)
                for r in stream:
                    results.append(r)
                    if journal is not None and r.series not in done:
                        journal.append(r)
                    progress.advance(task)
        else:
            for r in stream:
                results.append(r)
                if journal is not None and r.series not in done:
                    journal.append(r)
        for note in source.notes if hasattr(source, "notes") else ():
            typer.echo(f"detector: note: {note}", err=True)
    except InputError as exc:
        if journal is not None:
            journal.close()
        _fail(str(exc), EXIT_INPUT)
    except SourceUnreachable as exc:
        if journal is not None:
            journal.close()
        _fail(str(exc), EXIT_UNREACHABLE)
    except BaseException:
        if journal is not None:
            journal.close()
        raise

    # (3) the outputs
    data = render(results, fmt.value)
    if output is not None:
        write_atomic(data, output)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    if openmetrics is not None:
        write_atomic(render_openmetrics(results), openmetrics)
    if journal is not None:
        journal.remove()
    for r in results:
        if r.error:
            typer.echo(f"detector: series {r.series}: {r.error}", err=True)
    if any(r.leak for r in results):
        raise typer.Exit(EXIT_LEAK)
    if any(r.error for r in results):
        raise typer.Exit(EXIT_INPUT)
    raise typer.Exit(EXIT_OK)


@app.command("eval")
def evaluate(
    dataset: str = typer.Option("synthetic", "--dataset",
                                help="synthetic | exathlon | alibaba | nab | PATH (a directory "
                                     "written by datasets/synthetic.py)."),
    detectors: str = typer.Option(",".join(("detector", "prometheus", "coroot", "band",
                                            "mann_kendall", "precog")), "--detectors",
                                  help="Comma-separated detectors to score."),
    n_series: int = typer.Option(340, "--n-series", min=1, help="Synthetic series."),
    seed: int = typer.Option(0, "--seed", help="Synthetic dataset seed."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir",
                                            help="The shared/datasets folder (real sets)."),
    fmt: Format = typer.Option(Format.table, "--format", "-f",
                               help="table or json (csv/parquet are not offered here)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to FILE."),
    plots: Optional[Path] = typer.Option(None, "--plots",
                                         help="Write PNGs of the series each detector gets "
                                              "wrong into this directory."),
):
    """Score the detector and the practitioners' baselines on a labelled dataset."""
    from .evaluate import runner
    from .outputs import write_atomic

    if fmt not in (Format.table, Format.json):
        raise typer.BadParameter("eval writes table or json", param_hint="--format")
    names = [d.strip() for d in detectors.split(",") if d.strip()]
    try:
        for name in names:
            runner.detector_function(name)
        if dataset == "synthetic":
            items = runner.synthetic_items(n_series, seed)
            label = f"synthetic (seed {seed})"
        elif dataset in ("exathlon", "alibaba", "nab"):
            source = "jindal_alibaba" if dataset == "alibaba" else dataset
            items = runner.real_items(source, data_dir)
            label = dataset
        else:
            path = Path(dataset)
            if not path.is_dir():
                raise InputError("expected synthetic, exathlon, alibaba, nab or a directory "
                                 "written by datasets/synthetic.py", source=dataset)
            items = runner.directory_items(path)
            label = str(path)
        if dataset == "nab":
            names = []  # anomaly windows, not leaks: only the band rule is scored (below)
        scores, outcomes = runner.run(items, names)
        report = {"dataset": label, "n_series": len(items),
                  "results": [s.to_dict() for s in scores]}
        if dataset == "nab":
            report["nab"] = runner.nab_scores(items)
            report["results"] = [{"detector": "band", **report["nab"]}]
        if plots is not None:
            runner.gallery(items, outcomes, plots)
    except InputError as exc:
        _fail(str(exc), EXIT_INPUT)
    data = (json.dumps(report, indent=2) + "\n" if fmt is Format.json
            else runner.render_table(report)).encode()
    if output is not None:
        write_atomic(data, output)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


def main() -> None:
    """Entry point of the ``detector`` command."""
    app()


if __name__ == "__main__":
    main()
