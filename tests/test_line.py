"""The closed-form least-squares line against numpy.polyfit."""

import numpy as np
import pytest

from detector.kernels.line import least_squares_line


@pytest.mark.parametrize("seed", range(10))
def test_equals_polyfit(seed):
    rng = np.random.default_rng(seed)
    for _ in range(50):
        n = int(rng.integers(2, 3000))
        kind = rng.integers(0, 4)
        if kind == 0:  # unix seconds and bytes
            x = 1.7e9 + np.sort(rng.uniform(0, 7 * 86400, n))
            y = 5e8 + (x - x[0]) * rng.normal(0, 1e3) + rng.normal(0, 1e7, n)
        elif kind == 1:  # sample positions, ties in y
            x = np.arange(n, dtype=float)
            y = rng.integers(0, 3, n).astype(float)
        elif kind == 2:  # ties in x
            x = rng.integers(0, max(2, n // 4), n).astype(float)
            x[:2] = [0.0, 1.0]
            y = rng.normal(size=n) * 1e-3 + x * 2.5
        else:  # an exact line
            x = np.arange(n, dtype=float) * 15.0
            y = 3.0 * x - 7.0
        want = np.polyfit(x, y, 1)
        got = least_squares_line(x, y)
        scale = np.abs(y).max() / max(np.ptp(x), 1e-300) + 1e-300
        assert got[0] == pytest.approx(want[0], rel=1e-9, abs=1e-9 * scale)
        assert got[1] == pytest.approx(want[1], rel=1e-9, abs=1e-9 * (np.abs(y).max() + 1e-300)
                                       + 1e-9 * abs(want[0]) * np.abs(x).max())


def test_degenerate():
    assert least_squares_line(np.array([3.0, 3.0]), np.array([1.0, 2.0])) == (0.0, 1.5)
    assert least_squares_line(np.array([1.0]), np.array([4.0])) == (0.0, 4.0)
    s, i = least_squares_line(np.empty(0), np.empty(0))
    assert s == 0.0 and np.isnan(i)
    assert least_squares_line(np.array([0.0, 2.0]), np.array([1.0, 5.0])) == (2.0, 1.0)
