"""Run the detector and the baselines over a labelled dataset and score them."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from ..errors import InputError
from . import metrics
from .baselines import BASELINES, BaselineResult

#: Detectors ``detector eval`` knows, ours first.
DETECTORS = ("detector", *BASELINES)


@dataclass
class Item:
    """One series to evaluate: arrays, limit and labels (leak/onset, or anomaly windows)."""

    id: str
    timestamps: np.ndarray
    values: np.ndarray
    limit: float | None = None
    leak: bool | None = None
    onset: float | None = None
    pattern: str = ""
    windows: list | None = None
    meta: dict = field(default_factory=dict)
    #: Unix seconds of the restarts known for the series, given to our detector
    #: (``analyze(restarts=...)``); None when unknown (the baselines never see them).
    restarts: np.ndarray | None = None


@dataclass
class Outcome:
    """What one detector said about one series."""

    leak: bool
    onset: float | None = None
    error: str | None = None


@dataclass
class DetectorScore:
    """One row of the results.

    ``precision`` is NaN (``null`` in JSON, ``-`` in tables) when the detector flagged no
    series: with no alarm there is nothing to be precise about, and 1.0 would rank a
    detector that never fires above any that does. F1 is then 0 if there were leaks
    (recall 0) and NaN if there were none. NaN recall, F1 and FPR mean no leaking or no
    healthy series.
    """

    detector: str
    precision: float
    recall: float
    f1: float
    fpr: float
    onset_error: float
    delay: float
    seconds: float
    errors: int = 0
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        row = {k: _num(getattr(self, k)) for k in ("precision", "recall", "f1", "fpr",
                                                  "onset_error", "delay", "seconds")}
        return {"detector": self.detector, **row, "errors": self.errors,
                **{k: _num(v) for k, v in self.extra.items()}}


def _num(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def our_detector(t, v, limit, config=None, restarts=None) -> BaselineResult:
    """``detector.analyze`` as a baseline-shaped function (``config``: its thresholds;
    ``restarts``: the restart times known, unix seconds)."""
    from ..analysis.pipeline import analyze

    rep = analyze(v, t, limit=limit, config=config, restarts=restarts)
    return BaselineResult(rep.leak, rep.onset)


def our_detector_on_test_runs(t, v, limit, restarts=None) -> BaselineResult:
    """``detector.analyze`` with :meth:`detector.Config.for_test_runs` (how a CI job that
    checks its test runs calls it)."""
    from ..config import Config

    return our_detector(t, v, limit, Config.for_test_runs(), restarts)


#: Our detector's functions: the ones given the restarts an item knows.
OURS = (our_detector, our_detector_on_test_runs)


def detector_function(name: str, *, test_runs: bool = False) -> Callable:
    """The function behind a detector name (ours with the test-run thresholds when
    ``test_runs``; the baselines have none)."""
    if name == "detector":
        return our_detector_on_test_runs if test_runs else our_detector
    if name in BASELINES:
        return BASELINES[name]
    raise InputError(f"unknown detector {name!r}; choose from {', '.join(DETECTORS)}",
                     source="--detectors")


def run(items: Sequence[Item], detectors: Iterable[str] = DETECTORS, *,
        replay_checkpoints: int = 10, progress: Callable[[str, int], None] | None = None,
        test_runs: bool = False):
    """Score each detector on ``items`` (test runs of a process: ``test_runs``, see
    :func:`detector_function`).

    Returns
    -------
    (scores, outcomes) : (list of DetectorScore, dict name -> list of Outcome)
    """
    scores, outcomes = [], {}
    for name in detectors:
        fn = detector_function(name, test_runs=test_runs)
        start = time.perf_counter()
        outs = []
        for item in items:
            try:
                r = fn(item.timestamps, item.values, item.limit, **_known(fn, item))
                outs.append(Outcome(bool(r.leak), r.onset))
            except Exception as exc:  # noqa: BLE001 - one series must not stop the eval
                outs.append(Outcome(False, None, f"{type(exc).__name__}: {exc}"))
            if progress is not None:
                progress(name, 1)
        seconds = time.perf_counter() - start
        outcomes[name] = outs
        delays = []
        for i, o in zip(items, outs):
            if i.leak and o.leak and i.onset is not None:
                def detect(t, v, fn=fn, limit=i.limit, given=_known(fn, i)):
                    try:  # (restarts after a replay's prefix are outside it: left out)
                        return bool(fn(t, v, limit, **given).leak)
                    except Exception:  # noqa: BLE001
                        return False
                d = metrics.replay_delay(detect, i.timestamps, i.values, i.onset,
                                         checkpoints=replay_checkpoints)
                if d is not None:
                    delays.append(d)
        scores.append(_score(name, items, outs, seconds, metrics.median_or_nan(delays)))
    return scores, outcomes


def _known(fn: Callable, item: Item) -> dict:
    """The keyword arguments that give ``fn`` the restarts ``item`` knows: ours only (the
    baselines have no such input), and only when they are known."""
    return {"restarts": item.restarts} if fn in OURS and item.restarts is not None else {}


def _span(item: Item) -> float:
    return float(item.timestamps[-1] - item.timestamps[0]) if item.timestamps.size else 0.0


def synthetic_items(n_series: int, seed: int) -> list[Item]:
    """The generator's dataset as evaluation items."""
    from .synthetic import generate_dataset

    return [Item(s.id, s.timestamps, s.values, s.limit, s.leak, s.onset, s.pattern)
            for s in generate_dataset(n_series, seed=seed)]


def directory_items(path: Path) -> list[Item]:
    """A dataset written by ``datasets/synthetic.py``: a series file and ``labels.json``."""
    from ..sources import read_path

    labels_path = path / "labels.json"
    if not labels_path.is_file():
        raise InputError("no labels.json here", source=str(path))
    labels = json.loads(labels_path.read_text())
    labels = labels.get("series", labels)
    files = [p for p in sorted(path.iterdir()) if p.name != "labels.json" and
             p.name.endswith((".csv", ".csv.gz", ".parquet"))]
    if not files:
        raise InputError("no series file (.csv, .csv.gz or .parquet) beside labels.json",
                         source=str(path))
    items = []
    for f in files:
        for s in read_path(f):
            lab = labels.get(s.id)
            if lab is None:
                raise InputError(f"series {s.id!r} has no entry in labels.json", source=str(f))
            items.append(Item(s.id, np.array(s.timestamps), np.array(s.values), lab.get("limit"),
                              bool(lab["leak"]), lab.get("onset"), lab.get("pattern", "")))
    return items


def real_items(source: str, data_dir: Path | None) -> list[Item]:
    """A real set from ``shared/datasets`` (labels: no leak; NAB: anomaly windows)."""
    from .realdata import find_data_dir, load

    folder = find_data_dir(data_dir)
    if folder is None:
        raise InputError("the real datasets were not found: pass --data-dir (the "
                         "shared/datasets folder) or set DETECTOR_DATA_DIR", source="--dataset")
    items = []
    for r in load(folder, sources=(source,)):
        leak = False if source != "nab" else None  # healthy by construction; NAB: windows
        # Alibaba's values are percent of the machine's memory: the limit is 100
        limit = 100.0 if source == "jindal_alibaba" else None
        items.append(Item(r.id, np.array(r.series.timestamps), np.array(r.series.values),
                          limit, leak, None, source, r.anomaly_windows))
    return items


def nab_scores(items: Sequence[Item], *, window=3600.0, k=2.0, hold=300.0) -> dict:
    """The sliding mean +- k sigma rule on NAB: event precision/recall and the NAB score.

    ``nab_score`` takes every sample at which the alert is firing as an
    alarm (NAB's reading of a detector output: each flagged record outside a
    window is a false positive). ``nab_score_onsets`` takes only the sample
    at which each alert starts firing, as a pager sees it; event precision
    and recall are the same for both.
    """
    from .. import rules

    raws, raws_onsets, counts, precisions, recalls = [], [], [], [], []
    for item in items:
        if item.windows is None:
            continue
        t, v = item.timestamps, item.values
        cond = rules.persistent(t, rules.dynamic_band(t, v, window=window, k=k, side="both"),
                                for_seconds=hold)
        raw, n_windows = metrics.nab_raw_score(t, cond, item.windows)
        onsets = cond & ~np.r_[False, cond[:-1]]
        raws.append(raw)
        raws_onsets.append(metrics.nab_raw_score(t, onsets, item.windows)[0])
        counts.append(n_windows)
        p, r = metrics.event_precision_recall(t, cond, item.windows)
        precisions.append(p)
        if not math.isnan(r):
            recalls.append(r)
    return {"nab_score": metrics.nab_normalised(raws, counts),
            "nab_score_onsets": metrics.nab_normalised(raws_onsets, counts),
            "event_precision": float(np.mean(precisions)) if precisions else math.nan,
            "event_recall": float(np.mean(recalls)) if recalls else math.nan,
            "n_series": len(raws)}


def render_table(report: dict) -> str:
    """The results as an aligned text table."""
    if "nab" in report:  # anomaly windows, not leaks: the NAB line is the whole result
        n = report["nab"]
        return (f"dataset: {report['dataset']} ({report['n_series']} series)\n"
                f"NAB, sliding mean +- 2 sigma (1 h, 5 min hold): NAB score "
                f"{n['nab_score']:.1f} (alert onsets only: {n['nab_score_onsets']:.1f}), "
                f"event precision {n['event_precision']:.3f}, event recall "
                f"{n['event_recall']:.3f} over {n['n_series']} series\n")
    out = f"dataset: {report['dataset']} ({report['n_series']} series)\n"
    out += _results_table(report["results"])
    for half, sub in report.get("splits", {}).items():
        out += f"\n{half} half of the backgrounds ({sub['n_series']} series)\n"
        out += _results_table(sub["results"], timed=False)
    if "recall_by_shape" in report:
        out += "\n" + _recall_table("recall by shape", report["recall_by_shape"])
        out += "\n" + _recall_table("recall by magnitude (x p5-p95 range)",
                                     report["recall_by_magnitude"])
        fpr = report["fpr_by_source"]
        sources = sorted({s for per in fpr.values() for s in per})
        out += "\nflagged plain backgrounds (FPR) by source\n" + _aligned(
            [("detector", *sources)] + [(n, *(f"{per[s]['fpr']:.3f}" for s in sources))
                                        for n, per in fpr.items()])
    if "memorytools" in report:
        mt = report["memorytools"]
        out += (f"\nmemorytools: the real labelled leak ({mt['n_series']} test-run series, "
                f"{mt['n_leaking']} leaking; ours with Config.for_test_runs())\n")
        out += _results_table(mt["results"], timed=False)
    return out


def _results_table(results: list, timed: bool = True) -> str:
    head = ("detector", "precision", "recall", "F1", "FPR", "onset err") + (
        ("delay", "seconds") if timed else ())
    rows = []
    for r in results:
        def f(key, fmt="{:.3f}"):
            v = r.get(key)
            return "-" if v is None else fmt.format(v)
        delay = r.get("delay")
        row = (r["detector"], f("precision"), f("recall"), f("f1"), f("fpr"), f("onset_error"))
        if timed:
            row += ("-" if delay is None else f"{delay / 3600:.1f} h", f("seconds", "{:.1f}"))
        rows.append(row)
    return _aligned([head, *rows])


def _recall_table(title: str, per_detector: dict) -> str:
    keys = list(next(iter(per_detector.values())))
    rows = [("detector", *keys)]
    for name, per in per_detector.items():
        rows.append((name, *("-" if per[k]["recall"] is None else f"{per[k]['recall']:.2f}"
                             for k in keys)))
    counts = next(iter(per_detector.values()))
    rows.append(("(series)", *(str(counts[k]["n"]) for k in keys)))
    return title + "\n" + _aligned(rows)


def _aligned(rows) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(*rows)]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
                     for row in rows) + "\n"


def gallery(items, outcomes, directory: Path, *, per_detector: int = 6) -> list[Path]:
    """PNGs of the series each detector gets wrong (needs matplotlib: the ``plot`` extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("--plots needs matplotlib: pip install 'detector[plot]'",
                         source="--plots") from None
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, outs in outcomes.items():
        wrong = [(i, o) for i, o in zip(items, outs) if i.leak is not None and i.leak != o.leak]
        if not wrong:
            continue
        wrong = wrong[:per_detector]
        fig, axes = plt.subplots(len(wrong), 1, figsize=(9, 1.9 * len(wrong)), squeeze=False)
        for ax, (item, o) in zip(axes[:, 0], wrong):
            hours = (item.timestamps - item.timestamps[0]) / 3600
            ax.plot(hours, item.values / 2**20, lw=0.4)
            kind = "missed leak" if item.leak else "false alarm"
            ax.set_title(f"{item.id}: {kind} ({item.pattern})", fontsize=8)
            if item.onset is not None:
                ax.axvline((item.onset - item.timestamps[0]) / 3600, color="C2", lw=1)
            if o.onset is not None:
                ax.axvline((o.onset - item.timestamps[0]) / 3600, color="C3", lw=1, ls="--")
            ax.set_ylabel("MiB", fontsize=7)
            ax.tick_params(labelsize=6)
        axes[-1, 0].set_xlabel("hours (green: true onset, red dashed: predicted)", fontsize=7)
        fig.tight_layout()
        path = directory / f"wrong-{name}.png"
        fig.savefig(path, dpi=60)
        plt.close(fig)
        written.append(path)
    return written


def injected_report(names: Sequence[str], seed: int, data_dir: Path | None = None, *,
                    split: str | None = None, known_restarts: bool = False,
                    progress: Callable[[int, int, str], None] | None = None
                    ) -> tuple[dict, list, dict]:
    """``detector eval --dataset injected``: real backgrounds, plain and with a leak each.

    Parameters
    ----------
    names : sequence of str
        Detectors to score (:data:`DETECTORS`).
    seed : int
        Seed of the injections (:func:`detector.evaluate.injected.injected_items`).
    data_dir : Path, optional
        The ``shared/datasets`` folder.
    split : {"dev", "holdout"}, optional
        Only one half of the backgrounds.
    known_restarts : bool
        Give our detector the restart times (``analyze(restarts=...)``): an injected
        restart loop's kills, and none for every other series (as a caller who reads a
        restart counter would); the baselines have no such input.
    progress : callable, optional
        Called as ``progress(done, total, detector)`` after each verdict of each detector
        on each series (the injected set, then memorytools'); ``total`` is known from the
        first call. The replays that measure the delay of the leaks found come after each
        detector's verdicts and are not counted.

    Returns
    -------
    (report, items, outcomes)
        ``report`` is JSON-serialisable: the usual ``results`` over every series, then
        ``splits`` (the same per half of the backgrounds), the breakdown of
        :func:`detector.evaluate.injected.breakdown`, and ``memorytools`` (the real
        labelled leak, scored on its own). Precision is ``null`` for a detector that
        flagged nothing (:class:`DetectorScore`).
    """
    from . import injected

    items = injected.injected_items(seed, data_dir, split=split,
                                    known_restarts=known_restarts)
    mt = injected.memorytools_items(data_dir)
    tick = None
    if progress is not None:
        total, done = (len(items) + len(mt)) * len(names), 0

        def tick(name: str, n: int) -> None:
            nonlocal done
            done += n
            progress(done, total, name)

    scores, outcomes = run(items, names, progress=tick)
    report = {"dataset": f"injected (seed {seed})" + (f", {split} half" if split else "")
              + (", restart times known" if known_restarts else ""),
              "n_series": len(items), "seed": seed, "known_restarts": known_restarts,
              "n_backgrounds": sum(not i.leak for i in items),
              "results": [s.to_dict() for s in scores]}
    report["splits"] = {}
    for half in injected.SPLITS:
        keep = [k for k, i in enumerate(items) if i.meta["split"] == half]
        if keep:
            sub = [items[k] for k in keep]
            report["splits"][half] = {"n_series": len(sub), "results": [
                s.to_dict() for s in score_outcomes(sub, {n: [outcomes[n][k] for k in keep]
                                                          for n in names})]}
    report.update(injected.breakdown(items, outcomes))
    # test runs, judged as a CI job checking its test runs would: Config.for_test_runs()
    mt_scores, mt_outcomes = run(mt, names, progress=tick, test_runs=True)
    report["memorytools"] = {
        "n_series": len(mt), "n_leaking": sum(bool(i.leak) for i in mt),
        "detector_config": "Config.for_test_runs()",
        "results": [s.to_dict() for s in mt_scores],
        "flagged": {n: [i.id for i, o in zip(mt, outs) if o.leak]
                    for n, outs in mt_outcomes.items()}}
    return report, items, outcomes


def score_outcomes(items: Sequence[Item], outcomes: dict) -> list[DetectorScore]:
    """Precision, recall, F1 and FPR of outcomes already computed (no timing, no replay)."""
    return [_score(name, items, outs, math.nan, math.nan) for name, outs in outcomes.items()]


def _score(name: str, items: Sequence[Item], outs: Sequence[Outcome], seconds: float,
           delay: float) -> DetectorScore:
    labelled = [(i, o) for i, o in zip(items, outs) if i.leak is not None]
    conf = metrics.confusion([i.leak for i, _ in labelled], [o.leak for _, o in labelled])
    onset_errs = [metrics.onset_error(i.onset, o.onset, _span(i))
                  for i, o in labelled if i.leak and o.leak]
    # nothing flagged: precision undefined (metrics.Confusion says 1.0, which F1 relies on)
    precision = conf.precision if conf.tp + conf.fp else math.nan
    return DetectorScore(name, precision, conf.recall, conf.f1, conf.fpr,
                         metrics.median_or_nan(onset_errs), delay, seconds,
                         errors=sum(o.error is not None for o in outs))
