"""Streaming: an online detector per series, for alerting pipelines.

``OnlineDetector`` keeps a bounded history (a time window, default 7 days,
and a sample cap), takes samples one at a time or in batches (out of order
and duplicated ones handled as the batch path does), maintains the sliding
mean / sigma band and the rolling floor incrementally, and re-runs the batch
pipeline on its buffer every ``cadence`` seconds of data to raise *events*
when a series starts or stops leaking (with hysteresis). ``report`` is always
current: it re-runs the pipeline when samples arrived since the last run, so
after the last sample it equals ``detector.analyze`` on the same buffer.

State survives restarts: ``to_state()`` returns bytes in a documented,
versioned format (no pickle) and ``OnlineDetector.from_state`` restores it.
"""

from __future__ import annotations

import json
import math
import struct
from collections import deque
from dataclasses import asdict, dataclass, fields
from typing import Iterable

import numpy as np

from .config import Config
from .errors import InputError
from .report import Report

#: Magic bytes and version of the state format (see :meth:`OnlineDetector.to_state`).
STATE_MAGIC = b"DTSTATE"
STATE_VERSION = 1


@dataclass(frozen=True)
class AlertEvent:
    """A change of a series' leak state.

    Attributes
    ----------
    kind : str
        ``"leak_started"`` or ``"leak_stopped"``.
    timestamp : float
        Unix seconds of the last sample when the change was seen.
    series : str
        Series id.
    score : float
        The report's score at that time.
    pattern : str
        The report's pattern.
    """

    kind: str
    timestamp: float
    series: str
    score: float
    pattern: str


class _Band:
    """Sliding mean +- k sigma of the last ``window`` samples, O(1) per sample."""

    def __init__(self, window: int, k: float):
        self.window = window
        self.k = k
        self.values: deque = deque()
        self.s1 = 0.0
        self.s2 = 0.0
        self.shift = None

    def outside(self, v: float) -> bool:
        """Whether ``v`` is above mean + k sigma of the samples before it; then add it."""
        hit = False
        n = len(self.values)
        if n == self.window and n >= 2:
            m = self.s1 / n
            var = (self.s2 - self.s1 * m) / (n - 1)
            hit = v - self.shift > m + self.k * math.sqrt(max(var, 0.0))
        if self.shift is None:
            self.shift = v
        d = v - self.shift
        self.values.append(d)
        self.s1 += d
        self.s2 += d * d
        if len(self.values) > self.window:
            old = self.values.popleft()
            self.s1 -= old
            self.s2 -= old * old
        return hit


def _config_from_state(saved: dict) -> Config:
    """The :class:`Config` a state holds: known thresholds only (a newer detector may have
    written more), the others at their defaults; a value out of range is an InputError."""
    if not isinstance(saved, dict):
        raise InputError("corrupt detector state (thresholds)", source="state")
    known = {f.name for f in fields(Config)}
    try:
        return Config(**{k: v for k, v in saved.items() if k in known})
    except ValueError as exc:
        raise InputError(f"detector state has a bad threshold: {exc}", source="state") from None


class OnlineDetector:
    """Leak detection for one series, sample by sample.

    Parameters
    ----------
    limit : float, optional
        Memory limit (bytes) for ``time_to_limit``.
    config : Config, optional
        Thresholds of the batch pipeline.
    history : float
        Seconds of history kept (default 7 days).
    max_samples : int
        Hard cap on samples kept (default 200,000: a week at 3 s).
    cadence : float
        Seconds of data between re-runs of the pipeline for alert events
        (default 3 h: leaks show over hours, and at 15 s scrapes a run every
        720 samples keeps updates cheap; ``report`` is always current).
    clear_score : float
        Hysteresis: a leaking series stops leaking only when its score falls
        below this (default 0.3; it starts leaking at the verdict, score >= 0.5).
    band_window : int
        Samples in the streaming sigma band (default 240: an hour at 15 s).
    band_k : float
        Width of the band in sigmas (default 2).
    series_id : str
        Id used in events and errors.
    """

    def __init__(self, limit=None, config: Config | None = None, *, history: float = 7 * 86400,
                 max_samples: int = 200_000, cadence: float = 3 * 3600.0,
                 clear_score: float = 0.3, band_window: int = 240, band_k: float = 2.0,
                 series_id: str = "series"):
        if not history > 0:
            raise ValueError(f"history must be > 0 seconds, got {history}")
        if max_samples < 64:
            raise ValueError(f"max_samples must be >= 64, got {max_samples}")
        if not cadence > 0:
            raise ValueError(f"cadence must be > 0 seconds, got {cadence}")
        self.limit = None if limit is None else float(limit)
        self.config = config or Config()
        self.history = float(history)
        self.max_samples = int(max_samples)
        self.cadence = float(cadence)
        self.clear_score = float(clear_score)
        self.series_id = series_id
        self._t = np.empty(1024)
        self._v = np.empty(1024)
        self._start = 0
        self._end = 0
        # the buffer's newest and oldest timestamps as Python floats, so that the common
        # update (a sample after all others) needs no numpy scalar arithmetic
        self._newest = -math.inf
        self._oldest = math.inf
        self._last_run = -math.inf
        self._dirty = False
        self._report: Report | None = None
        self._leaking = False
        self._seen = 0
        self._band = _Band(band_window, band_k)
        self._band_hits = 0  # consecutive samples outside the band
        # the restarts the caller noted (note_restarts), in time order; None: none noted,
        # restarts are found from the drops
        self._restarts: list[float] | None = None

    # ------------------------------------------------------------------ samples
    def __len__(self) -> int:
        return self._end - self._start

    @property
    def timestamps(self) -> np.ndarray:
        """Buffered timestamps (unix seconds), sorted, unique (a view)."""
        return self._t[self._start:self._end]

    @property
    def values(self) -> np.ndarray:
        """Buffered values (a view)."""
        return self._v[self._start:self._end]

    def update(self, timestamp: float, value: float) -> list[AlertEvent]:
        """Take one sample; return the alert events it caused (usually none).

        Parameters
        ----------
        timestamp : float
            Unix seconds.
        value : float
            The metric (bytes); NaN or inf is a missing sample.
        """
        t = self._take(timestamp, value)
        if t - self._last_run >= self.cadence:
            return self._run(t)
        return []

    def _take(self, timestamp: float, value: float) -> float:
        """Buffer one sample (no pipeline run); return its time."""
        t = float(timestamp)
        if not math.isfinite(t):
            raise InputError(f"timestamp must be finite, got {timestamp!r}", source=self.series_id)
        v = float(value) if value is not None else math.nan
        if not math.isfinite(v):
            v = math.nan
        if t > self._newest:  # after every buffered sample: append
            end = self._end
            if end == self._t.shape[0]:
                self._compact(grow=True)
                end = self._end
            self._t[end] = t
            self._v[end] = v
            self._end = end + 1
            self._newest = t
            if end == self._start:
                self._oldest = t
            if self._oldest < t - self.history or end + 1 - self._start > self.max_samples:
                self._evict()
        else:
            self._insert(t, v)
        self._seen += 1
        if v == v:
            self._band_hits = self._band_hits + 1 if self._band.outside(v) else 0
        self._dirty = True
        return t

    def update_many(self, timestamps: Iterable[float], values: Iterable[float]
                    ) -> list[AlertEvent]:
        """Take a batch of samples (any order); return the alert events they caused."""
        ts, vs = self._batch(timestamps, values)
        events = []
        for t, v in zip(ts.tolist(), vs.tolist()):
            events += self.update(t, v)
        return events

    def _batch(self, timestamps, values) -> tuple[np.ndarray, np.ndarray]:
        """Timestamps and values of a batch as float64 arrays, checked to match."""
        ts = np.asarray(timestamps, dtype=np.float64)
        vs = np.asarray(values, dtype=np.float64)
        if ts.shape != vs.shape or ts.ndim != 1:
            raise InputError(f"timestamps and values must be 1-D of equal length "
                             f"({ts.shape} vs {vs.shape})", source=self.series_id)
        return ts, vs

    def catch_up(self, timestamps: Iterable[float], values: Iterable[float]
                 ) -> list[AlertEvent]:
        """Take samples that arrived together and judge once, after the last of them.

        Unlike :meth:`update_many`, which replays the samples as if they had
        arrived one by one (and reports what a live detector would have said
        along the way), this runs the pipeline at most once, at the end, when
        the cadence is due: a backfill of days of history, or a poll that
        brought minutes of data, gives the events of the state *after* the
        batch, not of states that were already past when it arrived.

        Parameters
        ----------
        timestamps, values : array_like
            Unix seconds and values (bytes), any order; NaN is missing.

        Returns
        -------
        list of AlertEvent
            At most one.
        """
        ts, vs = self._batch(timestamps, values)
        if ts.size == 0:
            return []
        self._take_all(ts, vs)
        last = float(self.timestamps[-1])
        if last - self._last_run >= self.cadence:
            return self._run(last)
        return []

    def _take_all(self, ts: np.ndarray, vs: np.ndarray) -> None:
        """Buffer a batch (no pipeline run), as ``_take`` on each sample in turn would.

        A batch of increasing times after the buffer (a poll's new samples) is copied in
        whole, in chunks that keep the buffer bounded; anything else goes sample by sample.
        The band sees the finite values in arrival order either way.
        """
        bad = np.flatnonzero(~np.isfinite(ts))
        if bad.size:  # take what came before it, then refuse it as _take does
            self._take_all(ts[:bad[0]], vs[:bad[0]])
            self._take(float(ts[bad[0]]), float(vs[bad[0]]))
        n = ts.shape[0]
        if n == 0:
            return
        if n > 1 and not bool(np.all(ts[1:] > ts[:-1])) or not ts[0] > self._newest:
            for t, v in zip(ts.tolist(), vs.tolist()):
                self._take(t, v)
            return
        vs = np.where(np.isfinite(vs), vs, np.nan)
        for a in range(0, n, self.max_samples):
            b = min(n, a + self.max_samples)
            if self._t.shape[0] - self._end < b - a:
                self._compact(grow=True)
                if self._t.shape[0] - self._end < b - a:  # grown as far as allowed
                    self._compact(grow=False, room=b - a)
            end = self._end
            if end == self._start:
                self._oldest = float(ts[a])
            self._t[end:end + b - a] = ts[a:b]
            self._v[end:end + b - a] = vs[a:b]
            self._end = end + b - a
            self._newest = float(ts[b - 1])
            self._evict()
        self._seen += n
        finite = vs[~np.isnan(vs)].tolist()
        band = self._band
        hits = self._band_hits
        for v in finite:
            hits = hits + 1 if band.outside(v) else 0
        self._band_hits = hits
        self._dirty = True

    def _insert(self, t: float, v: float) -> None:
        """Out of order or duplicate: the batch path keeps the last value per time."""
        ts = self._t[self._start:self._end]
        i = int(np.searchsorted(ts, t))
        if i < ts.shape[0] and ts[i] == t:
            self._v[self._start + i] = v
        else:
            if self._end == self._t.shape[0]:
                self._compact(grow=True)
            pos = self._start + i
            self._t[pos + 1:self._end + 1] = self._t[pos:self._end]
            self._v[pos + 1:self._end + 1] = self._v[pos:self._end]
            self._t[pos] = t
            self._v[pos] = v
            self._end += 1
        self._oldest = float(self._t[self._start])
        self._evict()

    def _evict(self) -> None:
        """Drop what falls out of the history window or the sample cap."""
        newest = self._newest
        if self._oldest < newest - self.history:
            cut = int(np.searchsorted(self._t[self._start:self._end], newest - self.history,
                                      side="left"))
            self._start += cut
        excess = (self._end - self._start) - self.max_samples
        if excess > 0:
            self._start += excess
        self._oldest = float(self._t[self._start])

    def _compact(self, grow: bool, room: int = 1) -> None:
        n = self._end - self._start
        size = self._t.shape[0]
        if grow and n >= size // 2:
            size = min(2 * size, 2 * self.max_samples + 2)
        size = max(size, n + room)
        t = np.empty(size)
        v = np.empty(size)
        t[:n] = self._t[self._start:self._end]
        v[:n] = self._v[self._start:self._end]
        self._t, self._v, self._start, self._end = t, v, 0, n

    def note_restarts(self, times: Iterable[float] = ()) -> None:
        """Say when the process restarted (unix seconds; from a restart counter or a
        start time), and that it restarts only when noted from now on.

        From the first call on, every run judges the buffer with the restarts noted
        (``analyze(restarts=...)``: lifetimes split there and only there) instead of
        finding them from the drops; ``note_restarts()`` with no times says so without
        a restart. Times already noted are kept once; those older than the buffer are
        let go as it moves on.
        """
        from .series import restart_times

        ts = restart_times(times, self.series_id)  # (analyze's units and errors)
        known = set(self._restarts or ())
        self._restarts = sorted(known | set(ts.tolist()))
        self._dirty = True

    # ------------------------------------------------------------------ verdicts
    def _analyze(self) -> Report:
        from .analysis.pipeline import analyze

        restarts = None
        if self._restarts is not None:
            oldest = self._oldest if len(self) else math.inf
            self._restarts = [r for r in self._restarts if r > oldest]
            restarts = np.array(self._restarts, dtype=np.float64)
        return analyze(self.values.copy(), self.timestamps.copy(), limit=self.limit,
                       restarts=restarts, config=self.config, series_id=self.series_id)

    def _run(self, now: float) -> list[AlertEvent]:
        self._last_run = now
        rep = self._analyze()
        self._report = rep
        self._dirty = False
        events = []
        if not self._leaking and rep.leak:
            self._leaking = True
            events.append(AlertEvent("leak_started", now, self.series_id, rep.score, rep.pattern))
        elif self._leaking and not rep.leak and rep.score < self.clear_score:
            self._leaking = False
            events.append(AlertEvent("leak_stopped", now, self.series_id, rep.score,
                                     rep.pattern))
        return events

    @property
    def report(self) -> Report:
        """The latest report, re-run on the buffer if samples arrived since."""
        if self._report is None or self._dirty:
            self._report = self._analyze()
            self._dirty = False
        return self._report

    @property
    def leaking(self) -> bool:
        """The alert state (with hysteresis), as of the last cadence run."""
        return self._leaking

    @property
    def band_alert(self) -> bool:
        """The seed practice in streaming form: outside mean + k sigma for 5 minutes."""
        if len(self) < 2:
            return False
        interval = float(np.median(np.diff(self.timestamps[-64:])))
        return self._band_hits * interval >= 300.0

    # ------------------------------------------------------------------ state
    def to_state(self) -> bytes:
        """Serialise the detector (format version 1, no pickle).

        Layout: ``b"DTSTATE"``, a little-endian uint16 version, a uint32
        length ``L``, ``L`` bytes of UTF-8 JSON (settings, config, alert
        state, band state, ``n`` = samples), then ``n`` float64 timestamps and
        ``n`` float64 values, little-endian.
        """
        band = self._band
        meta = {
            "limit": self.limit, "config": asdict(self.config), "history": self.history,
            "max_samples": self.max_samples, "cadence": self.cadence,
            "clear_score": self.clear_score, "series_id": self.series_id,
            "last_run": self._last_run if math.isfinite(self._last_run) else None,
            "leaking": self._leaking, "seen": self._seen, "n": len(self),
            "band": {"window": band.window, "k": band.k, "shift": band.shift,
                     "values": list(band.values), "hits": self._band_hits},
            "restarts": self._restarts,
        }
        body = json.dumps(meta, allow_nan=True).encode()
        return (STATE_MAGIC + struct.pack("<HI", STATE_VERSION, len(body)) + body
                + self.timestamps.astype("<f8").tobytes() + self.values.astype("<f8").tobytes())

    @classmethod
    def from_state(cls, state: bytes) -> "OnlineDetector":
        """Restore a detector from :meth:`to_state` bytes.

        Thresholds the state does not hold (written before they existed) take
        their defaults; thresholds this detector does not know (written by a
        newer one) are left out, so a rollback keeps its alert history.

        Raises
        ------
        InputError
            Not a detector state, an unknown version, truncated, or a
            threshold out of range.
        """
        if not isinstance(state, (bytes, bytearray)) or not state.startswith(STATE_MAGIC):
            raise InputError("not a detector state (bad magic bytes)", source="state")
        head = len(STATE_MAGIC)
        if len(state) < head + 6:
            raise InputError("truncated detector state", source="state")
        version, length = struct.unpack_from("<HI", state, head)
        if version != STATE_VERSION:
            raise InputError(f"unknown detector state version {version} (this detector reads "
                             f"version {STATE_VERSION})", source="state")
        start = head + 6
        try:
            meta = json.loads(state[start:start + length].decode())
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InputError("corrupt detector state (header)", source="state") from None
        n = int(meta["n"])
        arrays = state[start + length:]
        if len(arrays) != 16 * n:
            raise InputError("truncated detector state (samples)", source="state")
        det = cls(meta["limit"], _config_from_state(meta["config"]), history=meta["history"],
                  max_samples=meta["max_samples"], cadence=meta["cadence"],
                  clear_score=meta["clear_score"], band_window=meta["band"]["window"],
                  band_k=meta["band"]["k"], series_id=meta["series_id"])
        t = np.frombuffer(arrays[:8 * n], dtype="<f8").astype(np.float64)
        v = np.frombuffer(arrays[8 * n:], dtype="<f8").astype(np.float64)
        size = max(1024, 2 * n)
        det._t = np.empty(size)
        det._v = np.empty(size)
        det._t[:n], det._v[:n] = t, v
        det._start, det._end = 0, n
        if n:
            det._newest, det._oldest = float(t[-1]), float(t[0])
        det._last_run = -math.inf if meta["last_run"] is None else meta["last_run"]
        det._leaking = bool(meta["leaking"])
        det._seen = int(meta["seen"])
        det._dirty = True
        band = det._band
        band.shift = meta["band"]["shift"]
        band.values = deque(meta["band"]["values"])
        band.s1 = float(sum(band.values))
        band.s2 = float(sum(x * x for x in band.values))
        det._band_hits = int(meta["band"]["hits"])
        restarts = meta.get("restarts")  # (absent from states written before it existed)
        if restarts is not None:
            if not isinstance(restarts, list) or not all(
                    isinstance(r, (int, float)) and not isinstance(r, bool)
                    and math.isfinite(r) for r in restarts):
                raise InputError("corrupt detector state (restarts)", source="state")
            det._restarts = sorted(float(r) for r in restarts)
        return det


class OnlineFleet:
    """Online detectors keyed by series id, created on first sight.

    Parameters
    ----------
    limits : mapping of series id to float, optional
        Memory limits (bytes).
    max_series : int
        Refuse new series beyond this many (bounded memory), default 100,000.
    **kwargs
        Passed to every :class:`OnlineDetector`.
    """

    def __init__(self, limits=None, *, max_series: int = 100_000, **kwargs):
        self.limits = dict(limits or {})
        self.max_series = int(max_series)
        self.kwargs = kwargs
        self.detectors: dict[str, OnlineDetector] = {}

    def update(self, series_id: str, timestamp: float, value: float) -> list[AlertEvent]:
        """Feed one sample of one series; return its alert events."""
        return self._detector(series_id).update(timestamp, value)

    def note_restarts(self, series_id: str, times: Iterable[float] = ()) -> None:
        """:meth:`OnlineDetector.note_restarts` for one series (created on first sight)."""
        self._detector(series_id).note_restarts(times)

    def _detector(self, series_id: str) -> OnlineDetector:
        det = self.detectors.get(series_id)
        if det is None:
            if len(self.detectors) >= self.max_series:
                raise InputError(f"fleet holds {self.max_series} series already",
                                 source=series_id)
            det = OnlineDetector(self.limits.get(series_id), series_id=series_id, **self.kwargs)
            self.detectors[series_id] = det
        return det

    def leaking(self) -> list[str]:
        """Series currently in the leaking alert state."""
        return sorted(k for k, d in self.detectors.items() if d.leaking)
