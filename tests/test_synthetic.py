"""The generator: deterministic, every pattern, labels consistent with the shapes; the demo."""

import gzip
import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from detector.evaluate import synthetic
from detector.evaluate.synthetic import (BENIGN_PATTERNS, LEAK_PATTERNS, MAX_SAMPLES, PATTERNS,
                                         generate, generate_dataset)

ROOT = Path(__file__).resolve().parent.parent
DAY = 86400.0


def load_script(name):
    path = ROOT / "datasets" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_datasets_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset(340, seed=0)


def span(s):
    return s.timestamps[-1] - s.timestamps[0]


def median_between(s, frac_from, frac_to):
    t = (s.timestamps - s.timestamps[0]) / span(s)
    return np.nanmedian(s.values[(t >= frac_from) & (t <= frac_to)])


def test_pattern_names():
    assert PATTERNS == LEAK_PATTERNS + BENIGN_PATTERNS and len(set(PATTERNS)) == 17
    assert set(synthetic.SCHEDULE) == set(PATTERNS)


def test_same_seed_same_bytes_other_seed_differs():
    a = generate_dataset(40, seed=3)
    b = generate_dataset(40, seed=3)
    c = generate_dataset(40, seed=4)
    for x, y in zip(a, b):
        assert x.id == y.id and x.timestamps.tobytes() == y.timestamps.tobytes()
        assert x.values.tobytes() == y.values.tobytes()
        assert (x.limit, x.leak, x.onset, x.pattern, x.params) == \
               (y.limit, y.leak, y.onset, y.pattern, y.params)
    assert all(x.values.tobytes() != z.values.tobytes() for x, z in zip(a, c))
    one = generate("random_walk", seed=9)
    assert one.values.tobytes() == generate("random_walk", seed=9).values.tobytes()


def test_every_pattern_balanced_and_labelled(dataset):
    assert {s.pattern for s in dataset} == set(PATTERNS)
    for n in (300, 340):
        share = np.mean([s.leak for s in dataset[:n]])
        assert 0.35 <= share <= 0.45, (n, share)
    assert len({s.id for s in dataset}) == len(dataset)
    for s in dataset:
        assert s.leak == (s.pattern in LEAK_PATTERNS)
        assert s.timestamps.dtype == np.float64 and s.values.dtype == np.float64
        assert s.timestamps.ndim == 1 and s.timestamps.shape == s.values.shape
        assert 10 <= s.values.size <= MAX_SAMPLES
        assert np.all(np.diff(s.timestamps) > 0)
        assert np.isfinite(s.values).mean() > 0.8
        if s.leak:
            assert s.timestamps[0] <= s.onset < s.timestamps[-1]
        else:
            assert s.onset is None
        # scrape spikes may overshoot a limit; the series itself stays below it
        assert s.limit is None or s.limit >= np.nanpercentile(s.values, 99)
        assert json.loads(json.dumps(s.params)) == s.params


def test_the_ranges_are_covered(dataset):
    intervals = {s.params["interval"] for s in dataset}
    assert min(intervals) == 1.0 and max(intervals) >= 300.0
    spans = [span(s) for s in dataset]
    assert min(spans) < 12 * 3600 and max(spans) > 10 * DAY
    levels = [s.params["level"] for s in dataset if s.pattern != "stepwise_growth"]
    assert 100e6 <= min(levels) < 300e6 and 4e9 < max(levels) <= 8e9
    assert {s.params["noise_tier"] for s in dataset} == {"low", "medium", "high"}
    assert sum(s.params.get("damaged", False) for s in dataset) > 40  # gaps, NaN, spikes
    assert any(np.isnan(s.values).any() for s in dataset)
    assert any(np.diff(s.timestamps).max() > 5 * s.params["interval"] for s in dataset)
    assert 0.5 < np.mean([s.limit is not None for s in dataset]) < 0.9
    hard = [s for s in dataset if s.params.get("hard")]
    assert 0.15 < len(hard) / sum(s.leak for s in dataset) < 0.35
    assert {s.params["load_shape"] for s in dataset if "load_shape" in s.params} == \
           {"sine", "business", "peaky", "asymmetric", "weekly"}


@pytest.mark.parametrize("pattern", ["linear_growth", "late_onset", "convex_growth",
                                     "noisy_leak", "stepwise_growth"])
def test_leaks_end_well_above_where_they_began(pattern):
    for seed in range(8):
        s = generate(pattern, seed=seed)
        begin = np.nanmedian(s.values[np.abs(s.timestamps - s.onset) < 0.02 * span(s)])
        assert median_between(s, 0.95, 1.0) > begin * 1.12, seed


def test_leaks_under_a_cycle_raise_their_floor():
    for seed in range(8):
        s = generate("periodic_growth", seed=seed)
        days = (s.timestamps - s.timestamps[0]) // DAY
        first = np.nanmedian(s.values[days == 0])
        last = np.nanmedian(s.values[days == days[-1] - 1])
        assert last - first > 0.1 * s.params["level"], seed
        s = generate("gc_floor_growth", seed=seed)
        floor_first = np.nanpercentile(s.values[: s.values.size // 10], 2)
        floor_last = np.nanpercentile(s.values[-s.values.size // 10:], 2)
        assert floor_last - floor_first > 0.1 * s.params["level"], seed


def test_stepwise_counts_are_integers_that_mostly_step_up():
    downs = 0
    for seed in range(8):
        s = generate("stepwise_growth", seed=seed)
        assert np.array_equal(s.values, np.round(s.values))
        downs += s.params["down_steps"]
        assert s.params["growth"] >= 0.15 * s.params["level"]
    assert downs > 0


@pytest.mark.parametrize("pattern", ["resolved_leak", "warmup", "level_shift"])
def test_look_alikes_end_flat(pattern):
    for seed in range(8):
        s = generate(pattern, seed=seed, noise=0.0)
        flat_from = 0.7 * span(s)
        if pattern == "level_shift":  # flat after the shift
            flat_from = s.params["shift_fraction"] * span(s) + s.params["ramp_seconds"]
        tail = s.values[s.timestamps - s.timestamps[0] > flat_from]
        tail = tail[np.isfinite(tail) & (tail < np.nanmedian(tail) * 1.4)]  # no scrape spikes
        assert np.ptp(tail) <= 0.05 * np.nanmedian(tail), (pattern, seed)


def test_resolved_leak_grew_before_it_stopped():
    for seed in range(8):
        s = generate("resolved_leak", seed=seed, noise=0.0)
        p = s.params
        assert s.timestamps[0] <= p["old_onset"] < p["stopped"] <= s.timestamps[0] + 0.7 * span(s)
        assert np.nanmax(s.values) > 1.15 * p["level"] and s.onset is None and not s.leak


def test_restart_loop_reaches_its_limit_again_and_again():
    for seed in range(8):
        s = generate("restart_loop", seed=seed, noise=0.0)
        v = s.values.copy()
        v[1:-1] = np.median(np.stack((v[:-2], v[1:-1], v[2:])), axis=0)  # no scrape spikes
        near = v > s.params["level"] + 0.9 * (s.limit / 1.05 - s.params["level"])
        rises = np.flatnonzero(np.diff(near.astype(int)) == 1)
        assert rises.size >= 2 and np.nanmax(s.values) <= s.limit


def test_periodic_patterns_show_two_periods():
    for seed in range(20):
        s = generate("periodic", seed=seed)
        period = 7 * DAY if s.params["load_shape"] == "weekly" else DAY
        assert span(s) >= 2 * period
        assert span(generate("periodic_growth", seed=seed)) >= 2 * DAY


def test_random_walk_is_bounded_and_its_filter_is_exact():
    for seed in range(8):
        s = generate("random_walk", seed=seed, noise=0.0)
        dev = np.abs(s.values - s.params["level"])
        assert np.nanpercentile(dev, 99) < 6 * s.params["walk_sd"]  # spikes aside
    # the vectorised AR(1) equals the recursion it replaces
    for a in (0.3, 0.97, 0.99999):
        y = synthetic._ar1(np.random.default_rng(1), 3000, a, 2.0)
        rng = np.random.default_rng(1)
        e = rng.normal(0.0, 2.0 * math.sqrt(1 - a * a), 3000)
        prev = rng.normal(0.0, 2.0)
        ref = np.empty(3000)
        for i in range(3000):
            prev = a * prev + e[i]
            ref[i] = prev
        np.testing.assert_allclose(y, ref, rtol=0, atol=1e-9)


def test_explicit_arguments_are_honoured():
    s = generate("stable", seed=1, interval=15.0, duration=6 * 3600.0, level=1e9, noise=0.01,
                 start=1.6e9)
    assert s.timestamps[0] == 1.6e9 and s.params["interval"] == 15.0
    assert s.params["level"] == 1e9 and s.params["noise_sigma"] == pytest.approx(1e7)
    big = generate("linear_growth", seed=1, interval=1.0, duration=14 * DAY)
    assert big.values.size <= MAX_SAMPLES and big.params["interval"] > 1.0


def test_bad_arguments():
    with pytest.raises(ValueError, match="pattern must be one of"):
        generate("leaky", seed=0)
    with pytest.raises(ValueError, match="n_series"):
        generate_dataset(0)


def test_demo_on_disk_is_what_the_script_makes():
    make_demo = load_script("make_demo")
    data, labels = make_demo.build()
    demo = ROOT / "datasets" / "demo"
    on_disk = (demo / "fleet.csv.gz").read_bytes()
    # the payload must match; the gzip bytes match too wherever zlib is the same build
    assert gzip.decompress(on_disk) == gzip.decompress(data)
    assert (demo / "labels.json").read_text() == labels
    assert len(on_disk) < 5e6
    meta = json.loads(labels)["series"]
    assert 30 <= len(meta) <= 40
    assert 5 <= sum(v["leak"] for v in meta.values()) <= 8
    for v in meta.values():
        assert set(v) == {"leak", "onset", "pattern", "limit"}
        assert (v["onset"] is not None) == v["leak"]
    assert {v["pattern"] for v in meta.values()} >= {
        "linear_growth", "periodic_growth", "gc_floor_growth", "restart_loop", "late_onset",
        "periodic", "gc_sawtooth", "level_shift", "warmup", "stable", "batch_spikes",
        "resolved_leak"}
    lines = gzip.decompress(on_disk).decode().splitlines()
    assert lines[0] == "series,timestamp,value,namespace"
    names = {f'{line.split(",")[0]}{{namespace="{line.split(",")[3]}"}}' for line in lines[1:]}
    assert names == set(meta)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_synthetic_script_writes_a_readable_dataset(tmp_path, fmt):
    script = load_script("synthetic")
    script.main(["--seed", "1", "--n-series", "17", "--output", str(tmp_path), "--format", fmt])
    from detector.sources import read_path

    path = tmp_path / ("series.csv.gz" if fmt == "csv" else "series.parquet")
    series = {s.id: s for s in read_path(path)}
    labels = json.loads((tmp_path / "labels.json").read_text())["series"]
    assert set(series) == set(labels) and len(series) == 17
    for sid, label in labels.items():
        assert set(label) == {"leak", "onset", "pattern", "limit", "params"}
        assert label["leak"] == (label["pattern"] in LEAK_PATTERNS)
