"""Speed of ``detector.analyze`` on one series, after compilation.

Usage::

    python benchmarks/bench_analyze.py [--repeats 7]

Times ``analyze`` on a week at 15 s (40,320 samples) and on 1e6 samples at
1 s, for a leaking series, a healthy daily load and a GC sawtooth, and the
peer practitioners run today on the same arrays: a plain trend test
(``scipy.stats.kendalltau`` + statsmodels OLS on the raw samples), which
tells nothing of periods, restarts or floors. Medians of several runs go to
``benchmarks/RESULTS.md`` (section ``analyze``). Targets (issue 4): 40,320
samples <= 20 ms, 1e6 samples <= 1 s.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._results import machine_description, median_time, write_section  # noqa: E402
import detector  # noqa: E402


def series(kind, n, step, rng):
    t = 1.7e9 + np.arange(n) * step
    x = t - t[0]
    noise = rng.normal(0, 1e7, n)
    if kind == "leak":
        return t, 5e8 + x * 500 + noise
    if kind == "daily load":
        return t, 5e8 + 2e8 * np.sin(2 * np.pi * x / 86400) + noise
    return t, 1e9 + 6e8 * ((x % 600) / 600) + noise  # GC sawtooth


def peer(t, v):
    import statsmodels.api as sm
    from scipy import stats

    stats.kendalltau(t, v)
    sm.OLS(v, sm.add_constant(t - t[0])).fit()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--no-write", action="store_true")
    opts = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    lines = ["## analyze (`benchmarks/bench_analyze.py`)", "", machine_description(), "",
             "| series | samples | analyze (median) | verdict | kendalltau + OLS (median) |",
             "|---|---:|---:|---|---:|"]
    worst = {}
    for n, step in ((40_320, 15.0), (1_000_000, 1.0)):
        for kind in ("leak", "daily load", "GC sawtooth"):
            t, v = series(kind, n, step, rng)
            rep = detector.analyze(v, t)  # compile / load from cache
            ours = median_time(lambda: detector.analyze(v, t), opts.repeats)
            other = median_time(lambda: peer(t, v), max(3, opts.repeats // 2))
            worst[n] = max(worst.get(n, 0.0), ours)
            print(f"{kind:<12} n={n:>9,}  analyze {ours * 1e3:8.1f} ms  ({rep.verdict}, "
                  f"{rep.pattern})   kendalltau+OLS {other * 1e3:8.1f} ms", flush=True)
            lines.append(f"| {kind} | {n:,} | {ours * 1e3:.1f} ms | {rep.verdict} "
                         f"({rep.pattern}) | {other * 1e3:.1f} ms |")
    lines += ["", "Targets (issue 4):",
              f"- [{'x' if worst[40_320] <= 0.020 else ' '}] a week at 15 s (40,320 samples) "
              f"<= 20 ms: slowest {worst[40_320] * 1e3:.1f} ms",
              f"- [{'x' if worst[1_000_000] <= 1.0 else ' '}] 1e6 samples <= 1 s: slowest "
              f"{worst[1_000_000] * 1e3:.0f} ms"]
    if not opts.no_write:
        write_section("analyze", "\n".join(lines))
        print("wrote benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
