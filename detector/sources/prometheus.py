"""Prometheus source: series from the HTTP API (``/api/v1/query_range``), on httpx.

Works against Prometheus and the servers that speak its API (Thanos, Mimir,
Cortex, VictoriaMetrics).  What it takes care of:

* **Chunking.**  Prometheus refuses a range query that would return more than
  11,000 points per series (400 ``bad_data``).  A long range is split into
  consecutive chunks of at most ``max_points`` points; the chunks do not
  overlap, and a sample repeated at a chunk border (servers that include both
  ends) is kept once.
* **Values** arrive as strings, ``"NaN"``, ``"+Inf"`` and ``"-Inf"``
  included; they become float64 (non-finite values are then treated as
  missing by :class:`~detector.series.Series`, and counted).
* **Errors.**  A 400 or 422 answer (a bad query, a query the server cannot
  execute) raises :class:`~detector.errors.InputError` carrying the server's
  ``error`` text.  5xx answers, timeouts, dropped connections and answers that
  are not the API's JSON are retried with exponential backoff and full
  jitter, bounded in count and in total time; then
  :class:`~detector.errors.SourceUnreachable` (exit code 3).
* **Auth and routing.**  Bearer token, basic auth, a custom CA or no TLS
  verification, extra headers (``X-Scope-OrgID`` for Mimir and Cortex) and
  Thanos' ``partial_response=false``.  Secrets are held in fields that never
  appear in ``repr``, error messages or logs; credentials written into the URL
  are moved into basic auth and removed from it.

The reader interface is the same as for files: :func:`read_prometheus`
yields :class:`~detector.series.Series` (the id is the label set,
``{container="app",namespace="x",pod="y"}``) and the limits it found.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from ..errors import InputError, SourceUnreachable
from ..labels import escape_label_value
from ..series import Series

#: Prometheus' limit on the points of one series in one range query.
MAX_POINTS = 11_000

#: Step used when neither ``step`` is given nor the scrape interval can be read.
FALLBACK_STEP = 60.0

Warn = Callable[[str], None]


@dataclass(frozen=True)
class Connection:
    """Where a Prometheus-compatible server is and how to talk to it.

    Attributes
    ----------
    url : str
        Base URL, e.g. ``http://127.0.0.1:9090`` or
        ``https://thanos.example/`` (a path prefix is kept:
        ``http://mimir/prometheus``). ``user:password@`` in the URL is moved
        to basic auth.
    bearer_token : str, optional
        Sent as ``Authorization: Bearer ...``. Never shown.
    basic_auth : (str, str), optional
        User and password. Never shown.
    headers : mapping, optional
        Extra request headers, e.g. ``{"X-Scope-OrgID": "tenant-1"}``. Their
        values are never shown (they may hold keys).
    ca_file : str, optional
        A PEM bundle to verify the server's certificate with.
    insecure : bool
        Do not verify TLS certificates.
    partial_response : bool or None
        Thanos: ``False`` sends ``partial_response=false`` so that a store
        that fails makes the query fail instead of silently missing data.
        None sends nothing.
    timeout : float
        Seconds for one request (connect, read, write).
    retries : int
        Retries after the first attempt for 5xx answers, timeouts, dropped
        connections and malformed answers.
    backoff : float
        Base of the exponential backoff (seconds): attempt k waits a random
        time in ``[0, backoff * 2**k]`` (full jitter), at most ``max_backoff``.
    max_backoff : float
        Longest single wait (seconds).
    max_retry_time : float
        Give up retrying once this many seconds have passed since the first
        attempt of a request.
    max_points : int
        Points per series in one range query (Prometheus: 11,000).
    gzip : bool
        Ask for gzip-compressed answers. Off by default: Prometheus spends
        about 60 ns per byte compressing, so a 14 MB answer takes 0.9 s
        with gzip and 0.1 s without on loopback (see
        ``benchmarks/RESULTS.md``); compression pays only on links slower than
        about 100 Mbit/s.
    """

    url: str
    bearer_token: str | None = field(default=None, repr=False)
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    ca_file: str | None = None
    insecure: bool = False
    partial_response: bool | None = None
    timeout: float = 60.0
    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_time: float = 60.0
    max_points: int = MAX_POINTS
    gzip: bool = False

    def __post_init__(self):
        parts = urlsplit(self.url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError("expected an http:// or https:// URL", source="--prometheus")
        if parts.username is not None:
            if self.basic_auth is None:
                object.__setattr__(self, "basic_auth",
                                   (parts.username or "", parts.password or ""))
            netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
            parts = parts._replace(netloc=netloc)
        if self.bearer_token and self.basic_auth is not None:
            raise InputError("give a bearer token or basic auth, not both",
                             source="--prometheus")
        object.__setattr__(self, "url", urlunsplit(parts._replace(query="", fragment=""))
                           .rstrip("/"))
        if self.max_points < 2:
            raise InputError("max_points must be at least 2", source="--prometheus")

    @property
    def where(self) -> str:
        """The server's address for messages (no credentials, no path)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


class PrometheusClient:
    """A small client of the Prometheus HTTP API with retries.

    Parameters
    ----------
    connection : Connection
    warn : callable, optional
        Receives warnings (one line each): retries, server ``warnings``.
    sleep : callable, optional
        ``time.sleep`` by default.

    Notes
    -----
    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, connection: Connection, *, warn: Warn | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        try:
            import httpx
        except ImportError:
            raise InputError("the Prometheus source needs httpx: pip install "
                             "'detector[prometheus]'", source="--prometheus") from None

        self.connection = connection
        self._warn = warn or (lambda message: None)
        self._sleep = sleep
        verify: bool | str = True
        if connection.insecure:
            verify = False
        elif connection.ca_file:
            import ssl

            try:
                verify = ssl.create_default_context(cafile=connection.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise InputError(f"cannot read the CA file: {exc}",
                                 source=str(connection.ca_file)) from None
        headers = {"Accept": "application/json", "User-Agent": "detector",
                   "Accept-Encoding": "gzip" if connection.gzip else "identity"}
        headers.update(dict(connection.headers))
        if connection.bearer_token:
            headers["Authorization"] = f"Bearer {connection.bearer_token}"
        self._http = httpx.Client(
            base_url=connection.url, headers=headers, verify=verify,
            auth=httpx.BasicAuth(*connection.basic_auth) if connection.basic_auth else None,
            timeout=httpx.Timeout(connection.timeout), follow_redirects=True)

    def __enter__(self) -> "PrometheusClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- requests -----------------------------------------------------------------

    def api(self, path: str, params: Mapping[str, object], *, fast: bool = False) -> object:
        """GET ``/api/v1/<path>`` and return its ``data``, retrying what may pass.

        Parameters
        ----------
        path : str
            E.g. ``"query_range"``.
        params : mapping
            Query parameters.
        fast : bool
            Try :func:`_fast_matrix` on the answer first (range queries).

        Returns
        -------
        object
            The ``data`` member of a ``"status": "success"`` answer, or a
            :class:`_FastMatrix` when ``fast`` and the fast path applied.

        Raises
        ------
        InputError
            400 / 422 answers (bad or unexecutable query), and 4xx other than
            429, with the server's ``error`` text.
        SourceUnreachable
            When the retries are used up.
        """
        import httpx

        conn = self.connection
        params = dict(params)
        if conn.partial_response is not None and path in ("query", "query_range"):
            params["partial_response"] = "true" if conn.partial_response else "false"
        what = f"Prometheus at {conn.where}"
        first = time.monotonic()
        attempt = 0
        while True:
            problem: str
            try:
                resp = self._http.get(f"/api/v1/{path}", params=params)
            except httpx.TimeoutException:
                problem = f"no answer within {conn.timeout:g} s"
            except httpx.TransportError as exc:
                problem = _transport_problem(exc)
            else:
                if fast and resp.status_code == 200:
                    parsed = _fast_matrix(resp.content)
                    if parsed is not None:
                        return parsed
                body = _decode(resp)
                if resp.status_code == 200 and isinstance(body, dict) and \
                        body.get("status") == "success" and "data" in body:
                    for w in body.get("warnings") or ():
                        self._warn(f"{what} warns: {w}")
                    return body["data"]
                server_error = _server_error(body)
                if 400 <= resp.status_code < 500 and resp.status_code not in (408, 429):
                    hint = ""
                    if resp.status_code in (401, 403):
                        hint = " (check the token, basic auth or tenant header)"
                    elif resp.status_code == 404:
                        hint = " (is this the server's base URL?)"
                    raise InputError(
                        f"{what} refused /api/v1/{path} ({resp.status_code} "
                        f"{resp.reason_phrase}): {server_error or 'no error text'}{hint}",
                        source="--prometheus")
                if resp.status_code == 200:
                    problem = "the answer is not the Prometheus API's JSON" + (
                        f" ({server_error})" if server_error else "")
                else:
                    problem = f"{resp.status_code} {resp.reason_phrase}" + (
                        f": {server_error}" if server_error else "")
            elapsed = time.monotonic() - first
            if attempt >= conn.retries or elapsed >= conn.max_retry_time:
                tries = attempt + 1
                raise SourceUnreachable(
                    f"{what}: {problem} (gave up after {tries} attempt{'s' * (tries > 1)} "
                    f"in {elapsed:.1f} s)")
            wait = random.uniform(0.0, min(conn.max_backoff, conn.backoff * 2 ** attempt))
            wait = min(wait, max(0.0, conn.max_retry_time - elapsed))
            self._warn(f"{what}: {problem}; retrying in {wait:.1f} s")
            self._sleep(wait)
            attempt += 1

    def scrape_interval(self) -> float | None:
        """The server's global ``scrape_interval`` in seconds, or None if unknown.

        Read from ``/api/v1/status/config``, which Thanos, Mimir and
        VictoriaMetrics do not serve.
        """
        from ..timestamps import parse_duration

        try:
            data = self.api("status/config", {})
        except InputError:
            return None
        text = data.get("yaml", "") if isinstance(data, dict) else ""
        in_global = False
        for line in text.splitlines():
            if line and not line[0].isspace():
                in_global = line.startswith("global:")
                continue
            stripped = line.strip()
            if in_global and stripped.startswith("scrape_interval:"):
                try:
                    return parse_duration(stripped.split(":", 1)[1].strip())
                except ValueError:
                    return None
        return 60.0 if text else None  # Prometheus' default when the config omits it

    def query_range(self, query: str, start: float, end: float, step: float
                    ) -> list[tuple[dict[str, str], np.ndarray, np.ndarray]]:
        """One ``query_range`` call: ``(labels, timestamps, values)`` per series.

        Parameters
        ----------
        query : str
            PromQL.
        start, end : float
            Unix seconds, inclusive.
        step : float
            Seconds between points.

        Returns
        -------
        list of (dict, numpy.ndarray, numpy.ndarray)
            Labels, timestamps (unix seconds) and float64 values.
        """
        data = self.api("query_range", {"query": query, "start": _fmt(start),
                                        "end": _fmt(end), "step": _fmt(step)}, fast=True)
        if isinstance(data, _FastMatrix):
            return data.series
        return _parse_matrix(data, query)

    # -- whole ranges ---------------------------------------------------------------

    def fetch(self, query: str, start: float, end: float, step: float, *,
              on_chunk: Callable[[int, int], None] | None = None
              ) -> dict[str, tuple[dict[str, str], np.ndarray, np.ndarray]]:
        """All points of ``query`` from ``start`` to ``end``, in chunks.

        Parameters
        ----------
        query : str
            PromQL.
        start, end : float
            Unix seconds.
        step : float
            Seconds between points.
        on_chunk : callable, optional
            Called as ``on_chunk(done, total)`` after each chunk.

        Returns
        -------
        dict
            Series id -> ``(labels, timestamps, values)``, timestamps strictly
            increasing (a chunk-border sample returned twice is kept once).
        """
        spans = chunk_spans(start, end, step, self.connection.max_points)
        parts: dict[str, list] = {}
        labels_of: dict[str, dict[str, str]] = {}
        for i, (a, b) in enumerate(spans):
            for labels, ts, vals in self.query_range(query, a, b, step):
                key = series_id(labels)
                labels_of.setdefault(key, labels)
                parts.setdefault(key, []).append((ts, vals))
            if on_chunk is not None:
                on_chunk(i + 1, len(spans))
        out = {}
        for key, pieces in parts.items():
            ts, vals = _join(pieces)
            out[key] = (labels_of[key], ts, vals)
        return out


def chunk_spans(start: float, end: float, step: float, max_points: int = MAX_POINTS
                ) -> list[tuple[float, float]]:
    """Split ``[start, end]`` at ``step`` into query ranges of at most ``max_points`` points.

    Parameters
    ----------
    start, end : float
        Unix seconds, ``start <= end``.
    step : float
        Seconds, > 0.
    max_points : int
        Points per chunk (the evaluation times ``a, a + step, ..., b``).

    Returns
    -------
    list of (float, float)
        Consecutive, non-overlapping ``(a, b)``: the next chunk starts one
        step after the previous ends, so together they evaluate exactly
        ``start, start + step, ...`` up to ``end``.
    """
    if not (step > 0) or not (end >= start):
        raise ValueError(f"need start <= end and step > 0, got start={start}, end={end}, "
                         f"step={step}")
    n = int(math.floor((end - start) / step + 1e-9)) + 1
    spans = []
    for first in range(0, n, max_points):
        last = min(n, first + max_points) - 1
        spans.append((start + first * step, start + last * step))
    return spans


def series_id(labels: Mapping[str, str]) -> str:
    """The id of a series: ``name{k="v",...}`` with label names sorted.

    Label values are escaped as PromQL does (``\\``, ``"`` and newlines).
    """
    name = labels.get("__name__", "")
    body = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in sorted(labels.items())
                    if k != "__name__")
    return f"{name}{{{body}}}"


def _fmt(x: float) -> str:
    return repr(float(x)) if x != int(x) else str(int(x))


def _decode(resp) -> object:
    try:
        return resp.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return None


def _server_error(body: object) -> str:
    if isinstance(body, dict):
        kind, text = body.get("errorType"), body.get("error")
        if text:
            return f"{kind}: {text}" if kind else str(text)
    return ""


def _transport_problem(exc) -> str:
    import httpx

    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({_first_line(exc) or 'connection refused'})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the connection was closed mid-answer ({_first_line(exc)})"
    return f"{type(exc).__name__}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else ""


@dataclass
class _FastMatrix:
    """A range answer decoded by :func:`_fast_matrix`."""

    series: list[tuple[dict[str, str], np.ndarray, np.ndarray]]


_MATRIX_HEAD = re.compile(rb'\s*\{\s*"status"\s*:\s*"success"\s*,\s*"data"\s*:\s*\{\s*'
                          rb'"resultType"\s*:\s*"matrix"\s*,\s*"result"\s*:\s*\[')
_METRIC_KEY = re.compile(rb'\s*\{\s*"metric"\s*:\s*')
_VALUES_KEY = re.compile(rb'\s*,\s*"values"\s*:\s*\[\s*')
_SERIES_END = re.compile(rb"\s*\]\s*\}\s*,?")
_MATRIX_TAIL = re.compile(rb'\s*\]\s*\}\s*\}\s*$')
_TO_SPACES = bytes.maketrans(b'[]",', b"    ")


def _fast_matrix(raw: bytes) -> _FastMatrix | None:
    """Decode a ``query_range`` answer without building a Python object per point.

    The points of a series, ``[[t,"v"],[t,"v"],...]``, hold only numbers and
    quoted numbers (``"NaN"``, ``"+Inf"`` included) and never a bracket, so
    the array ends at the first ``]]`` and, with brackets, quotes and commas
    turned into spaces, is read by :func:`numpy.fromstring` in C. The labels
    are decoded by :mod:`json`. About 3x faster than ``json.loads`` and a
    list comprehension (``benchmarks/bench_prometheus.py``).

    Returns None (the caller then uses ``json``) for anything unexpected: a
    status other than success, warnings, another result type, spacing the
    scanner does not follow, or a point count that does not add up.
    """
    head = _MATRIX_HEAD.match(raw)
    if head is None:
        return None
    pos, out = head.end(), []
    while True:
        key = _METRIC_KEY.match(raw, pos)
        if key is None:
            break
        try:
            labels, used = _labels_at(raw, key.end())
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(labels, dict):
            return None
        values = _VALUES_KEY.match(raw, used)
        if values is None:
            return None
        start = values.end()
        if raw.startswith(b"]", start):  # no points
            end, points = start, np.empty(0)
        else:
            end = raw.find(b"]]", start)
            if end < 0:
                return None
            segment = raw[start:end + 1]
            points = np.fromstring(segment.translate(_TO_SPACES), sep=" ")
            if points.size != 2 * segment.count(b"["):
                return None
            end += 1
        close = _SERIES_END.match(raw, end)
        if close is None:
            return None
        pairs = points.reshape(-1, 2)
        out.append(({str(k): str(v) for k, v in labels.items()},
                    np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])))
        pos = close.end()
    if _MATRIX_TAIL.match(raw, pos) is None:
        return None  # warnings, infos or something unknown after the result: use json
    return _FastMatrix(out)


def _labels_at(raw: bytes, pos: int) -> tuple[dict, int]:
    """Decode the JSON object of labels starting at byte ``pos``; return it and its end."""
    end = raw.find(b"}", pos)
    while end >= 0:
        try:
            return json.loads(raw[pos:end + 1]), end + 1
        except ValueError:  # a "}" inside a label value: look further
            end = raw.find(b"}", end + 1)
    raise ValueError("unterminated labels")


def _parse_matrix(data: object, query: str
                  ) -> list[tuple[dict[str, str], np.ndarray, np.ndarray]]:
    if not isinstance(data, dict) or data.get("resultType") != "matrix" or \
            not isinstance(data.get("result"), list):
        kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
        raise InputError(f"query {query!r} gave a {kind} result, expected a range "
                         "(matrix)", source="--prometheus")
    out = []
    for item in data["result"]:
        try:
            labels = {str(k): str(v) for k, v in item.get("metric", {}).items()}
            points = item.get("values") or []
            ts = np.fromiter((p[0] for p in points), dtype=np.float64, count=len(points))
            vals = np.array([p[1] for p in points], dtype=np.float64)
        except (TypeError, ValueError, IndexError, AttributeError, KeyError) as exc:
            raise SourceUnreachable(f"a series of query {query!r} holds a malformed point: "
                                    f"{exc}") from None
        out.append((labels, ts, vals))
    return out


def _join(pieces: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate chunk pieces in time order; a timestamp repeated at a border is kept once."""
    pieces = sorted(pieces, key=lambda p: p[0][0] if p[0].size else math.inf)
    ts = np.concatenate([p[0] for p in pieces]) if pieces else np.empty(0)
    vals = np.concatenate([p[1] for p in pieces]) if pieces else np.empty(0)
    if ts.size > 1:
        keep = np.ones(ts.size, dtype=bool)
        keep[:-1] = ts[1:] > ts[:-1]  # of a repeated timestamp keep the later copy
        if not keep.all():
            ts, vals = ts[keep], vals[keep]
    return ts, vals


@dataclass(frozen=True)
class RangeQuery:
    """What to fetch: a query (or preset), a time range and a step.

    Attributes
    ----------
    query : str
        PromQL for the memory series.
    start, end : float
        Unix seconds.
    step : float or None
        Seconds between points; None: the server's scrape interval.
    limit_queries : tuple of str
        PromQL for limits (joined by equal labels); the first that returns
        data is used.
    restart_queries : tuple of str
        PromQL for when the processes restarted (joined by equal labels, the first
        that has a series for a memory series is used): a restart counter or a start
        time (:func:`fetch_restarts`).
    """

    query: str
    start: float
    end: float
    step: float | None = None
    limit_queries: tuple[str, ...] = ()
    restart_queries: tuple[str, ...] = ()

    def __post_init__(self):
        if not self.query.strip():
            raise InputError("the query is empty", source="--query")
        if not (self.end > self.start):
            raise InputError(f"the range is empty: start {self.start:g} is not before end "
                             f"{self.end:g}", source="--start/--end")
        if self.step is not None and not (self.step > 0):
            raise InputError("the step must be positive", source="--step")


def read_prometheus(connection: Connection, request: RangeQuery, *, warn: Warn | None = None,
                    on_chunk: Callable[[int, int], None] | None = None
                    ) -> tuple[list[Series], dict[str, float]]:
    """Fetch the series of ``request`` and their limits, all at once.

    Parameters
    ----------
    connection : Connection
    request : RangeQuery
    warn : callable, optional
        Receives one-line warnings.
    on_chunk : callable, optional
        Progress: ``on_chunk(done, total)`` after each query chunk.

    Returns
    -------
    series : list of Series
        One per label set, sorted by id; the id is the label set.
    limits : dict
        Series id -> memory limit (the last finite positive value of the
        matching limit series, in the unit of the values).

    Raises
    ------
    InputError
        A refused query, or a query that matched no series.
    SourceUnreachable
        The server cannot be reached or keeps failing.

    See Also
    --------
    iter_prometheus : the same, one shard at a time, for fleets.
    """
    limits: dict[str, float] = {}
    series = list(iter_prometheus(connection, request, limits=limits, warn=warn,
                                  on_chunk=on_chunk))
    return series, limits


def iter_prometheus(connection: Connection, request: RangeQuery, *,
                    limits: dict[str, float] | None = None, shard_by: str | None = None,
                    shard_selector: str | None = None, warn: Warn | None = None,
                    on_chunk: Callable[[int, int], None] | None = None) -> Iterator[Series]:
    """Yield the series of ``request``, fetching one shard of the fleet at a time.

    Without ``shard_by`` the whole query is fetched (in time chunks) before
    the first series is yielded, so memory grows with the fleet. With
    ``shard_by="namespace"`` the label's values are listed first
    (``/api/v1/label/namespace/values``), then the query runs once per value
    with ``namespace="<value>"`` added to every selector, and once more with
    ``namespace=""`` for series without the label: memory is bounded by the
    largest shard.

    Parameters
    ----------
    connection : Connection
    request : RangeQuery
        With ``shard_by``, every selector of ``request.query`` and its limit
        queries must be written with braces (as the presets are).
    limits : dict, optional
        Filled with series id -> limit as shards arrive (before their series
        are yielded).
    shard_by : str, optional
        A label to split the fleet by.
    shard_selector : str, optional
        The series selector whose ``shard_by`` values are listed (e.g.
        ``container_memory_working_set_bytes``); needed with ``shard_by``.
    warn, on_chunk : callable, optional
        As in :func:`read_prometheus`; ``on_chunk`` counts the chunks of the
        current shard.

    Yields
    ------
    Series
        Sorted by id within a shard.

    Raises
    ------
    InputError, SourceUnreachable
        As :func:`read_prometheus`; "no series" once the last shard is done.
    """
    warn = warn or (lambda message: None)
    limits = limits if limits is not None else {}
    with PrometheusClient(connection, warn=warn) as client:
        step = resolve_step(client, request, warn)
        shards = shard_requests(client, request, step, shard_by, shard_selector)
        seen = 0
        for shard in shards:
            fetched = client.fetch(shard.query, shard.start, shard.end, step,
                                   on_chunk=on_chunk)
            if not fetched:
                continue
            limits.update(fetch_limits(client, shard, step, fetched, warn))
            restarts = fetch_restarts(client, shard, step, fetched, warn)
            for key in sorted(fetched):
                labels, ts, vals = fetched.pop(key)
                seen += 1
                yield Series.from_arrays(vals, ts, id=key, labels=labels,
                                         restarts=restarts.get(key))
        if not seen:
            raise InputError(f"query {request.query!r} returned no series between "
                             f"{_iso(request.start)} and {_iso(request.end)}",
                             source="--prometheus")


def resolve_step(client: PrometheusClient, request: RangeQuery, warn: Warn) -> float:
    """The request's step, else the server's scrape interval, else :data:`FALLBACK_STEP` (warned)."""
    if request.step is not None:
        return request.step
    step = client.scrape_interval()
    if step is None:
        step = FALLBACK_STEP
        warn(f"cannot read the scrape interval from {client.connection.where}; using a "
             f"{FALLBACK_STEP:g} s step (give --step)")
    return step


def shard_matchers(client: PrometheusClient, request: RangeQuery, shard_by: str | None,
                   shard_selector: str | None) -> list[str] | None:
    """The label matchers that split a fleet by the label ``shard_by``, or None (no sharding).

    One ``shard_by="<value>"`` per value the server lists for ``shard_selector``
    over the request's range, and ``shard_by=""`` for the series without the label.
    """
    if not shard_by:
        return None
    if not shard_selector:
        raise InputError("sharding needs the selector whose label values to list",
                         source="--shard-by")
    values = client.api(f"label/{shard_by}/values", {
        "match[]": shard_selector, "start": _fmt(request.start), "end": _fmt(request.end)})
    matchers = [f'{shard_by}="{escape_label_value(str(v))}"' for v in values or ()]
    matchers.append(f'{shard_by}=""')  # the series without the label
    return matchers


def shard_requests(client: PrometheusClient, request: RangeQuery, step: float,
                   shard_by: str | None, shard_selector: str | None) -> list[RangeQuery]:
    """``request`` with ``step``, split by :func:`shard_matchers` (every selector of its
    query and limit queries written with braces)."""
    from .presets import _add_matchers

    matchers = shard_matchers(client, request, shard_by, shard_selector)
    if matchers is None:
        return [RangeQuery(request.query, request.start, request.end, step,
                           request.limit_queries, request.restart_queries)]
    return [RangeQuery(_add_matchers(request.query, m), request.start, request.end, step,
                       tuple(_add_matchers(q, m) for q in request.limit_queries),
                       tuple(_add_matchers(q, m) for q in request.restart_queries))
            for m in matchers]


def fetch_limits(client: PrometheusClient, request: RangeQuery, step: float,
            fetched: Mapping[str, tuple], warn: Warn) -> dict[str, float]:
    """Last finite positive limit per series id.

    The limit queries are tried in order; a series takes its limit from the
    first query that has one for it (a cluster may run cAdvisor limits for
    some containers and only kube-state-metrics for others).

    Parameters
    ----------
    client : PrometheusClient
    request : RangeQuery
        Its range and ``limit_queries``.
    step : float
        Seconds between points of the memory series (limits use a coarser
        step: at most 1,000 points).
    fetched : mapping
        Series id -> ``(labels, timestamps, values)`` of the memory series.
    warn : callable
        Receives a line for a limit query that fails.

    Returns
    -------
    dict
        Series id -> limit (value units, bytes); series without one are absent.
    """
    # Limits change rarely: a coarse step (at most 1,000 points) is enough.
    coarse = max(step, (request.end - request.start) / 1000.0)

    def last_limit(ts: np.ndarray, vals: np.ndarray) -> float | None:
        ok = vals[np.isfinite(vals) & (vals > 0)]
        return float(ok[-1]) if ok.size else None

    return _first_per_series(client, request, request.limit_queries, coarse, fetched,
                             last_limit, lambda exc: warn(
                                 f"limit query failed, no time-to-limit from it: {exc}"))


def fetch_restarts(client: PrometheusClient, request: RangeQuery, step: float,
                   fetched: Mapping[str, tuple], warn: Warn) -> dict[str, np.ndarray]:
    """When each memory series' process restarted, from ``request.restart_queries``.

    The queries are tried in order; a memory series takes its restarts from the first
    query with a series of its labels that has two points or more: a restart counter or
    a start time (:func:`detector.restart_marks.restarts_from_marks`: a restart where a
    counter changes, or where a start time moves later by more than its wobble), fetched
    at the memory series' own step (a restart must be placed within a sample or two). A
    series with no such restart series is absent (its restarts are then found from its
    drops); one whose restart series shows none gets an empty array (it did not restart).

    Parameters and the warning on a failed query as :func:`fetch_limits`.

    Returns
    -------
    dict
        Series id -> unix seconds of its restarts.
    """
    from ..restart_marks import restarts_from_marks

    return {key: restarts_from_marks(ts, vals) for key, (ts, vals) in
            fetch_restart_series(client, request, step, fetched, warn).items()}


def fetch_restart_series(client: PrometheusClient, request: RangeQuery, step: float,
                         fetched: Mapping[str, tuple], warn: Warn, *, min_points: int = 2
                         ) -> dict[str, tuple]:
    """Series id -> ``(timestamps, values)`` of its restart series (see
    :func:`fetch_restarts`), for series whose restart series has ``min_points`` points
    or more (a watcher, which keeps the last one of a poll, reads single points)."""
    def marked(ts: np.ndarray, vals: np.ndarray):
        return (ts, vals) if int(np.count_nonzero(np.isfinite(vals))) >= min_points \
            else None

    return _first_per_series(client, request, request.restart_queries, step, fetched, marked,
                             lambda exc: warn(f"restart query failed, restarts found from "
                                              f"the drops instead: {exc}"))


def _first_per_series(client: PrometheusClient, request: RangeQuery, queries, step: float,
                      fetched: Mapping[str, tuple], read, failed) -> dict:
    """Series id -> ``read(timestamps, values)`` of the first of ``queries`` (tried in
    order, each over the request's range at ``step``) with a series of that id's labels
    for which ``read`` gives something (not None); ``failed(exc)`` for a query the
    server refuses."""
    wanted = {_join_key(labels): key for key, (labels, _, _) in fetched.items()}
    out: dict = {}
    for query in queries:
        if len(out) == len(wanted):
            break
        try:
            found = client.fetch(query, request.start, request.end, step)
        except InputError as exc:
            failed(exc)
            continue
        for labels, ts, vals in found.values():
            key = wanted.get(_join_key(labels))
            if key is not None and key not in out:
                got = read(ts, vals)
                if got is not None:
                    out[key] = got
    return out


def _join_key(labels: Mapping[str, str]) -> tuple:
    return tuple(sorted((k, v) for k, v in labels.items() if k != "__name__"))


def _iso(ts: float) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

