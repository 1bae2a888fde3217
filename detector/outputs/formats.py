"""Scan results as a table, JSON, CSV and Parquet; atomic writes; reading results back."""

from __future__ import annotations

import datetime as _dt
import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Sequence

from ..results import ScanResult
from ..report import FIELDS

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
    """Write ``data`` to ``path`` through a temporary file and a rename.

    The file gets the permissions a plain ``open(path, "w")`` would give it
    (those of the file it replaces, else 0666 less the umask), not the 0600
    of a temporary file: a report is meant to be read by others.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        mode = 0o666 & ~mask
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_results(path: str | Path, fmt: str) -> list[ScanResult]:
    """Read back the results of a finished scan written as json, csv or parquet.

    Parameters
    ----------
    path : str or pathlib.Path
        An output file of ``detector scan --output``.
    fmt : str
        ``"json"``, ``"csv"`` or ``"parquet"`` (a table cannot be read back).

    Returns
    -------
    list of ScanResult
        In file order, without labels (outputs do not hold them).

    Raises
    ------
    InputError
        The file cannot be parsed as ``fmt``.
    """
    from ..errors import InputError

    path = Path(path)
    try:
        if fmt == "json":
            rows_ = json.loads(path.read_text())
        elif fmt in ("csv", "parquet"):
            import pandas as pd

            frame = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
            rows_ = [_unframe(row) for row in frame.to_dict("records")]
        else:
            raise InputError(f"cannot read results back from a {fmt} file", source=str(path))
        if not isinstance(rows_, list):
            raise InputError("not the results of detector scan: expected a list of objects",
                             source=str(path))
        out = []
        for number, row in enumerate(rows_, start=1):
            if not isinstance(row, dict) or "series" not in row or "verdict" not in row or \
                    (row["verdict"] != "error" and "leak" not in row):
                raise InputError(f"result {number} is not a result of detector scan (needs "
                                 "series, verdict and leak)", source=str(path))
            out.append(ScanResult.from_record(row))
        return out
    except (ValueError, KeyError, TypeError, OSError) as exc:
        if isinstance(exc, InputError):
            raise
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise InputError(f"cannot read results: {reason}", source=str(path)) from None


def _unframe(row: dict) -> dict:
    """Inverse of the flattening :func:`_frame` does (JSON columns, NaN as missing)."""
    out = {}
    for key, value in row.items():
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        if key in ("changepoints", "evidence", "alerts") and isinstance(value, str):
            value = json.loads(value)
        if hasattr(value, "item"):  # numpy scalar
            value = value.item()
        out[key] = value
    if isinstance(out.get("leak"), (int, float)) and out.get("leak") is not None:
        out["leak"] = bool(out["leak"])
    for key in ("onset", "period", "time_to_limit", "score", "slope"):
        if isinstance(out.get(key), int) and not isinstance(out.get(key), bool):
            out[key] = float(out[key])
    return out


def _frame(results: Sequence[ScanResult]):
    import pandas as pd

    out = []
    table = rows(results)
    alerts = any("alerts" in row for row in table)
    for row in table:
        row["changepoints"] = json.dumps(row["changepoints"])
        row["evidence"] = json.dumps(row["evidence"], allow_nan=False)
        if alerts:  # the rules of practice were applied (--rules)
            row["alerts"] = json.dumps(row.get("alerts") or [], allow_nan=False)
        row.setdefault("error", None)
        out.append(row)
    columns = ["series", *FIELDS, *(["alerts"] if alerts else []), "error"]
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
    from .findings import finding_lines, firing, has_alerts

    head = ("series", "verdict", "pattern", "score", "growth", "onset", "period",
            "time to limit")
    rules = has_alerts(results)
    if rules:  # the rules of practice, beside the verdict
        head += ("alerts",)
    body = []
    for r in results:
        if r.fields is None:
            body.append((r.series, "error", r.error or "", "", "", "", "", "")
                        + ("",) * rules)
            continue
        body.append((r.series, r.get("verdict"), r.get("pattern"), f"{r.get('score'):.2f}",
                     human_bytes_rate(r.get("slope")), human_time(r.get("onset")),
                     human_duration(r.get("period")), human_duration(r.get("time_to_limit")))
                    + ((",".join(firing(r)) or "-",) if rules else ()))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
             for row in (head, *body)]
    n_leak = sum(r.leak for r in results)
    n_err = sum(r.fields is None for r in results)
    summary = f"{len(results)} series: {n_leak} leaking"
    if n_err:
        summary += f", {n_err} failed"
    if rules:
        summary += f", {sum(bool(firing(r)) for r in results)} with a rule firing"
    found = finding_lines(results)
    return "\n".join(lines) + "\n\n" + "".join(f"{x}\n" for x in found) + \
        ("\n" if found else "") + summary + "\n"
