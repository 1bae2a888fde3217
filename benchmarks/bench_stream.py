"""Streaming: updates per second of one OnlineDetector, and memory against samples seen.

Usage::

    python benchmarks/bench_stream.py [--repeats 3]

Feeds a week at 15 s (40,320 samples) of a leaking series one ``update`` at
a time at the default cadence, and compares with the naive peer: calling the
batch ``detector.analyze`` on the growing history after every sample (timed
on the first 2,000 samples only; it is quadratic). Then feeds four weeks to a
detector keeping one week and records its peak traced memory after each week:
it must not grow with the samples seen. Writes ``benchmarks/RESULTS.md``
(section ``stream``). Target (issue 7): >= 50,000 updates/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._results import machine_description, write_section  # noqa: E402
import detector  # noqa: E402
from detector.stream import OnlineDetector  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    opts = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    t = 1.7e9 + np.arange(0, 7 * 86400, 15.0)
    v = 5e8 + (t - t[0]) * 200 + rng.normal(0, 1e7, t.size)
    tl, vl = t.tolist(), v.tolist()
    warm = OnlineDetector()
    warm.update_many(t[:3000], v[:3000])  # compile / load the kernels
    rates = []
    for _ in range(opts.repeats):
        det = OnlineDetector()
        t0 = time.perf_counter()
        for a, b in zip(tl, vl):
            det.update(a, b)
        rates.append(t.size / (time.perf_counter() - t0))
    ours = statistics.median(rates)
    m = 2000
    t0 = time.perf_counter()
    for i in range(1, m + 1):
        detector.analyze(v[:i], t[:i])
    naive = m / (time.perf_counter() - t0)
    print(f"OnlineDetector.update: {ours:,.0f} updates/s (median of {opts.repeats}); "
          f"analyze after every sample (first {m}): {naive:,.0f} updates/s")

    det = OnlineDetector()
    week = t.size
    peaks = []
    tracemalloc.start()
    for k in range(4):
        tt = t + k * 7 * 86400
        vv = v + k * 7 * 86400 * 200
        for a, b in zip(tt.tolist(), vv.tolist()):
            det.update(a, b)
        peaks.append(tracemalloc.get_traced_memory()[0])
    tracemalloc.stop()
    print("traced memory after each week (bytes):", peaks)
    lines = ["## Streaming (`benchmarks/bench_stream.py`)", "", machine_description(), "",
             f"- `OnlineDetector.update`, one series, a week at 15 s ({week:,} samples), default "
             f"cadence (a pipeline run every 3 h of data): **{ours:,.0f} updates/s** (median of "
             f"{opts.repeats}).",
             f"- Peer: `detector.analyze` on the growing history after every sample (first {m} "
             f"samples only): {naive:,.0f} updates/s; ratio {ours / naive:,.0f}x.",
             "- Memory held after 1, 2, 3 and 4 weeks of samples (history: 1 week): " +
             ", ".join(f"{p / 2**20:.1f} MiB" for p in peaks) + ".",
             "", f"Target (issue 7): >= 50,000 updates/s: "
             f"{'met' if ours >= 50_000 else 'NOT met'}."]
    if not opts.no_write:
        write_section("stream", "\n".join(lines))
        print("wrote benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
