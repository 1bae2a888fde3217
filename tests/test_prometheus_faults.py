"""The Prometheus client against a misbehaving server, over a real socket.

A small HTTP server on 127.0.0.1 answers as told: 503, hangs, closes the
connection, sends malformed JSON, refuses with 400/401, or succeeds after a
number of failures.  It records every request (path, query, headers) so that
the tests can check what the client sent: auth, tenant headers, Thanos'
``partial_response``; and that secrets never reach messages or outputs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from detector.errors import InputError, SourceUnreachable
from detector.sources.prometheus import Connection, PrometheusClient, RangeQuery, \
    read_prometheus

from prometheus_server import free_port

TOKEN = "s3cr3t-t0ken-value"
PASSWORD = "pa55-w0rd-value"
START = 1_700_000_000


def _matrix(n=5, step=15):
    values = [[START + i * step, v] for i, v in
              enumerate(["1e6", "NaN", "+Inf", "-Inf", "2.5e6"][:n])]
    return {"status": "success",
            "data": {"resultType": "matrix",
                     "result": [{"metric": {"__name__": "m", "pod": "a"}, "values": values}]}}


class FaultServer:
    """``plan``: a list of behaviours used in turn (the last one repeats)."""

    def __init__(self, plan):
        self.plan = list(plan)
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                outer.requests.append({"path": parts.path, "query": parse_qs(parts.query),
                                       "headers": dict(self.headers)})
                i = min(len(outer.requests), len(outer.plan)) - 1
                outer.act(self, outer.plan[i])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def act(self, h, what):
        def send(code, body, ctype="application/json"):
            data = body.encode() if isinstance(body, str) else body
            h.send_response(code)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)

        if what == "ok":
            send(200, json.dumps(_matrix()))
        elif what == "503":
            send(503, json.dumps({"status": "error", "errorType": "unavailable",
                                  "error": "TSDB not ready"}))
        elif what == "502-html":
            send(502, "<html>bad gateway</html>", "text/html")
        elif what == "400":
            send(400, json.dumps({"status": "error", "errorType": "bad_data",
                                  "error": 'invalid parameter "query": 1:5: parse error'}))
        elif what == "422":
            send(422, json.dumps({"status": "error", "errorType": "execution",
                                  "error": "query processing would load too many samples "
                                           "into memory in query execution"}))
        elif what == "401":
            send(401, "Unauthorized\n", "text/plain")
        elif what == "malformed":
            send(200, '{"status": "success", "data": {"resultType": "matr')
        elif what == "hang":
            time.sleep(3)
            send(200, json.dumps(_matrix()))
        elif what == "close":
            h.close_connection = True
            h.connection.shutdown(2)
        else:
            raise AssertionError(what)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _fast(url, **kw):
    return Connection(url, backoff=0.01, max_backoff=0.05, **kw)


def _request():
    return RangeQuery("m", START, START + 60, 15)


@pytest.mark.parametrize("behaviour, message", [
    ("503", r"503 Service Unavailable: unavailable: TSDB not ready"),
    ("502-html", r"502 Bad Gateway"),
    ("malformed", r"not the Prometheus API's JSON"),
    ("close", r"connection was closed|Server disconnected"),
])
def test_retries_then_gives_up_with_a_clear_message(behaviour, message):
    with FaultServer([behaviour]) as srv:
        with pytest.raises(SourceUnreachable, match=message) as err:
            read_prometheus(_fast(srv.url, retries=3), _request())
    assert len(srv.requests) == 4  # one try and three retries
    assert "gave up after 4 attempts" in str(err.value)
    assert srv.url.split("//")[1] in str(err.value)


def test_timeout_is_retried_and_bounded():
    with FaultServer(["hang"]) as srv:
        t0 = time.monotonic()
        with pytest.raises(SourceUnreachable, match=r"no answer within 0.3 s"):
            read_prometheus(_fast(srv.url, timeout=0.3, retries=2), _request())
        assert time.monotonic() - t0 < 3.0
    assert len(srv.requests) == 3


def test_total_retry_time_is_bounded():
    with FaultServer(["503"]) as srv:
        t0 = time.monotonic()
        with pytest.raises(SourceUnreachable):
            read_prometheus(Connection(srv.url, retries=100, backoff=0.2, max_backoff=0.2,
                                       max_retry_time=1.0), _request())
        assert time.monotonic() - t0 < 2.5
    assert 2 <= len(srv.requests) < 30


def test_recovers_after_transient_failures():
    warnings = []
    # status/config is not served (404 -> step given), then 503, close, then success
    with FaultServer(["503", "close", "ok"]) as srv:
        series, _ = read_prometheus(_fast(srv.url), _request(), warn=warnings.append)
    assert len(series) == 1 and series[0].id == 'm{pod="a"}'
    v = series[0].values
    assert v[0] == 1e6 and v[4] == 2.5e6
    assert series[0].meta.n_nonfinite == 3  # NaN, +Inf, -Inf parsed, then missing
    assert sum("retrying" in w for w in warnings) == 2


def test_bad_request_is_not_retried():
    with FaultServer(["400"]) as srv:
        with pytest.raises(InputError, match=r"400 Bad Request\): bad_data: invalid "
                                             r"parameter \"query\": 1:5: parse error"):
            read_prometheus(_fast(srv.url), _request())
    assert len(srv.requests) == 1


def test_unexecutable_query_is_not_retried_and_quotes_the_server():
    with FaultServer(["422"]) as srv:
        with pytest.raises(InputError, match=r"422 Unprocessable Entity\): execution: query "
                                             r"processing would load too many samples"):
            read_prometheus(_fast(srv.url), _request())
    assert len(srv.requests) == 1


def test_unreachable_server():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(SourceUnreachable, match="cannot connect"):
        read_prometheus(_fast(url, retries=1), _request())


def test_auth_headers_tenant_and_partial_response_are_sent():
    with FaultServer(["ok"]) as srv:
        conn = _fast(srv.url, bearer_token=TOKEN, headers={"X-Scope-OrgID": "team-a"},
                     partial_response=False)
        read_prometheus(conn, _request())
        conn = _fast(srv.url.replace("http://", f"http://bob:{PASSWORD}@"))
        read_prometheus(conn, _request())
    first, second = srv.requests
    assert first["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert first["headers"]["X-Scope-OrgID"] == "team-a"
    assert first["query"]["partial_response"] == ["false"]
    assert first["query"]["step"] == ["15"] and first["query"]["query"] == ["m"]
    import base64
    assert second["headers"]["Authorization"] == \
        "Basic " + base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
    assert PASSWORD not in repr(conn) and PASSWORD not in conn.url


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "detector", "scan", *args],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("behaviour", ["503", "hang", "close", "malformed"])
def test_cli_exit_3_after_retries_and_no_secret_leaks(behaviour, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    common = ["--query", "m", "--range", "1h", "--step", "15s", "--retries", "1",
              "--timeout", "0.5", "--header", "X-Scope-OrgID: team-a", "--format", "json"]
    with FaultServer([behaviour]) as srv:
        with_token = _cli("--prometheus", srv.url, "--bearer-token-file", str(token_file),
                          *common)
        with_password = _cli("--prometheus",
                             srv.url.replace("http://", f"http://bob:{PASSWORD}@"), *common)
    for done in (with_token, with_password):
        assert done.returncode == 3, done.stderr
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith("detector: error: Prometheus at ") and "gave up after 2" in last
        assert "Traceback" not in done.stderr
        for secret in (TOKEN, PASSWORD):
            assert secret not in done.stderr and secret not in done.stdout
    assert srv.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert srv.requests[-1]["headers"]["Authorization"].startswith("Basic ")
    assert srv.requests[-1]["headers"]["X-Scope-OrgID"] == "team-a"


def test_token_and_basic_auth_together_are_refused():
    with pytest.raises(InputError, match="not both"):
        Connection("http://u:p@127.0.0.1:9", bearer_token=TOKEN)


def test_cli_token_from_environment_and_401(tmp_path):
    with FaultServer(["401"]) as srv:
        done = _cli("--prometheus", srv.url, "--query", "m", "--range", "1h", "--step", "15",
                    "--bearer-token-env", "MY_TOKEN", env={"MY_TOKEN": TOKEN})
    assert done.returncode == 2
    assert "401 Unauthorized" in done.stderr and "check the token" in done.stderr
    assert TOKEN not in done.stderr
    assert srv.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_cli_missing_token_variable_is_a_clear_error():
    done = _cli("--prometheus", "http://127.0.0.1:9", "--query", "m", "--range", "1h",
                "--bearer-token-env", "SURELY_NOT_SET_VARIABLE")
    assert done.returncode == 2
    assert "SURELY_NOT_SET_VARIABLE is not set" in done.stderr


def test_cli_unreachable_exits_3():
    done = _cli("--prometheus", f"http://127.0.0.1:{free_port()}", "--query", "m",
                "--range", "1h", "--step", "15s", "--retries", "0")
    assert done.returncode == 3
    assert "cannot connect" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("args, message", [
    (["--start", "yesterday"], "is not a time"),
    (["--range", "7x"], "is not a duration"),
    (["--step", "-5"], "positive"),
    (["--metric", "heap"], "unknown metric preset"),
    (["--start", "2024-01-02", "--end", "2024-01-01"], "range is empty"),
])
def test_cli_bad_arguments(args, message):
    done = _cli("--prometheus", "http://127.0.0.1:9", *args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
