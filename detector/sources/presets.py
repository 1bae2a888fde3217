"""Metric presets: the PromQL for the memory series users usually mean, and their limits.

A preset names a memory metric as exported by the usual agents (cAdvisor in
the kubelet, kube-state-metrics, the JVM and Go client libraries,
node_exporter) and the query for the matching limit, aggregated to the same
label set so that each memory series finds its own limit by equal labels.

Every preset aggregates with ``max by (...)`` or ``sum by (...)`` over the
labels that identify a workload, so that duplicated scrapes (two kubelets
reporting one container, a pod's restart seen under a new ``id``) collapse
into one series per container.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """A memory metric and where to find its limit.

    Attributes
    ----------
    name : str
        The ``--metric`` value.
    query : str
        PromQL for the memory series (bytes, or a count for goroutines).
    limit_queries : tuple of str
        PromQL for the limit, tried in order until one returns data; a
        limit series joins the memory series with the same labels. Empty when
        the metric has no natural limit.
    description : str
        One line for ``--help`` and the docs.
    selector : str
        The metric selector behind ``query`` (listing label values for
        sharding a fleet).
    shard_by : str or None
        The label a fleet scan splits its queries by, so that one shard at a
        time is in memory; None to fetch everything at once.
    components : tuple of (str, str)
        For a memory breakdown: ``(component, PromQL)`` of every component
        (see :mod:`detector.sources.components`), fetched together and
        joined by equal labels; ``query`` is then the primary component's.
    restart_queries : tuple of str
        PromQL for when the process restarted, tried in order like the limits and
        joined by equal labels: a restart counter or a process start time, a
        restart where a counter changes or a start time moves later
        (:func:`detector.restart_marks.restarts_from_marks`). A memory series with such a
        series is judged with
        those restarts and no others (``analyze(restarts=...)``); without one, its
        restarts are found from its drops.
    """

    name: str
    query: str
    limit_queries: tuple[str, ...] = ()
    description: str = ""
    selector: str = ""
    shard_by: str | None = None
    components: tuple[tuple[str, str], ...] = ()
    restart_queries: tuple[str, ...] = ()

    def with_matchers(self, matchers: str) -> "Preset":
        """This preset restricted by extra label matchers.

        Parameters
        ----------
        matchers : str
            PromQL label matchers without braces, e.g. ``namespace="shop"``.
            They are added to every selector of the preset (memory and limit).

        Returns
        -------
        Preset
        """
        matchers = matchers.strip().strip(",")
        if not matchers:
            return self
        return Preset(self.name, _add_matchers(self.query, matchers),
                      tuple(_add_matchers(q, matchers) for q in self.limit_queries),
                      self.description, _add_matchers(self.selector, matchers), self.shard_by,
                      tuple((c, _add_matchers(q, matchers)) for c, q in self.components),
                      tuple(_add_matchers(q, matchers) for q in self.restart_queries))


#: Containers: the empty ``container`` label is the pod's cgroup (the sum of
#: its containers) and ``POD`` is the pause container; both are left out.
_CONTAINER = 'container!="",container!="POD"'
_BY_CONTAINER = "namespace, pod, container"
_CONTAINER_LIMITS = (
    # cAdvisor reports 0 for a container without a limit: "> 0" drops those.
    f"max by ({_BY_CONTAINER}) (container_spec_memory_limit_bytes{{{_CONTAINER}}}) > 0",
    f'max by ({_BY_CONTAINER}) (kube_pod_container_resource_limits{{resource="memory",'
    f'{_CONTAINER}}})',
)

#: When a container restarted: kube-state-metrics' restart counter.
_CONTAINER_RESTARTS = (
    f"max by ({_BY_CONTAINER}) (kube_pod_container_status_restarts_total{{{_CONTAINER}}})",
)
#: When an instrumented process (JVM, Go) restarted: its start time (client libraries).
_PROCESS_RESTARTS = (
    "max by (namespace, pod, container, job, instance) (process_start_time_seconds{})",
)

#: The cAdvisor memory family of a container (see :mod:`detector.sources.components`).
_BREAKDOWN = tuple(
    (name, f"max by ({_BY_CONTAINER}) ({metric}{{{_CONTAINER}}})")
    for name, metric in (("working_set", "container_memory_working_set_bytes"),
                         ("rss", "container_memory_rss"), ("cache", "container_memory_cache"),
                         ("swap", "container_memory_swap"),
                         ("mapped_file", "container_memory_mapped_file")))

PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("working-set",
           f"max by ({_BY_CONTAINER}) (container_memory_working_set_bytes{{{_CONTAINER}}})",
           _CONTAINER_LIMITS,
           "cAdvisor working set per container (what the OOM killer compares with the "
           "limit); the default",
           f"container_memory_working_set_bytes{{{_CONTAINER}}}", "namespace",
           restart_queries=_CONTAINER_RESTARTS),
    Preset("rss",
           f"max by ({_BY_CONTAINER}) (container_memory_rss{{{_CONTAINER}}})",
           _CONTAINER_LIMITS,
           "cAdvisor anonymous memory (RSS) per container, without page cache",
           f"container_memory_rss{{{_CONTAINER}}}", "namespace",
           restart_queries=_CONTAINER_RESTARTS),
    Preset("breakdown", _BREAKDOWN[0][1], _CONTAINER_LIMITS,
           "cAdvisor working set, RSS, page cache, swap and mapped files per container, "
           "fetched together: says which component grows",
           f"container_memory_working_set_bytes{{{_CONTAINER}}}", "namespace", _BREAKDOWN,
           _CONTAINER_RESTARTS),
    Preset("jvm-heap",
           'sum by (namespace, pod, container, job, instance) '
           '(jvm_memory_used_bytes{area="heap"})',
           ('sum by (namespace, pod, container, job, instance) '
            '(jvm_memory_max_bytes{area="heap"}) > 0',),
           "JVM heap used (Micrometer / OpenTelemetry JMX names), summed over the pools; "
           "limit: the heap maximum",
           'jvm_memory_used_bytes{area="heap"}', "namespace",
           restart_queries=_PROCESS_RESTARTS),
    Preset("go-heap",
           "max by (namespace, pod, container, job, instance) (go_memstats_heap_inuse_bytes{})",
           (),
           "Go heap in use (client_golang); no limit series",
           "go_memstats_heap_inuse_bytes{}", "namespace", restart_queries=_PROCESS_RESTARTS),
    Preset("goroutines",
           "max by (namespace, pod, container, job, instance) (go_goroutines{})",
           (),
           "Go goroutine count (a count, not bytes); no limit series",
           "go_goroutines{}", "namespace", restart_queries=_PROCESS_RESTARTS),
    Preset("node",
           "max by (instance) (node_memory_MemTotal_bytes{} - node_memory_MemAvailable_bytes{})",
           ("max by (instance) (node_memory_MemTotal_bytes{})",),
           "node_exporter memory in use per machine (total - available); limit: the total",
           "node_memory_MemTotal_bytes{}", None,
           restart_queries=("max by (instance) (node_boot_time_seconds{})",)),
)}

DEFAULT_PRESET = "working-set"


def preset(name: str) -> Preset:
    """The preset called ``name``.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown metric preset {name!r}; choose one of "
                         f"{', '.join(PRESETS)}") from None


def _add_matchers(query: str, matchers: str) -> str:
    """Insert ``matchers`` into every ``metric{...}`` selector of ``query``.

    Every preset writes its selectors with braces (``go_goroutines{}``), so
    one pattern finds them all.
    """
    import re

    def braces(m: re.Match) -> str:
        inside = m.group(2).strip()
        return f"{m.group(1)}{{{inside + ',' if inside else ''}{matchers}}}"

    return re.sub(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}", braces, query)
