"""ACF and the dominant period against statsmodels."""

import numpy as np

from benchmarks.kernels.common import Case
from detector.kernels import acf, dominant_period


def _daily(n, rng):
    """A day of 15 s samples (5,760) as the period, slow growth, noise."""
    t = np.arange(n)
    return (np.sin(2 * np.pi * t / 5760) + 1e-5 * t + rng.normal(0, 0.3, n),)


def _daily_gaps(n, rng):
    (x,) = _daily(n, rng)
    x[rng.random(n) < 0.02] = np.nan  # scattered missing scrapes
    return (x,)


def _nlags(x):
    return min(x.shape[0] - 1, 10_000)


def _sm_acf(x, missing="none"):
    from statsmodels.tsa.stattools import acf as sm_acf

    return sm_acf(x, nlags=_nlags(x), fft=True, missing=missing)


CASES = [
    Case("acf nlags=min(n-1, 1e4)", _daily, lambda x: acf(x, _nlags(x)),
         "statsmodels acf(fft=True)", _sm_acf),
    Case("acf with NaN (conservative)", _daily_gaps,
         lambda x: acf(x, _nlags(x), missing="conservative"),
         "statsmodels acf(fft=True, missing='conservative')",
         lambda x: _sm_acf(x, "conservative")),
    Case("dominant_period", _daily, lambda x: dominant_period(x, max_period=20_000),
         "statsmodels acf (peak search not included)", _sm_acf),
]
TARGETS = []
