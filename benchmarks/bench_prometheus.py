"""Fetch rate from a real Prometheus: detector's source against prometheus-api-client.

Usage::

    python benchmarks/bench_prometheus.py [--series 96] [--repeats 5]

Backfills ``--series`` containers of 3 days at 15 s (17,281 points each)
into a real Prometheus (Debian package ``prometheus``, started on
127.0.0.1 as the tests do), then fetches all of them with one query at
step 15 s, in two chunks under the 11,000-point limit:

* ours: ``PrometheusClient.fetch`` (httpx; chunks joined into float64
  arrays per series);
* peer: ``prometheus_api_client.PrometheusConnect.custom_query_range`` on the
  same two chunk windows (requests), then the points turned into float64
  arrays per series the obvious way, so that both end with the same arrays.
  The peer does not chunk by itself: one call over the whole range is
  refused by Prometheus (400, 11,000 points).

Both are timed interleaved in one process (median of ``--repeats``) and
give samples per second. Writes ``benchmarks/RESULTS.md`` (section
``prometheus``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from benchmarks._results import machine_description, write_section  # noqa: E402
from detector.sources.prometheus import Connection, PrometheusClient, chunk_spans  # noqa
from prometheus_server import Family, PrometheusServer, available  # noqa: E402

START = 1_717_200_000
DAYS3 = 3 * 86400
STEP = 15
QUERY = "container_memory_working_set_bytes"


def fleet(n_series: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    t = START + STEP * np.arange(DAYS3 // STEP + 1, dtype=np.int64)
    out = []
    for i in range(n_series):
        level = rng.uniform(1e8, 4e9)
        v = np.round(level + rng.normal(0, level * 0.01, t.size)
                     + (i % 6 == 0) * np.linspace(0, level, t.size))
        out.append(({"namespace": f"ns-{i % 7}", "pod": f"pod-{i:04d}",
                     "container": f"app-{i:04d}"}, t, v))
    return out


def fetch_ours(url: str, gzip: bool = False) -> dict:
    with PrometheusClient(Connection(url, gzip=gzip)) as client:
        return client.fetch(QUERY, START, START + DAYS3, STEP)


def fetch_ours_gzip(url: str) -> dict:
    return fetch_ours(url, gzip=True)


def fetch_peer(url: str) -> dict:
    from prometheus_api_client import PrometheusConnect

    prom = PrometheusConnect(url=url, disable_ssl=True)
    parts: dict = {}
    for a, b in chunk_spans(START, START + DAYS3, STEP):
        result = prom.custom_query_range(
            QUERY, start_time=dt.datetime.fromtimestamp(a, dt.timezone.utc),
            end_time=dt.datetime.fromtimestamp(b, dt.timezone.utc), step=str(STEP))
        for item in result:
            key = tuple(sorted(item["metric"].items()))
            parts.setdefault(key, []).append(item["values"])
    out = {}
    for key, pieces in parts.items():
        points = [p for piece in pieces for p in piece]
        out[key] = (np.array([p[0] for p in points], dtype=np.float64),
                    np.array([float(p[1]) for p in points], dtype=np.float64))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--series", type=int, default=96)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    opts = ap.parse_args(argv)
    if not available():
        sys.exit("needs the Debian package prometheus (prometheus and promtool on PATH)")
    try:
        import prometheus_api_client  # noqa: F401
    except ImportError:
        sys.exit("needs prometheus-api-client: pip install -e '.[bench]'")
    import prometheus_api_client

    data = fleet(opts.series)
    n_samples = sum(len(t) for _, t, _ in data)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        server = PrometheusServer([Family(QUERY, data)], Path(tmp)).start()
        backfill = time.perf_counter() - t0
        try:
            ours, peer = fetch_ours(server.url), fetch_peer(server.url)  # warm both
            assert len(ours) == len(peer) == opts.series
            for labels, ts, vals in ours.values():
                pts, pvals = peer[tuple(sorted(labels.items()))]
                np.testing.assert_array_equal(ts, pts)
                np.testing.assert_array_equal(vals, pvals)
            t_ours, t_gzip, t_peer = [], [], []
            for _ in range(opts.repeats):
                for fn, bucket in ((fetch_ours, t_ours), (fetch_ours_gzip, t_gzip),
                                   (fetch_peer, t_peer)):
                    t0 = time.perf_counter()
                    fn(server.url)
                    bucket.append(time.perf_counter() - t0)
        finally:
            server.stop()
    m_ours, m_peer = statistics.median(t_ours), statistics.median(t_peer)
    m_gzip = statistics.median(t_gzip)
    rate_ours, rate_peer = n_samples / m_ours, n_samples / m_peer
    print(f"{opts.series} series x {DAYS3 // STEP + 1} points = {n_samples:,} samples "
          f"(backfill {backfill:.1f} s)")
    print(f"ours: {m_ours:.2f} s = {rate_ours:,.0f} samples/s; prometheus-api-client "
          f"{prometheus_api_client.__version__}: {m_peer:.2f} s = {rate_peer:,.0f} "
          f"samples/s; ratio {m_peer / m_ours:.2f}x; ours asking gzip {m_gzip:.2f} s")
    if opts.no_write:
        return
    import httpx

    body = "\n".join([
        "## Prometheus fetch rate (`benchmarks/bench_prometheus.py`)",
        "",
        machine_description(),
        "",
        f"Real Prometheus ({_prometheus_version()}) on 127.0.0.1, backfilled with promtool: "
        f"{opts.series} series x {DAYS3 // STEP + 1:,} points at 15 s (3 days) = "
        f"{n_samples:,} samples, one query at step 15 s fetched in 2 chunks (11,000-point "
        f"limit). Median of {opts.repeats} runs, interleaved; both end with float64 arrays "
        "per series (checked equal).",
        "",
        "| client | median time | samples/s | ratio |",
        "|---|---|---|---|",
        f"| detector (httpx {httpx.__version__}) | {m_ours:.2f} s | {rate_ours:,.0f} | "
        f"{m_peer / m_ours:.2f}x |",
        f"| detector, asking for gzip (`Connection(gzip=True)`) | {m_gzip:.2f} s | "
        f"{n_samples / m_gzip:,.0f} | {m_peer / m_gzip:.2f}x |",
        f"| prometheus-api-client {prometheus_api_client.__version__} (requests, gzip) | "
        f"{m_peer:.2f} s | {rate_peer:,.0f} | 1.00x |",
        "",
        "Where the time goes: Prometheus gzip-compresses an answer only when asked, and "
        "that costs it about 0.9 s per 14 MB chunk here, far more than sending it "
        "uncompressed over loopback or a LAN; detector asks for identity encoding "
        "unless told otherwise (`gzip=True` for slow links). Then detector reads the "
        "points with `numpy.fromstring` in C instead of `json.loads` building two "
        "Python objects per point.",
    ])
    write_section("prometheus", body)


def _prometheus_version() -> str:
    import subprocess

    out = subprocess.run(["prometheus", "--version"], capture_output=True, text=True)
    return (out.stdout or out.stderr).splitlines()[0].replace("prometheus, ", "Prometheus ")


if __name__ == "__main__":
    main()
