"""Turning user timestamps into unix seconds (float64).

Numbers are read as seconds, milliseconds, microseconds or nanoseconds since
the epoch by their magnitude; date-times (numpy ``datetime64``, pandas
timestamps, ISO-8601 strings) are converted exactly, a naive date-time being
taken as UTC.
"""

from __future__ import annotations

import re
import sys
import time

import numpy as np

#: Largest magnitude read as each unit.  1e11 s is the year 5138, so real
#: unix-second timestamps are always below it; 1e11 ms is 1973, so millisecond
#: timestamps of real data are always above it, and so on.
_UNIT_BOUNDS = ((1e11, 1.0), (1e14, 1e-3), (1e17, 1e-6))


def numeric_unit_scale(values: np.ndarray) -> float:
    """Factor that turns numeric epoch timestamps into seconds.

    Parameters
    ----------
    values : numpy.ndarray
        Epoch timestamps in s, ms, µs or ns (all in the same unit).

    Returns
    -------
    float
        1 for seconds, 1e-3 for milliseconds, 1e-6 for microseconds, 1e-9 for
        nanoseconds, chosen by the largest finite magnitude.
    """
    if values.size == 0:
        return 1.0
    if values.dtype.kind in "iu":
        peak = float(max(abs(int(values.min())), abs(int(values.max()))))
    else:
        with np.errstate(invalid="ignore"):
            lo, hi = np.nanmin(values), np.nanmax(values)  # no temporary copies
        peak = max(abs(float(lo)), abs(float(hi)))
        if not np.isfinite(peak):
            finite = values[np.isfinite(values)]
            peak = float(np.abs(finite).max()) if finite.size else 0.0
    for bound, scale in _UNIT_BOUNDS:
        if peak < bound:
            return scale
    return 1e-9


def epoch_to_seconds(values: np.ndarray, scale: float) -> np.ndarray:
    """Multiply epoch numbers by ``scale`` (1, 1e-3, 1e-6, 1e-9) into float64 seconds.

    Integers are split into whole seconds and a remainder first, so that
    nanosecond timestamps keep their sub-second part (an int64 near 1.7e18
    does not fit a float64 exactly).
    """
    if scale == 1.0:
        return values.astype(np.float64)
    if values.dtype.kind not in "iu":
        return values.astype(np.float64) * scale
    per_second = int(round(1.0 / scale))
    whole, rest = np.divmod(values.astype(np.int64), per_second)
    return whole.astype(np.float64) + rest.astype(np.float64) / per_second


def to_unix_seconds(ts) -> np.ndarray:
    """Convert timestamps to float64 unix seconds.

    Parameters
    ----------
    ts : array_like
        Epoch numbers (unit detected by magnitude), ``datetime64`` values,
        a ``pandas.DatetimeIndex`` (a zone is honoured, naive is UTC), or
        ISO-8601 strings.

    Returns
    -------
    numpy.ndarray
        float64 seconds since 1970-01-01T00:00:00Z; NaN where a timestamp is
        missing (NaT).

    Raises
    ------
    ValueError
        If the timestamps cannot be interpreted; the message says which one.
    """
    # pandas only when it is already loaded: an object of pandas needs it, an array does not
    # (importing it costs a first analyze a quarter of a second)
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(ts, (pd.DatetimeIndex, pd.Series)) and isinstance(
        getattr(ts, "dtype", None), pd.DatetimeTZDtype
    ):
        ts = ts.tz_convert("UTC").tz_localize(None)
    arr = np.asarray(ts)
    if arr.ndim != 1:
        raise ValueError(f"timestamps must be 1-D, got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.datetime64):
        nat = np.isnat(arr)
        out = epoch_to_seconds(arr.astype("datetime64[ns]").astype(np.int64), 1e-9)
        out[nat] = np.nan
        return out
    if arr.dtype == np.bool_:
        raise ValueError("timestamps must be numbers or date-times, got booleans")
    if np.issubdtype(arr.dtype, np.number):
        return epoch_to_seconds(arr, numeric_unit_scale(arr))
    # strings or objects: let pandas parse ISO-8601 (with or without a zone)
    import pandas as pd

    try:
        parsed = pd.to_datetime(pd.Series(arr, dtype=object), utc=True, format="ISO8601")
    except (ValueError, TypeError):
        parsed = pd.to_datetime(pd.Series(arr, dtype=object), utc=True, format="ISO8601",
                                errors="coerce")
        bad = np.flatnonzero(parsed.isna().to_numpy() & pd.notna(arr))
        first = int(bad[0]) if bad.size else 0
        raise ValueError(
            f"timestamp {str(arr[first])!r} at position {first} is neither a number nor an "
            "ISO-8601 date-time"
        ) from None
    return to_unix_seconds(parsed.dt.tz_localize(None).to_numpy())


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|y|w|d|h|m|s)")
_DURATION_SECONDS = {"ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0,
                     "w": 7 * 86400.0, "y": 365 * 86400.0}


def parse_duration(text: str) -> float:
    """Parse a Prometheus-style duration (``15s``, ``5m``, ``1h30m``, ``7d``, ``2w``).

    A bare number is seconds.

    Parameters
    ----------
    text : str
        The duration.

    Returns
    -------
    float
        Seconds, > 0.

    Raises
    ------
    ValueError
        If ``text`` is not a positive duration; the message quotes it.
    """
    s = str(text).strip()
    try:
        seconds = float(s)
    except ValueError:
        pos, seconds = 0, 0.0
        for m in _DURATION_PART.finditer(s):
            if m.start() != pos:
                break
            seconds += float(m.group(1)) * _DURATION_SECONDS[m.group(2)]
            pos = m.end()
        if pos != len(s) or not s:
            raise ValueError(f"{text!r} is not a duration (examples: 15s, 5m, 1h30m, 7d, "
                             "or seconds)") from None
    if not (seconds > 0 and np.isfinite(seconds)):
        raise ValueError(f"{text!r} is not a positive duration")
    return seconds


def parse_time(text: str, *, now: float | None = None) -> float:
    """Parse a point in time given on a command line into unix seconds.

    Parameters
    ----------
    text : str
        Unix seconds (``1700000000`` or ``1700000000.5``), an RFC 3339 /
        ISO-8601 date-time (``2026-11-28T12:00:00Z``; UTC when no zone is
        given), or ``now``.
    now : float, optional
        The current time (unix seconds) for ``now``; default the clock.

    Returns
    -------
    float
        Unix seconds.

    Raises
    ------
    ValueError
        If ``text`` is neither; the message quotes it.
    """
    s = str(text).strip()
    if s.lower() == "now":
        return float(now if now is not None else time.time())
    try:
        value = float(s)
    except ValueError:
        pass
    else:
        if not np.isfinite(value):
            raise ValueError(f"{text!r} is not a time")
        return value
    import pandas as pd

    try:
        stamp = pd.Timestamp(s)
    except (ValueError, TypeError):
        raise ValueError(f"{text!r} is not a time: expected RFC 3339 (2026-11-28T12:00:00Z), "
                         "unix seconds or 'now'") from None
    if stamp is pd.NaT:
        raise ValueError(f"{text!r} is not a time")
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.timestamp()
