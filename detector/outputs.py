"""Writing scan results: table, JSON, CSV and Parquet."""

from __future__ import annotations

import datetime as _dt
import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Sequence

from .fleet import ScanResult
from .report import FIELDS

FORMATS = ("table", "json", "csv", "parquet")


def rows(results: Sequence[ScanResult]) -> list[dict]:
    """One JSON-serialisable dict per result: ``series`` plus every Report field."""
    return [r.to_dict() for r in results]


def render(results: Sequence[ScanResult], fmt: str) -> bytes:
    """Serialise ``results`` in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return (json.dumps(rows(results), indent=2, allow_nan=False) + "\n").encode()
    if fmt == "table":
        return render_table(results).encode()
    frame = _frame(results)
    if fmt == "csv":
        buf = io.StringIO()
        frame.to_csv(buf, index=False)
        return buf.getvalue().encode()
    if fmt == "parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        return buf.getvalue()
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def write_atomic(data: bytes, path: str | Path) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _frame(results: Sequence[ScanResult]):
    import pandas as pd

    out = []
    for row in rows(results):
        row["changepoints"] = json.dumps(row["changepoints"])
        row["evidence"] = json.dumps(row["evidence"], allow_nan=False)
        row.setdefault("error", None)
        out.append(row)
    columns = ["series", *FIELDS, "error"]
    return pd.DataFrame(out, columns=columns)


def human_bytes_rate(slope: float | None) -> str:
    """A growth rate in bytes per second shown per hour with a binary unit."""
    if slope is None or not math.isfinite(slope):
        return "-"
    per_hour = slope * 3600.0
    sign = "-" if per_hour < 0 else "+"
    value = abs(per_hour)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{sign}{value:.3g} {unit}/h"
        value /= 1024
    raise AssertionError("unreachable")


def human_duration(seconds: float | None) -> str:
    """Seconds as a short duration (``"3.2 h"``, ``"4.0 d"``)."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    for limit, unit, div in ((120, "s", 1), (7200, "min", 60), (172800, "h", 3600)):
        if seconds < limit:
            return f"{seconds / div:.1f} {unit}"
    return f"{seconds / 86400:.1f} d"


def human_time(ts: float | None) -> str:
    """Unix seconds as an ISO-8601 UTC minute."""
    if ts is None or not math.isfinite(ts):
        return "-"
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def render_table(results: Sequence[ScanResult]) -> str:
    """A plain aligned text table, one line per series (growth shown per hour)."""
    head = ("series", "verdict", "pattern", "score", "growth", "onset", "period",
            "time to limit")
    body = []
    for r in results:
        if r.report is None:
            body.append((r.series, "error", r.error or "", "", "", "", "", ""))
            continue
        rep = r.report
        body.append((r.series, rep.verdict, rep.pattern, f"{rep.score:.2f}",
                     human_bytes_rate(rep.slope), human_time(rep.onset),
                     human_duration(rep.period), human_duration(rep.time_to_limit)))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
             for row in (head, *body)]
    n_leak = sum(r.leak for r in results)
    n_err = sum(r.report is None for r in results)
    summary = f"{len(results)} series: {n_leak} leaking"
    if n_err:
        summary += f", {n_err} failed"
    return "\n".join(lines) + "\n\n" + summary + "\n"
