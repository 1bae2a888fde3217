"""The Prometheus source against a real Prometheus server (backfilled with promtool).

One server is started for the module on 127.0.0.1 (a free port) and stopped
by its PID at the end.  It holds:

* a fleet of 24 containers, 3 days at 15 s (17,281 points each, so every
  range query is chunked), 4 of them leaking, with cAdvisor memory limits for
  most of them and kube-state-metrics limits for two, plus the pod-level
  (``container=""``) and pause-container (``container="POD"``) series that
  the presets must leave out;
* edge cases on an exact 15 s grid: a gap, NaN values, +Inf, a counter-like
  reset to a low value, and label values with quotes and backslashes.

These tests are not skipped in CI: ``.ci/run`` installs the Debian package
``prometheus``.  On a machine without it they skip, saying why.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest

from detector.errors import InputError
from detector.evaluate.synthetic import generate
from detector.sources.presets import PRESETS
from detector.sources.prometheus import (Connection, PrometheusClient, RangeQuery,
                                         read_prometheus)

from prometheus_server import Family, PrometheusServer, requires

pytestmark = requires()

START = 1_717_200_000  # 2024-06-01T00:00:00Z
DAYS3 = 3 * 86400
STEP = 15
N_POINTS = DAYS3 // STEP + 1  # 17,281

#: The fleet: (container, pattern). Leaks first.
FLEET = [(f"app-{i:02d}", p) for i, p in enumerate(
    ["linear_growth", "gc_floor_growth", "late_onset", "convex_growth"]
    + ["stable"] * 3 + ["periodic"] * 3 + ["gc_sawtooth"] * 3 + ["level_shift"] * 2
    + ["warmup"] * 2 + ["batch_spikes"] * 2 + ["scheduled_restarts"] * 2
    + ["resolved_leak"] * 2 + ["random_walk"])]
LEAKING = {name for name, p in FLEET[:4]}
#: Containers whose limit comes from kube-state-metrics only (no cAdvisor limit).
KSM_ONLY = {"app-00", "app-05"}
#: A container without any limit (cAdvisor reports 0).
UNLIMITED = "app-06"


def _labels(name: str, i: int) -> dict[str, str]:
    return {"namespace": f"ns-{i % 3}", "pod": f"{name}-7f9c-{i:03d}", "container": name,
            "instance": "10.0.0.1:10250", "job": "kubelet"}


def _fleet():
    """The 24 generated series and their limits."""
    out = []
    for i, (name, pattern) in enumerate(FLEET):
        s = generate(pattern, seed=6000 + i, interval=float(STEP), duration=float(DAYS3),
                     start=float(START), index=i)
        limit = s.limit if s.limit else float(np.nanmax(s.values) * 2)
        out.append((name, i, s, limit))
    return out


def _edge_cases():
    """Series on an exact 15 s grid for exact round-trip checks."""
    t = START + STEP * np.arange(2000, dtype=np.int64)
    base = 1e8 + 1000.0 * np.arange(2000)
    gap = np.ones(2000, dtype=bool)
    gap[500:900] = False  # 100 minutes without samples
    nan = base.copy()
    nan[100:110] = np.nan
    inf = base.copy()
    inf[50] = np.inf
    reset = np.concatenate([np.linspace(5e8, 9e8, 1000), np.linspace(1e8, 3e8, 1000)])
    return {
        "gap": (t[gap], base[gap]),
        "nan": (t, nan),
        "inf": (t, inf),
        "reset": (t, reset),
        'quote"back\\slash': (t, base + 7.25),
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    fleet = _fleet()
    ws, limits, ksm = [], [], []
    limit_t = START + 300 * np.arange(DAYS3 // 300 + 1, dtype=np.int64)
    for name, i, s, limit in fleet:
        labels = _labels(name, i)
        ws.append((labels, s.timestamps.astype(np.int64), s.values))
        lim = 0.0 if name == UNLIMITED else limit
        if name in KSM_ONLY:
            ksm.append(({k: labels[k] for k in ("namespace", "pod", "container")}
                        | {"resource": "memory", "unit": "byte"},
                        limit_t, np.full(limit_t.size, lim)))
        else:
            limits.append((labels, limit_t, np.full(limit_t.size, lim)))
    # what the presets must leave out: pod cgroups and pause containers
    t = START + 60 * np.arange(DAYS3 // 60 + 1, dtype=np.int64)
    ws.append(({"namespace": "ns-0", "pod": "app-00-7f9c-000", "container": ""}, t,
               np.full(t.size, 9e12)))
    ws.append(({"namespace": "ns-0", "pod": "app-00-7f9c-000", "container": "POD"}, t,
               np.full(t.size, 8e12)))
    edge = [({"case": case}, ts, vals) for case, (ts, vals) in _edge_cases().items()]
    families = [
        Family("container_memory_working_set_bytes", ws),
        Family("container_spec_memory_limit_bytes", limits),
        Family("kube_pod_container_resource_limits", ksm),
        Family("edge_memory_bytes", edge),
    ]
    srv = PrometheusServer(families, tmp_path_factory.mktemp("prometheus")).start()
    try:
        yield srv, fleet
    finally:
        srv.stop()


def _conn(server, **kw) -> Connection:
    return Connection(server[0].url, **kw)


def test_scrape_interval_read_from_the_server(server):
    with PrometheusClient(_conn(server)) as client:
        assert client.scrape_interval() == 15.0


@pytest.mark.parametrize("max_points", [11_000, 997])
def test_chunked_range_equals_the_backfilled_samples(server, max_points):
    # the edge series on the query grid: every value comes back exactly, once
    with PrometheusClient(_conn(server, max_points=max_points)) as client:
        got = client.fetch('edge_memory_bytes{case="reset"}', START, START + 1999 * STEP, STEP)
    ((labels, ts, vals),) = got.values()
    t, v = _edge_cases()["reset"]
    np.testing.assert_array_equal(ts, t.astype(float))
    np.testing.assert_array_equal(vals, v)
    assert labels == {"__name__": "edge_memory_bytes", "case": "reset"}


def test_fleet_series_need_chunking_and_keep_every_point(server):
    calls = []
    with PrometheusClient(_conn(server)) as client:
        got = client.fetch(PRESETS["working-set"].query, START, START + DAYS3, STEP,
                           on_chunk=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)]  # 17,281 points > 11,000
    assert len(got) == 24
    for labels, ts, vals in got.values():
        assert "__name__" not in labels and labels["container"] not in ("", "POD")
        assert np.all(np.diff(ts) > 0)  # no border duplicate
        assert ts[0] == START and ts[-1] <= START + DAYS3


def test_nan_inf_and_gaps(server):
    series, _ = read_prometheus(_conn(server), RangeQuery(
        "edge_memory_bytes", START, START + 1999 * STEP, STEP))
    by_case = {s.labels["case"]: s for s in series}
    nan = by_case["nan"]
    assert np.isnan(nan.values[100:110]).all() and nan.meta.n_nonfinite == 10
    inf = by_case["inf"]
    assert inf.meta.n_nonfinite == 1 and np.isnan(inf.values[50])  # +Inf is missing
    gap = by_case["gap"]
    # Prometheus fills 5 minutes of look-back after the last sample, then nothing
    assert gap.meta.n_gaps == 1
    (a, b), = gap.meta.gaps
    assert a == START + (499 + 20) * STEP and b == START + 900 * STEP
    quoted = by_case['quote"back\\slash']
    assert quoted.id == 'edge_memory_bytes{case="quote\\"back\\\\slash"}'
    np.testing.assert_array_equal(quoted.values, 1e8 + 1000.0 * np.arange(2000) + 7.25)


def test_preset_joins_limits_per_series(server):
    req = RangeQuery(PRESETS["working-set"].query, START, START + DAYS3, STEP,
                     PRESETS["working-set"].limit_queries)
    series, limits = read_prometheus(_conn(server), req)
    fleet = {name: limit for name, _, _, limit in server[1]}
    assert len(series) == 24
    for s in series:
        name = s.labels["container"]
        assert s.id == ('{container="%s",namespace="%s",pod="%s"}'
                        % (name, s.labels["namespace"], s.labels["pod"]))
        if name == UNLIMITED:
            assert s.id not in limits
        else:  # cAdvisor for most, kube-state-metrics for KSM_ONLY
            assert limits[s.id] == pytest.approx(fleet[name], rel=1e-12)


def test_selector_narrows_a_preset(server):
    p = PRESETS["working-set"].with_matchers('namespace="ns-1"')
    series, limits = read_prometheus(_conn(server), RangeQuery(
        p.query, START, START + 3600, STEP, p.limit_queries))
    assert {s.labels["namespace"] for s in series} == {"ns-1"} and len(series) == 8
    assert set(limits) <= {s.id for s in series} and len(limits) >= 7


def test_bad_query_names_the_server_error(server):
    with pytest.raises(InputError, match=r"400 Bad Request\): bad_data: .*parse error"):
        read_prometheus(_conn(server), RangeQuery("sum(", START, START + 3600, STEP))


def test_no_series_is_an_input_error(server):
    with pytest.raises(InputError, match="returned no series"):
        read_prometheus(_conn(server), RangeQuery("nothing_here", START, START + 3600, STEP))


def _cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "detector", "scan", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_cli_scan_flags_exactly_the_leaking_containers(server, tmp_path, workers):
    # the acceptance run: 24 containers x 17,281 points (chunked), 4 leaking
    out, metrics = tmp_path / "fleet.json", tmp_path / "fleet.prom"
    query = ('max by (namespace, pod, container) '
             '(container_memory_working_set_bytes{container!="",container!="POD"})')
    done = _cli("--prometheus", server[0].url, "--query", query, "--start", str(START),
                "--end", "2024-06-04T00:00:00Z", "--step", "15s", "--format", "json",
                "--output", str(out), "--openmetrics", str(metrics), "--workers", workers)
    assert done.returncode == 1, done.stderr
    rows = json.loads(out.read_text())
    assert len(rows) == 24
    flagged = {re.search(r'container="([^"]*)"', r["series"]).group(1)
               for r in rows if r["leak"]}
    assert flagged == LEAKING
    assert all(r["verdict"] != "error" for r in rows)
    # the textfile-collector file: one detector_leak{...} 1 per leaking container, with the
    # series' own labels, and 0 for the others
    text = metrics.read_text()
    firing = re.findall(r"^detector_leak\{([^}]*)\} 1$", text, re.M)
    assert {re.search(r'container="([^"]*)"', f).group(1) for f in firing} == LEAKING
    assert all('namespace="' in f and 'pod="' in f for f in firing)
    assert len(re.findall(r"^detector_leak\{[^}]*\} 0$", text, re.M)) == 20
    check = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                           capture_output=True)
    assert check.returncode == 0, check.stderr + check.stdout


def test_cli_metric_preset_with_range_and_limits(server, tmp_path):
    out = tmp_path / "fleet.json"
    done = _cli("--prometheus", server[0].url, "--metric", "working-set", "--end",
                str(START + DAYS3), "--range", "3d", "--format", "json", "--output", str(out))
    assert done.returncode == 1, done.stderr
    rows = {r["series"]: r for r in json.loads(out.read_text())}
    leaks = [r for r in rows.values() if r["leak"]]
    assert len(leaks) == 4
    # a leaking container with a limit gets a finite time to limit
    assert any(r["time_to_limit"] is not None and math.isfinite(r["time_to_limit"])
               for r in leaks)


def test_cli_bad_query_exits_2_with_the_server_text(server):
    done = _cli("--prometheus", server[0].url, "--query", "rate(", "--range", "1h")
    assert done.returncode == 2
    assert "bad_data" in done.stderr and "parse error" in done.stderr
    assert "Traceback" not in done.stderr


def test_sharded_fetch_equals_whole_fetch(server):
    from detector.sources.prometheus import iter_prometheus

    p = PRESETS["working-set"]
    req = RangeQuery(p.query, START, START + 6 * 3600, STEP, p.limit_queries)
    whole, whole_limits = read_prometheus(_conn(server), req)
    limits, shards_seen = {}, []
    sharded = list(iter_prometheus(_conn(server), req, limits=limits, shard_by="namespace",
                                   shard_selector=p.selector,
                                   on_chunk=lambda d, t: shards_seen.append(d)))
    assert len(shards_seen) == 4  # ns-0, ns-1, ns-2 and the (empty) no-namespace shard
    assert sorted(s.id for s in sharded) == [s.id for s in whole]
    by_id = {s.id: s for s in sharded}
    for s in whole:
        np.testing.assert_array_equal(by_id[s.id].values, s.values)
        np.testing.assert_array_equal(by_id[s.id].timestamps, s.timestamps)
    assert limits == whole_limits
