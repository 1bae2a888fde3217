"""The memory breakdown of containers from Prometheus: the cAdvisor family, fetched together.

``detector scan --prometheus URL --metric breakdown`` reads, for every
container, ``container_memory_working_set_bytes``, ``_rss``, ``_cache``,
``_swap`` and ``_mapped_file`` (the ``breakdown`` preset's queries, each
aggregated ``max by (namespace, pod, container)``) and joins them by their
labels into one :class:`~detector.sources.components.ComponentSeries` per
container. A fleet is fetched one shard (namespace) at a time, as
:func:`~detector.sources.prometheus.iter_prometheus` does; limits join the
primary component (the working set).

A container that lacks a component (a cluster without swap accounting) has
the others; one without the primary component is left out with a warning.
"""

from __future__ import annotations

from typing import Callable, Iterator

from ..errors import InputError
from ..series import Series
from .components import ComponentSeries, PRIMARY_ORDER
from .prometheus import (Connection, PrometheusClient, RangeQuery, Warn, _iso, fetch_limits,
                         fetch_restarts, resolve_step, shard_matchers)


def iter_breakdown(connection: Connection, request: RangeQuery,
                   components: tuple[tuple[str, str], ...], *,
                   limits: dict[str, float] | None = None, shard_by: str | None = None,
                   shard_selector: str | None = None, warn: Warn | None = None,
                   on_chunk: Callable[[int, int], None] | None = None
                   ) -> Iterator[ComponentSeries]:
    """Yield one :class:`ComponentSeries` per container, a shard at a time.

    Parameters
    ----------
    connection : Connection
    request : RangeQuery
        Its ``query`` is the primary component's (used for ``limits``), its
        range and step apply to every component.
    components : tuple of (str, str)
        ``(component, PromQL)``; the first that is in
        :data:`~detector.sources.components.PRIMARY_ORDER` is the primary.
    limits, shard_by, shard_selector, warn, on_chunk
        As :func:`detector.sources.prometheus.iter_prometheus`.

    Yields
    ------
    ComponentSeries
        Sorted by id within a shard; the id is the label set of the primary.

    Raises
    ------
    InputError, SourceUnreachable
        As the Prometheus source; "no series" when no container has the
        primary component.
    """
    from .presets import _add_matchers

    warn = warn or (lambda message: None)
    limits = limits if limits is not None else {}
    names = [c for c, _ in components]
    primary = next((c for c in PRIMARY_ORDER if c in names), names[0])
    seen = 0
    with PrometheusClient(connection, warn=warn) as client:
        step = resolve_step(client, request, warn)
        for matcher in shard_matchers(client, request, shard_by, shard_selector) or [None]:
            restrict = (lambda q: _add_matchers(q, matcher)) if matcher else (lambda q: q)
            fetched = {c: client.fetch(restrict(q), request.start, request.end, step,
                                       on_chunk=on_chunk) for c, q in components}
            base = fetched[primary]
            if not base:
                for c, got in fetched.items():
                    if got:
                        warn(f"{len(got)} series of component {c} have no {primary}: left out")
                continue
            shard = RangeQuery(restrict(request.query), request.start, request.end, step,
                               tuple(restrict(q) for q in request.limit_queries),
                               tuple(restrict(q) for q in request.restart_queries))
            limits.update(fetch_limits(client, shard, step, base, warn))
            restarts = fetch_restarts(client, shard, step, base, warn)
            for key in sorted(base):
                labels = base[key][0]
                parts = {}
                for c in names:
                    got = fetched[c].get(key)
                    if got is not None:
                        _, ts, vals = got
                        parts[c] = Series.from_arrays(vals, ts, id=f"{key}[{c}]",
                                                      labels=labels,
                                                      restarts=restarts.get(key))
                seen += 1
                yield ComponentSeries(key, parts, {k: v for k, v in labels.items()
                                                   if k != "__name__"})
    if not seen:
        raise InputError(f"query {request.query!r} returned no series between "
                         f"{_iso(request.start)} and {_iso(request.end)}",
                         source="--prometheus")


__all__ = ["iter_breakdown"]
