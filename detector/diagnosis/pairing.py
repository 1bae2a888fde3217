"""Events beside the onset and the change points: "onset 3 min after deploy shop/checkout:1.4.2".

:func:`pair_events` puts each time the report names (the onset of the
growth, every change point) beside the nearest event that concerns the
series, looking back ``tolerance`` seconds (default 30 min) and forward
``slack`` seconds: an onset is estimated from time bins, so it may land up
to a bin before the event that caused it (``slack`` is one bin, or two
samples when that is more). It counts the restarts, OOM kills and deploys
inside the series' range; OOM kills confirm a ``restart_loop`` verdict (the
container really is killed at its limit, again and again). All of it goes to
``evidence.events``, with one line per finding in ``summary``.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

from .events import Event

#: How far before a time an event may be to be paired with it (seconds).
DEFAULT_TOLERANCE = 1800.0


def pair_events(fields: dict, events: Sequence[Event], *, start: float, end: float,
                slack: float, tolerance: float = DEFAULT_TOLERANCE) -> dict:
    """``evidence.events`` for one series' report.

    Parameters
    ----------
    fields : dict
        The report as :meth:`detector.Report.to_dict` gives it (``onset``,
        ``changepoints``, ``pattern``, ``leak``).
    events : sequence of Event
        The events that concern the series (any order).
    start, end : float
        The series' first and last sample (unix seconds).
    slack : float
        How far after a time an event may be to be paired with it (seconds).
    tolerance : float
        How far before (seconds).

    Returns
    -------
    dict
        ``onset`` (a pairing or None), ``changepoints`` (one pairing each),
        ``counts`` (events of each kind in ``[start, end]``), ``confirms``
        (``"restart_loop"`` or None) and ``summary`` (lines of text). A pairing
        is ``{"time", "event", "lag", "text", "also"}`` with ``event`` None
        when nothing is near; ``lag`` is seconds from the event to the time;
        ``also`` the next three events in the window (each with its ``lag``).
        When the nearest event is not a deploy and a deploy is in the window,
        the text names the deploy too.
    """
    events = sorted(events, key=lambda e: e.time)
    inside = [e for e in events if start <= e.time <= end + slack]
    counts: dict[str, int] = {}
    for e in inside:
        counts[e.kind] = counts.get(e.kind, 0) + 1
    summary = []
    onset = None
    if fields.get("onset") is not None:
        onset = _pair("onset", float(fields["onset"]), events, tolerance, slack)
        if onset["event"] is not None:
            summary.append(onset["text"])
    changepoints = [_pair("change point", float(c), events, tolerance, slack)
                    for c in fields.get("changepoints") or ()]
    # the line names the change points other than the onset (already said)
    others = [p for p in changepoints if onset is None or p["time"] != onset["time"]]
    paired = [p for p in others if p["event"] is not None]
    if paired:
        summary.append(_changepoint_line(paired, len(others)))
    kills = counts.get("oom_kill", 0)
    confirms = None
    if fields.get("pattern") == "restart_loop" and kills:
        confirms = "restart_loop"
        summary.append(f"restart loop confirmed by {_plural(kills, 'OOM kill')}")
    elif kills:
        summary.append(f"{_plural(kills, 'OOM kill')} in the range: the container reached "
                       "its limit")
    return {"onset": onset, "changepoints": changepoints, "counts": counts,
            "oom_kills": kills, "restarts": counts.get("restart", 0),
            "deploys": counts.get("deploy", 0), "confirms": confirms, "summary": summary}


def _pair(what: str, when: float, events: Iterable[Event], tolerance: float,
          slack: float) -> dict:
    near = [e for e in events if when - tolerance <= e.time <= when + slack]
    if not near:
        return {"time": when, "event": None, "lag": None, "text": None, "also": []}
    near.sort(key=lambda e: (abs(when - e.time), -e.time))
    best = near[0]
    lag = when - best.time
    text = f"{what} {_relative(lag)} {best.text}"
    # a deploy in the window is worth saying even when a log line is nearer
    deploy = next((e for e in near[1:] if e.kind == "deploy"), None)
    if best.kind != "deploy" and deploy is not None:
        text += f" ({_relative(when - deploy.time)} {deploy.text})"
    return {"time": when, "event": best.to_dict(), "lag": lag, "text": text,
            "also": [dict(e.to_dict(), lag=when - e.time) for e in near[1:4]]}


def _relative(lag: float) -> str:
    return f"{_duration(abs(lag))} {'after' if lag >= 0 else 'before'}"


def _changepoint_line(paired: list[dict], total: int) -> str:
    """``3 of 4 change points are near an event: 2 OOM kills; change point 4 min after deploy ...``.

    Restarts and OOM kills are counted (a restart loop has dozens); other events
    are named, the first two of them.
    """
    kinds: dict[str, set] = {}
    named = []
    for p in paired:
        kind = p["event"]["kind"]
        if kind in ("restart", "oom_kill"):  # distinct events (two points may share one)
            kinds.setdefault(kind, set()).add(p["event"]["time"])
        else:
            named.append(p["text"])
    parts = [_plural(len(times), {"restart": "restart", "oom_kill": "OOM kill"}[k])
             for k, times in sorted(kinds.items())]
    parts += named[:2] + (["..."] if len(named) > 2 else [])
    return f"{len(paired)} of {_plural(total, 'change point')} near an event: " + \
        "; ".join(parts)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def slack_for(start: float, end: float, interval: float, max_bins: int) -> float:
    """One analysis time bin of a series (its onset's resolution), at least two samples."""
    bin_width = (end - start) / max(max_bins, 1) if end > start else 0.0
    step = interval if math.isfinite(interval) else 0.0
    return max(bin_width, 2.0 * step)


__all__ = ["DEFAULT_TOLERANCE", "pair_events", "slack_for"]
