"""Trace: what a drawing of a verdict needs, as plain arrays and numbers.

A plot of a series shows the samples and, on them, what the detector judged:
the floor it followed, the lifetimes between restarts, where growth began,
the fitted trend with its interval, the dominant period, the limit and when
the growth reaches it. :func:`trace` gathers those from the analysis stages
and the :class:`~detector.report.Report`; the drawing code
(:mod:`detector.outputs.plot`) reads only the :class:`Trace`, so this module
is the one place to change when the stages change.

Times are unix seconds, values are in the unit of the series (bytes for
memory), slopes in value units per second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..config import Config
from ..report import Report
from ..series import Series
from .regularise import bin_series
from .restarts import find_lifetimes, given_lifetimes

#: Default number of time columns the samples are reduced to (about one per pixel).
COLUMNS = 800


def _empty() -> np.ndarray:
    return np.empty(0)


@dataclass(frozen=True)
class Trace:
    """The picture of one verdict, ready to draw.

    Attributes
    ----------
    series : str
        The series id.
    t : numpy.ndarray
        Centres of equal time columns over the whole series (unix seconds).
    lo, hi : numpy.ndarray
        Lowest and highest sample in each column (value units); NaN where a
        column holds no valid sample. Spikes survive: a single sample is the
        ``hi`` of its column.
    floor_t, floor_y : numpy.ndarray
        The floor points the detector judged (unix seconds, value units), of
        every lifetime it judged (the current one and at most
        ``MAX_JUDGED_LIFETIMES`` before it), in order.
    floor_lifetime : numpy.ndarray
        Index (into ``lifetimes``) of the lifetime each floor point belongs to.
    floor_method : str
        How the latest lifetime's floor was taken (``"bins"``, ``"cycle_minima"``,
        ``"phase_adjusted"``, ``"period_minima"``); empty without a floor.
    lifetimes : numpy.ndarray
        Shape ``(k, 2)``: first and last unix seconds of each lifetime (one
        row without restarts; none for too little data).
    restarts : numpy.ndarray
        Unix seconds of the first sample after each restart.
    changepoints : numpy.ndarray
        Unix seconds of the change points reported.
    onset : float or None
        Unix seconds where the current growth began (a resolved leak's old
        onset for ``resolved_leak``).
    trend_start, trend_end : float or None
        Stretch over which the trend was fitted (unix seconds): the growth
        regime of the latest lifetime, or the whole lifetime without one.
    trend_slope : float
        Slope of the trend (value units per second); NaN without one.
    trend_slope_interval : (float, float)
        95 % interval of that slope (value units per second); NaN when unknown.
    trend_pivot : (float, float)
        ``(t, y)`` the trend line and its interval lines pass through (the
        medians of the floor points in the stretch, as Theil-Sen's intercept).
    period : float or None
        Dominant period (seconds).
    limit : float or None
        The memory limit (value units): given, or revealed by the peaks of an
        OOM-kill loop (see ``limit_revealed``).
    limit_revealed : bool
        True when ``limit`` was not given but read from where restarts happen.
    projection : (float, float) or None
        ``(t, y)`` where the projection to the limit starts: the last sample
        time and the level from which ``time_to_limit`` was measured.
    limit_at : float or None
        Unix seconds when the growth reaches ``limit``.
    limit_at_interval : (float or None, float or None)
        Earliest and latest unix seconds for ``limit_at`` (from the slope's
        interval); None where unbounded.
    """

    series: str
    t: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    floor_t: np.ndarray = field(default_factory=_empty)
    floor_y: np.ndarray = field(default_factory=_empty)
    floor_lifetime: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    floor_method: str = ""
    lifetimes: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))
    restarts: np.ndarray = field(default_factory=_empty)
    changepoints: np.ndarray = field(default_factory=_empty)
    onset: float | None = None
    trend_start: float | None = None
    trend_end: float | None = None
    trend_slope: float = math.nan
    trend_slope_interval: tuple[float, float] = (math.nan, math.nan)
    trend_pivot: tuple[float, float] = (math.nan, math.nan)
    period: float | None = None
    limit: float | None = None
    limit_revealed: bool = False
    projection: tuple[float, float] | None = None
    limit_at: float | None = None
    limit_at_interval: tuple[float | None, float | None] = (None, None)


def _number(value: Any) -> float | None:
    """A finite float, or None (evidence is read defensively: keys and types may change)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def trace(series: Series, report: Report | Mapping[str, Any], config: Config | None = None,
          *, columns: int = COLUMNS) -> Trace:
    """The picture of ``report``'s verdict on ``series``.

    Parameters
    ----------
    series : Series
        The series that was judged.
    report : Report or mapping
        Its report, or ``Report.to_dict()`` (as read back from a scan's JSON).
    config : Config, optional
        The configuration the series was judged with; default ``Config()``.
    columns : int
        Time columns the samples are reduced to (min and max of each).

    Returns
    -------
    Trace
    """
    config = config or Config()
    fields = report.to_dict() if isinstance(report, Report) else dict(report)
    evidence = fields.get("evidence") or {}
    if not isinstance(evidence, Mapping):
        evidence = {}
    view = bin_series(series, max(2, int(columns)))
    base = dict(series=series.id, t=view.t, lo=view.lo, hi=view.hi,
                changepoints=np.array([c for c in fields.get("changepoints") or ()
                                       if _number(c) is not None], dtype=float),
                period=_number(fields.get("period")))
    if fields.get("verdict") not in ("leak", "no_leak"):
        return Trace(**base)

    from .pipeline import _clean, without_exit

    series, _ = _clean(series, config)  # as judged: negative values are missing
    judged_input = evidence.get("input") if isinstance(evidence.get("input"), Mapping) else {}
    if "process_exit" in judged_input and not config.process_exit:
        config = config.replace(process_exit=True)  # judged as a test run
    series, _ = without_exit(series, config)  # the samples after the exit were not judged
    ok = np.isfinite(series.values)
    judged = evidence.get("lifetimes")
    given = judged.get("restarts") if isinstance(judged, Mapping) and \
        judged.get("restarts_from") == "given" else None
    if isinstance(given, (list, tuple)) and all(_number(r) is not None for r in given):
        # the restarts the caller gave (where the report's lifetimes begin, as judged)
        lifetimes = given_lifetimes(series.timestamps[ok], series.values[ok],
                                    np.array(given, dtype=float), config, snap=False)
    else:
        lifetimes = find_lifetimes(series.timestamps[ok], series.values[ok], config)
    if isinstance(judged, Mapping) and judged.get("floor_reading") == "point_by_point" \
            and lifetimes.loop_reading is not None:
        lifetimes = lifetimes.loop_reading  # the reading the report kept (a restart loop)
    floor_t, floor_y, floor_k, floor_method = _floors(series, lifetimes, config)

    onset = _number(fields.get("onset"))
    if onset is None:
        onset = _number(evidence.get("resolved_onset"))
    if onset is None and isinstance(evidence.get("regime"), Mapping):
        # no leak, but a growth regime was weighed: its slope is that stretch's, not the
        # whole lifetime's (a climb back from a dip drawn across a week misleads)
        onset = _number(evidence["regime"].get("onset"))
    current = lifetimes.bounds[-1]
    start = max(onset, current[0]) if onset is not None else current[0]
    end = _number(evidence.get("growth_end")) or current[1]
    slope = _number(fields.get("slope"))
    interval = evidence.get("slope_interval")
    interval = tuple(_number(x) for x in interval) if isinstance(interval, (list, tuple)) \
        and len(interval) == 2 else (None, None)
    in_stretch = (floor_t >= start) & (floor_t <= end)
    trend = {}
    if slope is not None and in_stretch.any():
        trend = dict(trend_start=start, trend_end=end, trend_slope=slope,
                     trend_slope_interval=tuple(math.nan if x is None else x for x in interval),
                     trend_pivot=(float(np.median(floor_t[in_stretch])),
                                  float(np.median(floor_y[in_stretch]))))

    limit = _number(evidence.get("limit"))
    revealed = _number(evidence.get("revealed_limit"))
    projection = {}
    ttl = _number(fields.get("time_to_limit"))
    use_limit = limit if limit is not None else revealed
    if ttl is not None and use_limit is not None and slope is not None:
        t_last = float(series.timestamps[ok][-1])
        bounds = evidence.get("time_to_limit_interval")
        bounds = tuple(_number(x) for x in bounds) if isinstance(bounds, (list, tuple)) \
            and len(bounds) == 2 else (None, None)
        projection = dict(projection=(t_last, use_limit - slope * ttl), limit_at=t_last + ttl,
                          limit_at_interval=tuple(None if b is None else t_last + b
                                                  for b in bounds))
    return Trace(**base, floor_t=floor_t, floor_y=floor_y, floor_lifetime=floor_k,
                 floor_method=floor_method,
                 lifetimes=np.array(lifetimes.bounds, dtype=float).reshape(-1, 2),
                 restarts=np.asarray(lifetimes.restarts, dtype=float), onset=onset,
                 **trend, limit=use_limit, limit_revealed=limit is None and revealed is not None,
                 **projection)


def _floors(series: Series, lifetimes, config: Config):
    """Floor points of every lifetime the pipeline judges (the current one and the
    :data:`.pipeline.MAX_JUDGED_LIFETIMES` completed ones before it), found as
    :func:`.pipeline.judge` finds them (:func:`.pipeline.lifetime_floor`)."""
    from .pipeline import MAX_JUDGED_LIFETIMES, current_bins, lifetime_floor

    bins, period = current_bins(series, lifetimes.bounds[-1], config)
    ts, ys, ks, method = [], [], [], ""
    last = len(lifetimes.bounds) - 1
    for k, (a, b) in enumerate(lifetimes.bounds):
        if k < last - MAX_JUDGED_LIFETIMES:
            continue  # not judged: older than the replicates the pipeline looks at
        _, _, fl = lifetime_floor(series, (a, b), config, period, bins.width, lifetimes.cycle,
                                  completed=k != last, bins=bins if k == last else None)
        ts.append(fl.t)
        ys.append(fl.y)
        ks.append(np.full(fl.t.shape[0], k, dtype=np.int64))
        method = fl.method
    if not ts:
        return _empty(), _empty(), np.empty(0, np.int64), ""
    return np.concatenate(ts), np.concatenate(ys), np.concatenate(ks), method
