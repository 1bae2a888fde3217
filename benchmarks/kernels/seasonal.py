"""ACF and the dominant period against statsmodels."""

import numpy as np

from benchmarks.kernels.common import Case
from detector.kernels import acf, dominant_period


def _daily(n, rng):
    t = np.arange(n)
    return (np.sin(2 * np.pi * t / 5760) + 1e-5 * t + rng.normal(0, 0.3, n),)


def _sm_acf(x):
    from statsmodels.tsa.stattools import acf as sm_acf

    return sm_acf(x, nlags=min(x.shape[0] - 1, 10_000), fft=True)


CASES = [
    Case("acf nlags=min(n-1, 1e4)", _daily, lambda x: acf(x, min(x.shape[0] - 1, 10_000)),
         "statsmodels acf(fft=True)", _sm_acf),
    Case("dominant_period", _daily, lambda x: dominant_period(x, max_period=20_000),
         "statsmodels acf (peak search not included)", _sm_acf),
]
TARGETS = []
