"""The drawing of one verdict: the samples with what the detector judged drawn on them.

Reads only a :class:`detector.analysis.trace.Trace` (never the analysis
itself), and draws with matplotlib's object API (no pyplot, no global
figure state): the samples as a band from the lowest to the highest value of
each pixel column (so a one-sample spike stays visible at any zoom), the
floor the detector followed, lifetimes split at restarts, the onset of
growth, change points, the fitted trend with its 95 % interval, the dominant
period, the memory limit and the projection to it with its interval.

Needs matplotlib (the ``plot`` extra).
"""

from __future__ import annotations

import io
import math
import re
from typing import Any, Mapping

import numpy as np

from ..analysis.trace import Trace
from ..errors import InputError

#: Figure size (inches) and resolution of the drawings.
WIDTH, HEIGHT, DPI = 9.6, 3.4, 100

#: Colours (matplotlib's tab palette, readable by most colour-blind readers).
SAMPLES, FLOOR, TREND, ONSET, RESTART, LIMIT, CHANGE = (
    "#9db7d5", "#1f4e79", "#d62728", "#2ca02c", "#7f7f7f", "#ff7f0e", "#9467bd")

#: Longest projection drawn, as a multiple of the data's time span.
MAX_PROJECTION = 0.5

#: Largest value shown as a plain number; above it values are shown in bytes.
PLAIN_UP_TO = 1e5

_RC = {"svg.fonttype": "none", "font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7,
       "path.simplify": True, "svg.hashsalt": None}


def _matplotlib():
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise InputError("plots need matplotlib: pip install 'detector[plot]'",
                         source="matplotlib") from None
    return matplotlib, Figure


def _days(t):
    """Unix seconds as matplotlib date numbers (days since 1970-01-01)."""
    return np.asarray(t, dtype=float) / 86400.0


def value_unit(peak: float) -> tuple[float, str]:
    """The divisor and name of the unit to show values of magnitude ``peak`` in.

    Values above :data:`PLAIN_UP_TO` are taken as bytes and shown in the binary
    unit (KiB, MiB, GiB, TiB) that keeps them below 1024; smaller ones (goroutine
    counts, say) as they are.

    Parameters
    ----------
    peak : float
        Largest absolute value drawn (value units).

    Returns
    -------
    (float, str)
        Divide values by the first to show them in the second (``""`` for plain).
    """
    if not math.isfinite(peak) or peak <= PLAIN_UP_TO:
        return 1.0, ""
    scale, unit = 1.0, "B"
    for name in ("KiB", "MiB", "GiB", "TiB"):
        if peak / scale < 1024:
            break
        scale, unit = scale * 1024, name
    return scale, unit


def draw(trace: Trace, ax, *, title: str | None = None) -> None:
    """Draw ``trace`` on the matplotlib axes ``ax`` (without a legend: see :func:`legend`).

    Parameters
    ----------
    trace : Trace
    ax : matplotlib.axes.Axes
    title : str, optional
        Drawn above the plot.
    """
    import matplotlib.dates as mdates
    from matplotlib.ticker import MaxNLocator

    ok = np.isfinite(trace.lo) & np.isfinite(trace.hi)
    values = np.concatenate([trace.hi[ok], trace.floor_y,
                             [trace.limit] if trace.limit is not None else []])
    scale, unit = value_unit(float(np.max(np.abs(values))) if values.size else math.nan)
    ax.fill_between(_days(trace.t), trace.lo / scale, trace.hi / scale, where=ok,
                    color=SAMPLES, lw=0.6, edgecolor=SAMPLES)
    for k in np.unique(trace.floor_lifetime):
        sel = trace.floor_lifetime == k
        t, y = _broken_at_gaps(trace.floor_t[sel], trace.floor_y[sel])
        ax.plot(_days(t), y / scale, color=FLOOR, lw=1.0, zorder=2.1)
    for r in trace.restarts:
        ax.axvline(_days(r), color=RESTART, lw=0.9, ls="--")
    for c in np.setdiff1d(trace.changepoints, trace.restarts):
        ax.axvline(_days(c), ymin=0.0, ymax=0.06, color=CHANGE, lw=1.2)
    if trace.onset is not None:
        ax.axvline(_days(trace.onset), color=ONSET, lw=1.2)
    _draw_trend(trace, ax, scale)
    _draw_limit(trace, ax, scale)
    _draw_period(trace, ax)

    # few ticks: laying out tick labels is most of the time a drawing takes
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=True))
    ax.set_ylabel(unit)
    ax.set_xlabel("UTC", labelpad=1)
    _draw_grid(ax)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, loc="left")


def _draw_grid(ax) -> None:
    """Grid lines at the major ticks, as one collection below the data.

    Matplotlib's own grid is a line (and a tick mark) per tick, each drawn on its own:
    a fifth of the time of a drawing. The view is settled first, so the ticks are
    the ones drawn.
    """
    from matplotlib.collections import LineCollection

    ax.autoscale_view()
    segments = []
    for axis, transform, vertical in ((ax.xaxis, ax.get_xaxis_transform(), True),
                                      (ax.yaxis, ax.get_yaxis_transform(), False)):
        lo, hi = sorted(axis.get_view_interval())
        for v in axis.get_majorticklocs():
            if lo <= v <= hi:
                segments.append(((v, 0.0), (v, 1.0)) if vertical else ((0.0, v), (1.0, v)))
        ax.add_collection(LineCollection(segments, colors="#e5e5e5", linewidths=0.5,
                                         zorder=0.5, transform=transform), autolim=False)
        segments = []


def _broken_at_gaps(t: np.ndarray, y: np.ndarray, factor: float = 3.0):
    """``(t, y)`` with a NaN inserted wherever the spacing exceeds ``factor`` times the
    median spacing, so a line is not drawn across missing data."""
    if t.shape[0] < 3:
        return t, y
    dt = np.diff(t)
    cut = np.flatnonzero(dt > factor * np.median(dt)) + 1
    if cut.size == 0:
        return t, y
    return (np.insert(t.astype(float), cut, np.nan), np.insert(y.astype(float), cut, np.nan))


def legend_entries() -> list[tuple[str, dict]]:
    """What each mark of a drawing means: ``(label, matplotlib artist properties)``."""
    return [
        ("samples (min to max per pixel column)", dict(kind="patch", color=SAMPLES)),
        ("floor the detector judged", dict(kind="line", color=FLOOR, lw=1.1)),
        ("trend (Theil-Sen) and its 95 % interval", dict(kind="line", color=TREND, lw=1.4)),
        ("onset of growth", dict(kind="line", color=ONSET, lw=1.2)),
        ("restart", dict(kind="line", color=RESTART, lw=0.9, ls="--")),
        ("change point (tick at the bottom)", dict(kind="line", color=CHANGE, lw=1.2)),
        ("dominant period (bracket)", dict(kind="line", color=CHANGE, lw=1.0)),
        ("memory limit (given or revealed by restarts)", dict(kind="line", color=LIMIT,
                                                             lw=1.0, ls=":")),
        ("projection to the limit; band: when (95 %)", dict(kind="line", color=LIMIT, lw=1.2,
                                                           ls="--")),
    ]


def legend(fig, *, ncols: int = 3, loc: str = "lower center") -> None:
    """Put the key of every mark (:func:`legend_entries`) on ``fig``."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles, labels = [], []
    for label, props in legend_entries():
        props = dict(props)
        kind = props.pop("kind")
        handles.append(Patch(**props) if kind == "patch" else Line2D([], [], **props))
        labels.append(label)
    fig.legend(handles, labels, loc=loc, ncols=ncols, frameon=False)


def _draw_trend(trace: Trace, ax, scale: float) -> None:
    if trace.trend_start is None or not math.isfinite(trace.trend_slope):
        return
    t_m, y_m = trace.trend_pivot
    ts = np.array([trace.trend_start, trace.trend_end])
    ax.plot(_days(ts), (y_m + trace.trend_slope * (ts - t_m)) / scale, color=TREND, lw=1.6,
            zorder=1.9)
    lo, hi = trace.trend_slope_interval
    if math.isfinite(lo) and math.isfinite(hi):
        ya, yb = y_m + lo * (ts - t_m), y_m + hi * (ts - t_m)
        ax.fill_between(_days(ts), np.minimum(ya, yb) / scale, np.maximum(ya, yb) / scale,
                        color=TREND, alpha=0.15, lw=0)


def _draw_limit(trace: Trace, ax, scale: float) -> None:
    if trace.limit is None:
        return
    limit = trace.limit / scale
    span = float(trace.t[-1] - trace.t[0]) if trace.t.size > 1 else 0.0
    right = trace.t[-1] + MAX_PROJECTION * span if span > 0 else math.inf
    ax.axhline(limit, color=LIMIT, lw=1.0, ls=":")
    ax.annotate("limit (revealed by restarts)" if trace.limit_revealed else "limit",
                xy=(0.0, limit), xycoords=("axes fraction", "data"),
                xytext=(2, -2), textcoords="offset points", va="top", fontsize=7, color=LIMIT)
    if trace.projection is None or trace.limit_at is None:
        return
    t0, y0 = trace.projection
    t1 = min(trace.limit_at, right)
    frac = (t1 - t0) / (trace.limit_at - t0) if trace.limit_at > t0 else 1.0
    y1 = (y0 + frac * (trace.limit - y0)) / scale
    ax.plot(_days([t0, t1]), [y0 / scale, y1], color=LIMIT, lw=1.2, ls="--")
    early, late = trace.limit_at_interval
    if early is not None and early < right:
        late = min(late if late is not None else math.inf, right)
        ax.plot(_days([early, late]), [limit, limit], color=LIMIT, lw=5, alpha=0.3,
                solid_capstyle="butt")
    if t1 < trace.limit_at:
        ax.annotate(f"limit in {_duration(trace.limit_at - t0)} \u2192", xy=(_days(t1), y1),
                    xytext=(-4, 6), textcoords="offset points", ha="right", fontsize=7,
                    color=LIMIT)


def _draw_period(trace: Trace, ax) -> None:
    """One period as a bracket near the top right, where the cycles can be compared."""
    if trace.period is None or trace.t.size < 2:
        return
    end = trace.t[-1]
    if trace.period >= 0.9 * (end - trace.t[0]):
        return
    ax.annotate("", xy=(_days(end - trace.period), 0.92), xytext=(_days(end), 0.92),
                xycoords=("data", "axes fraction"), textcoords=("data", "axes fraction"),
                arrowprops=dict(arrowstyle="|-|", color=CHANGE, lw=1.0,
                                shrinkA=0, shrinkB=0))
    ax.annotate(f"period {_duration(trace.period)}", xy=(_days(end - trace.period / 2), 0.92),
                xycoords=("data", "axes fraction"), xytext=(0, 3), textcoords="offset points",
                ha="center", va="bottom", fontsize=7, color=CHANGE)


def _duration(seconds: float) -> str:
    from .formats import human_duration

    return human_duration(seconds)


def _empty_figure(*, title: bool, key: bool, width: float = WIDTH, height: float = HEIGHT):
    """A Figure with one Axes and fixed margins (inches), not registered with pyplot."""
    _, Figure = _matplotlib()
    total = height + (KEY_HEIGHT if key else 0.0)
    fig = Figure(figsize=(width, total), dpi=DPI)
    fig.subplots_adjust(left=0.75 / width, right=1 - 0.15 / width,
                        bottom=((KEY_HEIGHT if key else 0.0) + 0.55) / total,
                        top=1 - (0.35 if title else 0.1) / total)
    ax = fig.add_subplot()
    # no tick marks: the grid (:func:`_draw_grid`) marks the ticks
    ax.tick_params(length=0, pad=3)
    # axis labels at fixed places: placing them by the tick labels' extents costs a fifth
    # of a drawing
    ax.xaxis.set_label_coords(0.5, -0.32 / (height - 0.65))
    ax.yaxis.set_label_coords(-0.55 / (width - 0.9), 0.5)
    return fig


def figure(trace: Trace, *, title: str | None = None, key: bool = True,
           width: float = WIDTH, height: float = HEIGHT):
    """A matplotlib Figure (not registered with pyplot) holding the drawing of ``trace``.

    Parameters
    ----------
    trace : Trace
    title : str, optional
    key : bool
        Add the legend below the plot (the figure grows by :data:`KEY_HEIGHT`).
    width, height : float
        Inches of the plot (at :data:`DPI` dots per inch).

    Notes
    -----
    Margins are fixed in inches (no constrained layout, which draws every
    figure twice).
    """
    fig = _empty_figure(title=bool(title), key=key, width=width, height=height)
    draw(trace, fig.axes[0], title=title)
    if key:
        legend(fig)
    return fig


class Sketcher:
    """Draws many traces as SVG on one reused figure (about a third faster than a
    new figure each: the axes keep their tick objects).

    Each drawing starts from an empty plot: the previous one's artists and data
    limits are removed, so the markup equals that of a new figure (tested).
    """

    def __init__(self):
        matplotlib, _ = _matplotlib()
        with matplotlib.rc_context(_RC):
            self._fig = _empty_figure(title=False, key=False)

    def svg(self, trace: Trace, *, salt: str) -> str:
        """The drawing of ``trace`` as markup to inline (see :func:`to_svg`)."""
        from matplotlib.transforms import Bbox

        matplotlib, _ = _matplotlib()
        ax = self._fig.axes[0]
        with matplotlib.rc_context(_RC):
            for artist in [*ax.lines, *ax.collections, *ax.texts, *ax.patches]:
                artist.remove()
            ax.dataLim = Bbox.null()
            ax.ignore_existing_data_limits = True
            ax.set_autoscale_on(True)
            draw(trace, ax)  # settles the view (_draw_grid)
        return _svg_markup(self._fig, salt)


#: Height (inches) the legend adds below a standalone drawing.
KEY_HEIGHT = 0.6

_PATH_DATA = re.compile(r'( d="[^"]*"| [xy]="[-0-9.]+")')
_DECIMALS = re.compile(r"(?<=\.\d)\d+")
_FONTS = re.compile(r"font-family: [^;\"]*sans-serif")
_IDS = re.compile(r' id="(?:figure|axes|patch|line2d|text|matplotlib\.axis|xtick|ytick|'
                  r'legend|PolyCollection|FillBetweenPolyCollection|LineCollection)_\d+"')


def _svg_markup(fig, salt: str) -> str:
    """``fig`` as SVG markup to inline in HTML: no prolog, small, ids unique per ``salt``."""
    matplotlib, _ = _matplotlib()
    buf = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = _FONTS.sub("font-family: sans-serif", _IDS.sub("", text))
    return _PATH_DATA.sub(lambda m: _DECIMALS.sub("", m.group(0)), text)


def to_svg(trace: Trace, *, salt: str) -> str:
    """The drawing (without legend: see :func:`key_svg`) as SVG markup to inline in HTML.

    Parameters
    ----------
    trace : Trace
    salt : str
        Makes the SVG's internal ids (clip paths, markers) unique in a page that
        inlines many drawings.

    Returns
    -------
    str
        ``<svg ...>...</svg>``, no XML prolog, text as text (small, searchable),
        coordinates to a tenth of a pixel. Many drawings are faster with one
        :class:`Sketcher`.
    """
    return Sketcher().svg(trace, salt=salt)


def svg_batch(traces: list[Trace], salts: list[str]) -> list[str]:
    """Several drawings on one :class:`Sketcher` (a unit of work for a worker process)."""
    global _BATCH_SKETCHER
    if _BATCH_SKETCHER is None:  # one figure per worker process, reused by every batch
        _BATCH_SKETCHER = Sketcher()
    return [_BATCH_SKETCHER.svg(t, salt=s) for t, s in zip(traces, salts)]


_BATCH_SKETCHER: Sketcher | None = None


def key_svg(*, width: float = WIDTH) -> str:
    """The legend of every drawing, alone, as SVG markup (a page shows it once)."""
    matplotlib, Figure = _matplotlib()
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width, KEY_HEIGHT), dpi=DPI)
        legend(fig, loc="center")
    return _svg_markup(fig, "key")


def save(trace: Trace, path, *, title: str | None = None) -> None:
    """Write the drawing with its legend to ``path``; the suffix picks the format.

    Parameters
    ----------
    trace : Trace
    path : str or pathlib.Path
        ``.png``, ``.svg`` or ``.pdf`` (any format matplotlib writes); written
        atomically.
    title : str, optional
    """
    from .formats import write_atomic

    matplotlib, _ = _matplotlib()
    suffix = str(path).lower().rsplit(".", 1)[-1]
    buf = io.BytesIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": "detector"}):
        fig = figure(trace, title=title)
        fig.savefig(buf, format=suffix, dpi=DPI, metadata=_no_date(suffix))
    write_atomic(buf.getvalue(), path)


def _no_date(suffix: str) -> dict[str, Any] | None:
    """Metadata that keeps the output reproducible (no creation date), per format."""
    return {"Date": None} if suffix in ("svg",) else (
        {"CreationDate": None} if suffix == "pdf" else None)


def caption(fields: Mapping[str, Any]) -> str:
    """A short title for a drawing: verdict, pattern and score."""
    score = fields.get("score")
    score = f", score {score:.2f}" if isinstance(score, (int, float)) else ""
    return f"{fields.get('verdict', '?')} ({fields.get('pattern', '?')}{score})"
