"""Series: one validated memory time series.

Everything that turns user input into something the analysis can trust
happens here, and every repair is counted in :class:`SeriesMeta` rather than
hidden: rows are sorted by time, duplicate timestamps are resolved (the last
value wins), non-finite values become missing (NaN), the sampling interval is
estimated (median difference) and gaps are recorded.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np

from .errors import InputError
from .kernels import order
from .timestamps import to_unix_seconds

#: A spacing larger than this many sampling intervals is a gap.
GAP_FACTOR = 2.0


@dataclass(frozen=True)
class SeriesMeta:
    """What was found and repaired while building a :class:`Series`.

    Attributes
    ----------
    n_input : int
        Samples given (rows).
    n_duplicates : int
        Samples dropped because a later sample had the same timestamp.
    n_nonfinite : int
        Values that were NaN, +inf or -inf and are now missing (NaN).
    n_bad_timestamps : int
        Samples dropped because their timestamp was missing (NaT / NaN).
    was_sorted : bool
        Whether the input was already in time order.
    interval : float
        Estimated sampling interval (seconds): the median positive spacing.
        NaN with fewer than two distinct timestamps.
    gaps : tuple of (float, float)
        ``(last_before, first_after)`` unix seconds of every spacing larger
        than ``GAP_FACTOR`` intervals.
    """

    n_input: int
    n_duplicates: int = 0
    n_nonfinite: int = 0
    n_bad_timestamps: int = 0
    was_sorted: bool = True
    interval: float = math.nan
    gaps: tuple[tuple[float, float], ...] = ()

    @property
    def n_gaps(self) -> int:
        """Number of gaps."""
        return len(self.gaps)

    @property
    def gap_seconds(self) -> float:
        """Total time inside gaps beyond the expected spacing (seconds)."""
        if not self.gaps or not np.isfinite(self.interval):
            return 0.0
        return float(sum(b - a - self.interval for a, b in self.gaps))

    def notes(self) -> list[str]:
        """Human-readable list of the repairs made, empty when none were needed."""
        out = []
        if not self.was_sorted:
            out.append("input was not in time order; sorted")
        if self.n_duplicates:
            out.append(f"{self.n_duplicates} duplicate timestamps; kept the last value of each")
        if self.n_nonfinite:
            out.append(f"{self.n_nonfinite} non-finite values (NaN/inf) treated as missing")
        if self.n_bad_timestamps:
            out.append(f"{self.n_bad_timestamps} samples without a timestamp dropped")
        if self.gaps:
            out.append(f"{len(self.gaps)} gaps longer than {GAP_FACTOR:g} intervals")
        return out

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {
            "n_input": self.n_input,
            "n_duplicates": self.n_duplicates,
            "n_nonfinite": self.n_nonfinite,
            "n_bad_timestamps": self.n_bad_timestamps,
            "was_sorted": self.was_sorted,
            "interval": None if not np.isfinite(self.interval) else self.interval,
            "n_gaps": self.n_gaps,
            "gap_seconds": self.gap_seconds,
        }


@dataclass(frozen=True, eq=False)
class Series:
    """A validated series: sorted unique timestamps and float values.

    Build one with :meth:`from_arrays` or :meth:`from_pandas`; the
    constructor itself does not validate.

    Attributes
    ----------
    id : str
        Series identifier (file name, label set, ...).
    timestamps : numpy.ndarray
        float64 unix seconds, strictly increasing.
    values : numpy.ndarray
        float64 values in the metric's unit (bytes, counts); NaN = missing.
    labels : Mapping[str, str]
        Label names and values (read-only).
    meta : SeriesMeta
        Repairs made and properties found.
    restarts : numpy.ndarray or None
        Unix seconds of the restarts known from the source (a restart counter or a
        process start time column), for ``analyze``'s ``restarts``; None when unknown.
    """

    id: str
    timestamps: np.ndarray
    values: np.ndarray
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    meta: SeriesMeta = field(default_factory=lambda: SeriesMeta(n_input=0))
    restarts: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def __reduce__(self):
        # picklable for worker processes (a mappingproxy is not), arrays kept read-only
        return (_restore, (self.id, self.timestamps, self.values, dict(self.labels), self.meta,
                           self.restarts))

    @property
    def interval(self) -> float:
        """Estimated sampling interval (seconds); NaN when unknown."""
        return self.meta.interval

    @property
    def duration(self) -> float:
        """Time from the first to the last sample (seconds)."""
        return float(self.timestamps[-1] - self.timestamps[0]) if len(self) else 0.0

    @property
    def n_valid(self) -> int:
        """Samples with a finite value."""
        return int(np.count_nonzero(np.isfinite(self.values)))

    @classmethod
    def from_arrays(cls, values, timestamps=None, *, id: str = "series",
                    labels: Mapping[str, str] | None = None, restarts=None) -> "Series":
        """Validate and repair arrays into a :class:`Series`.

        Parameters
        ----------
        values : array_like
            1-D numbers (bytes, counts); NaN or inf mark missing samples.
        timestamps : array_like, optional
            Same length as ``values``: unix seconds, ms, µs or ns (detected by
            magnitude), ``datetime64`` or ISO-8601 strings. Unsorted and
            duplicated timestamps are handled. Default: one sample per second
            starting at 0, so slopes are per sample.
        id : str
            Identifier used in messages and results.
        labels : mapping, optional
            Label names and values.
        restarts : array_like, optional
            When the process restarted, as ``timestamps`` may give times
            (:attr:`Series.restarts`; see ``analyze``'s ``restarts``).

        Raises
        ------
        InputError
            Naming the series: values not 1-D or not numeric, lengths differ,
            timestamps or restart times unreadable.
        """
        vals = _as_values(values, id)
        if timestamps is None:
            ts = np.arange(vals.shape[0], dtype=np.float64)
        else:
            try:
                ts = to_unix_seconds(timestamps)
            except (ValueError, TypeError) as exc:
                raise InputError(str(exc), source=id) from None
            if ts.shape[0] != vals.shape[0]:
                raise InputError(
                    f"timestamps and values differ in length ({ts.shape[0]} vs {vals.shape[0]})",
                    source=id)
        return _build(id, ts, vals, labels, restart_times(restarts, id))

    @classmethod
    def from_pandas(cls, obj, *, id: str | None = None, value: str = "value",
                    timestamp: str = "timestamp", labels: Mapping[str, str] | None = None
                    ) -> "Series":
        """Build a :class:`Series` from a pandas Series or DataFrame.

        Parameters
        ----------
        obj : pandas.Series or pandas.DataFrame
            A Series indexed by a ``DatetimeIndex`` (or numeric epoch index);
            or a DataFrame with ``timestamp`` and ``value`` columns, or a
            ``DatetimeIndex`` and a single column.
        id : str, optional
            Identifier; default the pandas name, else ``"series"``.
        value, timestamp : str
            Column names in a DataFrame.
        labels : mapping, optional
            Label names and values.
        """
        import pandas as pd

        if isinstance(obj, pd.DataFrame):
            if timestamp in obj.columns:
                if value not in obj.columns:
                    raise InputError(f"missing column {value!r} (found: {', '.join(map(str, obj.columns))})",
                                     source=id or "dataframe")
                return cls.from_arrays(obj[value].to_numpy(), obj[timestamp].to_numpy(),
                                       id=id or "dataframe", labels=labels)
            if obj.shape[1] == 1:
                col = obj.columns[0]
                return cls.from_pandas(obj[col], id=id or str(col), labels=labels)
            raise InputError(
                f"a DataFrame needs {timestamp!r} and {value!r} columns, or a time index and "
                f"one column (found: {', '.join(map(str, obj.columns))})", source=id or "dataframe")
        if isinstance(obj, pd.Series):
            name = id if id is not None else (str(obj.name) if obj.name is not None else "series")
            idx = obj.index
            if isinstance(idx, pd.RangeIndex):
                ts = None
            else:
                ts = idx
            return cls.from_arrays(obj.to_numpy(), ts, id=name, labels=labels)
        raise InputError(f"expected a pandas Series or DataFrame, got {type(obj).__name__}",
                         source=id)


def restart_times(restarts, series_id: str) -> np.ndarray | None:
    """``analyze``'s ``restarts`` as unix seconds (None stays None), or an InputError
    naming the series and the position of a time that is missing or unreadable.

    One time (a number, a string, a ``datetime64``) or any collection of them (a list,
    an array, a pandas Series or Index, a generator); numbers may be mixed with None,
    which is missing."""
    if restarts is None:
        return None
    pd = sys.modules.get("pandas")
    is_pandas = pd is not None and isinstance(restarts, (pd.Series, pd.Index))
    if isinstance(restarts, np.ndarray):
        restarts = restarts.reshape(1) if restarts.ndim == 0 else restarts
        if restarts.dtype == object and restarts.ndim == 1:
            restarts = list(restarts)
    elif not is_pandas:
        if isinstance(restarts, (str, bytes)) or not hasattr(restarts, "__iter__"):
            restarts = [restarts]  # one time
        else:
            restarts = list(restarts)  # a list, tuple, set or generator
    if isinstance(restarts, list):
        if not restarts:
            return np.empty(0)
        if all(r is None or (isinstance(r, (int, float, np.number)) and not isinstance(r, bool))
               for r in restarts):  # numbers, None missing
            restarts = np.array([math.nan if r is None else float(r) for r in restarts])

    def missing(position: int):
        return InputError(f"restarts: the time at position {position} is missing or not "
                          "finite", source=series_id)

    if isinstance(restarts, np.ndarray) and restarts.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(restarts))  # before the unit is guessed
        if bad.size:
            raise missing(int(bad[0]))
    try:
        times = to_unix_seconds(restarts)
    except (ValueError, TypeError) as exc:
        raise InputError(f"restarts: {exc}", source=series_id) from None
    bad = np.flatnonzero(~np.isfinite(times))
    if bad.size:  # NaT
        raise missing(int(bad[0]))
    return times


def _as_values(values, series_id: str) -> np.ndarray:
    pd = sys.modules.get("pandas")  # a pandas object needs pandas loaded; an array does not
    if pd is not None and isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy(dtype=np.float64, na_value=np.nan) \
            if values.dtype != object else values.to_numpy()
    try:
        arr = np.asarray(values)
    except Exception as exc:  # ragged input
        raise InputError(f"values must be a 1-D array of numbers: {exc}", source=series_id) from None
    if arr.ndim != 1:
        raise InputError(f"values must be 1-D, got an array of shape {arr.shape}", source=series_id)
    if arr.dtype == object or arr.dtype.kind in "USV":
        import pandas as pd

        coerced = pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(np.isnan(coerced) & pd.notna(arr))
        if bad.size:
            raise InputError(f"value {str(arr[bad[0]])!r} at position {int(bad[0])} is not a number",
                             source=series_id)
        return coerced
    if arr.dtype.kind == "c":
        raise InputError("values must be real numbers, got complex", source=series_id)
    if arr.dtype.kind not in "biuf":
        raise InputError(f"values must be numbers, got dtype {arr.dtype}", source=series_id)
    return arr.astype(np.float64, copy=True)


def _build(series_id: str, ts: np.ndarray, vals: np.ndarray,
           labels: Mapping[str, str] | None, restarts: np.ndarray | None = None) -> Series:
    n_input = vals.shape[0]
    bad_ts = ~np.isfinite(ts)
    n_bad_ts = int(np.count_nonzero(bad_ts))
    if n_bad_ts:
        ts, vals = ts[~bad_ts], vals[~bad_ts]
    diffs = np.diff(ts)
    was_sorted = bool(np.all(diffs >= 0))
    if not was_sorted:
        by_time = np.argsort(ts, kind="stable")  # stable: equal times keep input order
        ts, vals = ts[by_time], vals[by_time]
        diffs = np.diff(ts)
    dup = diffs == 0
    n_dup = int(np.count_nonzero(dup))
    if n_dup:
        keep = np.ones(ts.shape[0], dtype=bool)
        keep[:-1] = ~dup  # the last of each run of equal timestamps survives
        ts, vals = ts[keep], vals[keep]
        diffs = np.diff(ts)
    nonfinite = ~np.isfinite(vals)
    n_nonfinite = int(np.count_nonzero(nonfinite))
    if n_nonfinite:
        vals[nonfinite] = np.nan
    interval = order.median(diffs)  # np.median's float (NaN when empty), without its copy
    gaps: tuple[tuple[float, float], ...] = ()
    if diffs.size and interval > 0:
        where = np.flatnonzero(diffs > GAP_FACTOR * interval)
        gaps = tuple((float(ts[i]), float(ts[i + 1])) for i in where)
    meta = SeriesMeta(n_input=n_input, n_duplicates=n_dup, n_nonfinite=n_nonfinite,
                      n_bad_timestamps=n_bad_ts, was_sorted=was_sorted, interval=interval,
                      gaps=gaps)
    ts.setflags(write=False)
    vals.setflags(write=False)
    if restarts is not None:
        restarts = np.array(restarts, dtype=np.float64)  # its own, read-only
        restarts.setflags(write=False)
    lab = MappingProxyType({str(k): str(v) for k, v in (labels or {}).items()})
    return Series(id=str(series_id), timestamps=ts, values=vals, labels=lab, meta=meta,
                  restarts=restarts)


def _restore(series_id, ts, vals, labels, meta, restarts=None) -> Series:
    """Rebuild a pickled :class:`Series` (already validated: no checks repeated)."""
    ts.setflags(write=False)
    vals.setflags(write=False)
    return Series(id=series_id, timestamps=ts, values=vals,
                  labels=MappingProxyType(dict(labels)), meta=meta, restarts=restarts)
