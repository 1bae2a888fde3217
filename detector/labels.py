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
