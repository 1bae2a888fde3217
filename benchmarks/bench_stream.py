"""Streaming: updates per second of one OnlineDetector, and memory against samples seen.

Usage::

    python benchmarks/bench_stream.py [--repeats 3]

Feeds a week of a daily load (sine, +-2e8 bytes at 5e8, noise 1e7) and of a leak, one
``update`` at a time at the default cadence (a pipeline run every 3 h of data), sampled
every 15 s (40,320 samples), 60 s and 300 s. A run re-analyses the whole buffer, so at
coarse sampling the runs come every few updates (720 at 15 s, 180 at 60 s, 36 at 300 s):
the table splits the time into the pipeline runs and the rest (the intake: buffer, band,
eviction) and gives the ceiling each part sets alone. The naive peer: the batch
``detector.analyze`` on the growing history after every sample (timed on the first 2,000
samples only; it is quadratic). Then feeds four weeks to a detector keeping one week and
records its peak traced memory after each week: it must not grow with the samples seen.
Writes ``benchmarks/RESULTS.md`` (section ``stream``). Target (issue 14): >= 50,000
updates/s at 60 s and at 300 s sampling too.
"""

from __future__ import annotations

import argparse
import os
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


class _TimedDetector(OnlineDetector):
    """An OnlineDetector that adds up the time its pipeline runs take."""

    run_seconds = 0.0
    runs = 0

    def _analyze(self):
        t0 = time.perf_counter()
        try:
            return super()._analyze()
        finally:
            self.run_seconds += time.perf_counter() - t0
            self.runs += 1


def week(kind: str, step: float, rng) -> tuple[list, list]:
    t = 1.7e9 + np.arange(0, 7 * 86400, step)
    x = t - t[0]
    if kind == "daily load":
        v = 5e8 + 2e8 * np.sin(2 * np.pi * x / 86400) + rng.normal(0, 1e7, t.size)
    else:
        v = 5e8 + x * 200 + rng.normal(0, 1e7, t.size)
    return t.tolist(), v.tolist()


def feed_rate(tl, vl, repeats):
    """Median updates/s, and the median share of the time spent in pipeline runs."""
    rates, shares, runs = [], [], 0
    for _ in range(repeats):
        det = _TimedDetector()
        t0 = time.perf_counter()
        for a, b in zip(tl, vl):
            det.update(a, b)
        total = time.perf_counter() - t0
        rates.append(len(tl) / total)
        shares.append(det.run_seconds / total)
        runs = det.runs
    return statistics.median(rates), statistics.median(shares), runs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    opts = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    warm = OnlineDetector()
    tl, vl = week("leak", 15.0, rng)
    warm.update_many(tl[:3000], vl[:3000])  # compile / load the kernels
    rows = []
    for step in (15.0, 60.0, 300.0):
        for kind in ("daily load", "leak"):
            tl, vl = week(kind, step, rng)
            rate, share, runs = feed_rate(tl, vl, opts.repeats)
            per_update = 1e6 / rate
            run_ms = share * per_update * len(tl) / runs / 1e3
            rows.append((step, kind, len(tl), rate, runs, run_ms, per_update * (1 - share)))
            print(f"{step:>5.0f} s {kind:<10} {len(tl):>6} samples: {rate:>9,.0f} updates/s; "
                  f"{runs} runs of {run_ms:.2f} ms; intake {per_update * (1 - share):.2f} us "
                  "an update", flush=True)
    tl, vl = week("leak", 15.0, np.random.default_rng(0))
    t, v = np.asarray(tl), np.asarray(vl)
    m = 2000
    t0 = time.perf_counter()
    for i in range(1, m + 1):
        detector.analyze(v[:i], t[:i])
    naive = m / (time.perf_counter() - t0)
    print(f"analyze after every sample (first {m}): {naive:,.0f} updates/s")

    det = OnlineDetector()
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
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = ["## Streaming (`benchmarks/bench_stream.py`)", "", machine_description(), "",
             f"Load average (1, 5, 15 min) at the end: {load} (2 cores: above ~1, other work "
             "competed with these runs).", "",
             "`OnlineDetector.update`, one series, a week, default cadence (a pipeline run "
             f"every 3 h of data); medians of {opts.repeats}. *Runs*: the pipeline on the "
             "whole buffer; *intake*: everything else per update (buffer, band, eviction).",
             "", "| sampling | series | samples | updates/s | runs | per run | intake per "
                 "update | ceiling, runs alone | ceiling, intake alone |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for step, kind, n, rate, runs, run_ms, intake_us in rows:
        per_run_update = run_ms * 1e3 * runs / n  # us of runs per update
        lines.append(f"| {step:.0f} s | {kind} | {n:,} | **{rate:,.0f}** | {runs} | "
                     f"{run_ms:.2f} ms | {intake_us:.2f} us | {1e6 / per_run_update:,.0f}/s | "
                     f"{1e6 / intake_us:,.0f}/s |")
    worst = {step: min(r[3] for r in rows if r[0] == step) for step in (60.0, 300.0)}
    lines += ["", f"- Peer: `detector.analyze` on the growing history after every sample (first "
                  f"{m} samples at 15 s): {naive:,.0f} updates/s.",
              "- Memory held after 1, 2, 3 and 4 weeks of samples at 15 s (history: 1 week): " +
              ", ".join(f"{p / 2**20:.1f} MiB" for p in peaks) + ".",
              "", "Target (issue 14): >= 50,000 updates/s at 60 s and at 300 s sampling: "
              + ", ".join(f"{s:.0f} s {'met' if w >= 50_000 else 'NOT met'} ({w:,.0f}/s)"
                          for s, w in worst.items()) + "."]
    if not opts.no_write:
        write_section("stream", "\n".join(lines))
        print("wrote benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
