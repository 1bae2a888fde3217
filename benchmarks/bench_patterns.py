"""Speed of ``detector.analyze`` on every shape users have, not only the favourable ones.

Usage::

    python benchmarks/bench_patterns.py [--repeats 3] [--no-write]

``bench_analyze.py`` times three clean shapes. This times, at a week of 15 s samples
(40,320 per series):

* every pattern of the synthetic generator (seeds 0, 1, 2; the median over them), and
* the same synthetic patterns sampled every 5 minutes (2,016 samples; figures only), and
* the injected real set: real Alibaba and Exathlon backgrounds (5-min and 1-min
  samples), plain and with each injected leak shape (seed 0, the first two of each),
  interpolated onto 40,320 points over their own span,

with the peer practitioners run today on the same arrays beside each: a plain trend
test (``scipy.stats.kendalltau`` + statsmodels OLS). Issue 14's targets: >= 10 M
samples/s per core (<= 4 ms a series) for every shape, and no shape slower than 3x
the median of the shapes. Results go to ``benchmarks/RESULTS.md`` (section
``patterns``) unless ``--no-write``; the figures are medians of ``--repeats`` calls
per series after one call that loads the compiled kernels.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._results import machine_description, median_time, write_section  # noqa: E402
from benchmarks.bench_analyze import peer  # noqa: E402
import detector  # noqa: E402

N = 40_320
STEP = 15.0

#: The other sampling users have: a week at 5 minutes (figures only, no target).
N_5MIN, STEP_5MIN = 2_016, 300.0


def synthetic_cases(n: int = N, step: float = STEP):
    """(name, [(t, v, limit), ...]) per generator pattern, seeds 0-2."""
    from detector.evaluate.synthetic import PATTERNS, generate

    for p in PATTERNS:
        series = []
        for seed in range(3):
            g = generate(p, seed=seed, interval=step, duration=n * step)
            series.append((g.timestamps, g.values, g.limit))
        yield p, series


def injected_cases(per_shape: int = 2):
    """(name, [(t, v, None), ...]) per injected shape and the plain backgrounds, each
    series interpolated onto N points over its own span (nothing when the data is absent)."""
    from detector.evaluate import injected

    try:
        items = injected.injected_items(0, None, split="dev")
    except Exception as exc:  # the shared datasets are not here
        print(f"injected real set skipped: {exc}", file=sys.stderr)
        return
    groups: dict[str, list] = {}
    for it in items:
        name = "real: " + (it.meta["shape"] if it.leak else "plain")
        if len(groups.setdefault(name, [])) >= per_shape:
            continue
        ok = np.isfinite(it.values)
        t0, t1 = it.timestamps[ok][0], it.timestamps[ok][-1]
        t = np.linspace(t0, t1, N)
        groups[name].append((t, np.interp(t, it.timestamps[ok], it.values[ok]), None))
    yield from groups.items()


def time_case(series, repeats):
    """Median analyze and peer seconds over the series, and the verdicts."""
    ours, other, verdicts = [], [], []
    for t, v, limit in series:
        rep = detector.analyze(v, t, limit=limit)  # load the compiled kernels
        ours.append(median_time(lambda: detector.analyze(v, t, limit=limit), repeats))
        other.append(median_time(lambda: peer(t, v), repeats))
        verdicts.append(rep.pattern)
    return statistics.median(ours), statistics.median(other), verdicts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    opts = ap.parse_args(argv)
    rows = []
    for source in (synthetic_cases(), injected_cases()):
        for name, series in source:
            ours, other, verdicts = time_case(series, opts.repeats)
            rows.append((name, ours, other, verdicts))
            print(f"{name:<28} analyze {ours * 1e3:7.1f} ms   kendalltau+OLS {other * 1e3:6.1f} ms"
                  f"   ({', '.join(verdicts)})", flush=True)
    median = statistics.median(r[1] for r in rows)
    five = []
    for name, series in synthetic_cases(N_5MIN, STEP_5MIN):
        ours, other, verdicts = time_case(series, opts.repeats)
        five.append((name, ours, other, verdicts))
        print(f"5 min: {name:<21} analyze {ours * 1e3:7.1f} ms   kendalltau+OLS "
              f"{other * 1e3:6.1f} ms", flush=True)
    lines = ["## analyze on every shape (`benchmarks/bench_patterns.py`)", "",
             machine_description(), "",
             f"A week at 15 s ({N:,} samples a series): every synthetic pattern (median over "
             "seeds 0-2) and the injected real set (real backgrounds, plain and with each "
             "injected leak shape, the first two of seed 0's dev half, interpolated onto "
             f"{N:,} points). Median of {opts.repeats} calls per series after a first one; "
             "the peer is `scipy.stats.kendalltau` + statsmodels OLS on the same arrays.", "",
             "| shape | analyze | M samples/s | x median of shapes | kendalltau + OLS | "
             "patterns found |",
             "|---|---:|---:|---:|---:|---|"]
    for name, ours, other, verdicts in rows:
        lines.append(f"| {name} | {ours * 1e3:.1f} ms | {N / ours / 1e6:.1f} | "
                     f"{ours / median:.1f} | {other * 1e3:.1f} ms | {', '.join(verdicts)} |")
    slowest = max(rows, key=lambda r: r[1])
    fast = [r[0] for r in rows if r[1] <= 0.004]
    lines += ["", f"Median over shapes {median * 1e3:.1f} ms "
              f"({N / median / 1e6:.1f} M samples/s). Targets (issue 14, part 3):",
              f"- [{'x' if len(fast) == len(rows) else ' '}] every shape >= 10 M samples/s "
              f"(<= 4 ms): {len(fast)} of {len(rows)} shapes",
              f"- [{'x' if slowest[1] <= 3 * median else ' '}] no shape slower than 3x the "
              f"median: slowest {slowest[0]}, {slowest[1] * 1e3:.0f} ms "
              f"({slowest[1] / median:.1f}x)"]
    lines += ["", f"The same patterns sampled every 5 minutes (a week, {N_5MIN:,} samples; "
              "no target: the fixed cost of the stages weighs more on a short series):", "",
              "| pattern | analyze | kendalltau + OLS | patterns found |", "|---|---:|---:|---|"]
    for name, ours, other, verdicts in five:
        lines.append(f"| {name} | {ours * 1e3:.1f} ms | {other * 1e3:.1f} ms | "
                     f"{', '.join(verdicts)} |")
    text = "\n".join(lines)
    print(text)
    if not opts.no_write:
        write_section("patterns", text)
        print("wrote benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
