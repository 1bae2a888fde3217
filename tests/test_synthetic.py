"""The generator: deterministic, every pattern, labels consistent with the shapes; the demo."""

import gzip
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from detector.evaluate.synthetic import (LEAK_PATTERNS, MAX_SAMPLES, PATTERNS, generate,
                                         generate_dataset)

ROOT = Path(__file__).resolve().parent.parent


def test_same_seed_same_bytes_other_seed_differs():
    a = generate_dataset(34, seed=3)
    b = generate_dataset(34, seed=3)
    c = generate_dataset(34, seed=4)
    for x, y in zip(a, b):
        assert x.id == y.id and x.timestamps.tobytes() == y.timestamps.tobytes()
        assert np.array_equal(x.values, y.values, equal_nan=True) and x.limit == y.limit
    assert any(not np.array_equal(x.values, z.values, equal_nan=True) for x, z in zip(a, c))


def test_every_pattern_balanced_and_labelled():
    data = generate_dataset(340, seed=0)
    assert {s.pattern for s in data} == set(PATTERNS)
    share = np.mean([s.leak for s in data])
    assert 0.35 <= share <= 0.5
    for s in data:
        assert s.leak == (s.pattern in LEAK_PATTERNS)
        assert s.timestamps.dtype == np.float64 and s.values.dtype == np.float64
        assert s.timestamps.shape == s.values.shape and s.values.size <= MAX_SAMPLES
        assert np.all(np.diff(s.timestamps) > 0)
        if s.leak:
            assert s.timestamps[0] <= s.onset < s.timestamps[-1]
        else:
            assert s.onset is None
        json.dumps(s.params)


def span(s):
    return s.timestamps[-1] - s.timestamps[0]


def level_at(s, frac_from, frac_to):
    t = (s.timestamps - s.timestamps[0]) / span(s)
    return np.nanmedian(s.values[(t >= frac_from) & (t <= frac_to)])


@pytest.mark.parametrize("pattern", ["linear_growth", "late_onset", "convex_growth",
                                     "noisy_leak", "stepwise_growth"])
def test_leaks_end_well_above_where_they_began(pattern):
    for seed in range(5):
        s = generate(pattern, seed=seed)
        begin = np.nanmedian(s.values[np.abs(s.timestamps - s.onset) < 0.02 * span(s)])
        assert level_at(s, 0.95, 1.0) > begin * 1.15


def test_resolved_leak_and_warmup_end_flat():
    for seed in range(5):
        for pattern in ("resolved_leak", "warmup"):
            s = generate(pattern, seed=seed, noise=0.0)
            tail = s.values[s.timestamps - s.timestamps[0] > 0.7 * span(s)]
            tail = tail[np.isfinite(tail) & (tail < np.nanmedian(tail) * 1.4)]  # no spikes
            assert np.ptp(tail) <= 0.05 * np.nanmedian(tail), (pattern, seed)


def test_restart_loop_reaches_its_limit_again_and_again():
    for seed in range(5):
        s = generate("restart_loop", seed=seed, noise=0.0)
        v = s.values.copy()
        v[1:-1] = np.median(np.stack((v[:-2], v[1:-1], v[2:])), axis=0)  # no scrape spikes
        near = v > 0.9 * s.limit
        rises = np.flatnonzero(np.diff(near.astype(int)) == 1)
        assert rises.size >= 2 and np.nanmax(v) <= s.limit * 1.01


def test_periodic_patterns_show_two_periods():
    for seed in range(5):
        assert span(generate("periodic", seed=seed)) >= 2 * 86400


def test_bad_arguments():
    with pytest.raises(ValueError, match="pattern must be one of"):
        generate("leaky", seed=0)
    with pytest.raises(ValueError, match="n_series"):
        generate_dataset(0)


def test_demo_on_disk_is_what_the_script_makes():
    sys.path.insert(0, str(ROOT / "datasets"))
    try:
        import make_demo
    finally:
        sys.path.pop(0)
    data, labels = make_demo.build()
    demo = ROOT / "datasets" / "demo"
    assert (demo / "fleet.csv.gz").read_bytes() == data
    assert (demo / "labels.json").read_text() == labels
    assert (demo / "fleet.csv.gz").stat().st_size < 5e6
    meta = json.loads(labels)["series"]
    assert 20 <= len(meta) <= 50
    assert any(v["leak"] for v in meta.values()) and not all(v["leak"] for v in meta.values())
    with gzip.open(demo / "fleet.csv.gz", "rt") as fh:
        assert fh.readline().strip() == "series,timestamp,value,namespace"


def test_synthetic_script_writes_a_readable_dataset(tmp_path):
    sys.path.insert(0, str(ROOT / "datasets"))
    try:
        import synthetic as script
    finally:
        sys.path.pop(0)
    script.main(["--seed", "1", "--n-series", "17", "--output", str(tmp_path)])
    from detector.sources import read_path

    series = {s.id: s for s in read_path(tmp_path / "series.csv.gz")}
    labels = json.loads((tmp_path / "labels.json").read_text())["series"]
    assert set(series) == set(labels) and len(series) == 17
