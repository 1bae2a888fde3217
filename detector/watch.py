"""Watching Prometheus: poll a query, feed online detectors, send alerts on changes.

A :class:`Watcher` keeps one :class:`~detector.stream.OnlineDetector` per
series. Its first poll fetches ``history`` seconds of every series (so a
leak that is already going on is seen at once); each later poll fetches only
what is new since the last sample of the previous poll. Alert events
(``leak_started`` / ``leak_stopped``, with the streaming detector's
hysteresis) are returned, and can be sent to Alertmanager by
:func:`alertmanager_payload` and :func:`post_alerts`.

The watcher's state (every detector's buffer and alert state) can be saved
after each poll with :meth:`Watcher.to_state` and restored with
:meth:`Watcher.from_state`, so that a restarted watcher neither re-alerts nor
re-reads the history.
"""

from __future__ import annotations

import datetime as _dt
import struct
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from .config import Config
from .errors import InputError, SourceUnreachable
from .sources.prometheus import (Connection, PrometheusClient, RangeQuery, fetch_limits,
                                 fetch_restart_series)
from .stream import AlertEvent, OnlineDetector

_MAGIC = b"DTWATCH"
_VERSION = 1


@dataclass(frozen=True)
class Watched:
    """What to watch.

    Attributes
    ----------
    query : str
        PromQL for the memory series.
    limit_queries : tuple of str
        PromQL for their limits (joined by equal labels), as in the presets.
    step : float or None
        Seconds between points; None: the server's scrape interval.
    history : float
        Seconds fetched on the first poll, and kept per series (default 7 days).
    restart_queries : tuple of str
        PromQL for when the processes restarted, as in the presets (a series with one
        is judged with those restarts and no others:
        :meth:`~detector.stream.OnlineDetector.note_restarts`).
    """

    query: str
    limit_queries: tuple[str, ...] = ()
    step: float | None = None
    history: float = 7 * 86400.0
    restart_queries: tuple[str, ...] = ()


class Watcher:
    """Online leak detection over a Prometheus query.

    Parameters
    ----------
    connection : Connection
    watched : Watched
    config : Config, optional
    cadence : float
        Seconds of data between pipeline runs per series (see
        :class:`~detector.stream.OnlineDetector`; default 1 h here: a poll
        usually brings minutes of data).
    warn : callable, optional
        Receives one-line warnings.
    """

    def __init__(self, connection: Connection, watched: Watched, *,
                 config: Config | None = None, cadence: float = 3600.0,
                 warn: Callable[[str], None] | None = None):
        self.connection = connection
        self.watched = watched
        self.config = config or Config()
        self.cadence = float(cadence)
        self.warn = warn or (lambda message: None)
        self.detectors: dict[str, OnlineDetector] = {}
        self.labels: dict[str, dict[str, str]] = {}
        self.limits: dict[str, float] = {}
        self.step: float | None = watched.step
        self.last_end: float | None = None
        # per series, the last (time, value) of its restart series seen by a poll
        self.last_marks: dict[str, tuple[float, float]] = {}

    def poll(self, now: float | None = None) -> list[AlertEvent]:
        """Fetch what is new up to ``now`` and feed it; return the alert events.

        Parameters
        ----------
        now : float, optional
            Unix seconds; default the clock.

        Returns
        -------
        list of AlertEvent
            In series order; empty when nothing changed.

        Raises
        ------
        InputError, SourceUnreachable
            As the Prometheus source raises them.
        """
        now = float(time.time() if now is None else now)
        with PrometheusClient(self.connection, warn=self.warn) as client:
            if self.step is None:
                self.step = client.scrape_interval() or 60.0
            start = now - self.watched.history if self.last_end is None else \
                self.last_end + self.step
            if start > now:
                return []
            fetched = client.fetch(self.watched.query, start, now, self.step)
            if self.last_end is None or set(fetched) - set(self.detectors):
                request = RangeQuery(self.watched.query, start, now, self.step,
                                     self.watched.limit_queries)
                self.limits.update(fetch_limits(client, request, self.step, fetched, self.warn))
            restarts = self._restarts(client, start, now, fetched) \
                if self.watched.restart_queries else {}
        events: list[AlertEvent] = []
        latest = self.last_end
        for key in sorted(fetched):
            labels = fetched[key][0]
            if key not in self.detectors:
                self.detectors[key] = OnlineDetector(
                    self.limits.get(key), self.config, history=self.watched.history,
                    cadence=self.cadence, series_id=key)
                self.labels[key] = {k: v for k, v in labels.items() if k != "__name__"}
        for key, times in restarts.items():  # (also of series without samples this poll)
            if key in self.detectors:
                self.detectors[key].note_restarts(times)
        for key in sorted(fetched):
            _, ts, vals = fetched[key]
            det = self.detectors[key]
            seen = det.timestamps[-1] if len(det) else -np.inf
            new = ts > seen
            if new.any():
                events.extend(det.catch_up(ts[new], vals[new]))
                newest = float(ts[new][-1])
                latest = newest if latest is None else max(latest, newest)
        # the next poll starts after the newest sample seen (a lagging server catches up)
        self.last_end = now if latest is None else latest
        return events

    def _restarts(self, client: PrometheusClient, start: float, now: float,
                  fetched: dict) -> dict[str, np.ndarray]:
        """The restarts each series' restart series shows since the last poll: of every
        series seen so far (its memory may be missing from this poll while its process
        crash-loops), measured from the last mark kept from the polls before, so that a
        change across polls, or across a poll without memory samples, counts once."""
        from .restart_marks import restarts_from_marks

        # the labels each series joins by: this poll's, and those of series seen before
        known = {key: (labels, None, None) for key, labels in self.labels.items()}
        known.update({key: (labels, None, None) for key, (labels, _, _) in fetched.items()})
        # from a point before the new samples: what the last poll saw last (a watcher
        # restored from its state keeps no marks)
        request = RangeQuery(self.watched.query, start - self.step, now, self.step, (),
                             self.watched.restart_queries)
        out = {}
        for key, (ts, vals) in fetch_restart_series(client, request, self.step, known,
                                                    self.warn, min_points=1).items():
            before = self.last_marks.get(key)
            if before is not None:
                after = ts > before[0]
                ts = np.concatenate(([before[0]], ts[after]))
                vals = np.concatenate(([before[1]], vals[after]))
            found = restarts_from_marks(ts, vals)
            ok = np.flatnonzero(np.isfinite(vals))
            self.last_marks[key] = (float(ts[ok[-1]]), float(vals[ok[-1]]))
            if found is not None:
                out[key] = found
        return out

    def leaking(self) -> list[str]:
        """Series ids currently in the leaking state."""
        return sorted(k for k, d in self.detectors.items() if d.leaking)

    # -- state -------------------------------------------------------------------------

    def to_state(self) -> bytes:
        """Every detector's state and the poll position, as bytes.

        Format (version 1): ``b"DTWATCH"``, a version byte, the last end
        (float64, NaN when never polled), the step (float64, NaN when unknown),
        the number of series (uint32), then per series: the id, the labels as
        ``k=v`` lines and the detector state (:meth:`OnlineDetector.to_state`),
        each as a uint32 length and bytes. Little-endian.
        """
        out = [_MAGIC, bytes([_VERSION]),
               struct.pack("<ddI", np.nan if self.last_end is None else self.last_end,
                           np.nan if self.step is None else self.step, len(self.detectors))]
        for key in sorted(self.detectors):
            labels = "\n".join(f"{k}={v}" for k, v in sorted(self.labels[key].items()))
            for blob in (key.encode(), labels.encode(), self.detectors[key].to_state()):
                out.append(struct.pack("<I", len(blob)))
                out.append(blob)
        return b"".join(out)

    @classmethod
    def from_state(cls, state: bytes, connection: Connection, watched: Watched, **kwargs
                   ) -> "Watcher":
        """A watcher restored from :meth:`to_state`.

        Raises
        ------
        InputError
            For bytes that are not a watcher state, or of an unknown version.
        """
        if not state.startswith(_MAGIC) or len(state) < len(_MAGIC) + 21:
            raise InputError("not a detector watch state", source="--state")
        version = state[len(_MAGIC)]
        if version != _VERSION:
            raise InputError(f"watch state version {version} is not supported (this is "
                             f"version {_VERSION})", source="--state")
        pos = len(_MAGIC) + 1
        last_end, step, count = struct.unpack_from("<ddI", state, pos)
        pos += 20
        w = cls(connection, watched, **kwargs)
        w.last_end = None if np.isnan(last_end) else float(last_end)
        w.step = watched.step or (None if np.isnan(step) else float(step))
        try:
            for _ in range(count):
                parts = []
                for _ in range(3):
                    (n,) = struct.unpack_from("<I", state, pos)
                    pos += 4
                    parts.append(state[pos:pos + n])
                    pos += n
                key = parts[0].decode()
                text = parts[1].decode()
                w.labels[key] = dict(line.split("=", 1) for line in text.split("\n") if line)
                w.detectors[key] = OnlineDetector.from_state(parts[2])
        except (struct.error, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"watch state is damaged: {exc}", source="--state") from None
        return w


def _rfc3339(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def alertmanager_payload(watcher: Watcher, events: list[AlertEvent], *, now: float,
                         resend: float, alertname: str = "MemoryLeak",
                         extra_labels: Mapping[str, str] | None = None) -> list[dict]:
    """Alerts for Alertmanager's ``POST /api/v2/alerts``.

    Every series that leaks now is sent (firing, ``endsAt`` = ``now + 4 *
    resend``, as Prometheus does, so an alert that is not re-sent resolves
    by itself), and every ``leak_stopped`` event is sent resolved
    (``endsAt`` = ``now``).

    Parameters
    ----------
    watcher : Watcher
    events : list of AlertEvent
        The events of the last poll.
    now : float
        Unix seconds.
    resend : float
        Seconds between polls.
    alertname : str
    extra_labels : mapping, optional
        Added to every alert (e.g. ``severity``).

    Returns
    -------
    list of dict
        JSON-serialisable alerts.
    """
    def alert(key: str, ends: float) -> dict:
        det = watcher.detectors[key]
        rep = det.report
        labels = {**watcher.labels.get(key, {}), **(extra_labels or {}),
                  "alertname": alertname}
        growth = rep.slope * 3600.0 if rep.slope == rep.slope else None
        annotations = {
            "summary": f"memory leak in {key}",
            "description": f"{rep.pattern}, score {rep.score:.2f}"
                           + (f", growing {growth:.4g} per hour" if growth is not None else "")
                           + (f", {rep.time_to_limit / 3600:.1f} h to the limit"
                              if rep.time_to_limit is not None else ""),
            "score": f"{rep.score:.3f}", "pattern": rep.pattern, "series": key}
        out = {"labels": labels, "annotations": annotations, "endsAt": _rfc3339(ends)}
        if rep.onset is not None:
            out["startsAt"] = _rfc3339(rep.onset)
        return out

    alerts = [alert(key, now + 4 * resend) for key in watcher.leaking()]
    stopped = {e.series for e in events if e.kind == "leak_stopped"} - set(watcher.leaking())
    alerts += [alert(key, now) for key in sorted(stopped)]
    return alerts


def post_alerts(url: str, alerts: list[dict], *, timeout: float = 10.0) -> None:
    """POST ``alerts`` to Alertmanager (``<url>/api/v2/alerts``).

    Raises
    ------
    SourceUnreachable
        When Alertmanager cannot be reached or refuses the alerts.
    """
    import httpx

    if not alerts:
        return
    target = url.rstrip("/") + "/api/v2/alerts"
    try:
        resp = httpx.post(target, json=alerts, timeout=timeout)
    except httpx.HTTPError as exc:
        raise SourceUnreachable(f"Alertmanager at {url}: {type(exc).__name__}: "
                                f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    if resp.status_code >= 300:
        raise SourceUnreachable(f"Alertmanager at {url} refused the alerts ({resp.status_code}):"
                                f" {resp.text.strip()[:200]}")
