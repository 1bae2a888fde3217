"""Real backgrounds with injected leaks: the benchmark a detector must pass on real noise.

Every real healthy memory series in ``shared/datasets`` (Alibaba machine memory at 5 min over
8 days, Exathlon JVM heap and non-heap at 1 s over 45-60 min) is used twice: as it is (a
healthy series) and with one leak added. Which leak, and how large, is drawn per seed
(:func:`assignments`): each shape, each magnitude and each (shape, magnitude) pair goes to
as many backgrounds as any other, give or take one, over all backgrounds and within each
half; the shape's own parameters are drawn per background and seed.

Notation: ``x(t)`` is the background, ``t0`` and ``T`` its first sample and span,
``u = (t - t0) / T`` in [0, 1], ``R = p95(x) - p5(x)`` the background's own range, and
``M = m R`` the leak's size for a magnitude ``m`` in :data:`MAGNITUDES`. The injected series
is ``x(t) + g(t)`` except where a shape says otherwise:

===============  ==========================================================================
shape            formula
===============  ==========================================================================
linear           ``g = M u``; onset ``t0``
late_onset       ``g = M max(0, (u - f) / (1 - f))``, ``f ~ U(0.4, 0.8)`` (the leak spans the
                 last 20-60 % of the window); onset ``t0 + f T``
convex           ``g = M u^2`` (a leak that accelerates); onset ``t0``
stepwise         ``g = M j(t) / k``: ``k ~ {4..8}`` equal steps at jittered times
                 ``u_j = (j - U(0.1, 0.9)) / k``, ``j(t)`` the steps taken by ``t``; onset the
                 first step
floor_only       only the floor climbs: ``lo, hi`` are the rolling min and max of ``x`` over
                 ``T / 16`` (centred), ``a = hi - lo``, ``g = M u``;
                 ``x' = lo + g + (x - lo) max(a / 2, a - g) / a``. Troughs rise by ``g``, peaks
                 stay at ``hi`` until the floor has climbed half the local amplitude, then the
                 whole wave rises with half its amplitude (a heap whose live set grows collects
                 more often); onset ``t0``
through_drops    a leak that keeps growing through partial releases: ``L`` grows at a constant
                 rate and at ``K ~ {3..6}`` random times (spaced >= T / 12) loses a share
                 ``q ~ U(0.3, 0.6)`` of what it gained since the previous release; ``g = M L /
                 L(T)``, so the floor after each release is above the one before; onset ``t0``
restart_loop     an OOM-kill loop: lives of length ``T / K (1 + U(-0.2, 0.2))``, ``K ~
                 {3..6}``, follow one another from ``t0`` until one reaches ``t0 + T``, so they
                 tile the window: ``K`` to ``K + 2`` lives, the last one ongoing (cut by the
                 window's end). In each, ``g = M (t - start) / length`` climbs to ``M`` and
                 drops back to 0 at the kill; onset ``t0``
===============  ==========================================================================

No limit is passed to the detectors: the injection moves a series past its machine's real
limit, and every detector must judge growth, not headroom.

The real labelled leak of ``memorytools`` (a 9-minute unit-test run at 1 s whose control
process leaks in two revisions and not on the fixed trunk) is a separate set,
:func:`memorytools_items`.

Half of the backgrounds (by id; ``holdout.txt`` beside this module) are held out: detection
rules are developed on the other half (``dev``), and the report gives both.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

#: Injection shapes, in the order reports list them.
SHAPES = ("linear", "late_onset", "convex", "stepwise", "floor_only", "through_drops",
          "restart_loop")

#: Leak sizes as multiples of the background's p5-p95 range.
MAGNITUDES = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)

#: Sources whose series serve as backgrounds.
BACKGROUND_SOURCES = ("jindal_alibaba", "exathlon")

#: The two halves of the backgrounds.
SPLITS = ("dev", "holdout")

HOLDOUT_FILE = Path(__file__).with_name("holdout.txt")


@dataclass(frozen=True)
class Injection:
    """What was added to a background.

    Attributes
    ----------
    shape : str
        One of :data:`SHAPES`.
    magnitude : float
        Size as a multiple of the background's p5-p95 range.
    size : float
        The same in value units (``M``).
    onset : float
        Unix seconds where the injected growth begins.
    params : dict
        Every drawn parameter.
    """

    shape: str
    magnitude: float
    size: float
    onset: float
    params: dict


def holdout_ids() -> frozenset[str]:
    """Background ids (paths relative to ``shared/datasets``) of the held-out half."""
    lines = HOLDOUT_FILE.read_text().splitlines()
    return frozenset(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#"))


def split_of(background_id: str) -> str:
    """``"holdout"`` or ``"dev"``."""
    return "holdout" if background_id in holdout_ids() else "dev"


def _rng(seed: int, key: str) -> np.random.Generator:
    digest = hashlib.sha256(key.encode()).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])


def background_range(values: np.ndarray) -> float:
    """``p95 - p5`` of the finite values (value units); the unit of injected magnitudes."""
    ok = values[np.isfinite(values)]
    if ok.size == 0:
        return 0.0
    lo, hi = np.percentile(ok, [5, 95])
    return float(hi - lo)


def _rolling_extremes(t: np.ndarray, x: np.ndarray, span: float):
    """Centred rolling min and max of ``x`` over ``span`` seconds (NaN-aware, edges shrunk)."""
    import pandas as pd

    s = pd.Series(x, index=pd.to_datetime(t, unit="s"))
    # a 3-sample median first: a single scrape spike must not become the local peak
    s = s.rolling(3, center=True, min_periods=1).median()
    width = pd.Timedelta(seconds=max(span, 1.0))
    # time-based windows are trailing; shift by half a window to centre them
    lo = s.rolling(width, min_periods=1).min()
    hi = s.rolling(width, min_periods=1).max()
    half = pd.Timedelta(seconds=max(span, 1.0) / 2)
    lo = lo.reindex(s.index + half, method="nearest").to_numpy()
    hi = hi.reindex(s.index + half, method="nearest").to_numpy()
    return lo, hi


def inject(t: np.ndarray, x: np.ndarray, shape: str, magnitude: float,
           rng: np.random.Generator) -> tuple[np.ndarray, Injection]:
    """Add one leak of ``shape`` and ``magnitude`` to the background ``(t, x)``.

    Parameters
    ----------
    t : numpy.ndarray
        Unix seconds, increasing.
    x : numpy.ndarray
        Background values (NaN = missing; stays missing).
    shape : str
        One of :data:`SHAPES` (formulas in the module docstring).
    magnitude : float
        Size of the leak as a multiple of the background's p5-p95 range.
    rng : numpy.random.Generator
        Draws the shape's parameters.

    Returns
    -------
    (values, Injection)
    """
    if shape not in SHAPES:
        raise InputError(f"unknown injection shape {shape!r}; choose from {', '.join(SHAPES)}",
                         source="inject")
    t = np.asarray(t, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    t0, span = float(t[0]), float(t[-1] - t[0])
    u = (t - t0) / span
    size = magnitude * background_range(x)
    params: dict = {}
    onset = t0
    if shape == "linear":
        g = size * u
    elif shape == "late_onset":
        f = float(rng.uniform(0.4, 0.8))
        params["onset_fraction"] = f
        g = size * np.maximum(0.0, (u - f) / (1 - f))
        onset = t0 + f * span
    elif shape == "convex":
        g = size * u ** 2
    elif shape == "stepwise":
        k = int(rng.integers(4, 9))
        steps = (np.arange(1, k + 1) - rng.uniform(0.1, 0.9, k)) / k
        params.update(steps=k, step_fractions=[float(s) for s in steps])
        g = size * np.searchsorted(steps, u, side="right") / k
        onset = t0 + float(steps[0]) * span
    elif shape == "floor_only":
        lo, hi = _rolling_extremes(t, x, span / 16)
        amp = np.maximum(hi - lo, 1e-12 * max(1.0, float(np.nanmax(np.abs(x)))))
        g = size * u
        new_amp = np.maximum(0.5 * amp, amp - g)
        return lo + g + (x - lo) * new_amp / amp, Injection(shape, magnitude, size, onset, params)
    elif shape == "through_drops":
        k = int(rng.integers(3, 7))
        times = _spaced(rng, k, 0.1, 0.95, 1 / 12)
        shares = rng.uniform(0.3, 0.6, k)
        params.update(releases=k, release_fractions=[float(v) for v in times],
                      release_shares=[float(v) for v in shares])
        # segment j starts at release j (w_0 = 0) holding kept_j of the leak
        w = np.concatenate(([0.0], times))
        kept = np.zeros(k + 1)
        for j in range(1, k + 1):
            kept[j] = kept[j - 1] + (w[j] - w[j - 1]) * (1 - shares[j - 1])
        seg = np.searchsorted(times, u, side="right")
        leak = kept[seg] + (u - w[seg])
        g = size * leak / leak[-1]
    else:  # restart_loop
        k = int(rng.integers(3, 7))
        # K - 1 lives of under 1.2 T / K end before t0 + T, and K + 2 of at least 0.8 T / K
        # reach it: the window holds K to K + 2 lives
        lengths = span / k * (1 + rng.uniform(-0.2, 0.2, k + 2))
        n = int(np.searchsorted(np.cumsum(lengths), span, side="left")) + 1
        lengths = lengths[:n]  # the lives until the one reaching the window's end (ongoing)
        starts = t0 + np.concatenate(([0.0], np.cumsum(lengths)[:-1]))
        params.update(k=k, lives=n, life_lengths=[float(v) for v in lengths],
                      life_start_fractions=[float(v) for v in (starts - t0) / span])
        life = np.searchsorted(starts, t, side="right") - 1
        g = size * (t - starts[life]) / lengths[life]
    return x + g, Injection(shape, magnitude, size, onset, params)


def _spaced(rng: np.random.Generator, k: int, lo: float, hi: float, gap: float) -> np.ndarray:
    """``k`` sorted uniform draws in ``[lo, hi]`` at least ``gap`` apart."""
    free = (hi - lo) - gap * (k - 1)
    draws = np.sort(rng.uniform(0, free, k))
    return lo + draws + gap * np.arange(k)


def assignments(ids: list[str], seed: int) -> dict[str, tuple[str, float]]:
    """Shape and magnitude per background: every shape, magnitude and pair of them evenly.

    The backgrounds are put in one row, the dev half first and then the held-out half,
    each half shuffled by ``seed``. The background at place ``r`` of the row gets shape
    ``r mod 7`` and magnitude ``r mod 6`` (in an order of the shapes and one of the
    magnitudes also drawn by ``seed``). As 7 and 6 are coprime, every 42 consecutive places
    hold each of the 42 (shape, magnitude) pairs once, so per seed:

    - each shape, each magnitude and each pair is given to ``n / 7``, ``n / 6`` and
      ``n / 42`` backgrounds, rounded down or up (``n`` backgrounds); every shape thus gets
      every magnitude about equally often, and every magnitude is as common as any other;
    - the same holds within each half on its own (a half is a run of consecutive places),
      so ``--split dev`` and ``--split holdout`` are balanced too.

    Which pairs get the extra background, and which background gets which pair, change
    with the seed. The plan depends only on ``ids`` and ``seed`` (the halves come from
    ``holdout.txt``).
    """
    rng = np.random.default_rng(seed)
    shape_order = rng.permutation(len(SHAPES))
    magnitude_order = rng.permutation(len(MAGNITUDES))
    row: list[str] = []
    for half in SPLITS:
        members = sorted(i for i in set(ids) if split_of(i) == half)
        row += [members[k] for k in rng.permutation(len(members))]
    return {bid: (SHAPES[shape_order[r % len(SHAPES)]],
                  MAGNITUDES[magnitude_order[r % len(MAGNITUDES)]])
            for r, bid in enumerate(row)}


def injected_items(seed: int, data_dir: Path | None = None, split: str | None = None, *,
                   known_restarts: bool = False):
    """The dataset: every background plain and with one injected leak.

    Parameters
    ----------
    seed : int
        Draws each background's shape, magnitude and the shape's parameters.
    data_dir : Path, optional
        The ``shared/datasets`` folder (default: found as for the other real sets).
    split : {"dev", "holdout"}, optional
        Only the backgrounds of one half.
    known_restarts : bool
        Give every item its restart times (``Item.restarts``, unix seconds): a restart
        loop's kills (the starts of its lives after the first), none for every other
        series (the backgrounds' own drops are not restarts a counter would show).

    Returns
    -------
    list of runner.Item
        Plain twins first (``pattern="plain"``), then the leaking series (``pattern`` the
        shape); ``meta`` holds background, source, split, shape, magnitude and parameters.
    """
    from .realdata import find_data_dir, load
    from .runner import Item

    if split is not None and split not in SPLITS:
        raise InputError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}",
                         source="--split")
    folder = find_data_dir(data_dir)
    if folder is None:
        raise InputError("the real datasets were not found: pass --data-dir (the "
                         "shared/datasets folder) or set DETECTOR_DATA_DIR", source="--dataset")
    everything = list(load(folder, sources=BACKGROUND_SOURCES))
    if not everything:
        raise InputError("no background series found", source=str(folder))
    # drawn over every background, so a half holds exactly its part of the whole
    plan = assignments(sorted(r.id for r in everything), seed)
    backgrounds = [r for r in everything if split is None or split_of(r.id) == split]
    plain, leaking = [], []
    for r in backgrounds:
        t = np.array(r.series.timestamps, dtype=np.float64)
        x = np.array(r.series.values, dtype=np.float64)
        meta = {"background": r.id, "source": r.source, "split": split_of(r.id)}
        none = np.empty(0) if known_restarts else None
        plain.append(Item(r.id, t, x, None, False, None, "plain", meta=meta, restarts=none))
        shape, magnitude = plan[r.id]
        values, inj = inject(t, x, shape, magnitude, _rng(seed, r.id))
        kills = none
        if known_restarts and "life_start_fractions" in inj.params:
            kills = t[0] + np.array(inj.params["life_start_fractions"][1:]) * (t[-1] - t[0])
        leaking.append(Item(f"{r.id}+{shape}@{magnitude:g}", t, values, None, True, inj.onset,
                            shape, meta={**meta, "shape": shape, "magnitude": magnitude,
                                         "size": inj.size, "params": inj.params},
                            restarts=kills))
    return plain + leaking


def memorytools_items(data_dir: Path | None = None):
    """The real labelled leak: memorytools' unit-test runs (virtual memory, 1 s, ~9 min).

    Positives: ``tdcsarvControl`` in revisions 377208 (1.6 to 7.9 GB) and 382396 (one step,
    2942 to 3006 MiB). Negatives: every process of the fixed revision 387927, and the other
    processes of the leaking revisions (unlabelled, flat by inspection).
    """
    import json

    from .realdata import find_data_dir, load
    from .runner import Item

    folder = find_data_dir(data_dir)
    if folder is None:
        raise InputError("the real datasets were not found: pass --data-dir (the "
                         "shared/datasets folder) or set DETECTOR_DATA_DIR", source="--dataset")
    labels = json.loads((folder / "labels.json").read_text())["series"]
    items = []
    for r in load(folder, sources=("memorytools",)):
        lab = labels[r.id]
        leak = lab.get("leak") == "leak"
        kind = "labelled leak" if leak else ("fixed revision" if lab.get("leak") == "normal" or
                                             str(lab.get("revision")) == "387927"
                                             else "unlabelled, flat")
        items.append(Item(r.id, np.array(r.series.timestamps, dtype=np.float64),
                          np.array(r.series.values, dtype=np.float64), None, leak, None,
                          "memorytools", meta={"source": "memorytools", "kind": kind,
                                               "revision": lab.get("revision")}))
    return items


def breakdown(items, outcomes) -> dict:
    """Recall per shape, per magnitude and per shape and magnitude; FPR per source.

    Over whatever ``items`` hold (both halves, or one): rates per half of the backgrounds
    are in the report's ``splits``, or come from calling this on one half's items.

    Parameters
    ----------
    items : list of runner.Item
        From :func:`injected_items`.
    outcomes : dict
        Detector name -> list of runner.Outcome, aligned with ``items``.

    Returns
    -------
    dict
        JSON-serialisable: ``recall_by_shape``, ``recall_by_magnitude``,
        ``recall_by_shape_magnitude`` (detector -> key -> ``{"recall", "n"}``),
        ``fpr_by_source`` (detector -> source -> ``{"fpr", "n"}``, over the plain
        backgrounds) and ``recall_at_least_half_range`` (magnitudes >= 0.5) per detector.
        A rate over no series is ``None``.
    """
    def rate(hits):
        return {"recall": float(np.mean(hits)) if hits else None, "n": len(hits)}

    out = {"recall_by_shape": {}, "recall_by_magnitude": {}, "recall_by_shape_magnitude": {},
           "fpr_by_source": {}, "recall_at_least_half_range": {}}
    for name, outs in outcomes.items():
        pairs = list(zip(items, outs))
        pos = [(i, o) for i, o in pairs if i.leak]
        neg = [(i, o) for i, o in pairs if not i.leak]
        out["recall_by_shape"][name] = {s: rate([o.leak for i, o in pos if i.pattern == s])
                                        for s in SHAPES}
        out["recall_by_magnitude"][name] = {
            f"{m:g}": rate([o.leak for i, o in pos if i.meta["magnitude"] == m])
            for m in MAGNITUDES}
        out["recall_by_shape_magnitude"][name] = {
            s: {f"{m:g}": rate([o.leak for i, o in pos if i.pattern == s and
                                i.meta["magnitude"] == m]) for m in MAGNITUDES}
            for s in SHAPES}
        sources = sorted({i.meta["source"] for i, _ in neg})
        out["fpr_by_source"][name] = {
            src: {"fpr": float(np.mean([o.leak for i, o in neg if i.meta["source"] == src])),
                  "n": sum(i.meta["source"] == src for i, _ in neg)} for src in sources}
        out["recall_at_least_half_range"][name] = rate(
            [o.leak for i, o in pos if i.meta["magnitude"] >= 0.5])
    return out
