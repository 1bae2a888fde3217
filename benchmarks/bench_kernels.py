"""Time every kernel of ``detector.kernels`` against its reference.

Usage::

    python benchmarks/bench_kernels.py [--sizes 1e4,1e5,1e6,1e7] [--only NAME] [--quick]

Each case runs our kernel (after one warm-up call, so compilation is not
timed) and its peer on the same seeded input, in the same run.  A peer runs
in a forked child with a 60 s time budget and an address-space cap, so a
reference that cannot finish or does not fit in memory is recorded as such
(with the largest size it did) instead of taking the machine down.  Medians
of several runs are printed and written to ``benchmarks/RESULTS.md``
(section ``kernels``), together with the targets of issue 3 and whether each
is met.  Area modules in ``benchmarks/kernels/`` define the cases.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing as mp
import os
import resource
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._results import machine_description, write_section  # noqa: E402

AREAS = ("rolling", "envelope", "seasonal", "trend", "changepoint")
PEER_TIMEOUT = 60.0
PEER_MEMORY_CAP = 16 * 2**30  # bytes of address space for a peer child


def _median_time(fn, args, repeats: int, budget: float = 60.0) -> float:
    times = []
    start = time.perf_counter()
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget and len(times) >= 1:
            break
    return statistics.median(times)


def _peer_child(case, n, seed, repeats, conn):
    try:
        resource.setrlimit(resource.RLIMIT_AS, (PEER_MEMORY_CAP, PEER_MEMORY_CAP))
        args = case.make(n, np.random.default_rng(seed))
        conn.send(("ok", _median_time(case.peer, args, repeats, budget=PEER_TIMEOUT / 2)))
    except MemoryError:
        conn.send(("oom", None))
    except BaseException as exc:  # noqa: BLE001 - report anything to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))


def time_peer(case, n, seed):
    """Median peer time in seconds, or a string saying why there is none."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_peer_child, args=(case, n, seed, 3, child))
    proc.start()
    child.close()
    if parent.poll(PEER_TIMEOUT + 5):
        status, value = parent.recv()
    else:
        status, value = "timeout", None
    proc.join(1)
    if proc.is_alive():
        proc.kill()
        proc.join()
    if status == "ok":
        return value
    if status == "timeout":
        return f"> {PEER_TIMEOUT:.0f} s (stopped)"
    if status == "oom":
        return f"out of memory (cap {PEER_MEMORY_CAP / 2**30:.0f} GiB)"
    if proc.exitcode and proc.exitcode < 0:
        return f"killed by signal {-proc.exitcode} (likely memory)"
    return f"failed: {value}"


def run_case(case, sizes, seed=12345):
    rows = []
    peer_gave_up = None
    for n in sizes:
        if n not in case.sizes:
            continue
        rng = np.random.default_rng(seed)
        args = case.make(n, rng)
        case.ours(*args)  # warm-up: compile / load from cache
        ours = _median_time(case.ours, args, case.repeats)
        del args
        if case.peer is None:
            peer = None
        elif peer_gave_up is not None:
            peer = f"not run ({peer_gave_up})"
        elif case.peer_max_n is not None and n > case.peer_max_n:
            peer = f"not run ({case.peer_limit_reason or 'too large'})"
        else:
            peer = time_peer(case, n, seed)
            if isinstance(peer, str):
                peer_gave_up = f"failed at a smaller n: {peer}"
        rows.append((case, n, ours, peer))
        _print_row(case, n, ours, peer)
    return rows


def _fmt_s(t):
    if t is None:
        return "-"
    if isinstance(t, str):
        return t
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.2f} ms"
    return f"{t * 1e6:.1f} us"


def _ratio(ours, peer):
    if isinstance(peer, float) and ours > 0:
        return f"{peer / ours:,.1f}x"
    return "-"


def _print_row(case, n, ours, peer):
    print(f"{case.name:<34} n={n:>10,}  ours {_fmt_s(ours):>12}  "
          f"{(case.peer_name or '-'):<28} {_fmt_s(peer):>28}  ratio {_ratio(ours, peer)}",
          flush=True)


def compile_cost() -> str:
    """Seconds for a fresh process to import detector and call every kernel once."""
    script = textwrap.dedent("""
        import time; t0 = time.perf_counter()
        import detector, detector.kernels as k
        t_import = time.perf_counter() - t0
        import benchmarks.kernels as _
        from benchmarks.bench_kernels import call_every_kernel
        call_every_kernel()
        print(f"{t_import:.3f} {time.perf_counter() - t0:.3f}")
    """)
    out = []
    for _ in range(3):
        res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        if res.returncode != 0:
            return "failed: " + res.stderr.strip().splitlines()[-1]
        out.append(tuple(float(v) for v in res.stdout.split()))
    imp = statistics.median(o[0] for o in out)
    total = statistics.median(o[1] for o in out)
    return f"import {imp:.2f} s, import + first call of every kernel {total:.2f} s (warm cache, median of 3)"


def pelt_first_call() -> str:
    """pelt on issue 14's 1e6 signal in a fresh process with an empty numba cache: the
    first call (compile + run) and the second (run), median of 3 processes."""
    import tempfile

    script = textwrap.dedent("""
        import time, numpy as np
        from benchmarks.kernels.changepoint import _pieces3, _pen
        from detector.kernels import pelt
        (x,) = _pieces3(1_000_000, np.random.default_rng(12345))
        t0 = time.perf_counter(); pelt(x, _pen(x), min_size=2, jump=1)
        t1 = time.perf_counter(); pelt(x, _pen(x), min_size=2, jump=1)
        print(f"{t1 - t0:.3f} {time.perf_counter() - t1:.3f}")
    """)
    out = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as cache:
            res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                 cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT),
                                                "NUMBA_CACHE_DIR": cache})
        if res.returncode != 0:
            return "failed: " + res.stderr.strip().splitlines()[-1]
        out.append(tuple(float(v) for v in res.stdout.split()))
    first = statistics.median(o[0] for o in out)
    second = statistics.median(o[1] for o in out)
    return (f"pelt jump=1 on issue 14's 1e6 signal in a fresh process, empty numba cache: first "
            f"call {first:.2f} s (compile + run), second {second:.2f} s (median of 3)")


def call_every_kernel():
    """Call each area's kernels once on a small input (used for compile cost)."""
    for area in AREAS:
        try:
            mod = importlib.import_module(f"benchmarks.kernels.{area}")
        except ModuleNotFoundError:
            continue
        for case in mod.CASES:
            case.ours(*case.make(1000, np.random.default_rng(0)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1e4,1e5,1e6,1e7",
                    help="comma-separated input sizes (samples)")
    ap.add_argument("--only", default=None, help="run only cases whose name contains this")
    ap.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    opts = ap.parse_args(argv)
    sizes = [int(float(s)) for s in opts.sizes.split(",")]
    load_start = os.getloadavg()

    cases, targets = [], []
    for area in AREAS:
        try:
            mod = importlib.import_module(f"benchmarks.kernels.{area}")
        except ModuleNotFoundError:
            print(f"(no benchmark module for {area})")
            continue
        cases += [c for c in mod.CASES if not opts.only or opts.only in c.name]
        targets += getattr(mod, "TARGETS", [])

    rows = []
    for case in cases:
        rows += run_case(case, sorted(set(sizes) | set(case.extra.get("always_sizes", ()))))

    results = {(c.name, n): (ours, peer) for c, n, ours, peer in rows}
    cost = compile_cost()
    print("compile cost:", cost)
    first = pelt_first_call() if any(c.name.startswith("pelt") for c in cases) else None
    if first:
        print(first)

    lines = ["## Kernels (`benchmarks/bench_kernels.py`)", "", machine_description(), "",
             "| kernel | n | ours (median) | peer | peer (median) | peer / ours |",
             "|---|---:|---:|---|---:|---:|"]
    for c, n, ours, peer in rows:
        lines.append(f"| {c.name} | {n:,} | {_fmt_s(ours)} | {c.peer_name or '-'} | "
                     f"{_fmt_s(peer)} | {_ratio(ours, peer)} |")
    lines += ["", f"Compile cost, fresh process: {cost}."]
    if first:
        lines += ["", f"Cold first call: {first}."]
    lines += ["", "Load average (1, 5, 15 min) at the start: "
                  + ", ".join(f"{v:.2f}" for v in load_start) + "; at the end: "
                  + ", ".join(f"{v:.2f}" for v in os.getloadavg())
                  + " (2 cores: above ~1, other work competed with these runs).",
              "", "### Targets (issues 3 and 14)", ""]
    for t in targets:
        try:
            met, detail = t.check(results)
        except KeyError as exc:
            met, detail = False, f"not measured ({exc})"
        lines.append(f"- [{'x' if met else ' '}] {t.text}: {detail}")
        print(("MET    " if met else "NOT MET"), t.text, "-", detail)
    if not opts.no_write and not opts.only:
        write_section("kernels", "\n".join(lines))
        print("wrote benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
