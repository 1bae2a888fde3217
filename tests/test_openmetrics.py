"""--openmetrics: the textfile-collector file, checked by the real promtool; the alert rules."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from detector.cli import app
from detector.results import ScanResult
from detector.outputs.openmetrics import escape_label_value, render_openmetrics, sanitize_label_name

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
PROMTOOL = shutil.which("promtool")
# promtool is part of the Debian package `prometheus` (CI installs it); a skip would hide a bug
if os.environ.get("DETECTOR_REQUIRE_PROMETHEUS") and PROMTOOL is None:
    raise RuntimeError("DETECTOR_REQUIRE_PROMETHEUS is set (as .ci/run does) but promtool "
                       "is not on PATH")
needs_promtool = pytest.mark.skipif(PROMTOOL is None and not Path("/usr/bin/promtool").exists(),
                                    reason="promtool is not installed (apt-get install prometheus)")


def promtool(*args, stdin=None):
    exe = PROMTOOL or "/usr/bin/promtool"
    return subprocess.run([exe, *args], input=stdin, capture_output=True)


def parse_samples(text: str) -> dict:
    """{(name, frozenset of (label, value)): value} from the text format (test-side parser)."""
    out = {}
    pattern = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
    label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = pattern.match(line)
        assert m, line
        labels = frozenset((k, v.encode().decode("unicode_escape"))
                           for k, v in label.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


@pytest.fixture(scope="module")
def labelled_csv(tmp_path_factory):
    """Long CSV with awkward label names and values: a leak, a flat series, an empty one."""
    t = 1_700_000_000 + 60 * np.arange(2880)
    rng = np.random.default_rng(5)
    rows = [("leaky", "shop", 'app "blue"\\1', 5e8 + (t - t[0]) * 2e3 + rng.normal(0, 5e6, t.size)),
            ("flat", "shop", "line\nbreak", 8e8 + rng.normal(0, 5e6, t.size)),
            ("empty", "ops", "x", np.full(t.size, np.nan))]
    frames = [pd.DataFrame({"series": s, "timestamp": t, "value": v.round(),
                            "k8s-namespace": ns, "1pod": pod}) for s, ns, pod, v in rows]
    p = tmp_path_factory.mktemp("om") / "fleet.csv"
    pd.concat(frames).to_csv(p, index=False)
    return p


@needs_promtool
def test_openmetrics_file_passes_promtool_and_matches_json(labelled_csv, tmp_path):
    prom, out = tmp_path / "detector.prom", tmp_path / "out.json"
    res = runner.invoke(app, ["scan", str(labelled_csv), "--format", "json", "--output",
                              str(out), "--openmetrics", str(prom), "--limit", "4GiB"])
    assert res.exit_code == 1, res.output
    text = prom.read_text()
    check = promtool("check", "metrics", stdin=prom.read_bytes())
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
    for name in ("detector_leak", "detector_leak_score", "detector_growth_bytes_per_second",
                 "detector_time_to_limit_seconds"):
        assert f"# HELP {name} " in text and f"# TYPE {name} gauge" in text
    samples = parse_samples(text)
    rows = {r["series"]: r for r in json.loads(out.read_text())}
    # labels are the series' name and its label columns (sanitised)
    assert {k[1] for k in samples if k[0] == "detector_leak"} == {
        frozenset({("series", "leaky"), ("k8s_namespace", "shop"), ("_1pod", 'app "blue"\\1')}),
        frozenset({("series", "flat"), ("k8s_namespace", "shop"), ("_1pod", "line\nbreak")}),
        frozenset({("series", "empty"), ("k8s_namespace", "ops"), ("_1pod", "x")})}
    by_pod = {dict(k[1])["_1pod"]: k[1] for k in samples if k[0] == "detector_leak"}
    leaky = by_pod['app "blue"\\1']
    flat = by_pod["line\nbreak"]
    assert samples[("detector_leak", leaky)] == 1.0
    assert samples[("detector_leak", flat)] == 0.0
    sid = {r["series"]: r for r in rows.values()}
    leaky_row = next(r for s, r in sid.items() if s.startswith("leaky"))
    assert samples[("detector_leak_score", leaky)] == pytest.approx(leaky_row["score"])
    assert samples[("detector_growth_bytes_per_second", leaky)] == pytest.approx(
        leaky_row["slope"])
    assert samples[("detector_time_to_limit_seconds", leaky)] == pytest.approx(
        leaky_row["time_to_limit"])
    flat_row = next(r for s, r in sid.items() if s.startswith("flat"))
    if flat_row["time_to_limit"] is None:  # no growth: the sample is left out, not NaN
        assert ("detector_time_to_limit_seconds", flat) not in samples
    assert "NaN" not in text
    assert not list(tmp_path.glob(".detector.prom.*"))


@needs_promtool
def test_series_without_labels_and_errors(tmp_path):
    results = [ScanResult("a", fields={"leak": True, "score": 0.9, "slope": 12.5,
                                       "time_to_limit": None}),
               ScanResult("b", error="analysis failed: boom"),
               ScanResult("c", fields={"leak": False, "score": 0.1, "slope": float("nan"),
                                       "time_to_limit": None}, labels={"pod": "p"}),
               ScanResult("d", fields={"leak": False, "score": 0.0, "slope": 0.0,
                                       "time_to_limit": None}, labels={"pod": "p"})]
    text = render_openmetrics(results, now=1_700_000_000).decode()
    check = promtool("check", "metrics", stdin=text.encode())
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
    samples = parse_samples(text)
    assert samples[("detector_leak", frozenset({("series", "a")}))] == 1.0
    assert samples[("detector_scan_error", frozenset({("series", "b")}))] == 1.0
    assert ("detector_leak", frozenset({("series", "b")})) not in samples
    # c and d are named series: each keeps its name beside its labels
    assert samples[("detector_leak_score", frozenset({("pod", "p"), ("series", "c")}))] == 0.1
    assert ("detector_growth_bytes_per_second",
            frozenset({("pod", "p"), ("series", "c")})) not in samples  # NaN left out
    assert samples[("detector_scan_timestamp_seconds", frozenset())] == 1_700_000_000


def test_label_name_and_value_rules():
    assert sanitize_label_name("k8s-namespace") == "k8s_namespace"
    assert sanitize_label_name("1pod") == "_1pod"
    assert sanitize_label_name("a.b/c") == "a_b_c"
    assert escape_label_value('a\\b"c\nd') == 'a\\\\b\\"c\\nd'


def alert_rules_yaml() -> str:
    text = (ROOT / "docs" / "fleet.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    (rules,) = [b for b in blocks if "groups:" in b]
    return rules


@needs_promtool
def test_docs_alert_rules_pass_promtool(tmp_path):
    p = tmp_path / "rules.yml"
    p.write_text(alert_rules_yaml())
    check = promtool("check", "rules", str(p))
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
    assert "SUCCESS: 3 rules found" in check.stdout.decode()


@needs_promtool
def test_docs_alert_rules_fire_on_our_metrics(tmp_path):
    """promtool's rule unit test: MemoryLeak fires for a leaking series, not for a flat one."""
    (tmp_path / "rules.yml").write_text(alert_rules_yaml())
    (tmp_path / "test.yml").write_text("""
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'detector_leak{namespace="shop",pod="a"}'
        values: '1x10'
      - series: 'detector_leak_score{namespace="shop",pod="a"}'
        values: '0.93x10'
      - series: 'detector_leak{namespace="shop",pod="b"}'
        values: '0x10'
      - series: 'detector_leak_score{namespace="shop",pod="b"}'
        values: '0.2x10'
    alert_rule_test:
      - eval_time: 5m
        alertname: MemoryLeak
        exp_alerts:
          - exp_labels: {severity: ticket, namespace: shop, pod: a}
            exp_annotations:
              summary: "Memory leak in shop/a"
              description: "detector judged this series leaking (score 0.93)"
""")
    check = subprocess.run([PROMTOOL or "/usr/bin/promtool", "test", "rules", "test.yml"],
                           cwd=tmp_path, capture_output=True)
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()


def test_prometheus_series_keep_only_their_labels():
    results = [ScanResult('{container="app",pod="a"}',
                          fields={"leak": True, "score": 0.9, "slope": 1.0,
                                  "time_to_limit": None},
                          labels={"container": "app", "pod": "a"}),
               ScanResult('up{job="x"}', fields={"leak": False, "score": 0.1, "slope": 0.0,
                                                 "time_to_limit": None},
                          labels={"__name__": "up", "job": "x"})]
    samples = parse_samples(render_openmetrics(results, now=0).decode())
    assert samples[("detector_leak", frozenset({("container", "app"), ("pod", "a")}))] == 1
    assert samples[("detector_leak", frozenset({("job", "x")}))] == 0
