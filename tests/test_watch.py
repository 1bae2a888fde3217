"""Watching a real Prometheus and alerting a real Alertmanager.

Prometheus (backfilled with promtool) holds 2 days at 60 s of six containers,
two of them leaking, ending a few minutes before the tests start; a real
Alertmanager (Debian package ``prometheus-alertmanager``) receives the alerts.
Both run on free loopback ports and are stopped by their PID.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from detector.errors import InputError
from detector.sources.prometheus import Connection
from detector.watch import Watched, Watcher, alertmanager_payload, post_alerts

from alertmanager_server import prometheus_and_alertmanager
from prometheus_server import Family, free_port, requires

pytestmark = requires(alertmanager=True)

STEP = 60
NOW = int(time.time()) // STEP * STEP
END = NOW - 5 * STEP  # the last backfilled sample
DAYS2 = 2 * 86400
QUERY = "app_memory_bytes"
LEAKING = {"app-0", "app-3"}


def _families():
    rng = np.random.default_rng(7)
    t = np.arange(END - DAYS2, END + 1, STEP, dtype=np.int64)
    series = []
    for i in range(6):
        name = f"app-{i}"
        v = 4e8 + rng.normal(0, 2e6, t.size)
        if name in LEAKING:
            v += np.linspace(0, 6e8, t.size)
        elif i == 1:  # a daily load
            v += 1e8 * np.sin(2 * np.pi * (t - t[0]) / 86400)
        series.append(({"container": name, "namespace": "shop"}, t, v))
    limits = [({"container": name, "namespace": "shop"}, t[::60], np.full(t[::60].size, 2e9))
              for name in (f"app-{i}" for i in range(6))]
    return [Family(QUERY, series), Family("app_memory_limit_bytes", limits)]


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    with prometheus_and_alertmanager(_families(), tmp_path_factory) as both:
        yield both


def _watched(history=DAYS2):
    return Watched(QUERY, ('max by (container, namespace) (app_memory_limit_bytes{})',),
                   step=None, history=history)


def test_first_poll_sees_the_leaks_then_polls_add_only_new_samples(servers):
    prom, _ = servers
    w = Watcher(Connection(prom.url), _watched())
    events = w.poll(now=END - 3600)
    assert w.step == 60.0  # the server's scrape interval
    started = {e.series for e in events if e.kind == "leak_started"}
    assert {w.labels[k]["container"] for k in started} == LEAKING
    assert {w.labels[k]["container"] for k in w.leaking()} == LEAKING
    sizes = {k: len(d) for k, d in w.detectors.items()}
    assert all(d.limit == 2e9 for d in w.detectors.values())
    assert w.poll(now=END) == []  # no new event: the same leaks go on
    for k, d in w.detectors.items():
        assert len(d) == sizes[k] + 60  # exactly the new hour, nothing twice
        np.testing.assert_array_equal(np.diff(d.timestamps), 60.0)


def test_state_round_trip_gives_the_same_later_polls(servers):
    prom, _ = servers
    conn = Connection(prom.url)
    a = Watcher(conn, _watched())
    a.poll(now=END - 3600)
    b = Watcher.from_state(a.to_state(), conn, _watched())
    assert b.last_end == a.last_end and b.leaking() == a.leaking()
    assert b.labels == a.labels
    ea, eb = a.poll(now=END), b.poll(now=END)
    assert ea == eb and a.leaking() == b.leaking()
    for k in a.detectors:
        np.testing.assert_array_equal(a.detectors[k].values, b.detectors[k].values)
        assert a.detectors[k].report.to_dict() == b.detectors[k].report.to_dict()


def test_bad_state_is_a_clear_error(servers):
    conn = Connection(servers[0].url)
    with pytest.raises(InputError, match="not a detector watch state"):
        Watcher.from_state(b"garbage", conn, _watched())
    state = bytearray(Watcher(conn, _watched()).to_state())
    state[7] = 9
    with pytest.raises(InputError, match="version 9 is not supported"):
        Watcher.from_state(bytes(state), conn, _watched())


def test_alerts_reach_a_real_alertmanager_and_resolve(servers):
    prom, am = servers
    w = Watcher(Connection(prom.url), _watched())
    events = w.poll(now=END)
    payload = alertmanager_payload(w, events, now=time.time(), resend=60.0,
                                   extra_labels={"severity": "warning"})
    post_alerts(am.url, payload)
    firing = [a for a in am.alerts() if a["labels"]["alertname"] == "MemoryLeak"]
    assert {a["labels"]["container"] for a in firing} == LEAKING
    assert all(_unix(a["endsAt"]) > time.time() + 200 for a in firing)  # now + 4 x 60 s
    assert all(a["labels"]["severity"] == "warning" and a["labels"]["namespace"] == "shop"
               and float(a["annotations"]["score"]) >= 0.5 for a in firing)
    # the leak of app-0 stops: a resolved alert (endsAt = now) ends it in Alertmanager
    key = next(k for k in w.leaking() if w.labels[k]["container"] == "app-0")
    w.detectors[key]._leaking = False
    from detector.stream import AlertEvent
    stop = [AlertEvent("leak_stopped", END, key, 0.1, "resolved_leak")]
    post_alerts(am.url, alertmanager_payload(w, stop, now=time.time(), resend=60.0,
                                             extra_labels={"severity": "warning"}))
    time.sleep(0.5)
    # Alertmanager drops a resolved alert from the active ones (or keeps it, until its
    # GC, with endsAt in the past)
    now = time.time()
    firing = [a for a in am.alerts() if a["labels"]["alertname"] == "MemoryLeak"
              and _unix(a["endsAt"]) > now]
    assert {a["labels"]["container"] for a in firing} == {"app-3"}


def _unix(rfc3339: str) -> float:
    import pandas as pd

    return pd.Timestamp(rfc3339).timestamp()


def test_post_to_nowhere_is_unreachable():
    from detector.errors import SourceUnreachable

    with pytest.raises(SourceUnreachable, match="Alertmanager at"):
        post_alerts(f"http://127.0.0.1:{free_port()}", [{"labels": {"alertname": "x"}}],
                    timeout=1.0)


def _watch_cli(*args):
    return subprocess.run([sys.executable, "-m", "detector", "watch", *args],
                          capture_output=True, text=True, timeout=300)


def test_cli_watch_prints_and_sends_alerts_and_resumes_from_state(servers, tmp_path):
    prom, am = servers
    state = tmp_path / "watch.state"
    args = ["--prometheus", prom.url, "--query", QUERY, "--range", "2d", "--interval", "1s",
            "--alertmanager", am.url, "--alert-label", "team=sre", "--state", str(state)]
    done = _watch_cli(*args, "--iterations", "2")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert {e["labels"]["container"] for e in events} == LEAKING
    assert all(e["event"] == "leak_started" and e["score"] >= 0.5 for e in events)
    assert "detector: poll 2: 6 series, 2 leaking, 0 events" in done.stderr
    firing = [a for a in am.alerts() if a["labels"].get("team") == "sre"]
    assert {a["labels"]["container"] for a in firing} == LEAKING
    # restarted from its state: nothing re-read, nothing re-alerted
    again = _watch_cli(*args, "--iterations", "1")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "" and "6 series, 2 leaking, 0 events" in again.stderr


def test_cli_watch_errors(servers, tmp_path):
    done = _watch_cli("--query", QUERY)
    assert done.returncode == 2 and "--prometheus URL is required" in done.stderr
    done = _watch_cli("--prometheus", f"http://127.0.0.1:{free_port()}", "--query", QUERY,
                      "--retries", "0", "--iterations", "1")
    assert done.returncode == 3 and "cannot connect" in done.stderr
    bad = tmp_path / "bad.state"
    bad.write_bytes(b"nonsense")
    done = _watch_cli("--prometheus", servers[0].url, "--query", QUERY, "--state", str(bad),
                      "--iterations", "1")
    assert done.returncode == 2 and "not a detector watch state" in done.stderr
    assert "Traceback" not in done.stderr
