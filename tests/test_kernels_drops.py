"""kernels.drops.returns_to_base against a naive loop: which drops give back what their
lifetime gained (restarts)."""

import numpy as np
import pytest

from detector.kernels import returns_to_base


def naive(v, events, after, keep_share):
    """The rule as stated, one drop at a time: the base is the lowest value from the
    sample after the previous kept drop to the drop itself."""
    kept, life_start = [], 0
    for e, low in zip(events, after):
        base = float(np.min(v[life_start:e + 1]))
        if low <= base + keep_share * (v[e] - base):
            kept.append(int(e))
            life_start = int(e) + 1
    return np.array(kept, dtype=np.int64)


def random_case(rng, kind):
    n = int(rng.integers(1, 300))
    if kind == 0:  # small integers: ties everywhere
        v = rng.integers(0, 4, n).astype(float)
    elif kind == 1:  # a sawtooth with noise
        v = (np.arange(n) % int(rng.integers(2, 25))) * 10.0 + rng.normal(0, 1, n)
    elif kind == 2:  # restarts to scattered levels on a climb
        v = np.cumsum(rng.exponential(1.0, n))
        for k in np.sort(rng.choice(n, min(n, 4), replace=False)):
            v[k:] -= v[k] - rng.uniform(0, 5)
    elif kind == 3:  # constant
        v = np.full(n, 7.0)
    else:  # bytes: large values, small differences
        v = 5e8 + np.cumsum(rng.normal(0, 1e6, n))
    events = np.flatnonzero(rng.random(n) < rng.uniform(0.0, 1.0)).astype(np.int64)
    after = v[events] - rng.uniform(-2, 12, events.size) * rng.choice([1.0, 1e6], 1)
    # shares outside [0, 1] too: Config.restart_giveback is bounded only below
    return v, events, after, float(rng.uniform(-1, 2))


@pytest.mark.parametrize("seed", range(60))
def test_matches_the_naive_loop(seed):
    rng = np.random.default_rng(seed)
    v, events, after, share = random_case(rng, seed % 5)
    got = returns_to_base(v, events, after, share)
    assert got.dtype == np.int64
    assert np.array_equal(got, naive(v, events, after, share))


def test_tiny_and_edge_inputs():
    v = np.array([5.0])
    assert returns_to_base(v, np.array([], dtype=np.int64), np.array([]), 0.4).size == 0
    assert returns_to_base(v, np.array([0]), np.array([5.0]), 0.0).tolist() == [0]
    assert returns_to_base(v, np.array([0]), np.array([5.1]), 1.0).tolist() == []
    # the base resets after each kept drop: the second drop is judged from sample 3 on
    # (base 1: 4.0 <= 1 + 0.4 x 8; from sample 0 the base would be 0 and 4.0 > 3.6)
    v = np.array([0.0, 5, 10, 1, 8, 9.0])
    assert returns_to_base(v, np.array([2, 5]), np.array([1.0, 4.0]), 0.4).tolist() == [2, 5]
    assert returns_to_base(v, np.array([2, 5]), np.array([1.0, 4.3]), 0.4).tolist() == [2]
    # a drop not kept does not reset it: from sample 0, base 0 and 4.0 > 3.6
    assert returns_to_base(v, np.array([2, 5]), np.array([9.0, 4.0]), 0.4).tolist() == []
    # exactly on the threshold counts (<=)
    assert returns_to_base(np.array([0.0, 10.0]), np.array([1]), np.array([4.0]),
                           0.4).tolist() == [1]


@pytest.mark.parametrize("args, message", [
    ((np.array([1.0, np.nan]), np.array([1]), np.array([0.0]), 0.4), "finite"),
    ((np.array([1.0, 2.0]), np.array([1]), np.array([np.inf]), 0.4), "finite"),
    ((np.array([1.0, 2.0]), np.array([1, 1]), np.array([0.0, 0.0]), 0.4), "increasing"),
    ((np.array([1.0, 2.0]), np.array([2]), np.array([0.0]), 0.4), "indices into v"),
    ((np.array([1.0, 2.0]), np.array([-1]), np.array([0.0]), 0.4), "indices into v"),
    ((np.array([1.0, 2.0]), np.array([1]), np.array([0.0, 1.0]), 0.4), "same length"),
    ((np.array([1.0, 2.0]), np.array([0.5]), np.array([0.0]), 0.4), "sample indices"),
    ((np.array([1.0, 2.0]), np.array([1]), np.array([0.0]), float("nan")), "keep_share"),
    ((np.ones((2, 2)), np.array([1]), np.array([0.0]), 0.4), "v must be 1-D"),
])
def test_bad_input_names_the_argument(args, message):
    with pytest.raises(ValueError, match=message):
        returns_to_base(*args)


def test_a_giveback_above_one_is_a_setting_analyze_takes():
    """``Config.restart_giveback`` is bounded only below: 1.5 makes the share a restart may
    keep -0.5, which finds no restart here; analyze must not reject it (an early version
    of the kernel's checks did)."""
    import detector

    t = np.arange(0, 4 * 86400, 300.0)
    v = 1e8 + (t % 86400) * 100
    rep = detector.analyze(v, t, config=detector.Config(restart_giveback=1.5))
    assert rep.evidence["lifetimes"]["count"] == 1
    assert detector.analyze(v, t).evidence["lifetimes"]["count"] == 4
