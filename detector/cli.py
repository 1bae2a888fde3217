"""Command line: ``detector scan`` (and friends). Parses arguments, calls the library.

Exit codes: 0 no leak, 1 at least one leak, 2 usage or input error (or a
series that could not be analysed, when none leaks), 3 data source
unreachable.
"""

from __future__ import annotations

import json
import math
import re
import sys
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from . import __version__
from . import cli_diagnosis as D
from . import cli_prometheus as P
from . import cli_report as R
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


def _progress(label: str = "scanning"):
    """A rich progress bar on stderr when it is a terminal, else None (total may be unknown)."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
        TimeElapsedColumn

    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=Console(stderr=True), transient=True)


class _EvalProgress:
    """``eval``'s bar on a terminal: verdicts of every detector on every series, done/total."""

    def __init__(self):
        self.bar = _progress("evaluating")
        self.task = None

    def __enter__(self):
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def injected(self):
        """A callback for ``runner.injected_report`` (None off a terminal)."""
        return None if self.bar is None else self._update

    def series(self, total: int):
        """A callback for ``runner.run`` over ``total`` verdicts (None off a terminal)."""
        if self.bar is None:
            return None
        done = 0

        def advance(name: str, n: int) -> None:
            nonlocal done
            done += n
            self._update(done, total, name)
        return advance

    def _update(self, done: int, total: int, name: str) -> None:
        if self.task is None:
            self.task = self.bar.add_task("eval", total=total)
        self.bar.update(self.task, completed=done)


def _warn(message: str) -> None:
    typer.echo(f"detector: warning: {message}", err=True)


def _prometheus_request(target, *, start, end, range_, step, now):
    """The :class:`~detector.sources.prometheus.RangeQuery` of ``--start/--end/--range/--step``."""
    from .sources.prometheus import RangeQuery

    t_end = P.when(end, "--end", now) if end is not None else now
    if start is not None and range_ is not None:
        raise typer.BadParameter("give --start or --range, not both")
    t_start = P.when(start, "--start", now) if start is not None else \
        t_end - P.seconds(range_ or "7d", "--range")
    return RangeQuery(target.query, t_start, t_end,
                      P.seconds(step, "--step") if step is not None else None,
                      target.limit_queries, target.restart_queries)


def _prometheus_series(url: str, target, *, start, end, range_, step, conn):
    """Step 1 of a scan from Prometheus: (lazy series, limits dict, what was scanned).

    The limits dict is filled as shards arrive, before their series are
    yielded. What was scanned (for ``--resume``'s journal) names the server
    without credentials, the query and the range. A preset with components
    (``breakdown``) yields one memory breakdown per container.
    """
    import time as _time

    from .sources.prometheus import iter_prometheus

    request = _prometheus_request(target, start=start, end=end, range_=range_, step=step,
                                  now=_time.time())
    limits: dict = {}
    if target.components:
        from .sources.cadvisor import iter_breakdown

        series = iter_breakdown(conn, request, target.components, limits=limits,
                                shard_by=target.shard_by, shard_selector=target.shard_selector,
                                warn=_warn)
    else:
        series = iter_prometheus(conn, request, limits=limits, shard_by=target.shard_by,
                                 shard_selector=target.shard_selector, warn=_warn)
    inputs = [f"prometheus {conn.where}", target.query + (" (breakdown)" if target.components
                                                          else ""),
              f"{request.start:.0f}..{request.end:.0f}", f"step {request.step}"]
    return series, limits, inputs


def _restarts_given(result) -> bool:
    """Whether a scan result was judged with restarts it was given."""
    evidence = (result.fields or {}).get("evidence") or {}
    lifetimes = evidence.get("lifetimes") if isinstance(evidence, dict) else None
    return isinstance(lifetimes, dict) and lifetimes.get("restarts_from") == "given"


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
    prometheus: P.PrometheusURL = None,
    query: P.Query = None,
    metric: P.Metric = None,
    selector: P.Selector = None,
    start: P.Start = None,
    end: Annotated[Optional[str], typer.Option(
        "--end", metavar="T", rich_help_panel=P.PANEL,
        help="Range end: RFC 3339, unix seconds or now (default now).")] = None,
    range_: Annotated[Optional[str], typer.Option(
        "--range", metavar="DURATION", rich_help_panel=P.PANEL,
        help="Range length ending at --end, e.g. 7d (default 7d when --start is not "
             "given).")] = None,
    step: P.Step = None,
    shard_by: Annotated[Optional[str], typer.Option(
        "--shard-by", metavar="LABEL", rich_help_panel=P.PANEL,
        help="Fetch a preset's fleet one value of LABEL at a time, so memory holds one "
             "shard (default: namespace for container presets; 'none' fetches all at "
             "once).")] = None,
    restarts_query: P.RestartsQuery = None,
    bearer_token_file: P.BearerTokenFile = None,
    bearer_token_env: P.BearerTokenEnv = None,
    basic_auth_user: P.BasicAuthUser = None,
    basic_auth_password_file: P.BasicAuthPasswordFile = None,
    basic_auth_password_env: P.BasicAuthPasswordEnv = None,
    ca_file: P.CAFile = None,
    insecure: P.Insecure = False,
    header: P.Header = None,
    partial_response: P.PartialResponse = None,
    timeout: P.Timeout = 60.0,
    retries: P.Retries = 4,
    gzip: P.Gzip = False,
    report: R.ReportFile = None,
    plot_all: R.PlotAll = False,
    plot: R.PlotSeries = None,
    test_run: R.TestRun = False,
    # diagnosis: events beside the onset, rules of practice beside the verdict
    events: D.EventsFiles = None,
    kube_events: D.KubeEvents = None,
    event_tolerance: D.EventTolerance = "30m",
    rules: D.RulesFile = None,
):
    """Scan series for memory leaks; one result per series."""
    local = dict(locals())
    from .fleet import run
    from .outputs.journal import Journal, journal_path, read_journal
    from .outputs.openmetrics import render_openmetrics
    from .outputs import read_results, render, write_atomic

    if sum((bool(demo), bool(paths), prometheus is not None)) > 1:
        raise typer.BadParameter("give one of PATHS, --demo or --prometheus")
    if not demo and not paths and prometheus is None:
        raise typer.BadParameter("give at least one file to scan, --demo or --prometheus URL")
    if prometheus is None and any(v is not None for v in (query, metric, selector, start, end,
                                                          range_, step)):
        raise typer.BadParameter("--query, --metric, --selector, --start, --end, --range and "
                                 "--step need --prometheus URL")
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
    # --- HTML report (cli_report): checked now, traces kept as the scan goes
    R.check_options(report, plot_all, plot)
    config = R.config_of(test_run)
    keeper = R.keeper(report, plot_all, plot, parallel=kind != "serial", config=config)

    results = []
    journal = None
    try:
        # (1) the source: a lazy iterable of Series, and the limits
        found_events: list = []
        if prometheus is not None:
            conn = P.connection(prometheus, **{k: local[k] for k in P.CONNECTION_OPTIONS})
            import time as _time

            chosen = P.target(query, metric, selector, shard_by, restarts_query)
            P.check_restarts_query(conn, chosen, restarts_query, _time.time())
            source, found_limits, inputs = _prometheus_series(
                prometheus, chosen, start=start, end=end, range_=range_, step=step, conn=conn)
            limits = limits if limits is not None else found_limits
            if D.wants_kube_events(kube_events, query, metric):
                import time as _time

                found_events = D.kube_events(conn, _prometheus_request(
                    chosen, start=start, end=end, range_=range_, step=step,
                    now=_time.time()), selector, _warn)
        else:
            if kube_events:
                raise typer.BadParameter("--kube-events needs --prometheus URL")
            if restarts_query is not None:
                raise typer.BadParameter("--restarts-query needs --prometheus URL (a file "
                                         "gives restarts in a 'restarts' or 'start_time' "
                                         "column)")
            source, limits, inputs = _open_source(paths, demo, limits)
        diagnosis = D.diagnosis(events, rules, event_tolerance, found_events)
        header = {"inputs": inputs, "limit": limit}
        if diagnosis is not None:
            header["diagnosis"] = {"events": [str(p) for p in events or ()], "rules": rules,
                                   "kube_events": bool(found_events)}
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
        stream = run(keeper.watch(source) if keeper else source, limits=limits,
                     config=config, executor=kind, workers=workers, scheduler=scheduler,
                     done=done, diagnosis=diagnosis,
                     on_result=keeper.on_result if keeper else None)
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
        if prometheus is not None and restarts_query is not None and \
                chosen.restart_queries and results and \
                not any(_restarts_given(r) for r in results):
            _warn("--restarts-query joined no series (restarts were found from the drops): "
                  "it must aggregate to the memory series' labels")
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

    if diagnosis is not None and diagnosis.rules is not None:  # fleet alerts need every result
        from .rules_apply import with_fleet_alerts

        results, _ = with_fleet_alerts(results, diagnosis.rules)
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
    if keeper is not None:  # --- HTML report (cli_report)
        try:
            R.check_selection(keeper.selection, results)
            R.write_report(report, results, keeper.finish(source, results),
                           source=R.describe(inputs), workers=workers)
        except InputError as exc:
            _fail(str(exc), EXIT_INPUT)
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
                                help="synthetic | injected (real backgrounds, plain and with an "
                                     "injected leak each) | exathlon | alibaba | nab | PATH (a "
                                     "directory written by datasets/synthetic.py)."),
    detectors: str = typer.Option(",".join(("detector", "prometheus", "coroot", "band",
                                            "mann_kendall", "precog")), "--detectors",
                                  help="Comma-separated detectors to score."),
    n_series: int = typer.Option(340, "--n-series", min=1, help="Synthetic series."),
    seed: int = typer.Option(0, "--seed", help="Seed of the synthetic or injected dataset."),
    split: Optional[str] = typer.Option(None, "--split",
                                        help="injected: only the dev or the holdout half of "
                                             "the backgrounds (default both, reported apart)."),
    known_restarts: bool = typer.Option(False, "--known-restarts",
                                        help="injected: give our detector the restart times "
                                             "(a restart loop's kills; none elsewhere), as a "
                                             "caller reading a restart counter would; the "
                                             "baselines have no such input."),
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
        if split is not None and dataset != "injected":
            raise InputError("--split applies to --dataset injected only", source="--split")
        if known_restarts and dataset != "injected":
            raise InputError("--known-restarts applies to --dataset injected only",
                             source="--known-restarts")
        bar = _EvalProgress()
        if dataset == "injected":
            with bar:
                report, items, outcomes = runner.injected_report(
                    names, seed, data_dir, split=split, known_restarts=known_restarts,
                    progress=bar.injected())
        elif dataset == "synthetic":
            items = runner.synthetic_items(n_series, seed)
            label = f"synthetic (seed {seed})"
        elif dataset in ("exathlon", "alibaba", "nab"):
            source = "jindal_alibaba" if dataset == "alibaba" else dataset
            items = runner.real_items(source, data_dir)
            label = dataset
        else:
            path = Path(dataset)
            if not path.is_dir():
                raise InputError("expected synthetic, injected, exathlon, alibaba, nab or a "
                                 "directory written by datasets/synthetic.py", source=dataset)
            items = runner.directory_items(path)
            label = str(path)
        if dataset == "nab":
            names = []  # anomaly windows, not leaks: only the band rule is scored (below)
        if dataset != "injected":
            with bar:
                scores, outcomes = runner.run(items, names,
                                              progress=bar.series(len(items) * len(names)))
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


@app.command()
def watch(
    prometheus: P.PrometheusURL = None,
    query: P.Query = None,
    metric: P.Metric = None,
    selector: P.Selector = None,
    history: Annotated[str, typer.Option(
        "--range", metavar="DURATION",
        help="History fetched on the first poll and kept per series.")] = "7d",
    step: P.Step = None,
    restarts_query: P.RestartsQuery = None,
    interval: Annotated[str, typer.Option(
        "--interval", metavar="DURATION", help="Time between polls.")] = "60s",
    iterations: Annotated[int, typer.Option(
        "--iterations", min=0, help="Polls to run, then exit (0: until stopped).")] = 0,
    cadence: Annotated[str, typer.Option(
        "--cadence", metavar="DURATION",
        help="Data time between pipeline runs per series.")] = "1h",
    alertmanager: Annotated[Optional[str], typer.Option(
        "--alertmanager", metavar="URL",
        help="Send alerts to this Alertmanager (POST /api/v2/alerts).")] = None,
    alert_label: Annotated[Optional[List[str]], typer.Option(
        "--alert-label", metavar="NAME=VALUE",
        help="Label added to every alert, repeatable (e.g. severity=warning).")] = None,
    state: Annotated[Optional[Path], typer.Option(
        "--state", help="Keep the detectors' state in FILE (written atomically after every "
                        "poll, read at start): a restarted watcher neither re-reads the "
                        "history nor re-alerts.")] = None,
    bearer_token_file: P.BearerTokenFile = None,
    bearer_token_env: P.BearerTokenEnv = None,
    basic_auth_user: P.BasicAuthUser = None,
    basic_auth_password_file: P.BasicAuthPasswordFile = None,
    basic_auth_password_env: P.BasicAuthPasswordEnv = None,
    ca_file: P.CAFile = None,
    insecure: P.Insecure = False,
    header: P.Header = None,
    partial_response: P.PartialResponse = None,
    timeout: P.Timeout = 60.0,
    retries: P.Retries = 4,
    gzip: P.Gzip = False,
    rules: D.RulesFile = None,
):
    """Poll Prometheus, detect leaks online, print (and send) an alert when one starts or stops.

    Each event is one JSON line on standard output; a summary of each poll goes to standard
    error. SIGTERM or Ctrl-C ends the watch after saving --state.
    """
    local = dict(locals())
    import signal
    import time as _time

    from .outputs import write_atomic
    from .watch import Watched, Watcher, alertmanager_payload, post_alerts

    if prometheus is None:
        raise typer.BadParameter("--prometheus URL is required")
    if state is not None and not state.parent.exists():
        raise typer.BadParameter(f"directory {str(state.parent)!r} does not exist",
                                 param_hint="--state")
    extra = {}
    for item in alert_label or ():
        name, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", name.strip()):
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}",
                                     param_hint="--alert-label")
        extra[name.strip()] = value
    target = P.target(query, metric, selector, restarts_query=restarts_query)
    if target.components:
        _warn("watch follows the working set of --metric breakdown; the other components are "
              "judged by scan --metric breakdown")
    watched = Watched(target.query, target.limit_queries,
                      P.seconds(step, "--step") if step is not None else None,
                      P.seconds(history, "--range"), target.restart_queries)
    every = P.seconds(interval, "--interval")
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(True))
    watcher = None
    rule_watch = None
    try:
        if rules is not None:  # the rules of practice, alerting beside the leak verdict
            from .rules_file import load_rules
            from .watch_rules import RuleWatch

            rule_watch = RuleWatch(load_rules(rules))
            rules_state = state.with_name(state.name + ".rules") if state is not None else None
            if rules_state is not None and rules_state.exists():
                rule_watch.restore(rules_state.read_bytes())
        conn = P.connection(prometheus, **{k: local[k] for k in P.CONNECTION_OPTIONS})
        P.check_restarts_query(conn, target, restarts_query, _time.time())
        kwargs = dict(cadence=P.seconds(cadence, "--cadence"), warn=_warn)
        if state is not None and state.exists():
            watcher = Watcher.from_state(state.read_bytes(), conn, watched, **kwargs)
        else:
            watcher = Watcher(conn, watched, **kwargs)
        polls = 0
        while not stop:
            started = _time.monotonic()
            now = _time.time()
            try:
                events = watcher.poll(now)
            except SourceUnreachable as exc:
                if watcher.last_end is None:
                    raise  # never reached the server: exit 3
                _warn(f"poll failed, trying again in {every:g} s: {exc}")
                events = []
            for e in events:
                rep = watcher.detectors[e.series].report
                sys.stdout.write(json.dumps({
                    "event": e.kind, "series": e.series,
                    "labels": watcher.labels.get(e.series, {}), "time": e.timestamp,
                    "score": round(e.score, 4), "pattern": e.pattern,
                    "slope": rep.slope if rep.slope == rep.slope else None,
                    "time_to_limit": rep.time_to_limit}) + "\n")
            changed = rule_watch.evaluate(watcher, now) if rule_watch is not None else []
            for e in changed:
                sys.stdout.write(json.dumps(e) + "\n")
            sys.stdout.flush()
            if alertmanager is not None:
                try:
                    post_alerts(alertmanager, alertmanager_payload(
                        watcher, events, now=now, resend=every, extra_labels=extra)
                        + (rule_watch.payload(now=now, resend=every, extra_labels=extra)
                           if rule_watch is not None else []))
                except SourceUnreachable as exc:
                    _warn(str(exc))
            if state is not None:
                write_atomic(watcher.to_state(), state)
                if rule_watch is not None:
                    write_atomic(rule_watch.to_json(), rules_state)
            polls += 1
            typer.echo(f"detector: poll {polls}: {len(watcher.detectors)} series, "
                       f"{len(watcher.leaking())} leaking, {len(events)} events"
                       + (f", {len(rule_watch.firing)} rule alerts firing"
                          if rule_watch is not None else ""), err=True)
            if iterations and polls >= iterations:
                break
            while not stop and _time.monotonic() - started < every:
                _time.sleep(min(0.2, every))
    except KeyboardInterrupt:
        if state is not None and watcher is not None:
            write_atomic(watcher.to_state(), state)
    except InputError as exc:
        _fail(str(exc), EXIT_INPUT)
    except SourceUnreachable as exc:
        _fail(str(exc), EXIT_UNREACHABLE)
    raise typer.Exit(EXIT_OK)


app.command("report")(R.report)
app.command("plot")(R.plot)


# ---------------------------------------------------------------------------- warmup


@app.command()
def warmup(quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing on success.")):
    """Compile every numba kernel into the cache, so that later runs start without compiling.

    Run it once after installing (in a container image: at build time, with NUMBA_CACHE_DIR
    set as it will be at run time). See docs/kernels.md, "Compilation and the cache".
    """
    import os
    import time as _time

    from .fleet import warm_up
    from .kernels.warmup import cache_directory, warm_kernels

    started = _time.perf_counter()
    where = cache_directory()
    if where is None:
        _fail("numba found no writable cache directory, so compiled kernels cannot be kept: "
              "set NUMBA_CACHE_DIR to a writable directory", EXIT_INPUT)
    asked = os.environ.get("NUMBA_CACHE_DIR")
    if asked and not Path(where).resolve().is_relative_to(Path(asked).resolve()):
        _warn(f"NUMBA_CACHE_DIR={asked} is not writable; numba caches in {where} instead")
    for area, seconds in warm_kernels():
        if not quiet:
            typer.echo(f"detector: warmup: {area}: {seconds:.2f} s", err=True)
    warm_up()  # the analysis pipeline as scans run it (the same argument types)
    if not quiet:
        typer.echo(f"detector: warmup: kernels cached in {where} "
                   f"({_time.perf_counter() - started:.1f} s)", err=True)


# --- detector verify: did the fix work? (issue 12) -------------------------------------------
class VerifyFormat(str, Enum):
    table = "table"
    json = "json"


@app.command()
def verify(
    paths: Optional[List[Path]] = typer.Argument(
        None, help="CSV or Parquet files (any layout scan reads).", show_default=False),
    fixed_at: Annotated[Optional[str], typer.Option(
        "--fixed-at", metavar="T", help="When the fix was deployed: RFC 3339 or unix seconds.")
    ] = None,
    fixed_by: Annotated[Optional[str], typer.Option(
        "--fixed-by", metavar="TEXT",
        help="Take the fix time from the last event (of --events, or a deploy read from "
             "Prometheus) concerning the series whose text holds TEXT, e.g. "
             "'checkout:1.4.3'.")] = None,
    settle: Annotated[Optional[str], typer.Option(
        "--settle", metavar="DURATION",
        help="Time after the fix left out of the after slope (warm-up); default 20 % of the "
             "time since the fix, at most 30 min.")] = None,
    fmt: Annotated[VerifyFormat, typer.Option("--format", "-f", help="Output format.")
                   ] = VerifyFormat.table,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Write to FILE (atomically) instead of standard output.")
    ] = None,
    events: D.EventsFiles = None,
    prometheus: P.PrometheusURL = None,
    query: P.Query = None,
    metric: P.Metric = None,
    selector: P.Selector = None,
    start: P.Start = None,
    end: Annotated[Optional[str], typer.Option(
        "--end", metavar="T",
        help="Judge as of T (RFC 3339, unix seconds or now): the end of the Prometheus range, "
             "or the last sample of the files considered.")] = None,
    range_: Annotated[Optional[str], typer.Option(
        "--range", metavar="DURATION", rich_help_panel=P.PANEL,
        help="Range length ending at --end (default 7d).")] = None,
    step: P.Step = None,
    bearer_token_file: P.BearerTokenFile = None,
    bearer_token_env: P.BearerTokenEnv = None,
    basic_auth_user: P.BasicAuthUser = None,
    basic_auth_password_file: P.BasicAuthPasswordFile = None,
    basic_auth_password_env: P.BasicAuthPasswordEnv = None,
    ca_file: P.CAFile = None,
    insecure: P.Insecure = False,
    header: P.Header = None,
    partial_response: P.PartialResponse = None,
    timeout: P.Timeout = 60.0,
    retries: P.Retries = 4,
    gzip: P.Gzip = False,
):
    """Verify a fix: slope, floor and peak before and after it; fixed, not_fixed or too_early.

    Exit codes as scan's: 1 when a series still leaks after its fix (not_fixed), else 0
    (read the status for too_early); 2 usage or input error; 3 source unreachable.
    """
    local = dict(locals())
    import time as _time

    from .cli_diagnosis import fix_time, kube_events, wants_kube_events
    from .diagnosis.events import read_events
    from .diagnosis.verify import verify as verify_fix
    from .outputs import write_atomic
    from .outputs.verification import render_verifications

    if (fixed_at is None) == (fixed_by is None):
        raise typer.BadParameter("give --fixed-at T or --fixed-by TEXT (one of them)")
    if bool(paths) == (prometheus is not None):
        raise typer.BadParameter("give files to verify or --prometheus URL (one of them)")
    if output is not None and not output.parent.exists():
        raise typer.BadParameter(f"directory {str(output.parent)!r} does not exist",
                                 param_hint="--output")
    try:
        now = _time.time()
        found = [e for path in events or () for e in read_events(path)]
        if prometheus is not None:
            conn = P.connection(prometheus, **{k: local[k] for k in P.CONNECTION_OPTIONS})
            chosen = P.target(query, metric, selector)
            series, _, _ = _prometheus_series(prometheus, chosen, start=start, end=end,
                                              range_=range_, step=step, conn=conn)
            if fixed_by is not None and wants_kube_events(None, query, metric):
                found += kube_events(conn, _prometheus_request(
                    chosen, start=start, end=end, range_=range_, step=step, now=now),
                    selector, _warn)
            until = math.inf
        else:
            if any(v is not None for v in (query, metric, selector, start, range_, step)):
                raise typer.BadParameter("--query, --metric, --selector, --start, --range and "
                                         "--step need --prometheus URL")
            series, _, _ = _open_source(paths, False, None)
            until = P.when(end, "--end", now) if end is not None else math.inf
        settle_s = P.seconds(settle, "--settle") if settle is not None else None
        results = []
        for item in series:
            s = item.primary if hasattr(item, "components") else item
            last = min(until, float(s.timestamps[-1])) if len(s) else until
            at, event = fix_time(fixed_at, fixed_by, found, item.id, item.labels, last)
            results.append(verify_fix(s, at, settle=settle_s, fix_event=event,
                                      until=None if until == math.inf else until))
    except InputError as exc:
        _fail(str(exc), EXIT_INPUT)
    except SourceUnreachable as exc:
        _fail(str(exc), EXIT_UNREACHABLE)
    data = render_verifications(results, fmt.value)
    if output is not None:
        write_atomic(data, output)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    raise typer.Exit(EXIT_LEAK if any(r.leak for r in results) else EXIT_OK)


def main() -> None:
    """Entry point of the ``detector`` command."""
    app()


if __name__ == "__main__":
    main()
