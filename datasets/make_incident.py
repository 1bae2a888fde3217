"""Regenerate the incident of ``docs/incident.md``: ``python datasets/make_incident.py``.

A small cluster over two days (2024-06-04 and 05, UTC) at 2-minute samples, drawn
with :mod:`detector.diagnosis.simulate` (seed 12), as a cAdvisor memory breakdown:

* ``shop/checkout-0..2``: version 1.4.2 is deployed at 09:30 on the 4th; three minutes
  later the heap (RSS) of every replica starts to grow; 1.4.3 fixes it at 10:00 on
  the 5th (the replicas restart and hold);
* ``shop/cart-0..1``: healthy;
* ``search/indexer-0``: its page cache grows (and lifts its working set) while its
  RSS holds;
* ``media/resizer-0``: killed at its limit every few hours (an older leak);
* ``batch/etl-0..2``: a nightly job takes memory from 02:00 to 03:00, inside the
  maintenance window of ``rules.toml``.

Files (in ``datasets/incident/`` unless ``--output DIR``):

``fleet.csv.gz``
    What the first scan saw: every container from the 4th 00:00 to 22:00, long
    format ``series,timestamp,working_set,rss,cache,swap,mapped_file,namespace,container``
    (unix seconds; bytes rounded to 4 KiB pages).
``checkout.csv.gz``
    The three checkout replicas' working set over both days (``series,timestamp,value,
    namespace,container``): the fix and after.
``events.csv``
    The deploys, the OOM kills of the resizer (as exported from kube-state-metrics)
    and two application log lines: ``time,kind,text,series,match``.
``rules.toml``
    The rules of practice, with the batch jobs' nightly maintenance window.

Every limit is 1 GiB. The same bytes on every run (with the same numpy and zlib).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
from pathlib import Path

import numpy as np

from detector.diagnosis.simulate import MIB, container

SEED = 12
START = 1_717_459_200.0  # 2024-06-04T00:00:00Z
H = 3600.0
INTERVAL = 120.0
LIMIT = 1024 * MIB
DEPLOY = START + 9.5 * H  # 09:30, checkout 1.4.2
FIX = START + 34 * H  # the 5th at 10:00, checkout 1.4.3
FIRST_SCAN_END = START + 22 * H
COMPONENTS = ("working_set", "rss", "cache", "swap", "mapped_file")

#: (namespace, pod, parameters of simulate.container).
FLEET = [
    ("shop", "checkout-0", dict(rss_growth=38 * MIB / H, onset=DEPLOY + 180, fixed_at=FIX)),
    ("shop", "checkout-1", dict(rss_growth=41 * MIB / H, onset=DEPLOY + 180, fixed_at=FIX)),
    ("shop", "checkout-2", dict(rss_growth=36 * MIB / H, onset=DEPLOY + 180, fixed_at=FIX)),
    ("shop", "cart-0", {}),
    ("shop", "cart-1", {}),
    ("search", "indexer-0", dict(cache_growth=20 * MIB / H, active_share=0.6)),
    ("media", "resizer-0", dict(base=300 * MIB, rss_growth=110 * MIB / H)),
    ("batch", "etl-0", dict(job=(2 * H, 3 * H, 500 * MIB))),
    ("batch", "etl-1", dict(job=(2 * H, 3 * H, 520 * MIB))),
    ("batch", "etl-2", dict(job=(2 * H, 3 * H, 480 * MIB))),
]

#: (time, kind, text, series, match) of the events file, before the OOM kills.
EVENTS = [
    ("2024-06-04T09:30:00Z", "deploy", "deploy shop/checkout:1.4.2", "",
     'namespace="shop",container="checkout"'),
    ("2024-06-04T09:31:10Z", "log", "checkout: session cache enabled", "",
     'container="checkout"'),
    ("2024-06-04T14:00:00Z", "deploy", "deploy shop/cart:2.8.0", "",
     'namespace="shop",container="cart"'),
    ("2024-06-05T10:00:00Z", "deploy", "deploy shop/checkout:1.4.3 (evicts expired sessions)",
     "", 'namespace="shop",container="checkout"'),
]

RULES = """# The rules of practice for the incident of docs/incident.md.
# Everything not set here keeps its default: 80 % of the limit, RSS 70 %, swap 30 %.

[band]          # mean + 2 sigma of the preceding hour
window = "1h"
k = 2

[persistence]   # a condition must hold 5 minutes before it alerts
for = "5m"

[breadth]       # three replicas of one workload at once: a fleet alert
min_instances = 3
by = ["namespace", "container"]

[[maintenance]] # the nightly batch jobs
weekly = "* 01:30-03:30"
match = 'namespace="batch"'
"""


def _containers():
    out = []
    for i, (namespace, pod, params) in enumerate(FLEET):
        name = pod.rsplit("-", 1)[0]
        out.append(container({"namespace": namespace, "pod": pod, "container": name},
                             seed=SEED * 100 + i, start=START, duration=48 * H,
                             interval=INTERVAL, limit=LIMIT, **params))
    return out


def _pages(x: np.ndarray) -> np.ndarray:
    return (np.round(np.maximum(x, 0) / 4096) * 4096).astype(np.int64)


def _gzip(text: str) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
        gz.write(text.encode())
    return buf.getvalue()


def build() -> dict[str, bytes]:
    """File name -> bytes of every file of the incident."""
    fleet = io.StringIO()
    fleet.write("series,timestamp," + ",".join(COMPONENTS) + ",namespace,container\n")
    checkout = io.StringIO()
    checkout.write("series,timestamp,value,namespace,container\n")
    for c in _containers():
        pod, ns, name = c.labels["pod"], c.labels["namespace"], c.labels["container"]
        values = [_pages(c.components[k]) for k in COMPONENTS]
        t = c.t.astype(np.int64)
        first = c.t <= FIRST_SCAN_END
        for i in np.flatnonzero(first):
            fleet.write(f"{pod},{t[i]}," + ",".join(str(v[i]) for v in values)
                        + f",{ns},{name}\n")
        if name == "checkout":
            for ti, v in zip(t, values[0]):
                checkout.write(f"{pod},{ti},{v},{ns},{name}\n")
    resizer = next(c for c in _containers() if c.labels["pod"] == "resizer-0")
    kills = [(str(int(k)), "oom_kill", "OOM kill of media/resizer-0/resizer", "resizer-0", "")
             for k in resizer.kills]
    events = io.StringIO()
    writer = csv.writer(events, lineterminator="\n")
    writer.writerow(("time", "kind", "text", "series", "match"))
    writer.writerows(EVENTS + kills)
    return {"fleet.csv.gz": _gzip(fleet.getvalue()), "checkout.csv.gz": _gzip(checkout.getvalue()),
            "events.csv": events.getvalue().encode(), "rules.toml": RULES.encode()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output", type=Path, default=Path(__file__).with_name("incident"),
                    help="directory to write the files into")
    opts = ap.parse_args(argv)
    opts.output.mkdir(parents=True, exist_ok=True)
    for name, data in build().items():
        (opts.output / name).write_bytes(data)
        print(f"wrote {opts.output / name} ({len(data) / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
