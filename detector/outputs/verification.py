"""``detector verify`` results as a table or JSON."""

from __future__ import annotations

import json
import math
from typing import Sequence

from .formats import human_bytes_rate, human_time


def render_verifications(results: Sequence, fmt: str) -> bytes:
    """Serialise :class:`~detector.diagnosis.verify.Verification` s as ``table`` or ``json``.

    The table has one line per series (status, fix time, and the floor slope,
    floor and peak before and after, each with its 95 % interval), then the
    reason of each status.
    """
    if fmt == "json":
        return (json.dumps([r.to_dict() for r in results], indent=2, allow_nan=False)
                + "\n").encode()
    if fmt != "table":
        raise ValueError(f"verify writes table or json, got {fmt!r}")
    head = ("series", "status", "fixed at", "slope before", "slope after", "floor before",
            "floor after", "peak before", "peak after")
    body = []
    for r in results:
        b, a = r.before, r.after
        body.append((r.series, r.status, human_time(r.fixed_at),
                     _rate(b, "slope"), _rate(a, "slope"), _size(b, "floor"), _size(a, "floor"),
                     _size(b, "peak"), _size(a, "peak")))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
             for row in (head, *body)]
    lines.append("")
    lines += [f"{r.series}: {r.status}: {r.reason}" for r in results]
    counts = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    lines += ["", f"{len(results)} series: " + ", ".join(f"{n} {s}" for s, n in counts.items())]
    return ("\n".join(lines) + "\n").encode()


def _rate(side, name: str) -> str:
    if side is None:
        return "-"
    value, (lo, hi) = getattr(side, name), getattr(side, f"{name}_interval")
    return f"{human_bytes_rate(value)} [{_bare(human_bytes_rate(lo))}, " \
           f"{_bare(human_bytes_rate(hi))}]"


def _size(side, name: str) -> str:
    if side is None:
        return "-"
    value, (lo, hi) = getattr(side, name), getattr(side, f"{name}_interval")
    return f"{_mib(value)} [{_mib(lo)}, {_mib(hi)}]"


def _bare(rate: str) -> str:
    return rate.rsplit("/h", 1)[0]


def _mib(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x / 2 ** 20:.4g} MiB"


__all__ = ["render_verifications"]
