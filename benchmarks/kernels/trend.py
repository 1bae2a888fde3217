"""Trend kernels against pymannkendall, scipy and statsmodels."""

import warnings

import numpy as np

from benchmarks.kernels.common import Case, Target
from detector.kernels import mann_kendall, ols, theil_sen


def _trend(n, rng):
    return (1e9 + 10.0 * np.arange(n) + rng.normal(0, 1e5, n).cumsum(),)


def _flat_steps(n, rng):
    """Memory in bytes that sits flat between allocations: most pair slopes are 0."""
    steps = rng.integers(0, 8, n // 1000 + 1) * 4096.0
    return (np.repeat(1e9 + steps.cumsum(), 1000)[:n],)


def _pmk(x):
    import pymannkendall as pmk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pmk.original_test(x)


def _pmk_hr(x):
    import pymannkendall as pmk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pmk.hamed_rao_modification_test(x)


def _kendalltau(x):
    from scipy import stats

    return stats.kendalltau(np.arange(x.shape[0]), x)


def _theilslopes(x):
    from scipy import stats

    return stats.theilslopes(x)


def _sm_ols(x, hac=False):
    import statsmodels.api as sm

    X = sm.add_constant(np.arange(x.shape[0], dtype=float))
    model = sm.OLS(x, X)
    if hac:
        lags = int(np.floor(4 * (x.shape[0] / 100) ** (2 / 9)))
        return model.fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    return model.fit()


MEM = "needs ~8 bytes x n^2 of memory"
CASES = [
    Case("mann_kendall", _trend, lambda x: mann_kendall(x), "pymannkendall original_test",
         _pmk, peer_max_n=20_000, peer_limit_reason=MEM, repeats=3),
    Case("mann_kendall vs kendalltau", _trend, lambda x: mann_kendall(x),
         "scipy kendalltau (O(n log n))", _kendalltau, repeats=3),
    Case("mann_kendall hamed_rao", _trend, lambda x: mann_kendall(x, correction="hamed_rao"),
         "pymannkendall hamed_rao", _pmk_hr, peer_max_n=20_000, peer_limit_reason=MEM,
         sizes=(10_000, 100_000, 1_000_000), repeats=3),
    Case("theil_sen", _trend, lambda x: theil_sen(x), "scipy theilslopes", _theilslopes,
         peer_max_n=20_000, peer_limit_reason="9.7 GB at 20k, out of memory at 30k",
         sizes=(10_000, 100_000, 1_000_000, 10_000_000), repeats=3),
    Case("theil_sen flat steps (slope 0 crowded)", _flat_steps, lambda x: theil_sen(x),
         "scipy theilslopes", _theilslopes, peer_max_n=20_000,
         peer_limit_reason="9.7 GB at 20k, out of memory at 30k",
         sizes=(10_000, 100_000, 1_000_000), repeats=3),
    Case("ols + HAC stderr", _trend, lambda x: ols(x), "statsmodels OLS fit()", _sm_ols),
    Case("ols + HAC stderr vs HAC", _trend, lambda x: ols(x), "statsmodels OLS HAC fit",
         lambda x: _sm_ols(x, hac=True)),
]


def _ours(results, name, n):
    return results[(name, n)][0]


TARGETS = [
    Target("mann_kendall on 1e6 samples <= 1 s",
           lambda r: (lambda s: (s <= 1.0, f"{s:.3f} s"))(_ours(r, "mann_kendall", 1_000_000))),
    Target("mann_kendall no slower than scipy kendalltau at 1e6",
           lambda r: (lambda o, p: (isinstance(p, float) and o <= p,
                                    f"ours {o:.3f} s, kendalltau {p}"))(
               *r[("mann_kendall vs kendalltau", 1_000_000)])),
    Target("theil_sen on 1e6 samples <= 2 s",
           lambda r: (lambda s: (s <= 2.0, f"{s:.3f} s"))(_ours(r, "theil_sen", 1_000_000))),
]
