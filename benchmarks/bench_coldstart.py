"""Cold and warm start: the first run after install (an empty numba cache) and the next ones.

Usage::

    python benchmarks/bench_coldstart.py [--repeats 3] [--fresh-venv] [--source DIR ...]

Every figure is the wall time of a fresh process, as a user or a container sees it:

* ``detector scan --demo`` (the bundled demo fleet, 32 series);
* ``import detector`` and the first ``detector.analyze`` of a 40,320-sample series (a
  week at 15 s; also timed inside the process);
* the first poll of ``detector watch`` against a real Prometheus (20 series, 7 days at
  60 s, backfilled with promtool; see ``tests/prometheus_server.py``). Without the
  ``prometheus``/``promtool`` binaries, the library-level equivalent is timed instead:
  ``OnlineDetector.catch_up`` on the same 20 series in a fresh process (the table says
  which);
* ``detector warmup`` on an empty cache, and a scan after it.

"Cold" runs get a new, empty ``NUMBA_CACHE_DIR``; "warm" runs reuse the cache the cold
run filled. Each run also counts what numba compiled (``NUMBA_DEBUG_CACHE``'s "data saved"
lines): a warm run must compile nothing. Medians over ``--repeats`` rounds (each round
its own empty caches).

By default the interpreter running this script is used (its installed ``detector``).
``--fresh-venv`` builds a new virtual environment per source and installs it with
``pip install "SOURCE[prometheus]"`` (a regular, non-editable install, as a user would); ``--source``
names the checkouts to compare (default: this one), e.g. an export of ``main`` beside
this branch to show before and after in one run. The OS file cache and the
interpreter's own ``.pyc`` files are warm in every run but the very first: the cold
figures isolate numba's compilation.

Writes ``benchmarks/RESULTS.md`` (section ``coldstart``) with the load average before and
after the run. Targets (issue 14): first ``scan --demo`` <= 5 s; ``import detector`` +
first ``analyze`` <= 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._results import machine_description, write_section  # noqa: E402

N_WATCH_SERIES = 20
STEP = 60

ANALYZE = textwrap.dedent("""
    import json, time
    t0 = time.perf_counter()
    import numpy as np
    t1 = time.perf_counter()
    import detector
    n = 40_320
    t = 1.7e9 + np.arange(n) * 15.0
    v = 5e8 + (t - t[0]) * 200 + np.random.default_rng(0).normal(0, 1e7, n)
    t2 = time.perf_counter()
    rep = detector.analyze(v, t)
    t3 = time.perf_counter()
    detector.analyze(v, t)
    t4 = time.perf_counter()
    print(json.dumps({"import_and_first": (t1 - t0) + (t3 - t2), "second": t4 - t3,
                      "verdict": rep.verdict}))
""")

CATCH_UP = textwrap.dedent("""
    import sys, numpy as np
    from detector.stream import OnlineDetector
    data = np.load(sys.argv[1])
    for k in range(data["values"].shape[0]):
        OnlineDetector(series_id=str(k), cadence=3600.0).catch_up(data["t"], data["values"][k])
""")


def watch_data(now: float) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps (a week to ``now``, every minute) and 20 memory series: leaks, daily
    loads and flat ones."""
    t = np.arange(now - 7 * 86400, now, STEP, dtype=float)
    x = t - t[0]
    rng = np.random.default_rng(0)
    rows = []
    for k in range(N_WATCH_SERIES):
        base = 5e8 + 1e7 * k + rng.normal(0, 2e6, t.size)
        if k % 3 == 0:
            base += x * 300  # a leak
        elif k % 3 == 1:
            base += 1e8 * np.sin(2 * np.pi * x / 86400)
        rows.append(base)
    return t, np.array(rows)


class Watch:
    """A real Prometheus serving :func:`watch_data`, or the library-level fallback."""

    def __init__(self, workdir: Path):
        from tests.prometheus_server import Family, PrometheusServer, available

        now = float(int(time.time()) // STEP * STEP)
        t, values = watch_data(now)
        self.server = None
        self.npz = workdir / "watch.npz"
        np.savez(self.npz, t=t, values=values)
        if available():
            series = [({"pod": f"pod-{k}"}, t, values[k]) for k in range(values.shape[0])]
            self.server = PrometheusServer([Family("bench_memory_bytes", series)],
                                           workdir / "prom", f"{STEP}s").start()

    @property
    def what(self) -> str:
        if self.server is not None:
            return (f"`detector watch` first poll ({N_WATCH_SERIES} series x 7 d at 60 s from "
                    "a real Prometheus)")
        return (f"`OnlineDetector.catch_up` ({N_WATCH_SERIES} series x 7 d at 60 s; no "
                "Prometheus binaries here: the library-level equivalent of watch's first poll)")

    def command(self, python: str) -> list[str]:
        if self.server is not None:
            return [python, "-m", "detector", "watch", "--prometheus", self.server.url,
                    "--query", "bench_memory_bytes", "--range", "7d", "--step", f"{STEP}s",
                    "--iterations", "1", "--interval", "1s"]
        return [python, "-c", CATCH_UP, str(self.npz)]

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def timed(cmd: list[str], cache: Path, ok=(0, 1)) -> dict:
    """Run ``cmd`` with ``NUMBA_CACHE_DIR=cache``; wall seconds and numba's cache activity."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "NUMBA_DEBUG_CACHE": "1"}
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - t0
    if res.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed ({res.returncode}): "
                           f"{res.stderr.strip()[-1500:]}")
    out = {"wall": wall, "compiled": res.stdout.count("data saved to"),
           "loaded": res.stdout.count("data loaded from")}
    for line in res.stdout.splitlines():
        if line.startswith("{"):
            out.update(json.loads(line))
    return out


def one_round(python: str, watch: Watch, scratch: Path) -> dict:
    caches = {k: Path(tempfile.mkdtemp(prefix=f"numba-{k}-", dir=scratch))
              for k in ("analyze", "scan", "watch", "warmup")}
    analyze = [python, "-c", ANALYZE]
    scan = [python, "-m", "detector", "scan", "--demo"]
    out = {
        "analyze cold": timed(analyze, caches["analyze"]),
        "analyze warm": timed(analyze, caches["analyze"]),
        "scan cold": timed(scan, caches["scan"]),
        "scan warm": timed(scan, caches["scan"]),
        "watch cold": timed(watch.command(python), caches["watch"]),
        "watch warm": timed(watch.command(python), caches["watch"]),
    }
    try:  # a checkout from before `detector warmup` has no such command
        out["warmup"] = timed([python, "-m", "detector", "warmup", "--quiet"], caches["warmup"],
                              ok=(0,))
        out["scan after warmup"] = timed(scan, caches["warmup"])
    except RuntimeError:
        pass
    return out


def fresh_venv(source: Path, scratch: Path) -> str:
    """A new virtual environment with ``source`` installed (non-editable); its python."""
    venv = Path(tempfile.mkdtemp(prefix="venv-", dir=scratch))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    print(f"installing {source} into {venv} ...", flush=True)
    # the prometheus extra (httpx) for watch
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"{source}[prometheus]"],
                   check=True)
    return str(venv / "bin" / "python")


def median(rounds: list[dict], key: str, field: str = "wall") -> float:
    """Median of ``field`` over the rounds that have ``key`` (NaN when none has)."""
    values = [r[key][field] for r in rounds if key in r]
    return statistics.median(values) if values else float("nan")


def cell(value: float, unit: str = " s", digits: int = 2) -> str:
    return "n/a" if value != value else f"{value:.{digits}f}{unit}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="rounds (each with empty caches)")
    ap.add_argument("--fresh-venv", action="store_true",
                    help="install each source into a new virtual environment")
    ap.add_argument("--source", action="append", type=Path,
                    help="checkout to measure (repeatable; needs --fresh-venv unless it is "
                         "the one this interpreter has installed)")
    ap.add_argument("--no-write", action="store_true")
    opts = ap.parse_args(argv)
    sources = opts.source or [ROOT]
    if len(sources) > 1 and not opts.fresh_venv:
        ap.error("comparing several --source needs --fresh-venv")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as tmp:
        scratch = Path(tmp)
        watch = Watch(scratch)
        try:
            pythons = [fresh_venv(source.resolve(), scratch) if opts.fresh_venv
                       else sys.executable for source in sources]
            results = {source: [] for source in sources}
            for r in range(opts.repeats):  # sources interleaved: load drifts alike
                for source, python in zip(sources, pythons):
                    results[source].append(one_round(python, watch, scratch))
                    print(f"{source.resolve().name}: round {r + 1}: " + ", ".join(
                        f"{k} {v['wall']:.2f} s" for k, v in results[source][-1].items()),
                        flush=True)
        finally:
            watch.stop()
    load_after = os.getloadavg()

    keys = ["scan cold", "scan warm", "analyze cold", "analyze warm", "watch cold",
            "watch warm", "warmup", "scan after warmup"]
    names = [s.resolve().name if len(sources) > 1 else "" for s in sources]
    head = "| run | " + " | ".join(f"{n} wall (median)".strip() for n in names) + \
        " | compiled (cache entries written) |"
    lines = ["## Cold start (`benchmarks/bench_coldstart.py`)", "", machine_description(), "",
             f"Load average (1, 5, 15 min) before: {load_before[0]:.2f}, {load_before[1]:.2f}, "
             f"{load_before[2]:.2f}; after: {load_after[0]:.2f}, {load_after[1]:.2f}, "
             f"{load_after[2]:.2f} (2 cores: above ~1 other work competed with the runs). "
             f"Medians of {opts.repeats} rounds, each with empty caches; "
             + ("a fresh virtual environment per source (`pip install \"SOURCE[prometheus]\"`)."
                if opts.fresh_venv else "the installed interpreter, fresh NUMBA_CACHE_DIR."),
             "", f"Watch: {watch.what}.", "", head,
             "|---|" + "---:|" * len(sources) + "---|"]
    for key in keys:
        cells = [cell(median(results[s], key)) for s in sources]
        compiled = ", ".join(cell(median(results[s], key, "compiled"), "", 0) for s in sources)
        lines.append(f"| {key} | " + " | ".join(cells) + f" | {compiled} |")
    last = results[sources[-1]]
    inside = median(last, "analyze cold", "import_and_first")
    lines += ["", f"`import detector` + first `analyze`, timed inside the cold process (no "
                  f"interpreter start): {inside:.2f} s (median; last source).", "",
              "Targets (issue 14), last source:"]
    scan_cold = median(last, "scan cold")
    analyze_cold = median(last, "analyze cold")
    warm_compiles = max(r[k]["compiled"] for r in last for k in
                        ("scan warm", "analyze warm", "watch warm", "scan after warmup") if k in r)
    lines += [f"- [{'x' if scan_cold <= 5 else ' '}] first `scan --demo` <= 5 s: "
              f"{scan_cold:.2f} s",
              f"- [{'x' if analyze_cold <= 3 else ' '}] `import detector` + first `analyze` "
              f"of 40,320 samples <= 3 s: {analyze_cold:.2f} s (process wall)",
              f"- [{'x' if warm_compiles == 0 else ' '}] warm runs and runs after `detector "
              f"warmup` compile nothing: at most {warm_compiles} cache entries written"]
    print("\n".join(lines))
    if not opts.no_write:
        write_section("coldstart", "\n".join(lines))
        print("wrote benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
