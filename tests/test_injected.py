"""`detector eval --dataset injected`: the injected shapes, the plan, the split, the report.

Every formula is checked against a computation written here from the module docstring's
table, on real backgrounds from ../shared/datasets (and, where a property needs a clean
wave, on a plain sawtooth). The CLI runs once, on a small copy of the data directory (a
labels.json naming a few real files, linked), so the whole file stays well under 20 s.
"""

import collections
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from detector.cli import app
from detector.evaluate import injected as I
from detector.evaluate import runner as R
from detector.evaluate.realdata import find_data_dir, load

DATA = find_data_dir()
pytestmark = pytest.mark.skipif(DATA is None, reason="../shared/datasets not present")

KEYS = {"detector", "precision", "recall", "f1", "fpr", "onset_error", "delay", "seconds"}
MAG_KEYS = ["0.25", "0.5", "0.75", "1", "1.5", "2"]
# one of each kind of background: a GC sawtooth (1 s), a warming non-heap, an Alibaba machine
# (5 min over 8 days, with gaps of hours)
PICKS = ("exathlon/1_0_100000_15_driver_heap_used.csv",
         "exathlon/1_0_100000_15_driver_nonheap_used.csv",
         "jindal_alibaba/unlabelled/m_1095.csv")


@pytest.fixture(scope="module")
def backgrounds():
    return {r.id: (np.array(r.series.timestamps, dtype=np.float64),
                   np.array(r.series.values, dtype=np.float64))
            for r in load(DATA, sources=I.BACKGROUND_SOURCES)}


@pytest.fixture(scope="module")
def items0():
    return I.injected_items(0)


def p5_p95(x):
    lo, hi = np.percentile(x[np.isfinite(x)], [5, 95])
    return hi - lo


def added(bg, shape, magnitude=1.0, seed=0):
    """(t, u, x, g = injected - x, M, Injection) for one background."""
    t, x = bg
    v, inj = I.inject(t, x, shape, magnitude, np.random.default_rng(seed))
    u = (t - t[0]) / (t[-1] - t[0])
    size = magnitude * p5_p95(x)
    assert inj.size == pytest.approx(size, rel=1e-12) and inj.magnitude == magnitude
    assert inj.shape == shape
    return t, u, x, v - x, size, inj


# --- the shapes ------------------------------------------------------------------------


@pytest.mark.parametrize("bid", PICKS)
def test_linear_adds_exactly_m_u(backgrounds, bid):
    t, u, x, g, size, inj = added(backgrounds[bid], "linear", 0.75)
    np.testing.assert_allclose(g, size * u, rtol=0, atol=1e-9 * size)
    assert inj.onset == t[0]


@pytest.mark.parametrize("bid", PICKS)
def test_convex_adds_m_u_squared(backgrounds, bid):
    t, u, x, g, size, inj = added(backgrounds[bid], "convex", 1.5)
    np.testing.assert_allclose(g, size * u ** 2, rtol=0, atol=1e-9 * size)
    assert g[-1] == pytest.approx(size) and inj.onset == t[0]


@pytest.mark.parametrize("bid", PICKS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_late_onset_is_zero_before_the_onset_and_m_at_the_end(backgrounds, bid, seed):
    t, u, x, g, size, inj = added(backgrounds[bid], "late_onset", 0.5, seed)
    f = inj.params["onset_fraction"]
    assert 0.4 <= f <= 0.8
    assert inj.onset == pytest.approx(t[0] + f * (t[-1] - t[0]))
    before = t < inj.onset
    assert before.sum() > 0 and np.all(g[before] == 0)
    np.testing.assert_allclose(g[~before], size * (u[~before] - f) / (1 - f), atol=1e-9 * size)
    assert g[-1] == pytest.approx(size)
    assert np.all(np.diff(g) >= -1e-9 * size)


@pytest.mark.parametrize("bid", PICKS)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_stepwise_has_k_equal_steps(backgrounds, bid, seed):
    t, u, x, g, size, inj = added(backgrounds[bid], "stepwise", 1.0, seed)
    k, steps = inj.params["steps"], np.array(inj.params["step_fractions"])
    assert 4 <= k <= 8 and steps.size == k
    for j, s in enumerate(steps, start=1):  # u_j = (j - U(0.1, 0.9)) / k
        assert (j - 0.9) / k <= s <= (j - 0.1) / k
    expected = size / k * np.array([np.sum(steps <= ui) for ui in u])
    np.testing.assert_allclose(g, expected, atol=1e-9 * size)
    assert g[0] == 0 and g[-1] == pytest.approx(size)
    assert inj.onset == pytest.approx(t[0] + steps[0] * (t[-1] - t[0]))
    if bid.startswith("exathlon"):  # dense sampling: every step is its own jump of M / k
        jumps = np.diff(g)[np.diff(g) > 1e-9 * size]
        assert jumps.size == k
        np.testing.assert_allclose(jumps, size / k, rtol=1e-9)


def sawtooth(n=20000, period=200, amplitude=100.0, base=1000.0):
    t = np.arange(n, dtype=np.float64)
    return t, base + amplitude * (t % period) / period


def test_floor_only_raises_troughs_by_g_and_keeps_peaks_until_half_the_amplitude():
    t, x = sawtooth()
    period, amp = 200, 100.0 * 199 / 200  # sampled amplitude of the wave
    magnitude = 2.0
    v, inj = I.inject(t, x, "floor_only", magnitude, np.random.default_rng(0))
    size = magnitude * p5_p95(x)
    assert inj.size == pytest.approx(size) and size > amp  # the floor passes half the wave
    g = size * (t - t[0]) / (t[-1] - t[0])
    cycles = t.size // period
    for c in range(1, cycles - 1):
        sl = slice(c * period, (c + 1) * period)
        trough, peak = v[sl].min(), v[sl].max()
        g_trough = g[c * period]  # troughs sit at the first sample of each cycle
        # troughs rise by g (to within the 3-sample smoothing of the rolling floor)
        assert trough - x[sl].min() == pytest.approx(g_trough, abs=0.02 * amp)
        g_peak = g[(c + 1) * period - 1]
        if g_peak < 0.45 * amp:  # peaks stay while the floor is under half the amplitude
            assert peak == pytest.approx(x[sl].max(), abs=0.02 * amp)
        elif g[c * period] > 0.55 * amp:  # then the wave rises with half its amplitude
            assert peak - trough == pytest.approx(amp / 2, abs=0.02 * amp)
            assert peak - x[sl].max() == pytest.approx(g_peak - amp / 2, abs=0.02 * amp)


def test_floor_only_on_a_real_heap_matches_the_formula(backgrounds):
    bid = PICKS[0]
    t, x = backgrounds[bid]
    v, inj = I.inject(t, x, "floor_only", 0.5, np.random.default_rng(0))
    span = t[-1] - t[0]
    lo, hi = I._rolling_extremes(t, x, span / 16)
    # the local floor and ceiling are those of the background around each sample
    assert np.all(lo <= hi)
    a = hi - lo
    g = inj.size * (t - t[0]) / span
    expected = lo + g + (x - lo) * np.maximum(a / 2, a - g) / a
    np.testing.assert_allclose(v, expected, rtol=1e-12)
    # in blocks of T/16, the lowest value rises by about the leak there, the highest by less
    blocks = np.array_split(np.arange(t.size), 16)
    rise_lo = np.array([v[b].min() - x[b].min() for b in blocks])
    g_mid = np.array([g[b].mean() for b in blocks])
    assert np.all(np.abs(rise_lo - g_mid) <= inj.size / 16 + 0.05 * np.median(a))
    rise_hi = np.array([v[b].max() - x[b].max() for b in blocks])
    assert np.all(rise_hi <= rise_lo + 0.05 * np.median(a))


def released_leak(u, releases, shares):
    """L(u) = u - sum over releases r_j <= u of q_j (r_j - r_(j-1)), r_0 = 0."""
    prev = np.concatenate(([0.0], releases[:-1]))
    lost = np.array([np.sum(((releases <= ui) * shares * (releases - prev))) for ui in u])
    return u - lost


@pytest.mark.parametrize("bid", PICKS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_through_drops_floors_rise_after_each_release(backgrounds, bid, seed):
    t, u, x, g, size, inj = added(backgrounds[bid], "through_drops", 2.0, seed)
    k = inj.params["releases"]
    r = np.array(inj.params["release_fractions"])
    q = np.array(inj.params["release_shares"])
    assert 3 <= k <= 6 and r.size == q.size == k
    assert np.all((0.1 <= r) & (r <= 0.95)) and np.all(np.diff(r) >= 1 / 12 - 1e-12)
    assert np.all((0.3 <= q) & (q <= 0.6))
    leak = released_leak(u, r, q)
    np.testing.assert_allclose(g, size * leak / leak[-1], atol=1e-9 * size)
    assert g[0] == 0 and g[-1] == pytest.approx(size)
    floors = size * released_leak(r, r, q) / leak[-1]  # the level just after each release
    assert np.all(np.diff(floors) > 0) and floors[0] > 0
    # every drop is a release: exactly k of them where samples fall on both sides
    drops = np.flatnonzero(np.diff(g) < 0)
    assert 1 <= drops.size <= k
    if bid.startswith("exathlon"):
        assert drops.size == k


def check_lives(t, g, size, inj):
    """The lives of a restart loop tile the window; each climbs to M and drops to 0."""
    span = t[-1] - t[0]
    k, n = inj.params["k"], inj.params["lives"]
    lengths = np.array(inj.params["life_lengths"])
    starts = t[0] + span * np.array(inj.params["life_start_fractions"])
    assert 3 <= k <= 6 and k <= n <= k + 2 and lengths.size == starts.size == n
    assert np.all((lengths >= 0.8 * span / k - 1e-6) & (lengths <= 1.2 * span / k + 1e-6))
    assert starts[0] == t[0]
    np.testing.assert_allclose(starts[1:], starts[:-1] + lengths[:-1], rtol=1e-12)
    assert starts[-1] < t[-1] <= starts[-1] + lengths[-1] + 1e-6  # the last one is ongoing
    assert np.all(g >= -1e-9 * size) and np.all(g <= size * (1 + 1e-9))
    life = np.searchsorted(starts, t, side="right") - 1
    np.testing.assert_allclose(g, size * (t - starts[life]) / lengths[life], atol=1e-9 * size)
    step = np.max(np.diff(t))
    for i in range(n - 1):  # every complete life: up to M just before its kill, then 0
        inside = np.flatnonzero(life == i)
        after = np.flatnonzero(life == i + 1)
        assert g[inside[-1]] >= size * (1 - step / lengths[i]) - 1e-9 * size
        assert g[after[0]] <= size * step / lengths[i + 1] + 1e-9 * size
    assert np.sum(np.diff(g) < 0) == n - 1


@pytest.mark.parametrize("bid", PICKS)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_restart_loop_lives_tile_the_window(backgrounds, bid, seed):
    t, u, x, g, size, inj = added(backgrounds[bid], "restart_loop", 1.0, seed)
    check_lives(t, g, size, inj)
    assert inj.onset == t[0]


def test_restart_loop_always_holds_k_to_k_plus_2_lives():
    t = np.arange(0.0, 3600.0, 1.0)
    x = np.sin(t / 40)
    seen = collections.Counter()
    for seed in range(300):
        v, inj = I.inject(t, x, "restart_loop", 1.0, np.random.default_rng(seed))
        check_lives(t, v - x, inj.size, inj)
        seen[inj.params["lives"] - inj.params["k"]] += 1
    assert set(seen) <= {0, 1, 2} and {0, 1} <= set(seen)


# --- sizes -----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", I.SHAPES)
def test_sizes_are_multiples_of_the_p5_p95_range(backgrounds, shape):
    t, x = backgrounds[PICKS[2]]
    r = p5_p95(x)
    for m in I.MAGNITUDES:
        v, inj = I.inject(t, x, shape, m, np.random.default_rng(1))
        assert inj.size == pytest.approx(m * r)
        # a level shift leaves the size alone; a scale scales it (range, not level)
        _, shifted = I.inject(t, x + 1e6, shape, m, np.random.default_rng(1))
        _, scaled = I.inject(t, 3 * x, shape, m, np.random.default_rng(1))
        assert shifted.size == pytest.approx(inj.size) and scaled.size == pytest.approx(3 * m * r)
        g = v - x
        if shape in ("linear", "late_onset", "convex", "stepwise", "through_drops"):
            assert g[-1] == pytest.approx(m * r)  # the leak has grown by M at the end
        if shape in ("linear", "late_onset", "convex", "stepwise"):
            assert np.max(g) == pytest.approx(m * r)  # (through_drops peaks higher before
        if shape == "restart_loop":                   # its last release)
            assert np.max(g) == pytest.approx(m * r, rel=0.01)  # every complete life


def test_unknown_shape_is_an_input_error(backgrounds):
    from detector.errors import InputError

    t, x = backgrounds[PICKS[0]]
    with pytest.raises(InputError, match="unknown injection shape"):
        I.inject(t, x, "sawtooth", 1.0, np.random.default_rng(0))


# --- the dataset: determinism, split, coverage -------------------------------------------


def test_items_plain_twins_and_leaks(items0, backgrounds):
    plain = [i for i in items0 if not i.leak]
    leaking = [i for i in items0 if i.leak]
    assert len(plain) == len(leaking) == len(backgrounds) == len(items0) // 2
    assert items0[:len(plain)] == plain  # plain twins first
    for p, q in zip(plain, leaking):
        t, x = backgrounds[p.id]
        assert p.pattern == "plain" and p.onset is None and p.limit is None
        assert np.array_equal(p.values, x) and np.array_equal(q.timestamps, t)
        assert q.meta["background"] == p.id and q.pattern == q.meta["shape"]
        assert q.id == f"{p.id}+{q.meta['shape']}@{q.meta['magnitude']:g}"
        assert q.meta["size"] == pytest.approx(q.meta["magnitude"] * p5_p95(x))
        assert q.limit is None and t[0] <= q.onset < t[-1]


def test_deterministic_per_seed_and_different_across_seeds(items0):
    again = I.injected_items(0, split="holdout")  # also: a half is exactly its part
    part = [i for i in items0 if i.meta["split"] == "holdout"]
    assert [i.id for i in again] == [i.id for i in part]
    for a, b in zip(again, part):
        assert np.array_equal(a.values, b.values) and a.onset == b.onset
        assert a.meta == b.meta
    other = I.injected_items(1)
    plan0 = {i.meta["background"]: i.pattern for i in items0 if i.leak}
    plan1 = {i.meta["background"]: i.pattern for i in other if i.leak}
    assert plan0.keys() == plan1.keys()
    assert sum(plan0[k] != plan1[k] for k in plan0) > len(plan0) / 2
    same_plan = [(a, b) for a, b in zip(items0, other)
                 if a.leak and a.id == b.id and a.pattern not in ("linear", "convex", "floor_only")]
    # the same shape and size with seed-drawn parameters draws them anew
    assert all(not np.array_equal(a.values, b.values) for a, b in same_plan)


def holdout_file_ids():
    path = Path(I.__file__).with_name("holdout.txt")
    return {ln.strip() for ln in path.read_text().splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")}


def test_split_is_a_partition_by_id_matching_holdout_txt(items0):
    dev = I.injected_items(0, split="dev")
    ids = {i.id for i in items0 if not i.leak}
    dev_ids = {i.id for i in dev if not i.leak}
    hold_ids = {i.id for i in items0 if not i.leak and i.meta["split"] == "holdout"}
    assert dev_ids | hold_ids == ids and not dev_ids & hold_ids
    assert hold_ids == holdout_file_ids() == set(I.holdout_ids())
    assert all(i.meta["split"] == "dev" for i in dev)
    assert all(I.split_of(i) == ("holdout" if i in hold_ids else "dev") for i in ids)
    assert 0.4 <= len(hold_ids) / len(ids) <= 0.6
    # the four series of an Exathlon trace share one run: they stay in one half
    traces = collections.defaultdict(set)
    for i in ids:
        if i.startswith("exathlon/"):
            traces[re.match(r"exathlon/(\d+_\d+_\d+_\d+)_", i).group(1)].add(I.split_of(i))
    assert traces and all(len(s) == 1 for s in traces.values())
    # leaking twins follow their background
    assert all(i.meta["split"] == I.split_of(i.meta["background"]) for i in items0)


def test_bad_split_is_an_input_error():
    from detector.errors import InputError

    with pytest.raises(InputError, match="unknown split 'test'"):
        I.injected_items(0, split="test")


def spread(counter, keys):
    counts = [counter.get(k, 0) for k in keys]
    return max(counts) - min(counts)


@pytest.mark.parametrize("seed", range(5))
def test_even_coverage_of_shapes_and_magnitudes(items0, seed):
    ids = sorted(i.id for i in items0 if not i.leak)
    plan = I.assignments(ids, seed)
    assert set(plan) == set(ids)
    pairs = [(s, m) for s in I.SHAPES for m in I.MAGNITUDES]
    for half in (None, "dev", "holdout"):
        chosen = [v for k, v in plan.items() if half is None or I.split_of(k) == half]
        assert len(chosen) >= len(pairs)  # so every pair appears
        assert spread(collections.Counter(s for s, _ in chosen), I.SHAPES) <= 1
        assert spread(collections.Counter(m for _, m in chosen), I.MAGNITUDES) <= 1
        assert spread(collections.Counter(chosen), pairs) <= 1
    assert plan == I.assignments(list(reversed(ids)), seed)  # by id, not by order given
    if seed == 0:
        assert {i.meta["background"]: (i.pattern, i.meta["magnitude"])
                for i in items0 if i.leak} == plan


def test_memorytools_items():
    mt = I.memorytools_items()
    leaking = sorted(i.id for i in mt if i.leak)
    assert leaking == ["memorytools/tdcsarv_377208/tdcsarvControl.csv",
                       "memorytools/tdcsarv_382396/tdcsarvControl.csv"]
    assert len(mt) == 36 and all(i.pattern == "memorytools" for i in mt)


# --- scores ------------------------------------------------------------------------------


def test_precision_is_none_when_nothing_is_flagged():
    items = [R.Item("a", np.arange(3.0), np.zeros(3), leak=True),
             R.Item("b", np.arange(3.0), np.zeros(3), leak=False)]
    row = R.score_outcomes(items, {"quiet": [R.Outcome(False), R.Outcome(False)]})[0]
    d = row.to_dict()
    assert d["precision"] is None and d["recall"] == 0.0 and d["f1"] == 0.0 and d["fpr"] == 0.0
    row = R.score_outcomes(items, {"loud": [R.Outcome(True), R.Outcome(True)]})[0].to_dict()
    assert row["precision"] == 0.5 and row["recall"] == 1.0
    healthy = R.score_outcomes(items[1:], {"quiet": [R.Outcome(False)]})[0].to_dict()
    assert healthy["precision"] is None and healthy["recall"] is None and healthy["f1"] is None


# --- the report and the CLI, on a small copy of the data directory -----------------------


@pytest.fixture(scope="module")
def small_data(tmp_path_factory, items0):
    """A labels.json naming 8 dev backgrounds, 4 held-out ones and 4 memorytools runs."""
    labels = json.loads((DATA / "labels.json").read_text())
    dev = sorted(i.id for i in items0 if not i.leak and i.meta["split"] == "dev")
    hold = sorted(holdout_file_ids())
    ali = [i for i in dev if i.startswith("jindal")]
    exa = [i for i in dev if i.startswith("exathlon")]
    keep = ali[:4] + exa[:4] + hold[:2] + hold[-2:] + [
        "memorytools/tdcsarv_377208/tdcsarvControl.csv",
        "memorytools/tdcsarv_382396/tdcsarvControl.csv",
        "memorytools/tdcsarv_387927/tdcsarvControl.csv",
        "memorytools/tdcsarv_387927/tdcsimControl.csv"]
    root = tmp_path_factory.mktemp("datasets")
    for rel in keep:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(DATA / rel)
    labels["series"] = {k: labels["series"][k] for k in keep}
    (root / "labels.json").write_text(json.dumps(labels))
    return root


@pytest.fixture(scope="module")
def cli_report(small_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "injected.json"
    res = CliRunner().invoke(app, ["eval", "--dataset", "injected", "--format", "json",
                                   "--output", str(out), "--seed", "0", "--split", "dev",
                                   "--data-dir", str(small_data)])
    assert res.exit_code == 0, res.output
    assert res.stdout == "" and res.stderr == ""  # no bar off a terminal
    return json.loads(out.read_text())


def rate_ok(v):
    return v is None or 0.0 <= v <= 1.0


def test_cli_json_schema(cli_report):
    rep = cli_report
    names = list(R.DETECTORS)
    assert names == ["detector", "prometheus", "coroot", "band", "mann_kendall", "precog"]
    assert rep["dataset"] == "injected (seed 0), dev half" and rep["seed"] == 0
    assert rep["n_backgrounds"] == 8 and rep["n_series"] == 16
    assert [r["detector"] for r in rep["results"]] == names
    for r in rep["results"]:
        assert KEYS <= set(r) and r["errors"] == 0
        assert all(rate_ok(r[k]) for k in ("precision", "recall", "f1", "fpr"))
        assert r["recall"] is not None and r["fpr"] is not None
    assert list(rep["splits"]) == ["dev"] and rep["splits"]["dev"]["n_series"] == 16
    for a, b in zip(rep["results"], rep["splits"]["dev"]["results"]):
        assert a["detector"] == b["detector"]
        assert all(a[k] == b[k] for k in ("precision", "recall", "f1", "fpr"))
    for key, want in (("recall_by_shape", list(I.SHAPES)), ("recall_by_magnitude", MAG_KEYS)):
        assert list(rep[key]) == names
        for name, per in rep[key].items():
            assert list(per) == want
            assert sum(v["n"] for v in per.values()) == 8
            assert all(v["n"] >= 1 for v in per.values())  # 8 backgrounds: every shape/size
            assert all(rate_ok(v["recall"]) for v in per.values())
            hits = sum(v["recall"] * v["n"] for v in per.values())
            row = next(r for r in rep["results"] if r["detector"] == name)
            assert hits / 8 == pytest.approx(row["recall"])
    for name, per in rep["recall_by_shape_magnitude"].items():
        assert list(per) == list(I.SHAPES)
        assert all(list(cell) == MAG_KEYS for cell in per.values())
        assert sum(c["n"] for cell in per.values() for c in cell.values()) == 8
        for s in I.SHAPES:
            cells = [c for c in per[s].values() if c["n"]]
            assert sum(c["recall"] * c["n"] for c in cells) == pytest.approx(
                rep["recall_by_shape"][name][s]["recall"] * rep["recall_by_shape"][name][s]["n"])
    for name, per in rep["fpr_by_source"].items():
        assert set(per) == {"exathlon", "jindal_alibaba"}
        assert per["exathlon"]["n"] == 4 and per["jindal_alibaba"]["n"] == 4
        row = next(r for r in rep["results"] if r["detector"] == name)
        assert (per["exathlon"]["fpr"] + per["jindal_alibaba"]["fpr"]) / 2 == pytest.approx(
            row["fpr"])
    assert list(rep["recall_at_least_half_range"]) == names
    mt = rep["memorytools"]
    assert mt["n_series"] == 4 and mt["n_leaking"] == 2
    assert [r["detector"] for r in mt["results"]] == names and list(mt["flagged"]) == names
    for r in mt["results"]:
        assert KEYS <= set(r)
        # null precision exactly when the detector flagged none of the four runs
        assert (r["precision"] is None) == (not mt["flagged"][r["detector"]])


def test_report_renders_as_a_table(cli_report):
    text = R.render_table(cli_report)
    assert text.startswith("dataset: injected (seed 0), dev half (16 series)")
    for needle in ("recall by shape", "recall by magnitude", "FPR) by source",
                   "memorytools: the real labelled leak", *I.SHAPES):
        assert needle in text


def test_injected_report_progress(small_data):
    calls = []
    rep, items, outcomes = R.injected_report(["coroot"], 0, small_data, split="holdout",
                                             progress=lambda *a: calls.append(a))
    total = (len(items) + 4) * 1
    assert len(items) == 8 and rep["n_backgrounds"] == 4
    assert [c[0] for c in calls] == list(range(1, total + 1))
    assert {c[1] for c in calls} == {total} and {c[2] for c in calls} == {"coroot"}


def test_known_restarts_are_the_kills_of_a_loop_and_none_elsewhere(items0):
    items = I.injected_items(0, split="dev", known_restarts=True)
    part = [i for i in items0 if i.meta["split"] == "dev"]
    assert [i.id for i in items] == [i.id for i in part]
    assert all(i.restarts is None for i in part)  # unknown unless asked for
    loops = 0
    for i in items:
        if i.pattern != "restart_loop":
            assert i.restarts is not None and i.restarts.size == 0
            continue
        loops += 1
        t = i.timestamps
        # the starts of the lives after the first, where the injected leak falls to 0
        lives = np.array(i.meta["params"]["life_start_fractions"])
        assert np.allclose(i.restarts, t[0] + lives[1:] * (t[-1] - t[0]))
        after = np.searchsorted(t, i.restarts)
        background = dict((p.id, p.values) for p in part if not p.leak)[i.meta["background"]]
        added = i.values - background
        ok = after < t.size
        assert np.all(added[after[ok]] < added[after[ok] - 1])
    assert loops >= 5


def test_known_restarts_reach_our_detector_and_only_it(small_data):
    rep, items, outcomes = R.injected_report(["detector", "coroot"], 0, small_data,
                                             split="dev", known_restarts=True)
    assert rep["known_restarts"] is True and rep["dataset"].endswith("restart times known")
    plain, plain_items, plain_outcomes = R.injected_report(["detector", "coroot"], 0,
                                                           small_data, split="dev")
    assert plain["known_restarts"] is False
    assert [i.id for i in plain_items] == [i.id for i in items]
    # the baselines see no restarts: the same verdicts either way
    assert [o.leak for o in outcomes["coroot"]] == [o.leak for o in plain_outcomes["coroot"]]
    assert any(o.leak for o in outcomes["coroot"])  # (it flags some: the comparison bites)
    # ours is called with them: a restart loop it misses from the drops alone is found
    t, v, kills = loop_for_the_runner()
    item = R.Item("loop", t, v, None, True, float(t[0]), "restart_loop", restarts=kills)
    blind = R.Item("loop", t, v, None, True, float(t[0]), "restart_loop")
    assert R.run([item], ["detector"])[1]["detector"][0].leak
    assert not R.run([blind], ["detector"])[1]["detector"][0].leak


def loop_for_the_runner():
    from test_given_restarts import loop_on_a_moving_background

    return loop_on_a_moving_background(1)


@pytest.mark.parametrize("args,match", [
    (["--dataset", "injected", "--split", "test"],
     "detector: error: --split: unknown split 'test'; choose from dev, holdout"),
    (["--dataset", "synthetic", "--split", "dev"],
     "detector: error: --split: --split applies to --dataset injected only"),
    (["--dataset", "synthetic", "--known-restarts"],
     "detector: error: --known-restarts: --known-restarts applies to --dataset injected "
     "only"),
])
def test_bad_split_exits_2_with_one_line(args, match):
    res = CliRunner().invoke(app, ["eval", *args])
    assert res.exit_code == 2 and res.stdout == ""
    assert res.stderr.splitlines() == [match]
