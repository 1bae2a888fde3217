"""The one place kernels are compiled from: ``@kernel`` is ``numba.njit(cache=True)``.

When numba finds no writable directory for its cache (``NUMBA_CACHE_DIR`` unset or
read-only, the package's ``__pycache__`` read-only, no writable home: a locked-down
container), ``njit(cache=True)`` raises ``RuntimeError: cannot cache function ...`` as
the module is imported. Here the kernel is compiled without a cache instead, with one
warning that says what to set: every run then compiles (seconds), but it runs.
"""

from __future__ import annotations

import warnings

from numba import njit

NO_CACHE_WARNING = (
    "numba has no writable cache directory, so detector's kernels compile on every run "
    "(seconds): set NUMBA_CACHE_DIR to a writable directory (docs/kernels.md, "
    "'Compilation and the cache')")


def kernel(fn=None, /, **options):
    """``numba.njit(cache=True, **options)``, without the cache when none can be written.

    Use as ``@kernel`` or ``@kernel(inline="always")``.
    """
    if fn is None:
        return lambda f: kernel(f, **options)
    try:
        return njit(cache=True, **options)(fn)
    except RuntimeError as exc:
        if "cannot cache" not in str(exc):
            raise
        warnings.warn(NO_CACHE_WARNING, RuntimeWarning)  # one location: shown once
        return njit(**options)(fn)
