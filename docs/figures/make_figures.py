"""Draw the figures of docs/algorithm.md from seeded synthetic series.

Usage: python docs/figures/make_figures.py   (needs matplotlib: pip install ".[plot]")
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import detector  # noqa: E402
from detector.config import Config  # noqa: E402
from detector.analysis.floor import floor_points  # noqa: E402
from detector.analysis.pipeline import _clean  # noqa: E402
from detector.analysis.regularise import bin_series  # noqa: E402
from detector.analysis.restarts import find_lifetimes  # noqa: E402
from detector.analysis.seasonality import find_period  # noqa: E402

OUT = Path(__file__).parent
DAY = 86400.0


def examples():
    rng = np.random.default_rng(42)
    t = 1.7e9 + np.arange(0, 4 * DAY, 60.0)
    x = t - t[0]
    gc = 1.2e9 + 0.9e9 * ((x % 700) / 700) + np.where(x > 1.6 * DAY, (x - 1.6 * DAY) * 2.5e3, 0)
    daily = 6e8 + 2.5e8 * np.clip(np.sin(2 * np.pi * x / DAY), 0, None) ** 2 + x * 8e2
    life = 7 * 3600.0
    loop = 3e8 + (x % life) / life * 3.2e9
    shift = 9e8 + np.where(x > 2.2 * DAY, 3e8, 0) + 2e8 * (1 - np.exp(-x / 9000))
    return [
        ("JVM heap: GC sawtooth whose floor starts rising on day 2", t,
         gc + rng.normal(0, 2e7, t.size)),
        ("Daily load with slow growth underneath", t, daily + rng.normal(0, 1e7, t.size)),
        ("OOM-kill restart loop", t, loop + rng.normal(0, 2e7, t.size)),
        ("Warm-up, then a deploy shifts the level (healthy)", t,
         shift + rng.normal(0, 1e7, t.size)),
    ]


def main():
    config = Config()
    items = examples()
    fig, axes = plt.subplots(len(items), 2, figsize=(14, 3.1 * len(items)),
                             gridspec_kw={"width_ratios": [1.3, 1]})
    for (title, t, v), (ax_raw, ax_floor) in zip(items, axes):
        rep = detector.analyze(v, t)
        series, _ = _clean(detector.Series.from_arrays(v, t), config)
        lt = find_lifetimes(series.timestamps, series.values, config)
        bins = bin_series(series, config.max_bins, *lt.bounds[-1])
        period = find_period(bins.mean, bins.width, config)
        fl = floor_points(bins, period, lt.cycle)
        hours = (t - t[0]) / 3600
        ax_raw.plot(hours, v / 2**20, lw=0.3, color="0.55", label="samples")
        ax_raw.plot((bins.t - t[0]) / 3600, bins.lo / 2**20, lw=0.8, color="C0",
                    label="bin minima (current lifetime)")
        for r in lt.restarts:
            ax_raw.axvline((r - t[0]) / 3600, color="C3", lw=0.6, ls=":")
        ax_raw.set_title(title, fontsize=9)
        ax_raw.set_ylabel("MiB")
        ax_raw.legend(fontsize=7, loc="upper left")
        ax_floor.plot((fl.t - t[0]) / 3600, fl.y / 2**20, ".-", ms=2, lw=0.6, color="C0",
                      label=f"floor ({fl.method})")
        for c in rep.changepoints:
            ax_floor.axvline((c - t[0]) / 3600, color="0.7", lw=0.6)
        if rep.onset is not None:
            ax_floor.axvline((rep.onset - t[0]) / 3600, color="C3", lw=1.5, label="onset")
        ax_floor.set_title(f"verdict: {rep.verdict}, pattern: {rep.pattern}, score "
                           f"{rep.score:.2f}" + (f", period {rep.period / 3600:.1f} h"
                                                  if rep.period else ""), fontsize=9)
        ax_floor.legend(fontsize=7, loc="upper left")
    for ax in axes[-1]:
        ax.set_xlabel("hours")
    fig.tight_layout()
    fig.savefig(OUT / "algorithm.png", dpi=80)
    print("wrote", OUT / "algorithm.png")


if __name__ == "__main__":
    main()
