"""The rules of practice in ``detector watch``, against a real Prometheus and Alertmanager.

Prometheus (backfilled with promtool) holds two days at 60 s ending a few minutes
before the tests start, limits of 2 GiB for every container, and three workloads
whose memory climbs from 1.0 to 1.8 GiB (90 % of the limit) in the last hours:

* ``shop/api``: three instances: each alerts on the static rule, and the workload
  gives one fleet (breadth) alert;
* ``shop/web``: two instances: each alerts, but two are not a fleet alert;
* ``jobs/batch``: three instances inside a maintenance window: nothing fires.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from detector.rules_file import Rules, load_rules
from detector.sources.prometheus import Connection
from detector.watch import Watched, Watcher
from detector.watch_rules import RuleWatch

from alertmanager_server import prometheus_and_alertmanager
from prometheus_server import Family, requires

pytestmark = requires(alertmanager=True)

STEP = 60
NOW = int(time.time()) // STEP * STEP
END = NOW - 5 * STEP
GIB = 2.0 ** 30
QUERY = "max by (namespace, pod, container) (container_memory_working_set_bytes{})"
LIMITS = ("max by (namespace, pod, container) (container_spec_memory_limit_bytes{})",)
PODS = [("shop", "api", i) for i in range(3)] + [("shop", "web", i) for i in range(2)] + \
    [("jobs", "batch", i) for i in range(3)] + [("shop", "cart", 0)]


def _families():
    rng = np.random.default_rng(12)
    t = np.arange(END - 2 * 86400, END + 1, STEP, dtype=np.int64)
    ws, limits = [], []
    for ns, name, i in PODS:
        labels = {"namespace": ns, "pod": f"{name}-{i}", "container": name}
        v = GIB + rng.normal(0, 2e6, t.size)
        if name != "cart":  # climbs to 90 % of the limit over the last hours
            v += 0.8 * GIB * np.clip((t - (END - 4 * 3600 - 300 * i)) / 7200, 0, 1)
        ws.append((labels, t, v))
        limits.append((labels, t[::30], np.full(t[::30].size, 2 * GIB)))
    return [Family("container_memory_working_set_bytes", ws),
            Family("container_spec_memory_limit_bytes", limits)]


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    with prometheus_and_alertmanager(_families(), tmp_path_factory) as both:
        yield both


@pytest.fixture()
def rules_file(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(f"""# the practice, with the batch jobs' maintenance window
[persistence]
for = "5m"

[[maintenance]]
start = {END - 6 * 3600}
end = {NOW + 3600}
match = 'namespace="jobs"'
""")
    return path


def test_static_rule_breadth_and_maintenance_in_a_watch(servers, rules_file):
    prom, _ = servers
    watcher = Watcher(Connection(prom.url), Watched(QUERY, LIMITS, history=2 * 86400.0))
    watcher.poll(now=END)
    rw = RuleWatch(load_rules(rules_file))
    started = rw.evaluate(watcher, END)
    firing = {(e["rule"], e["labels"].get("pod") or e["labels"].get("container"))
              for e in started}
    static = {pod for rule, pod in firing if rule == "static:memory"}
    assert static == {"api-0", "api-1", "api-2", "web-0", "web-1"}  # not the batch jobs
    fleet = [e for e in started if e["rule"].startswith("breadth:")]
    assert [(e["rule"], e["labels"], len(e["instances"])) for e in fleet] == [
        ("breadth:static:memory", {"namespace": "shop", "container": "api"}, 3)]
    # nothing new on the next evaluation; a quieter rule set resolves everything
    assert rw.evaluate(watcher, END) == []
    rw.rules = Rules(static=(("memory", 0.95),), band=False)
    ended = rw.evaluate(watcher, END + 60)
    assert {e["event"] for e in ended} == {"rule_resolved"} and len(ended) == len(started)


def _watch(*args):
    return subprocess.run([sys.executable, "-m", "detector", "watch", *args],
                          capture_output=True, text=True, timeout=300)


def test_cli_watch_sends_rule_alerts_beside_the_leak_alerts(servers, rules_file, tmp_path):
    prom, am = servers
    state = tmp_path / "watch.state"
    args = ["--prometheus", prom.url, "--metric", "working-set", "--range", "2d",
            "--interval", "1s", "--alertmanager", am.url, "--alert-label", "team=rules",
            "--rules", str(rules_file), "--state", str(state)]
    done = _watch(*args, "--iterations", "1")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(x) for x in done.stdout.splitlines()]
    rule_events = [x for x in lines if x["event"] == "rule_firing"]
    assert len(rule_events) == 6  # 5 instances and 1 workload
    assert "6 rule alerts firing" in done.stderr
    alerts = [a for a in am.alerts() if a["labels"].get("team") == "rules"]
    names = {}
    for a in alerts:
        names.setdefault(a["labels"]["alertname"], []).append(a["labels"])
    assert sorted(x["pod"] for x in names["MemoryStaticThreshold"]) == [
        "api-0", "api-1", "api-2", "web-0", "web-1"]
    assert [(x["namespace"], x["container"], x["rule"]) for x in names["MemoryFleetBreadth"]] \
        == [("shop", "api", "breadth:static:memory")]
    rules = ("MemoryStaticThreshold", "MemoryDynamicBand", "MemoryFleetBreadth")
    assert not any(x.get("namespace") == "jobs" for n in rules for x in names.get(n, ()))
    # beside the leak verdict's own alerts, never instead of them
    assert set(names) - set(rules) <= {"MemoryLeak"}
    # a restarted watch does not announce the same alerts again
    again = _watch(*args, "--iterations", "1")
    assert again.returncode == 0, again.stderr
    assert not [x for x in map(json.loads, again.stdout.splitlines())
                if x["event"] == "rule_firing"]


def test_cli_watch_bad_rules_file(servers, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[band]\nwindow = \"1h\"\nk = -2\n")
    done = _watch("--prometheus", servers[0].url, "--query", QUERY, "--rules", str(bad),
                  "--iterations", "1")
    assert done.returncode == 2
    assert done.stderr.strip() == (f"detector: error: {bad}, line 3: field 'band.k': must be "
                                   "a number >= 0, got -2")
