"""The Prometheus options shared by ``detector scan`` and ``detector watch``.

Each option is declared once here as an ``Annotated`` type, so that both
commands take the same flags with the same help; :func:`connection` and
:func:`target` turn the parsed values into the library's
:class:`~detector.sources.prometheus.Connection` and what to query.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from .errors import InputError

PANEL = "Prometheus source"


def _opt(*names, **kw):
    return typer.Option(*names, rich_help_panel=PANEL, **kw)


PrometheusURL = Annotated[Optional[str], _opt(
    "--prometheus", metavar="URL",
    help="Read from a Prometheus-compatible server (Prometheus, Thanos, Mimir, "
         "VictoriaMetrics), e.g. http://127.0.0.1:9090.")]
Query = Annotated[Optional[str], _opt("--query", metavar="PROMQL",
                                      help="PromQL for the memory series.")]
Metric = Annotated[Optional[str], _opt(
    "--metric", metavar="PRESET",
    help="A preset instead of --query: working-set (default), rss, breakdown (working set, "
         "RSS, cache, swap and mapped files together), jvm-heap, go-heap, goroutines, node; "
         "its limit series give time-to-limit.")]
RestartsQuery = Annotated[Optional[str], _opt(
    "--restarts-query", metavar="PROMQL",
    help="PromQL for when the processes restarted (a restart counter or a start time, "
         "joined to the memory series by equal labels, so aggregated to their labels and "
         "written with braces: a restart where a counter changes or a start time moves "
         "later): each "
         "series is then split into lifetimes there and only there. Default: a preset's "
         "(kube-state-metrics' restart counter for containers, process_start_time_seconds "
         "for JVM and Go, node_boot_time_seconds for nodes); none for --query. 'none': "
         "find restarts from the drops.")]
Selector = Annotated[Optional[str], _opt(
    "--selector", metavar="MATCHERS",
    help="Label matchers added to a preset's selectors, e.g. 'namespace=\"shop\"'.")]
Start = Annotated[Optional[str], _opt("--start", metavar="T",
                                      help="Range start: RFC 3339 or unix seconds.")]
Step = Annotated[Optional[str], _opt(
    "--step", metavar="DURATION",
    help="Seconds between points, e.g. 15s (default: the server's scrape interval).")]
BearerTokenFile = Annotated[Optional[Path], _opt(
    "--bearer-token-file", help="Send the token in FILE as 'Authorization: Bearer'.")]
BearerTokenEnv = Annotated[Optional[str], _opt(
    "--bearer-token-env", metavar="VAR",
    help="Send the token in environment variable VAR as 'Authorization: Bearer'.")]
BasicAuthUser = Annotated[Optional[str], _opt("--basic-auth-user", help="Basic auth user.")]
BasicAuthPasswordFile = Annotated[Optional[Path], _opt(
    "--basic-auth-password-file", help="Basic auth password, read from FILE.")]
BasicAuthPasswordEnv = Annotated[Optional[str], _opt(
    "--basic-auth-password-env", metavar="VAR",
    help="Basic auth password, read from environment variable VAR.")]
CAFile = Annotated[Optional[Path], _opt("--ca-file",
                                        help="PEM bundle to verify the server with.")]
Insecure = Annotated[bool, _opt("--insecure", help="Do not verify TLS certificates.")]
Header = Annotated[Optional[List[str]], _opt(
    "--header", metavar="'NAME: VALUE'",
    help="Extra request header, repeatable (e.g. 'X-Scope-OrgID: team-a' for Mimir).")]
PartialResponse = Annotated[Optional[bool], _opt(
    "--partial-response/--no-partial-response",
    help="Thanos: allow or refuse partial answers (sends partial_response).")]
Timeout = Annotated[float, _opt("--timeout", min=0.1, help="Seconds for one request.")]
Retries = Annotated[int, _opt("--retries", min=0,
                              help="Retries of a request after 5xx answers, timeouts and "
                                   "dropped connections (exponential backoff).")]
Gzip = Annotated[bool, _opt("--gzip", help="Ask for compressed answers (for links slower "
                                           "than about 100 Mbit/s; costs the server CPU).")]

#: The parameter names of the connection options, in the commands' signatures.
CONNECTION_OPTIONS = ("bearer_token_file", "bearer_token_env", "basic_auth_user",
                      "basic_auth_password_file", "basic_auth_password_env", "ca_file",
                      "insecure", "header", "partial_response", "timeout", "retries", "gzip")


def _secret(path: Optional[Path], env: Optional[str], what: str) -> Optional[str]:
    """A secret from a file or an environment variable (never from the command line)."""
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


def connection(url: str, *, bearer_token_file, bearer_token_env, basic_auth_user,
               basic_auth_password_file, basic_auth_password_env, ca_file, insecure, header,
               partial_response, timeout, retries, gzip):
    """The :class:`~detector.sources.prometheus.Connection` the options describe."""
    from .sources.prometheus import Connection

    headers = {}
    for item in header or ():
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise typer.BadParameter(f"expected 'NAME: VALUE', got {name.strip()!r}...",
                                     param_hint="--header")
        headers[name.strip()] = value.strip()
    token = _secret(bearer_token_file, bearer_token_env, "bearer token")
    password = _secret(basic_auth_password_file, basic_auth_password_env, "basic auth password")
    if password is not None and basic_auth_user is None:
        raise typer.BadParameter("a basic auth password needs --basic-auth-user")
    return Connection(
        url, bearer_token=token,
        basic_auth=(basic_auth_user, password or "") if basic_auth_user is not None else None,
        headers=headers, ca_file=str(ca_file) if ca_file else None, insecure=insecure,
        partial_response=partial_response, timeout=timeout, retries=retries, gzip=gzip)


@dataclass(frozen=True)
class Target:
    """What to query: the memory PromQL, its limit queries, and how to shard it."""

    query: str
    limit_queries: tuple[str, ...]
    shard_by: str | None
    shard_selector: str | None
    components: tuple[tuple[str, str], ...] = ()
    restart_queries: tuple[str, ...] = ()


def target(query: str | None, metric: str | None, selector: str | None,
           shard_by: str | None = None, restarts_query: str | None = None) -> Target:
    """Resolve ``--query`` / ``--metric`` / ``--selector`` / ``--shard-by`` /
    ``--restarts-query``."""
    from dataclasses import replace

    chosen = _target(query, metric, selector, shard_by)
    if restarts_query is None:
        return chosen
    if not restarts_query.strip():
        raise typer.BadParameter("the query is empty ('none' finds restarts from the "
                                 "drops)", param_hint="--restarts-query")
    given = () if restarts_query.strip().lower() == "none" else (restarts_query,)
    if selector and given:  # restricted as the preset's own selectors are
        from .sources.presets import _add_matchers

        given = tuple(_add_matchers(q, selector.strip().strip(",")) for q in given)
    return replace(chosen, restart_queries=given)


def check_restarts_query(conn, chosen: Target, restarts_query: str | None, at: float) -> None:
    """A ``--restarts-query`` the server refuses is an input error before anything is
    fetched (a preset's own restart query that fails is only warned about: the drops
    decide then). ``at``: unix seconds to evaluate it at."""
    if restarts_query is None or not chosen.restart_queries:
        return
    from .sources.prometheus import PrometheusClient

    with PrometheusClient(conn) as client:
        try:
            client.api("query", {"query": chosen.restart_queries[0], "time": f"{at:.3f}"})
        except InputError as exc:
            raise InputError(exc.message, source="--restarts-query") from None


def _target(query: str | None, metric: str | None, selector: str | None,
            shard_by: str | None) -> Target:
    from .sources.presets import DEFAULT_PRESET, preset

    if query is not None and metric is not None:
        raise typer.BadParameter("give --query or --metric, not both")
    if query is not None and selector is not None:
        raise typer.BadParameter("--selector applies to a --metric preset; write the matchers "
                                 "into --query instead")
    if query is not None:
        if shard_by is not None and shard_by.lower() != "none":
            raise typer.BadParameter("sharding applies to a --metric preset (a --query is "
                                     "fetched whole)", param_hint="--shard-by")
        return Target(query, (), None, None)
    try:
        chosen = preset(metric or DEFAULT_PRESET)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--metric") from None
    if selector:
        chosen = chosen.with_matchers(selector)
    label = chosen.shard_by if shard_by is None else (
        None if shard_by.lower() == "none" else shard_by)
    if label is not None and not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", label):
        raise typer.BadParameter(f"{label!r} is not a label name", param_hint="--shard-by")
    return Target(chosen.query, chosen.limit_queries, label, chosen.selector, chosen.components,
                  chosen.restart_queries)


def seconds(text: str, option: str) -> float:
    """A duration option in seconds, or a usage error naming the option."""
    from .timestamps import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def when(text: str, option: str, now: float) -> float:
    """A time option in unix seconds, or a usage error naming the option."""
    from .timestamps import parse_time

    try:
        return parse_time(text, now=now)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None
