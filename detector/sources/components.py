"""A memory breakdown: the components of one container's memory, read together.

cAdvisor reports a container's memory as a family of gauges that overlap:

==============  =====================================  ==========================================
component       cAdvisor metric                        what it is
==============  =====================================  ==========================================
working_set     container_memory_working_set_bytes     usage minus inactive page cache: what the
                                                       OOM killer compares with the limit
usage           container_memory_usage_bytes           everything charged to the cgroup
rss             container_memory_rss                   anonymous memory (heap, stacks): only
                                                       freed by the process itself
cache           container_memory_cache                 page cache: file data the kernel reclaims
                                                       under pressure
swap            container_memory_swap                  anonymous memory pushed out to swap
mapped_file     container_memory_mapped_file           memory-mapped files (part of the cache)
==============  =====================================  ==========================================

:class:`ComponentSeries` holds one :class:`~detector.series.Series` per
component under these canonical names. :func:`component_name` maps the
cAdvisor names and a few aliases to them.

Files: a table without a ``value`` column and with at least two columns named
after components (canonical or cAdvisor names, case-insensitive) is a
breakdown table: ``series,timestamp,working_set,rss,cache[,labels...]`` (long:
one container per ``series`` and label combination) or
``timestamp,working_set,rss,cache`` (one container, named after the file).
Other numeric columns are kept as components of their own name; text columns
are labels. Sources know nothing of statistics: what the components mean for
a leak is :mod:`detector.diagnosis.breakdown`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterator, Mapping

import numpy as np
import pyarrow as pa

from ..errors import InputError
from ..series import Series, _build

#: Canonical component -> (cAdvisor metric, role). Roles: ``total`` (all of the
#: container's memory, or what the limit is checked against), ``anonymous``,
#: ``file`` (page cache, reclaimable), ``swap``.
COMPONENTS: dict[str, tuple[str, str]] = {
    "working_set": ("container_memory_working_set_bytes", "total"),
    "usage": ("container_memory_usage_bytes", "total"),
    "rss": ("container_memory_rss", "anonymous"),
    "cache": ("container_memory_cache", "file"),
    "swap": ("container_memory_swap", "swap"),
    "mapped_file": ("container_memory_mapped_file", "file"),
}

#: Other spellings accepted for the canonical names (lower case).
ALIASES = {
    "working_set_bytes": "working_set", "workingset": "working_set",
    "usage_bytes": "usage", "anon": "rss", "anonymous": "rss", "page_cache": "cache",
    "mapped": "mapped_file",
    **{metric: name for name, (metric, _) in COMPONENTS.items()},
}

#: Which component is judged for the verdict, in order of preference.
PRIMARY_ORDER = ("working_set", "usage", "rss")


def component_name(name: str) -> str | None:
    """The canonical component a column or metric name stands for, or None.

    Parameters
    ----------
    name : str
        E.g. ``"RSS"``, ``"container_memory_cache"``, ``"working_set"``.
    """
    key = str(name).strip().lower()
    if key in COMPONENTS:
        return key
    return ALIASES.get(key)


def role(component: str) -> str:
    """The role of a canonical component (``"other"`` for names not in :data:`COMPONENTS`)."""
    return COMPONENTS.get(component, ("", "other"))[1]


@dataclass(frozen=True, eq=False)
class ComponentSeries:
    """One container's memory, component by component.

    Attributes
    ----------
    id : str
        The container's id (as a series id: ``name{label="v",...}`` or a label set).
    components : Mapping[str, Series]
        Canonical component name -> its series (bytes). At least one.
    labels : Mapping[str, str]
        The container's labels.
    """

    id: str
    components: Mapping[str, Series]
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self):
        if not self.components:
            raise InputError("a memory breakdown needs at least one component", source=self.id)
        object.__setattr__(self, "components", MappingProxyType(dict(self.components)))
        object.__setattr__(self, "labels", MappingProxyType(
            {str(k): str(v) for k, v in self.labels.items()}))

    def __len__(self) -> int:
        return len(self.primary)

    def __reduce__(self):  # picklable for worker processes (a mappingproxy is not)
        return (ComponentSeries, (self.id, dict(self.components), dict(self.labels)))

    @property
    def primary_name(self) -> str:
        """The component the verdict is about: working set, else usage, else RSS, else the first."""
        for name in PRIMARY_ORDER:
            if name in self.components:
                return name
        return next(iter(self.components))

    @property
    def primary(self) -> Series:
        """The series of :attr:`primary_name`."""
        return self.components[self.primary_name]

    @property
    def meta(self):
        """The primary series' :class:`~detector.series.SeriesMeta`."""
        return self.primary.meta


def breakdown_columns(column_names: list[str]) -> dict[str, str] | None:
    """The component columns of a breakdown table (column -> component), else None.

    A table is a breakdown when it has no ``value`` column and at least two
    columns named after known components.
    """
    keys = [c.strip().lower() for c in column_names]
    if "value" in keys:
        return None
    found = {c: component_name(c) for c in column_names if component_name(c)}
    if len(found) < 2:
        return None
    seen: dict[str, str] = {}
    for column, name in found.items():
        if name in seen:
            raise InputError(f"columns {seen[name]!r} and {column!r} are both the component "
                             f"{name!r}")
        seen[name] = column
    return found


def table_to_breakdowns(table: pa.Table, components: dict[str, str], ts: np.ndarray, fail,
                        *, default_id: str, ts_col: str, source: str = "",
                        unit: str = "line") -> Iterator[ComponentSeries]:
    """Split a breakdown table into :class:`ComponentSeries` (see module docstring).

    Parameters
    ----------
    table : pyarrow.Table
    components : dict
        Column -> canonical component, from :func:`breakdown_columns`.
    ts : numpy.ndarray
        The timestamps (unix seconds), already read from ``ts_col``.
    fail : callable
        ``fail(message, row)`` raises the :class:`InputError` naming the
        file and the line (or row), as :func:`.table.table_to_series` does.
    default_id : str
        The container's id when the table has no ``series`` column.
    ts_col : str
        The timestamp column's name.

    Raises
    ------
    InputError
        Naming the file, the line (or row) and the column of the first bad
        value, or an empty label.
    """
    from .table import SERIES_NAMES, _find, _group_codes, _values, restart_column, restarts_of

    series_col = _find({c.strip().lower(): c for c in table.column_names}, SERIES_NAMES)
    mark_col, kind, marker = restart_column(table, fail, source=source, unit=unit)
    named = dict(components)
    label_cols = []
    for col in table.column_names:
        if col in (ts_col, series_col, mark_col) or col in named:
            continue
        typ = table.column(col).type
        if pa.types.is_integer(typ) or pa.types.is_floating(typ):
            named[col] = col.strip().lower()  # an unknown numeric column: a component too
        else:
            label_cols.append(col)
    values = {name: _values(table.column(col), col, fail) for col, name in named.items()}
    key_cols = ([series_col] if series_col else []) + label_cols
    def restarts(rows):
        return None if marker is None else restarts_of(ts[rows], marker[rows], kind)

    if not key_cols:
        yield _container(default_id, {}, ts, values, slice(None), restarts(slice(None)))
        return
    codes, keys = _group_codes(table, key_cols, fail)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_codes)) + 1))
    ends = np.concatenate((starts[1:], [order.size]))
    for a, b in zip(starts, ends):
        labels = dict(zip(key_cols, keys[sorted_codes[a]]))
        name = labels.pop(series_col) if series_col else default_id
        sid = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
                      if labels else "")
        yield _container(sid, labels, ts, values, order[a:b], restarts(order[a:b]))


def _container(sid: str, labels: dict, ts: np.ndarray, values: dict, rows,
               restarts: np.ndarray | None = None) -> ComponentSeries:
    parts = {name: _build(f"{sid}[{name}]", ts[rows].copy(), v[rows].copy(), labels, restarts)
             for name, v in values.items()}
    return ComponentSeries(sid, parts, labels)


__all__ = ["COMPONENTS", "ComponentSeries", "breakdown_columns", "component_name", "role",
           "table_to_breakdowns"]
