"""Write one benchmark's section into benchmarks/RESULTS.md.

Each benchmark script owns one section, delimited by HTML comments, and
replaces only that section, so scripts can be re-run independently.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import statistics
import subprocess
import time
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = (
    "# Benchmark results\n\n"
    "Produced by the scripts in `benchmarks/`; each section is rewritten by the script named "
    "in it. Times are medians of several runs on a shared, noisy machine.\n"
)


def commit(path: Path | None = None) -> str:
    """The short commit hash of the checkout at ``path`` (this one by default), or
    ``"unknown"``."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=path or RESULTS.parent, check=False)
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def machine_description() -> str:
    """One paragraph naming the machine, the date and the library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for pkg in ("numpy", "numba", "pandas", "scipy", "statsmodels", "ruptures",
                "pymannkendall", "bottleneck", "pyarrow"):
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            pass
    date = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Run {date} on {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}; commit {commit()}; "
            + ", ".join(versions) + ".")


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section ``name`` of RESULTS.md with ``body``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        before = text.split(start, 1)[0]
        after = text.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)


def median_time(fn, repeats: int) -> float:
    """Median wall time (seconds) of ``repeats`` calls of ``fn()``."""
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
