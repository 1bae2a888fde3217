"""Restarts from Prometheus: a preset's restart query (kube-state-metrics' restart counter
for containers) tells a scan when each container restarted, against a real Prometheus
server (backfilled with promtool, on 127.0.0.1).

The server holds 8 days at 5 minutes of three containers' working sets:

* ``loop``: an OOM-kill loop on a moving background (tests/test_given_restarts.py), whose
  landings scatter so that its drops alone do not make a loop; its restart counter,
  scraped a minute after each kill, counts the kills;
* ``release``: memory that falls back near its start once, a partial release its drops
  alone read as a restart; its counter stays at 0;
* ``bare``: the same release, with no counter at all: its restarts come from its drops;
* ``crash``: the same release without memory samples for 40 minutes, its counter rising
  in the middle of that gap.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from detector.sources.presets import PRESETS
from detector.sources.prometheus import Connection, RangeQuery, read_prometheus
from prometheus_server import Family, PrometheusServer, requires
from test_given_restarts import loop_on_a_moving_background

pytestmark = requires()

STEP = 300
GB = 1e9


def _labels(container: str) -> dict[str, str]:
    return {"namespace": "shop", "pod": f"{container}-5d8f", "container": container,
            "instance": "10.0.0.1:10250", "job": "kubelet"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    t, v, kills = loop_on_a_moving_background(1)
    shift = 1_717_200_000 - t[0]  # 2024-06-01T00:00:00Z
    t, kills = (t + shift).astype(np.int64), kills + shift
    loop = v * 0.01 * GB
    u = (t - t[0]) / (t[-1] - t[0])
    release = np.where(u < 0.5, 1.0 + 2.0 * u, 1.04 + 1.92 * (u - 0.5)) * GB
    release = release + np.random.default_rng(2).normal(0, 0.005 * GB, t.size)
    # the counter is scraped a minute after each kill: its first sample at or after that
    count = np.searchsorted(kills + 60.0, t, side="right").astype(float)
    # crash: no memory samples for 40 minutes at day 2 (crash-looping), its counter rising
    # in the middle of the gap
    gap = (t >= t[0] + 2 * 86400) & (t < t[0] + 2 * 86400 + 2400)
    crash_count = (t >= t[0] + 2 * 86400 + 1200).astype(float)
    ws = [(_labels("loop"), t, loop), (_labels("release"), t, release),
          (_labels("bare"), t, release), (_labels("crash"), t[~gap], release[~gap])]
    ksm = [({k: _labels(c)[k] for k in ("namespace", "pod", "container")}
            | {"job": "kube-state-metrics", "uid": f"u-{c}"}, t, vals)
           for c, vals in (("loop", count), ("release", np.zeros(t.size)),
                           ("crash", crash_count))]
    families = [Family("container_memory_working_set_bytes", ws),
                Family("kube_pod_container_status_restarts_total", ksm)]
    srv = PrometheusServer(families, tmp_path_factory.mktemp("prometheus")).start()
    try:
        yield srv, t, kills
    finally:
        srv.stop()


def _request(t, **kw) -> RangeQuery:
    p = PRESETS["working-set"]
    return RangeQuery(p.query, float(t[0]), float(t[-1]), STEP, p.limit_queries, **kw)


def test_a_preset_reads_each_containers_restarts(server):
    srv, t, kills = server
    series, _ = read_prometheus(Connection(srv.url), _request(
        t, restart_queries=PRESETS["working-set"].restart_queries))
    got = {s.labels["container"]: s for s in series}
    # the counter's first point after each kill (a minute late; the analysis moves it)
    expect = t[np.searchsorted(t, kills + 60.0)]
    assert got["loop"].restarts.tolist() == expect.astype(float).tolist()
    assert got["release"].restarts.tolist() == []  # known: it did not restart
    assert got["bare"].restarts is None  # unknown: found from its drops
    # without restart queries nothing is known
    plain, _ = read_prometheus(Connection(srv.url), _request(t))
    assert all(s.restarts is None for s in plain)


def _scan(srv, t, tmp_path, *extra):
    out = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "detector", "scan", "--prometheus", srv.url,
                           "--metric", "working-set", "--start", str(int(t[0])), "--end",
                           str(int(t[-1])), "--step", f"{STEP}s", "--format", "json",
                           "--output", str(out), *extra],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    return {r["series"].split('container="')[1].split('"')[0]: r
            for r in json.loads(out.read_text())}


def test_a_scan_judges_each_container_with_its_restarts(server, tmp_path):
    srv, t, kills = server
    rows = _scan(srv, t, tmp_path)
    loop = rows["loop"]["evidence"]["lifetimes"]
    assert loop["restarts_from"] == "given" and loop["count"] == kills.size + 1
    # moved back from the counter's sample to the fall of the memory series
    assert np.all(np.abs(np.array(loop["restarts"]) - kills) < STEP)
    assert rows["loop"]["pattern"] == "restart_loop" and rows["loop"]["leak"]
    release = rows["release"]["evidence"]["lifetimes"]
    assert release["restarts_from"] == "given" and release["count"] == 1
    bare = rows["bare"]["evidence"]["lifetimes"]
    assert bare["restarts_from"] == "drops" and bare["count"] == 2


def test_restarts_query_none_finds_restarts_from_the_drops(server, tmp_path):
    srv, t, _ = server
    rows = _scan(srv, t, tmp_path, "--restarts-query", "none")
    assert {r["evidence"]["lifetimes"]["restarts_from"] for r in rows.values()} == {"drops"}
    assert rows["loop"]["pattern"] != "restart_loop"
    assert rows["release"]["evidence"]["lifetimes"]["count"] == 2


def test_restarts_query_needs_prometheus(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("timestamp,value\n0,1\n60,2\n")
    done = subprocess.run([sys.executable, "-m", "detector", "scan", str(p),
                           "--restarts-query", "up"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "--restarts-query needs --prometheus URL" in done.stderr


def test_watch_follows_the_restarts_poll_by_poll(server):
    """A watcher fed a day at a time notes each container's restarts as its counter
    rises (a rise across a poll's edge included) and judges with them: the loop is a
    restart loop at the end, the release one lifetime, the bare twin read from drops."""
    from detector.watch import Watched, Watcher

    srv, t, kills = server
    p = PRESETS["working-set"]
    watcher = Watcher(Connection(srv.url), Watched(p.query, p.limit_queries, float(STEP),
                                                   8 * 86400.0, p.restart_queries))
    for now in np.arange(t[0] + 86400.0, t[-1] + 1, 86400.0).tolist() + [float(t[-1])]:
        watcher.poll(now=now)
    by = {k.split('container="')[1].split('"')[0]: d for k, d in watcher.detectors.items()}
    noted = np.array(by["loop"]._restarts)
    assert noted.size == kills.size and np.all(noted - kills >= 0)
    assert np.all(noted - kills < 60.0 + STEP)  # the counter's sample after each kill
    rep = by["loop"].report
    assert rep.evidence["lifetimes"]["restarts_from"] == "given"
    assert rep.pattern == "restart_loop"
    assert by["release"]._restarts == [] and by["release"].report.evidence["lifetimes"][
        "count"] == 1
    assert by["bare"]._restarts is None
    assert by["bare"].report.evidence["lifetimes"]["restarts_from"] == "drops"


def test_the_breakdown_preset_reads_restarts_too(server):
    """--metric breakdown fetches the cAdvisor family together; every component of a
    container carries its restarts (here only the working set is backfilled)."""
    from detector.sources.cadvisor import iter_breakdown

    srv, t, kills = server
    p = PRESETS["breakdown"]
    request = RangeQuery(p.query, float(t[0]), float(t[-1]), STEP, p.limit_queries,
                         p.restart_queries)
    items = {i.labels["container"]: i for i in iter_breakdown(Connection(srv.url), request,
                                                              p.components)}
    expect = t[np.searchsorted(t, kills + 60.0)].astype(float).tolist()
    assert items["loop"].primary.restarts.tolist() == expect
    assert items["release"].primary.restarts.tolist() == []
    assert items["bare"].primary.restarts is None


def test_watch_notes_a_restart_while_the_memory_series_is_missing(server):
    """A watcher polling every step sees no memory sample of ``crash`` in the polls that
    fall inside its gap, while its counter rises there: the restart is noted all the
    same (from the counter's last value kept across polls), once."""
    from detector.watch import Watched, Watcher

    srv, t, _ = server
    p = PRESETS["working-set"]
    watcher = Watcher(Connection(srv.url), Watched(p.query, p.limit_queries, float(STEP),
                                                   8 * 86400.0, p.restart_queries))
    gap_start = float(t[0] + 2 * 86400)
    watcher.poll(now=gap_start - 3600.0)
    absent = 0
    for now in np.arange(gap_start - 3000.0, gap_start + 6000.0, float(STEP)):
        before = {k: len(d) for k, d in watcher.detectors.items()}
        watcher.poll(now=float(now))
        crash = next(k for k in watcher.detectors if 'container="crash"' in k)
        absent += len(watcher.detectors[crash]) == before.get(crash)
    assert absent >= 3  # polls without a new memory sample of crash
    noted = watcher.detectors[crash]._restarts
    assert noted == [gap_start + 1200.0]


def test_restarts_query_option_resolves_with_the_selector():
    from detector.cli_prometheus import target

    chosen = target(None, "working-set", 'namespace="shop"',
                    restarts_query='max by (namespace, pod, container) (my_restarts{})')
    assert chosen.restart_queries == (
        'max by (namespace, pod, container) (my_restarts{namespace="shop"})',)
    assert target(None, "jvm-heap", None, restarts_query="none").restart_queries == ()
    assert target(None, "node", None).restart_queries == PRESETS["node"].restart_queries
    assert target("up", None, None).restart_queries == ()  # a --query has none by default
    import typer
    with pytest.raises(typer.BadParameter, match="the query is empty"):
        target(None, "working-set", None, restarts_query=" ")


@pytest.mark.parametrize("command", ["scan", "watch"])
def test_a_restarts_query_the_server_refuses_exits_2(server, command):
    srv, t, _ = server
    extra = ["--iterations", "1"] if command == "watch" else []
    done = subprocess.run([sys.executable, "-m", "detector", command, "--prometheus", srv.url,
                           "--metric", "working-set", "--restarts-query", "rate(", *extra],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("detector: error: --restarts-query: Prometheus at ")
    assert "refused /api/v1/query (400" in lines[-1]


def test_a_restarts_query_that_joins_no_series_is_warned_about(server, tmp_path):
    """A query without the container label joins no memory series: the scan says so
    (every series judged from its drops); a query that joins says nothing."""
    srv, t, _ = server
    out = tmp_path / "r.json"

    def scan(restarts_query):
        return subprocess.run(
            [sys.executable, "-m", "detector", "scan", "--prometheus", srv.url, "--metric",
             "working-set", "--start", str(int(t[0])), "--end", str(int(t[-1])), "--step",
             f"{STEP}s", "--format", "json", "--output", str(out), "--restarts-query",
             restarts_query], capture_output=True, text=True, timeout=300)

    done = scan("max by (namespace, pod) (kube_pod_container_status_restarts_total{})")
    assert "--restarts-query joined no series" in done.stderr
    rows = json.loads(out.read_text())
    assert {r["evidence"]["lifetimes"]["restarts_from"] for r in rows} == {"drops"}
    done = scan(PRESETS["working-set"].restart_queries[0])
    assert "joined no series" not in done.stderr
