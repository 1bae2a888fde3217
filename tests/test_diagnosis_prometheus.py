"""Diagnosis against a real Prometheus: memory breakdown, restarts, OOM kills and deploys.

One server (backfilled with promtool, on a free loopback port, stopped by its PID)
holds two days at 60 s of six simulated containers, reported as cAdvisor and
kube-state-metrics report them (see ``kube_families.py``):

* ``shop/checkout-0``: a deploy of ``checkout:1.4.2`` at 20:00 on day one, after which
  its RSS grows (a leak starting 3 minutes after the deploy);
* ``search/indexer-0``: its page cache grows (and with it the working set, through
  the active file pages) while its RSS holds: not a leak;
* ``media/resizer-0`` and ``media/resizer-1``: RSS climbs to the limit, OOM-killed,
  again and again; ``resizer-0`` has cAdvisor's OOM counter, ``resizer-1`` only the
  kube-state-metrics termination reason;
* ``shop/cart-0``: healthy;
* ``shop/payments-0``: its fix (``payments:2.0.1``) is deployed at noon on day two.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from detector.diagnosis.kube import events_from_points, queries
from detector.diagnosis.simulate import MIB, container
from detector.sources.cadvisor import iter_breakdown
from detector.sources.presets import PRESETS
from detector.sources.prometheus import Connection, PrometheusClient, RangeQuery

from kube_families import families
from prometheus_server import PrometheusServer, requires

pytestmark = requires()

START = 1_717_200_000  # 2024-06-01T00:00:00Z
H = 3600
END = START + 48 * H
DEPLOY = START + 20 * H
FIX = START + 36 * H


def _containers():
    def lab(ns, pod):
        return {"namespace": ns, "pod": pod, "container": pod.rsplit("-", 1)[0]}

    common = dict(start=START, duration=48 * H, interval=60.0)
    return [
        container(lab("shop", "checkout-0"), seed=1, rss_growth=15 * MIB / H,
                  onset=DEPLOY + 180, image="shop/checkout:1.4.1",
                  deploys=((DEPLOY, "shop/checkout:1.4.2"),), **common),
        container(lab("search", "indexer-0"), seed=2, cache_growth=25 * MIB / H,
                  active_share=0.6, image="search/indexer:3.0", **common),
        container(lab("media", "resizer-0"), seed=3, base=300 * MIB, limit=1024 * MIB,
                  rss_growth=150 * MIB / H, image="media/resizer:7", **common),
        container(lab("media", "resizer-1"), seed=4, base=300 * MIB, limit=1024 * MIB,
                  rss_growth=140 * MIB / H, image="media/resizer:7", **common),
        container(lab("shop", "cart-0"), seed=5, image="shop/cart:2.2", **common),
        container(lab("shop", "payments-0"), seed=6, base=500 * MIB, limit=8192 * MIB,
                  rss_growth=120 * MIB / H, image="shop/payments:2.0.0", fixed_at=FIX,
                  fix_image="shop/payments:2.0.1", **common),
    ]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    sim = _containers()
    srv = PrometheusServer(families(sim, oom_counter={"resizer-0"}),
                           tmp_path_factory.mktemp("prometheus-kube"), "60s").start()
    try:
        yield srv, {c.labels["pod"]: c for c in sim}
    finally:
        srv.stop()


def _scan(server, *args):
    done = subprocess.run(
        [sys.executable, "-m", "detector", "scan", "--prometheus", server[0].url,
         "--start", str(START), "--end", str(END), "--step", "60s", "--format", "json", *args],
        capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), done.stderr
    return {json.loads(json.dumps(r["series"])): r for r in json.loads(done.stdout)}, done


def _by_pod(results):
    out = {}
    for sid, r in results.items():
        pod = sid.split('pod="', 1)[1].split('"', 1)[0]
        out[pod] = r
    return out


@pytest.fixture(scope="module")
def breakdown_scan(server):
    results, done = _scan(server, "--metric", "breakdown")
    return _by_pod(results), done


def test_breakdown_fetches_every_component_of_every_container(server):
    sim = server[1]
    preset = PRESETS["breakdown"]
    request = RangeQuery(preset.query, START, END, 60.0, preset.limit_queries)
    limits = {}
    got = list(iter_breakdown(Connection(server[0].url), request, preset.components,
                              limits=limits, shard_by="namespace",
                              shard_selector=preset.selector))
    assert sorted(c.labels["pod"] for c in got) == sorted(sim)
    for item in got:
        c = sim[item.labels["pod"]]
        assert set(item.components) == {"working_set", "rss", "cache", "swap", "mapped_file"}
        for name, series in item.components.items():
            np.testing.assert_array_equal(series.timestamps, c.t)
            np.testing.assert_array_equal(series.values, c.components[name])
        assert limits[item.id] == c.limit


def test_cache_growth_is_not_a_leak_and_rss_growth_is(breakdown_scan, server):
    results, _ = breakdown_scan
    cache = results["indexer-0"]
    assert cache["leak"] is False and cache["pattern"] == "cache_growth"
    b = cache["evidence"]["breakdown"]
    assert b["cause"] == "cache" and b["components"]["cache"]["grows"]
    assert not b["components"]["rss"]["grows"]
    # the working set does grow (active page cache): judged alone it would be a leak
    assert b["components"]["working_set"]["grows"]
    assert cache["evidence"]["primary_report"]["verdict"] == "leak"
    assert b["components"]["cache"]["slope"] == pytest.approx(25 * MIB / H, rel=0.05)
    leak = results["checkout-0"]
    assert leak["leak"] is True and leak["evidence"]["breakdown"]["cause"] == "anonymous"
    rss = leak["evidence"]["breakdown"]["components"]["rss"]
    assert rss["grows"] and rss["share"] == pytest.approx(1.0, abs=0.1)
    assert rss["slope"] == pytest.approx(15 * MIB / H, rel=0.05)
    assert results["cart-0"]["leak"] is False


def test_onset_is_paired_with_the_deploy_that_preceded_it(breakdown_scan):
    results, _ = breakdown_scan
    onset = results["checkout-0"]["evidence"]["events"]["onset"]
    assert onset["event"]["kind"] == "deploy"
    assert onset["event"]["text"] == "deploy shop/checkout:1.4.2"
    assert onset["event"]["time"] == DEPLOY
    assert -240 <= onset["lag"] <= 900  # the leak starts 3 min after; bins are 4 min
    assert onset["text"].startswith("onset ") and "deploy shop/checkout:1.4.2" in onset["text"]
    # the deploy concerns checkout only; the indexer's events have none
    assert results["indexer-0"]["evidence"]["events"]["deploys"] == 0


def test_oom_kill_loop_is_confirmed_by_its_kill_count(breakdown_scan, server):
    results, _ = breakdown_scan
    sim = server[1]
    for pod in ("resizer-0", "resizer-1"):  # cAdvisor's counter; the termination reason
        r = results[pod]
        kills = len(sim[pod].kills)
        assert kills >= 5
        ev = r["evidence"]["events"]
        assert r["leak"] is True and r["pattern"] == "restart_loop"
        assert ev["oom_kills"] == kills and ev["restarts"] == kills
        assert ev["confirms"] == "restart_loop"
        assert f"restart loop confirmed by {kills} OOM kills" in ev["summary"]
    # each restart is a change point paired with its restart (the drop is in that sample)
    cps = results["resizer-0"]["evidence"]["events"]["changepoints"]
    restarts = [p for p in cps if p["event"] and p["event"]["kind"] in ("restart", "oom_kill")]
    assert len(restarts) >= len(sim["resizer-0"].kills) - 1


def test_kube_queries_return_only_the_moments_something_happened(server):
    sim = server[1]
    with PrometheusClient(Connection(server[0].url)) as client:
        got = {name: list(client.fetch(q, START, END, 60.0).values())
               for name, q in queries(60.0).items()}
    # the answers hold the events only, not a point per step
    assert sum(ts.size for _, ts, _ in got["restarts"]) == sum(len(c.kills) for c in sim.values())
    events = events_from_points(got, start=START, step=60.0)
    deploys = [e for e in events if e.kind == "deploy"]
    assert [(e.time, e.text) for e in deploys] == [
        (DEPLOY, "deploy shop/checkout:1.4.2"), (FIX, "deploy shop/payments:2.0.1")]
    ooms = [e for e in events if e.kind == "oom_kill"]
    assert sorted(e.time for e in ooms) == sorted(
        t for pod in ("resizer-0", "resizer-1") for t in sim[pod].kills)


def test_table_says_what_the_breakdown_and_the_events_mean(server):
    done = subprocess.run(
        [sys.executable, "-m", "detector", "scan", "--prometheus", server[0].url,
         "--metric", "breakdown", "--selector", 'namespace="search"', "--start", str(START),
         "--end", str(END), "--step", "60s"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "cache_growth" in done.stdout
    assert "the page cache grows (+25 MiB/h) while RSS holds: reclaimable, not a leak" \
        in done.stdout


def test_verify_takes_the_fix_from_the_deploy(server):
    args = [sys.executable, "-m", "detector", "verify", "--prometheus", server[0].url,
            "--selector", 'pod="payments-0"', "--start", str(START), "--step", "60s",
            "--fixed-by", "payments:2.0.1", "--format", "json"]
    done = subprocess.run([*args, "--end", str(END)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    (v,) = json.loads(done.stdout)
    assert v["status"] == "fixed" and v["fixed_at"] == FIX
    assert v["fix_event"]["text"] == "deploy shop/payments:2.0.1"
    assert v["before"]["slope"] == pytest.approx(120 * MIB / H, rel=0.05)
    # right after the fix: too early
    done = subprocess.run([*args, "--end", str(FIX + 900)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["status"] == "too_early"
