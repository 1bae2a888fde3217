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


_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')


def parse_matchers(text: str) -> tuple[tuple[str, str, str], ...]:
    """Parse PromQL label matchers: ``namespace="shop",pod=~"checkout-.*"``.

    Braces around the list are allowed; operators ``=``, ``!=``, ``=~`` and
    ``!~`` (regular expressions match the whole value, as in PromQL).

    Parameters
    ----------
    text : str
        The matchers.

    Returns
    -------
    tuple of (name, op, value)
        Values unescaped (``\\"``, ``\\\\``, ``\\n``).

    Raises
    ------
    ValueError
        Naming the part that is not a matcher, or a bad regular expression.
    """
    body = str(text).strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    out = []
    pos = 0
    while pos < len(body) and body[pos:].strip():
        m = _MATCHER.match(body, pos)
        if m is None:
            raise ValueError(f"{body[pos:].strip()!r} is not a label matcher (expected "
                             'name="value", name!="value", name=~"regex" or name!~"regex")')
        name, op, raw = m.group(1), m.group(2), m.group(3)
        value = re.sub(r"\\(.)", lambda e: "\n" if e.group(1) == "n" else e.group(1), raw)
        if op in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"bad regular expression {value!r} for {name}: {exc}") from None
        out.append((name, op, value))
        pos = m.end()
        if m.group(4) == "" and body[pos:].strip():
            raise ValueError(f"expected ',' before {body[pos:].strip()!r}")
    return tuple(out)


def match_labels(matchers, labels) -> bool:
    """Whether ``labels`` (a mapping) satisfy every matcher (a missing label is ``""``)."""
    for name, op, value in matchers:
        have = str(labels.get(name, ""))
        if op == "=":
            ok = have == value
        elif op == "!=":
            ok = have != value
        elif op == "=~":
            ok = re.fullmatch(value, have) is not None
        else:
            ok = re.fullmatch(value, have) is None
        if not ok:
            return False
    return True
