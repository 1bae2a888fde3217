"""detector: tell a real memory leak from normal behaviour in memory time series.

The public face is short::

    import detector
    report = detector.analyze(values, timestamps, limit=None, config=None)

Names are imported lazily, so ``import detector`` stays fast and compiles no
numba kernel.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "analyze": "detector.analysis.pipeline",
    "Report": "detector.report",
    "Config": "detector.config",
    "Series": "detector.series",
    "InputError": "detector.errors",
    "kernels": None,
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'detector' has no attribute {name!r}")
    module = _EXPORTS[name]
    if module is None:
        value = importlib.import_module(f"detector.{name}")
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
