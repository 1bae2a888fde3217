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


_PROM = "Prometheus source"


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


def _progress(total_hint: int | None):
    """A rich progress bar on stderr when it is a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
        TimeElapsedColumn

    return Progress(TextColumn("scanning"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=Console(stderr=True), transient=True)


def _warn(message: str) -> None:
    typer.echo(f"detector: warning: {message}", err=True)


def _preset_names() -> list[str]:
    from .sources.presets import PRESETS

    return list(PRESETS)


def _secret(path: Optional[Path], env: Optional[str], what: str) -> Optional[str]:
    """A secret from a file or an environment variable (never from the command line)."""
    import os

    if path is not None and env is not None:
        raise typer.BadParameter(f"give the {what} in a file or an environment variable, "
                                 "not both")
    if path is not None:
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise InputError(f"cannot read the {what}: {exc.strerror}", source=str(path)) \
                from None
    if env is not None:
        value = os.environ.get(env)
        if not value:
            raise InputError(f"environment variable {env} is not set or empty",
                             source=f"the {what}")
        return value.strip()
    return None


def _prometheus_series(url: str, *, query, metric, selector, start, end, range_, step,
                       bearer_token_file, bearer_token_env, basic_auth_user,
                       basic_auth_password_file, basic_auth_password_env, ca_file, insecure,
                       header, partial_response, timeout, retries, shard_by, gzip):
    """Turn the Prometheus options into a fetch; return (lazy series, limits).

    The limits dict is filled as shards arrive, before their series are
    yielded.
    """
    import time as _time

    from .sources.presets import DEFAULT_PRESET, preset
    from .sources.prometheus import Connection, RangeQuery, iter_prometheus
    from .timestamps import parse_duration, parse_time

    if query is not None and metric is not None:
        raise typer.BadParameter("give --query or --metric, not both")
    if query is not None and selector is not None:
        raise typer.BadParameter("--selector applies to a --metric preset; write the matchers "
                                 "into --query instead")
    try:
        chosen = preset(metric or DEFAULT_PRESET) if query is None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--metric") from None
    if chosen is not None and selector:
        chosen = chosen.with_matchers(selector)

    def when(text, option):
        try:
            return parse_time(text, now=now)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint=option) from None

    def seconds(text, option):
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint=option) from None

    now = _time.time()
    t_end = when(end, "--end") if end is not None else now
    if start is not None and range_ is not None:
        raise typer.BadParameter("give --start or --range, not both")
    t_start = when(start, "--start") if start is not None else \
        t_end - seconds(range_ or "7d", "--range")
    headers = {}
    for item in header:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise typer.BadParameter(f"expected 'NAME: VALUE', got {name.strip()!r}...",
                                     param_hint="--header")
        headers[name.strip()] = value.strip()
    token = _secret(bearer_token_file, bearer_token_env, "bearer token")
    password = _secret(basic_auth_password_file, basic_auth_password_env, "basic auth password")
    if password is not None and basic_auth_user is None:
        raise typer.BadParameter("a basic auth password needs --basic-auth-user")
    connection = Connection(
        url, bearer_token=token,
        basic_auth=(basic_auth_user, password or "") if basic_auth_user is not None else None,
        headers=headers, ca_file=str(ca_file) if ca_file else None, insecure=insecure,
        partial_response=partial_response, timeout=timeout, retries=retries, gzip=gzip)
    request = RangeQuery(query if query is not None else chosen.query, t_start, t_end,
                         seconds(step, "--step") if step is not None else None,
                         chosen.limit_queries if chosen is not None else ())
    if shard_by is not None and chosen is None and shard_by.lower() != "none":
        raise typer.BadParameter("sharding applies to a --metric preset (a --query is "
                                 "fetched whole)", param_hint="--shard-by")
    label = None
    if chosen is not None:
        label = chosen.shard_by if shard_by is None else (
            None if shard_by.lower() == "none" else shard_by)
    if label is not None and not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", label):
        raise typer.BadParameter(f"{label!r} is not a label name", param_hint="--shard-by")
    limits: dict = {}
    series = iter_prometheus(connection, request, limits=limits, shard_by=label,
                             shard_selector=chosen.selector if chosen is not None else None,
                             warn=_warn)
    return series, limits


def _fail(message: str, code: int):
    typer.echo(f"detector: error: {message}", err=True)
    raise typer.Exit(code)


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
                                               "instead of standard output."),
    limit: Optional[str] = typer.Option(None, "--limit",
                                        help="Memory limit for every series, e.g. 2GiB, "
                                             "for time-to-limit."),
    prometheus: Optional[str] = typer.Option(
        None, "--prometheus", metavar="URL", rich_help_panel=_PROM,
        help="Read from a Prometheus-compatible server (Prometheus, Thanos, Mimir, "
             "VictoriaMetrics), e.g. http://127.0.0.1:9090."),
    query: Optional[str] = typer.Option(None, "--query", metavar="PROMQL",
                                        rich_help_panel=_PROM,
                                        help="PromQL for the memory series."),
    metric: Optional[str] = typer.Option(
        None, "--metric", metavar="PRESET", rich_help_panel=_PROM,
        help="A preset instead of --query: " + ", ".join(_preset_names())
             + " (default working-set); its limit series give time-to-limit."),
    selector: Optional[str] = typer.Option(
        None, "--selector", metavar="MATCHERS", rich_help_panel=_PROM,
        help='Label matchers added to a preset\'s selectors, e.g. \'namespace="shop"\'.'),
    start: Optional[str] = typer.Option(None, "--start", metavar="T", rich_help_panel=_PROM,
                                        help="Range start: RFC 3339 or unix seconds."),
    end: Optional[str] = typer.Option(None, "--end", metavar="T", rich_help_panel=_PROM,
                                      help="Range end: RFC 3339, unix seconds or now "
                                           "(default now)."),
    range_: Optional[str] = typer.Option(None, "--range", metavar="DURATION",
                                         rich_help_panel=_PROM,
                                         help="Range length ending at --end, e.g. 7d "
                                              "(default 7d when --start is not given)."),
    step: Optional[str] = typer.Option(None, "--step", metavar="DURATION",
                                       rich_help_panel=_PROM,
                                       help="Seconds between points, e.g. 15s (default: the "
                                            "server's scrape interval)."),
    bearer_token_file: Optional[Path] = typer.Option(
        None, "--bearer-token-file", rich_help_panel=_PROM,
        help="Send the token in FILE as 'Authorization: Bearer'."),
    bearer_token_env: Optional[str] = typer.Option(
        None, "--bearer-token-env", metavar="VAR", rich_help_panel=_PROM,
        help="Send the token in environment variable VAR as 'Authorization: Bearer'."),
    basic_auth_user: Optional[str] = typer.Option(None, "--basic-auth-user",
                                                  rich_help_panel=_PROM,
                                                  help="Basic auth user."),
    basic_auth_password_file: Optional[Path] = typer.Option(
        None, "--basic-auth-password-file", rich_help_panel=_PROM,
        help="Basic auth password, read from FILE."),
    basic_auth_password_env: Optional[str] = typer.Option(
        None, "--basic-auth-password-env", metavar="VAR", rich_help_panel=_PROM,
        help="Basic auth password, read from environment variable VAR."),
    ca_file: Optional[Path] = typer.Option(None, "--ca-file", rich_help_panel=_PROM,
                                           help="PEM bundle to verify the server with."),
    insecure: bool = typer.Option(False, "--insecure", rich_help_panel=_PROM,
                                  help="Do not verify TLS certificates."),
    header: Optional[List[str]] = typer.Option(
        None, "--header", metavar="'NAME: VALUE'", rich_help_panel=_PROM,
        help="Extra request header, repeatable (e.g. 'X-Scope-OrgID: team-a' for Mimir)."),
    partial_response: Optional[bool] = typer.Option(
        None, "--partial-response/--no-partial-response", rich_help_panel=_PROM,
        help="Thanos: allow or refuse partial answers (sends partial_response)."),
    timeout: float = typer.Option(60.0, "--timeout", min=0.1, rich_help_panel=_PROM,
                                  help="Seconds for one request."),
    retries: int = typer.Option(4, "--retries", min=0, rich_help_panel=_PROM,
                                help="Retries of a request after 5xx answers, timeouts and "
                                     "dropped connections (exponential backoff)."),
    shard_by: Optional[str] = typer.Option(
        None, "--shard-by", metavar="LABEL", rich_help_panel=_PROM,
        help="Fetch a preset's fleet one value of LABEL at a time, so memory holds one "
             "shard (default: namespace for container presets; 'none' fetches all at "
             "once)."),
    gzip: bool = typer.Option(False, "--gzip", rich_help_panel=_PROM,
                              help="Ask for compressed answers (for links slower than about "
                                   "100 Mbit/s; costs the server CPU)."),
):
    """Scan series for memory leaks; one result per series."""
    from .config import Config
    from .fleet import scan as run_scan
    from .outputs import render, write_atomic
    from .sources import read_path

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
    if output is not None and not output.parent.exists():
        raise typer.BadParameter(f"directory {str(output.parent)!r} does not exist",
                                 param_hint="--output")
    limits: dict | float | None = parse_size(limit) if limit else None

    try:
        if prometheus is not None:
            series, found_limits = _prometheus_series(
                prometheus, query=query, metric=metric, selector=selector, start=start,
                end=end, range_=range_, step=step, bearer_token_file=bearer_token_file,
                bearer_token_env=bearer_token_env, basic_auth_user=basic_auth_user,
                basic_auth_password_file=basic_auth_password_file,
                basic_auth_password_env=basic_auth_password_env, ca_file=ca_file,
                insecure=insecure, header=header or [], partial_response=partial_response,
                timeout=timeout, retries=retries, shard_by=shard_by, gzip=gzip)
            limits = limits if limits is not None else found_limits
        else:
            if demo:
                demo_path, demo_limits = _demo_files()
                files = [demo_path]
                limits = limits if limits is not None else demo_limits
            else:
                files = list(paths)
                for p in files:  # fail before any work on a file that is not there
                    if not p.exists():
                        raise InputError("no such file", source=str(p))
            series = [s for p in files for s in read_path(p)]
        total = len(series) if isinstance(series, list) else None
        progress = _progress(total) if total is None or total > 20 else None
        results = []
        if progress is not None:
            with progress:
                task = progress.add_task("scan", total=total)
                for r in run_scan(series, limits=limits, config=Config()):
                    results.append(r)
                    progress.advance(task)
        else:
            results = list(run_scan(series, limits=limits, config=Config()))
    except InputError as exc:
        _fail(str(exc), EXIT_INPUT)
    except SourceUnreachable as exc:
        _fail(str(exc), EXIT_UNREACHABLE)

    data = render(results, fmt.value)
    if output is not None:
        write_atomic(data, output)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
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
