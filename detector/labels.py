"""Prometheus label sets: valid label names and escaped label values.

The one place for the text-format rules that the Prometheus source (series
ids, shard matchers) and the OpenMetrics output both follow.
"""

from __future__ import annotations

import re

_BAD_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_]")


def sanitize_label_name(name: str) -> str:
    """A valid Prometheus label name: other characters become ``_``, no leading digit."""
    name = _BAD_NAME_CHARS.sub("_", str(name)) or "_"
    return "_" + name if name[0].isdigit() else name


def escape_label_value(value: str) -> str:
    r"""Escape ``\``, ``"`` and newline as PromQL and the text format require."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


_PAIR = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_.:-]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')


def labels_of_id(series_id: str) -> dict[str, str]:
    """The labels written in a series id ``name{k="v",...}`` (empty when it has none).

    The inverse of how sources name series, for results read back from a
    file, which keep the id but not the labels. An id whose braces do not
    hold well-formed ``k="v"`` pairs has no labels.
    """
    if not series_id.endswith("}") or "{" not in series_id:
        return {}
    body = series_id[series_id.index("{") + 1:-1]
    out: dict[str, str] = {}
    pos = 0
    while pos < len(body):
        m = _PAIR.match(body, pos)
        if m is None:
            return {}
        value = re.sub(r"\\(.)", lambda e: "\n" if e.group(1) == "n" else e.group(1), m.group(2))
        out[m.group(1)] = value
        pos = m.end()
    return out
