"""Argument checks shared by the kernel wrappers.

Each check names the offending argument in its message, so that a caller
never sees a traceback from deep inside numpy or numba.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_float_array(x, name: str, *, min_length: int = 0) -> np.ndarray:
    """Return ``x`` as a contiguous 1-D float64 array.

    Parameters
    ----------
    x : array_like
        The input; anything ``numpy.asarray`` accepts holding real numbers.
    name : str
        The argument's name, used in error messages.
    min_length : int, default 0
        Smallest accepted length (samples).

    Raises
    ------
    ValueError
        If ``x`` is not 1-D, not numeric, or shorter than ``min_length``.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} must be a 1-D array of numbers: {exc}") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        raise ValueError(f"{name} must be a 1-D array of numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real, got complex values")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    if arr.shape[0] < min_length:
        raise ValueError(
            f"{name} must hold at least {min_length} samples, got {arr.shape[0]}"
        )
    return np.ascontiguousarray(arr, dtype=np.float64)


def read_only(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a`` (no copy).

    numba compiles a kernel once per argument type, and a read-only array is another type
    than a writable one: a kernel fed both (a :class:`detector.Series`' arrays are
    read-only, a caller's are usually not) compiles twice on a cold cache. Passing every
    input through this keeps one.
    """
    view = a.view()
    view.flags.writeable = False
    return view


def check_int(value, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an ``int``, raising ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_float(value, name: str, *, minimum: float | None = None) -> float:
    """Return ``value`` as a finite ``float``, raising ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value
