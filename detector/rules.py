"""The alert rules of practice, as small composable functions.

What operators run today, so that they can be compared with the detector
and combined with it:

* :func:`static_threshold`: the value is above a share of a limit (80 % of
  the container limit; 70 % of host memory for RSS; 30 % for swap);
* :func:`dynamic_band`: the value leaves the sliding mean +- k sigma of the
  preceding window (k = 2);
* :func:`persistent`: a condition only alerts once it has held for a while
  (Prometheus ``for: 5m``);
* :func:`breadth`: a fleet alert when several instances fire at once (>= 3);
* :func:`outside_windows`: nothing fires inside maintenance windows.

Conditions are boolean arrays aligned with the sample times; alerts are
lists of ``(start, end)`` intervals in unix seconds. A missing sample (NaN)
never satisfies a condition.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

#: Shares of a limit used by common static rules.
STATIC_SHARES = {"container_limit": 0.8, "host_rss": 0.7, "swap": 0.3}


def _arrays(t, v=None):
    t = np.asarray(t, dtype=np.float64)
    if t.ndim != 1:
        raise ValueError(f"t must be 1-D, got shape {t.shape}")
    if t.size > 1 and not np.all(np.diff(t) > 0):
        raise ValueError("t must be strictly increasing (build a detector.Series first)")
    if v is None:
        return t
    v = np.asarray(v, dtype=np.float64)
    if v.shape != t.shape:
        raise ValueError(f"t and values differ in shape ({t.shape} vs {v.shape})")
    return t, v


def static_threshold(t, values, *, limit, share: float = 0.8) -> np.ndarray:
    """Condition: the value is above ``share`` of ``limit``.

    Parameters
    ----------
    t : array_like
        Sample times (unix seconds), increasing.
    values : array_like
        Values (bytes).
    limit : float or array_like
        The limit (bytes): a scalar or one value per sample.
    share : float, default 0.8
        Share of the limit (0.8 for a container limit, 0.7 for RSS against
        host memory, 0.3 for swap: see :data:`STATIC_SHARES`).

    Returns
    -------
    numpy.ndarray of bool
    """
    t, v = _arrays(t, values)
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    lim = np.broadcast_to(np.asarray(limit, dtype=np.float64), v.shape)
    with np.errstate(invalid="ignore"):
        return np.isfinite(v) & np.isfinite(lim) & (v > share * lim)


def dynamic_band(t, values, *, window: float, k: float = 2.0, side: str = "upper"
                 ) -> np.ndarray:
    """Condition: the value leaves the mean +- ``k`` sigma of the preceding window.

    Parameters
    ----------
    t : array_like
        Sample times (unix seconds), increasing, roughly regular.
    values : array_like
        Values.
    window : float
        Length of the preceding window (seconds); converted to samples with
        the median sampling interval (at least 2 samples).
    k : float, default 2
        Band half-width in standard deviations (ddof=1).
    side : {"upper", "both"}
        Alert above the band only, or outside it on either side.

    Returns
    -------
    numpy.ndarray of bool
        False where the preceding window is incomplete or holds a missing sample.
    """
    t, v = _arrays(t, values)
    if side not in ("upper", "both"):
        raise ValueError(f"side must be 'upper' or 'both', got {side!r}")
    if not window > 0:
        raise ValueError(f"window must be > 0 seconds, got {window}")
    if not k >= 0:
        raise ValueError(f"k must be >= 0, got {k}")
    out = np.zeros(v.shape, dtype=bool)
    if v.size < 3:
        return out
    from .kernels import rolling_mean_std

    interval = float(np.median(np.diff(t)))
    w = max(2, int(round(window / interval)))
    if w >= v.size:
        return out
    mean, std = rolling_mean_std(v, w)
    # the band for sample i comes from samples i-w .. i-1
    m, s = mean[:-1], std[:-1]
    x = v[1:]
    with np.errstate(invalid="ignore"):
        hit = x > m + k * s
        if side == "both":
            hit |= x < m - k * s
    out[1:] = hit & np.isfinite(x) & np.isfinite(m) & np.isfinite(s)
    return out


def persistent(t, condition, *, for_seconds: float = 300.0) -> np.ndarray:
    """Condition held for at least ``for_seconds`` (Prometheus ``for:``).

    A sample is True when the condition has been True at every sample since a
    time at least ``for_seconds`` earlier; one False (or missing) sample resets.

    Parameters
    ----------
    t : array_like
        Sample times (unix seconds), increasing.
    condition : array_like of bool
    for_seconds : float, default 300

    Returns
    -------
    numpy.ndarray of bool
    """
    t = _arrays(t)
    c = np.asarray(condition, dtype=bool)
    if c.shape != t.shape:
        raise ValueError(f"t and condition differ in shape ({t.shape} vs {c.shape})")
    if for_seconds < 0:
        raise ValueError(f"for_seconds must be >= 0, got {for_seconds}")
    if c.size == 0:
        return c.copy()
    # start time of the run of Trues each sample belongs to
    starts = np.where(c & ~np.concatenate(([False], c[:-1])), t, -np.inf)
    run_start = np.maximum.accumulate(starts)
    return c & (t - run_start >= for_seconds)


def intervals(t, condition) -> list[tuple[float, float]]:
    """Turn a condition into ``(first, last)`` unix-second intervals of consecutive Trues."""
    t = _arrays(t)
    c = np.asarray(condition, dtype=bool)
    if c.shape != t.shape:
        raise ValueError(f"t and condition differ in shape ({t.shape} vs {c.shape})")
    if not c.any():
        return []
    edges = np.diff(np.concatenate(([0], c.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return [(float(t[a]), float(t[b])) for a, b in zip(starts, ends)]


def outside_windows(t, condition, windows: Iterable[tuple[float, float]]) -> np.ndarray:
    """The condition with every sample inside a maintenance window set to False.

    Parameters
    ----------
    t : array_like
        Sample times (unix seconds).
    condition : array_like of bool
    windows : iterable of (start, end)
        Maintenance windows (unix seconds, both ends included).
    """
    t = _arrays(t)
    c = np.asarray(condition, dtype=bool).copy()
    for start, end in windows:
        if end < start:
            raise ValueError(f"maintenance window ends before it starts: ({start}, {end})")
        c[(t >= start) & (t <= end)] = False
    return c


def breadth(alerts: Mapping[str, Sequence[tuple[float, float]]], *, min_instances: int = 3
            ) -> list[tuple[float, float, list[str]]]:
    """Fleet alert: times when at least ``min_instances`` instances alert at once.

    Parameters
    ----------
    alerts : mapping of instance id to intervals
        Each instance's alert intervals ``(start, end)`` (unix seconds, both
        ends included).
    min_instances : int, default 3

    Returns
    -------
    list of (start, end, instances)
        Maximal intervals during which at least ``min_instances`` alert, with
        the instances that alerted at some point inside each.
    """
    if min_instances < 1:
        raise ValueError(f"min_instances must be >= 1, got {min_instances}")
    events = []
    for name, ivs in alerts.items():
        for a, b in ivs:
            if b < a:
                raise ValueError(f"interval of {name!r} ends before it starts: ({a}, {b})")
            events.append((a, 0, name))  # opens sort before closes at the same time
            events.append((b, 1, name))
    events.sort(key=lambda e: (e[0], e[1]))
    out = []
    open_count: dict[str, int] = {}
    start = None
    members: set[str] = set()
    for time, kind, name in events:
        if kind == 0:
            open_count[name] = open_count.get(name, 0) + 1
            if start is not None:
                members.add(name)
            elif len(open_count) >= min_instances:
                start, members = time, set(open_count)
        else:
            open_count[name] -= 1
            if open_count[name] == 0:
                del open_count[name]
                if start is not None and len(open_count) < min_instances:
                    out.append((start, time, sorted(members)))
                    start = None
    return out


def alert_intervals(t, values, *, rule: str = "static", limit=None, share: float = 0.8,
                    window: float = 3600.0, k: float = 2.0, for_seconds: float = 300.0,
                    maintenance: Iterable[tuple[float, float]] = ()) -> list[tuple[float, float]]:
    """One rule of practice end to end: condition, persistence, maintenance, intervals.

    Parameters
    ----------
    t, values : array_like
        Sample times (unix seconds, increasing) and values.
    rule : {"static", "band"}
        :func:`static_threshold` (needs ``limit``) or :func:`dynamic_band`.
    limit, share : see :func:`static_threshold`.
    window, k : see :func:`dynamic_band` (seconds, sigmas).
    for_seconds : float
        Persistence (seconds), default 300.
    maintenance : iterable of (start, end)
        Windows during which nothing fires.

    Returns
    -------
    list of (float, float)
    """
    if rule == "static":
        if limit is None:
            raise ValueError("the static rule needs a limit")
        cond = static_threshold(t, values, limit=limit, share=share)
    elif rule == "band":
        cond = dynamic_band(t, values, window=window, k=k)
    else:
        raise ValueError(f"rule must be 'static' or 'band', got {rule!r}")
    cond = persistent(t, cond, for_seconds=for_seconds)
    cond = outside_windows(t, cond, maintenance)
    return intervals(t, cond)


__all__ = ["STATIC_SHARES", "static_threshold", "dynamic_band", "persistent", "intervals",
           "outside_windows", "breadth", "alert_intervals"]
