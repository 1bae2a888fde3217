"""``detector.restart_marks.restarts_from_marks`` against a loop written here from its
docstring, on random marks: counters that rise and fall, start times that wobble and
jump, unsorted and duplicated times, missing marks, and tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest

from detector.restart_marks import START_TIME_JITTER, restarts_from_marks


def naive(t, m, kind):
    rows = {}
    for i in np.argsort(np.asarray(t), kind="stable"):  # the last row of a time counts
        rows[float(t[i])] = float(m[i])
    pts = [(ti, mi) for ti, mi in sorted(rows.items()) if np.isfinite(mi)]
    if len(pts) < 2:
        return None
    if kind is None:
        kind = "start_time" if all(mi > 1e8 for _, mi in pts) else "counter"
    scale = 1.0
    if kind == "start_time":
        peak = max(abs(mi) for _, mi in pts)
        scale = 1e-9 if peak >= 1e17 else 1e-6 if peak >= 1e14 else 1e-3 if peak >= 1e11 \
            else 1.0
    out = []
    for (t0, m0), (t1, m1) in zip(pts, pts[1:]):
        if (kind == "counter" and m1 != m0) or (
                kind == "start_time" and (m1 - m0) * scale > START_TIME_JITTER):
            out.append(t1)
    return out


@pytest.mark.parametrize("seed", range(40))
def test_against_a_loop(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 40))
    t = 1.7e9 + 60.0 * rng.integers(0, max(1, n), n)  # ties when n is small
    rng.shuffle(t)
    kind = rng.choice(["counter", "start_time", None])
    if kind == "counter" or (kind is None and rng.random() < 0.5):
        m = np.cumsum(rng.random(n) < 0.2).astype(float)
        m[rng.random(n) < 0.05] = 0.0  # a pod recreated: the count falls
    else:
        unit = float(rng.choice([1.0, 1e3, 1e9]))
        m = (1.6e9 + np.cumsum(np.where(rng.random(n) < 0.2, 300.0, 0.0))
             + rng.choice([0.0, 1.0, -1.0], n)) * unit  # restarts, and a 1 s wobble
    m[rng.random(n) < 0.1] = np.nan
    got = restarts_from_marks(t, m, kind)
    want = naive(t, m, kind)
    assert (got is None) == (want is None)
    if got is not None:
        assert got.tolist() == want


def test_tiny_and_constant():
    assert restarts_from_marks(np.array([]), np.array([])) is None
    assert restarts_from_marks(np.array([1.0]), np.array([3.0])) is None
    assert restarts_from_marks(np.array([1.0, 2.0]), np.array([np.nan, 3.0])) is None
    assert restarts_from_marks(np.array([1.0, 2.0]), np.array([3.0, 3.0])).tolist() == []
    with pytest.raises(ValueError, match="kind"):
        restarts_from_marks(np.array([1.0, 2.0]), np.array([3.0, 4.0]), "gauge")
