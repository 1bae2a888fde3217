"""Numba kernels: plain arrays in, plain arrays (or scalars) out.

Every public function here is a thin Python wrapper that validates its
arguments (raising ``ValueError`` naming the argument) and calls a private
``@njit(cache=True)`` kernel.  Nothing is compiled at import: each kernel
compiles on its first call and is cached on disk (see ``docs/kernels.md``
and ``NUMBA_CACHE_DIR``).  Submodules are imported lazily so that
``import detector`` does not import numba.
"""

from __future__ import annotations

import importlib

# public name -> submodule that defines it
_EXPORTS = {
    # time bins
    "bin_stats": "binning",
    # sliding-window statistics
    "rolling_mean_std": "rolling",
    "rolling_min": "rolling",
    "rolling_max": "rolling",
    # lower envelope of a sawtooth
    "cycle_minima": "envelope",
    "lower_envelope": "envelope",
    # seasonality
    "acf": "seasonal",
    "dominant_period": "seasonal",
    # trend
    "ols": "trend",
    "OLSResult": "trend",
    "theil_sen": "trend",
    "theil_sen_interval": "trend",
    "mann_kendall": "trend",
    "hamed_rao_factor": "trend",
    "MannKendallResult": "trend",
    # change points
    "pelt": "changepoint",
    "pelt_linear": "changepoint",
    # straight-line segmentation (onset and end of growth)
    "linear_segments": "segment",
    "segment_fits": "segment",
    # sharp drops that return to the lifetime's baseline (restarts)
    "returns_to_base": "drops",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'detector.kernels' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
