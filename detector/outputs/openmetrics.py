"""Scan results as metrics for node_exporter's textfile collector.

The Prometheus text exposition format (what the textfile collector reads from
``*.prom`` files), one gauge family per quantity:

* ``detector_leak`` 1 when the series leaks, else 0;
* ``detector_leak_score`` the confidence in [0, 1];
* ``detector_growth_bytes_per_second`` the growth of the latest regime
  (value units per second: bytes/s for memory);
* ``detector_time_to_limit_seconds`` seconds until the limit at that growth;
* ``detector_scan_error`` 1 for a series that could not be analysed (then it
  has no other sample);
* ``detector_scan_timestamp_seconds`` when the file was written (no labels),
  so an alert can fire when the nightly scan stops running;
* with the rules of practice (``--rules``): ``detector_rule_alert`` 1 per
  series and firing rule (label ``rule``: ``static:memory``, ``band``,
  ``breadth:band``...; a rule that does not fire has no sample), and
  ``detector_fleet_alert_instances`` per workload and firing breadth alert
  (labels: the workload's, and ``rule``), the number of instances.

A sample whose value is None or NaN is left out. Labels are the series' own
(names sanitised to ``[a-zA-Z_][a-zA-Z0-9_]*``, ``__name__`` dropped); a named
series (a file's ``name{labels}``) also gets ``series="<name>"``, a series
without any label ``series="<id>"``, and a series whose labels another series
also has gets its id too (they would collide).
"""

from __future__ import annotations

import math
import time
from typing import Iterable

from ..results import ScanResult
from ..labels import escape_label_value, sanitize_label_name

#: (metric name, help text, how to get the value from a result).
GAUGES = (
    ("detector_leak", "1 when the series' latest regime is leaking memory, else 0.",
     lambda r: None if r.fields is None else (1.0 if r.leak else 0.0)),
    ("detector_leak_score", "Confidence that the series leaks, in [0, 1].",
     lambda r: r.get("score")),
    ("detector_growth_bytes_per_second",
     "Growth of the latest regime in value units per second (bytes/s for memory).",
     lambda r: r.get("slope")),
    ("detector_time_to_limit_seconds",
     "Seconds after the last sample until the memory limit is reached at the current growth.",
     lambda r: r.get("time_to_limit")),
    ("detector_scan_error", "1 when the series could not be analysed.",
     lambda r: 1.0 if r.fields is None else None),
)

def _label_set(result: ScanResult) -> dict[str, str]:
    """The series' own labels; a named series (a file's ``name{labels}``) also keeps its name.

    A Prometheus series (id ``{labels}``, or ``metric{labels}`` with a ``__name__`` label) is
    exported with its labels only; a series from a file carries its name as ``series`` so
    that ``checkout-api{namespace="shop"}`` does not become just ``{namespace="shop"}``.
    """
    out: dict[str, str] = {}
    for name, value in result.labels.items():
        if name == "__name__":
            continue
        out.setdefault(sanitize_label_name(name), str(value))
    name = result.series.split("{", 1)[0]
    if name and "__name__" not in result.labels and "series" not in out:
        out = {"series": name, **out}
    return out or {"series": result.series}


def _rule_alerts(results: list[ScanResult], texts: list[str]) -> list[str]:
    """The rules of practice (``--rules``): firing rules per series, fleet alerts per workload."""
    from .findings import firing, fleet_alerts, has_alerts

    if not has_alerts(results):
        return []
    name = "detector_rule_alert"
    lines = [f"# HELP {name} 1 while a rule of practice fires for the series (rule=static:memory, "
             "band, breadth:band...).", f"# TYPE {name} gauge"]
    for r, labels in zip(results, texts):
        for rule in firing(r):
            lines.append(f'{name}{labels[:-1]},rule="{escape_label_value(rule)}"}} 1')
    name = "detector_fleet_alert_instances"
    lines += [f"# HELP {name} Instances of a workload firing a rule at once (a breadth alert).",
              f"# TYPE {name} gauge"]
    for alert in fleet_alerts(results):
        if alert["firing"]:
            labels = {sanitize_label_name(k): v for k, v in alert["workload"].items()}
            labels["rule"] = alert["of"]
            text = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in labels.items())
            lines.append(f"{name}{{{text}}} {len(alert['instances'])}")
    return lines


def _format_value(value: float) -> str:
    """A sample value: integers as integers (``detector_leak{...} 1``), others exactly."""
    v = float(value)
    return str(int(v)) if v.is_integer() and abs(v) < 2 ** 53 else repr(v)


def render_openmetrics(results: Iterable[ScanResult], *, now: float | None = None) -> bytes:
    """Serialise results in the Prometheus text format for the textfile collector.

    Parameters
    ----------
    results : iterable of ScanResult
    now : float, optional
        Unix seconds for ``detector_scan_timestamp_seconds``; default the current time.

    Returns
    -------
    bytes
        UTF-8 text, ``\n`` line ends, each family with ``# HELP`` and ``# TYPE gauge``.
    """
    results = list(results)
    sets = [_label_set(r) for r in results]
    keys = [tuple(sorted(s.items())) for s in sets]
    seen: dict[tuple, int] = {}
    for k in keys:
        seen[k] = seen.get(k, 0) + 1
    for r, s, k in zip(results, sets, keys):
        if seen[k] > 1 and "series" not in s:
            s["series"] = r.series
        elif seen[k] > 1:
            s["detector_series"] = r.series
    texts = ["{" + ",".join(f'{n}="{escape_label_value(v)}"' for n, v in s.items()) + "}"
             for s in sets]
    lines: list[str] = []
    for name, help_text, get in GAUGES:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for r, labels in zip(results, texts):
            value = get(r)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            lines.append(f"{name}{labels} {_format_value(value)}")
    lines += _rule_alerts(results, texts)
    stamp = time.time() if now is None else now
    lines += ["# HELP detector_scan_timestamp_seconds Unix time the scan results were written.",
              "# TYPE detector_scan_timestamp_seconds gauge",
              f"detector_scan_timestamp_seconds {_format_value(stamp)}"]
    return ("\n".join(lines) + "\n").encode()

