"""Ingest speed: our CSV/Parquet reader against plain pandas on a 10-million-row fleet.

Usage::

    python benchmarks/bench_ingest.py [--rows 10_000_000] [--repeats 3]

Writes a long-format file (``series,timestamp,value``; 250 series of 40,000
samples at 15 s) once into ``benchmarks/_data/``, as CSV and Parquet, then
times, in the same run and on the same files:

* ours: ``detector.sources.read_path`` to the end (validated, sorted,
  de-duplicated :class:`detector.Series` objects, one per series);
* the peer: ``pandas.read_csv`` (default C engine) and ``pandas.read_parquet``,
  which only parse the file into one frame.

Medians of ``--repeats`` runs are printed and written to
``benchmarks/RESULTS.md`` (section ``ingest``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._results import machine_description, median_time, write_section  # noqa: E402
from detector.sources import read_path  # noqa: E402

DATA = Path(__file__).with_name("_data")


def make_files(rows: int) -> tuple[Path, Path]:
    n_series = 250
    per = rows // n_series
    csv = DATA / f"fleet_{rows}.csv"
    parquet = DATA / f"fleet_{rows}.parquet"
    if csv.exists() and parquet.exists():
        return csv, parquet
    DATA.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    t = 1_700_000_000 + 15 * np.arange(per, dtype=np.int64)
    frame = pd.DataFrame({
        "series": np.repeat([f"pod-{i:04d}" for i in range(n_series)], per),
        "timestamp": np.tile(t, n_series),
        "value": np.round(5e8 + rng.normal(0, 1e7, per * n_series)),
    })
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    return csv, parquet


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=lambda s: int(float(s)), default=10_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    opts = ap.parse_args(argv)
    csv, parquet = make_files(opts.rows)
    cases = [
        ("CSV", lambda: list(read_path(csv)), "pandas.read_csv", lambda: pd.read_csv(csv)),
        ("Parquet", lambda: list(read_path(parquet)), "pandas.read_parquet",
         lambda: pd.read_parquet(parquet)),
    ]
    lines = ["## Ingest (`benchmarks/bench_ingest.py`)", "", machine_description(), "",
             f"{opts.rows:,} rows, 250 series; medians of {opts.repeats} runs. Ours returns "
             "validated Series objects; the peer only parses into one DataFrame.", "",
             "| input | ours | peer | peer time | peer / ours | ours rows/s |",
             "|---|---:|---|---:|---:|---:|"]
    for name, ours_fn, peer_name, peer_fn in cases:
        ours = median_time(ours_fn, opts.repeats)
        peer = median_time(peer_fn, opts.repeats)
        print(f"{name:<8} ours {ours:6.2f} s   {peer_name} {peer:6.2f} s   "
              f"ratio {peer / ours:4.1f}x   {opts.rows / ours / 1e6:5.1f} M rows/s", flush=True)
        lines.append(f"| {name} | {ours:.2f} s | {peer_name} | {peer:.2f} s | "
                     f"{peer / ours:.1f}x | {opts.rows / ours / 1e6:.1f} M |")
    if not opts.no_write:
        write_section("ingest", "\n".join(lines))
        print("wrote benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
