"""Write a labelled synthetic dataset to disk.

Usage::

    python datasets/synthetic.py --seed 0 --n-series 340 --output /tmp/synthetic \
        [--format csv|parquet]

Writes ``series.csv.gz`` (or ``series.parquet``): long format
``series,timestamp,value`` (unix seconds), and ``labels.json``: per series
``leak``, ``onset`` (unix seconds or null), ``pattern``, ``limit`` (bytes or
null) and the drawn ``params``. The generator itself lives in
:mod:`detector.evaluate.synthetic` (its docstrings list every parameter and
range); this script only calls it, so ``detector eval --dataset synthetic``
sees the very same series (``detector eval --dataset DIR`` reads a written one).

Options: ``--seed`` (dataset seed; the same seed writes the same series),
``--n-series`` (default 340; every pattern appears from 17 on, and 8 in every
20 series leak), ``--output DIR`` (created if missing), ``--format csv|parquet``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from detector.evaluate.synthetic import PATTERNS, SCHEDULE, generate_dataset


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    ap.add_argument("--n-series", type=int, default=340,
                    help=f"number of series (default 340: 17 rounds of the {len(SCHEDULE)}-pattern "
                         f"schedule: all {len(PATTERNS)} patterns, 40 %% leaks)")
    ap.add_argument("--output", type=Path, required=True, help="directory to write into")
    ap.add_argument("--format", choices=("csv", "parquet"), default="csv")
    opts = ap.parse_args(argv)
    if opts.n_series < 1:
        ap.error("--n-series must be >= 1")
    data = generate_dataset(opts.n_series, seed=opts.seed)
    frame = pd.DataFrame({
        "series": np.concatenate([np.full(s.values.size, s.id) for s in data]),
        "timestamp": np.concatenate([s.timestamps for s in data]),
        "value": np.concatenate([s.values for s in data]),
    })
    opts.output.mkdir(parents=True, exist_ok=True)
    if opts.format == "csv":
        path = opts.output / "series.csv.gz"
        frame.to_csv(path, index=False)
    else:
        path = opts.output / "series.parquet"
        frame.to_parquet(path, index=False)
    labels = {s.id: {"leak": s.leak, "onset": s.onset, "pattern": s.pattern, "limit": s.limit,
                     "params": s.params} for s in data}
    (opts.output / "labels.json").write_text(json.dumps(
        {"seed": opts.seed, "series": labels}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(data)} series ({len(frame):,} samples) to {path}")


if __name__ == "__main__":
    main()
