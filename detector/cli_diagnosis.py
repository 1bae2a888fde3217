"""The diagnosis options of ``detector scan``, ``watch`` and ``verify``, and their plumbing.

Each option is declared once here (as :mod:`.cli_prometheus` does for the
Prometheus options); the functions turn parsed values into the library's
objects: a :class:`~detector.diagnosis.annotate.Diagnosis` (events and rules),
the Kubernetes events of a Prometheus range, the fix time of ``verify``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Callable, List, Optional

import typer

from .errors import InputError

PANEL = "Diagnosis"


def _opt(*names, **kw):
    return typer.Option(*names, rich_help_panel=PANEL, **kw)


EventsFiles = Annotated[Optional[List[Path]], _opt(
    "--events", metavar="FILE",
    help="Events (deploys, log lines...) to pair with onsets and change points: CSV or JSON "
         "lines of time, text and optionally kind, series or match (label matchers); "
         "repeatable.")]
KubeEvents = Annotated[Optional[bool], _opt(
    "--kube-events/--no-kube-events",
    help="With --prometheus: also read restarts, OOM kills and deploys from "
         "kube-state-metrics and cAdvisor (default: on for the container presets).")]
EventTolerance = Annotated[str, _opt(
    "--event-tolerance", metavar="DURATION",
    help="How long before an onset or change point an event may be to be paired with it.")]
RulesFile = Annotated[Optional[str], _opt(
    "--rules", metavar="FILE|default",
    help="Apply the rules of practice from a TOML file (or 'default': 80 % of the limit, "
         "RSS 70 %, swap 30 %, a 2-sigma band over 1 h, all held 5 min, fleet alerts at 3 "
         "instances); alerts are reported beside the verdict.")]

#: Presets whose series are Kubernetes containers (their events apply).
CONTAINER_PRESETS = ("working-set", "rss", "breakdown")


def diagnosis(events_files, rules: str | None, tolerance: str, kube_events=()):
    """The :class:`Diagnosis` of the options, or None when there is nothing to add.

    Raises
    ------
    InputError
        A bad events or rules file (naming the file, the line and the field).
    """
    from .cli_prometheus import seconds
    from .diagnosis.annotate import Diagnosis
    from .diagnosis.events import read_events
    from .rules_file import load_rules

    events = list(kube_events)
    for path in events_files or ():
        events += read_events(path)
    loaded = load_rules(rules) if rules is not None else None
    if not events and loaded is None:
        return None
    return Diagnosis(tuple(sorted(events, key=lambda e: e.time)), loaded,
                     seconds(tolerance, "--event-tolerance"))


def wants_kube_events(flag: bool | None, query: str | None, metric: str | None) -> bool:
    """``--kube-events``, or by default whether the series are containers (a container preset)."""
    if flag is not None:
        return flag
    return query is None and (metric or "working-set") in CONTAINER_PRESETS


def kube_events(conn, request, selector: str | None, warn: Callable[[str], None]) -> list:
    """Restart, OOM-kill and deploy events over ``request``'s range (see :mod:`.diagnosis.kube`).

    A query the server refuses is warned about and skipped: events are an addition.
    """
    from .diagnosis.kube import fetch_events
    from .sources.prometheus import PrometheusClient, resolve_step

    with PrometheusClient(conn, warn=warn) as client:
        step = resolve_step(client, request, warn)

        def fetch(query: str):
            try:
                return list(client.fetch(query, request.start, request.end, step).values())
            except InputError as exc:
                warn(f"events query failed, its events are left out: {exc}")
                return []

        return fetch_events(fetch, step, request.start, selector or "")


def fix_time(fixed_at: str | None, fixed_by: str | None, events: list, series_id: str,
             labels, end: float) -> tuple[float, dict | None]:
    """The time of the fix: ``--fixed-at T``, or the last event before ``end`` whose text
    holds ``--fixed-by TEXT`` and that concerns the series.

    Raises
    ------
    InputError
        No such event.
    """
    import time as _time

    from .cli_prometheus import when

    if fixed_at is not None:
        return when(fixed_at, "--fixed-at", _time.time()), None
    found = [e for e in events if fixed_by.lower() in e.text.lower() and e.time <= end
             and e.concerns(series_id, labels)]
    if not found:
        raise InputError(f"no event concerning this series holds {fixed_by!r} (give "
                         "--events FILE, or --prometheus for deploys)", source=series_id)
    return found[-1].time, found[-1].to_dict()


__all__ = ["CONTAINER_PRESETS", "EventTolerance", "EventsFiles", "KubeEvents", "RulesFile",
           "diagnosis", "fix_time", "kube_events", "wants_kube_events"]
