"""The command line: formats, exit codes, errors on stderr, the bundled demo."""

import gzip
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from detector import __version__
from detector.cli import app
from detector.report import FIELDS

runner = CliRunner()
REQUIRED = {"series", "leak", "verdict", "pattern", "score", "slope", "onset", "changepoints",
            "period", "time_to_limit"}


def run(*args):
    return runner.invoke(app, list(map(str, args)))


@pytest.fixture(scope="module")
def fleet_csv(tmp_path_factory):
    """Two days at 60 s: one leaking series, one flat, one daily cycle."""
    rng = np.random.default_rng(7)
    t = np.arange(1_700_000_000, 1_700_000_000 + 2 * 86400, 60)
    frames = []
    shapes = {
        "leaky": 5e8 + (t - t[0]) * 2e3 + rng.normal(0, 5e6, t.size),
        "flat": 8e8 + rng.normal(0, 5e6, t.size),
        "daily": 6e8 + 1e8 * np.sin(2 * np.pi * (t - t[0]) / 86400) + rng.normal(0, 5e6, t.size),
    }
    for name, v in shapes.items():
        frames.append(pd.DataFrame({"series": name, "timestamp": t, "value": v.round()}))
    p = tmp_path_factory.mktemp("cli") / "fleet.csv"
    pd.concat(frames).to_csv(p, index=False)
    return p


def test_version():
    res = run("--version")
    assert res.exit_code == 0 and res.stdout.strip() == f"detector {__version__}"


def test_table_names_every_series_and_exit_1_on_leak(fleet_csv):
    res = run("scan", fleet_csv)
    assert res.exit_code == 1, res.output
    lines = res.stdout.splitlines()
    assert lines[0].split()[:3] == ["series", "verdict", "pattern"]
    for name in ("leaky", "flat", "daily"):
        assert any(line.startswith(name + " ") for line in lines)
    assert "3 series: 1 leaking" in res.stdout


def test_json_schema(fleet_csv):
    res = run("scan", fleet_csv, "--format", "json")
    rows = json.loads(res.stdout)
    assert isinstance(rows, list) and len(rows) == 3
    for row in rows:
        assert REQUIRED <= set(row) and set(row) == {"series", *FIELDS}
    by = {r["series"]: r for r in rows}
    assert by["leaky"]["leak"] is True and by["leaky"]["verdict"] == "leak"
    assert by["leaky"]["slope"] == pytest.approx(2e3, rel=0.05)
    assert by["flat"]["leak"] is False


def test_exit_0_without_leak(tmp_path):
    t = np.arange(0, 86400, 60) + 1_700_000_000
    p = tmp_path / "calm.csv"
    pd.DataFrame({"timestamp": t, "value": np.full(t.size, 1e9)}).to_csv(p, index=False)
    res = run("scan", p)
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[1].startswith("calm ")


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_output_file_formats(fleet_csv, tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    res = run("scan", fleet_csv, "--format", fmt, "--output", out)
    assert res.exit_code == 1 and res.stdout == ""
    if fmt == "json":
        rows = json.loads(out.read_text())
    elif fmt == "csv":
        rows = pd.read_csv(out).to_dict("records")
    else:
        rows = pd.read_parquet(out).to_dict("records")
    assert sorted(r["series"] for r in rows) == ["daily", "flat", "leaky"]
    assert REQUIRED <= set(rows[0])
    assert not list(tmp_path.glob(".out.*"))  # no temporary file left behind


def test_limit_gives_time_to_limit(fleet_csv):
    rows = json.loads(run("scan", fleet_csv, "--format", "json", "--limit", "2GiB").stdout)
    leaky = next(r for r in rows if r["series"] == "leaky")
    end_level = 5e8 + 2 * 86400 * 2e3
    assert leaky["time_to_limit"] == pytest.approx((2 * 2**30 - end_level) / 2e3, rel=0.1)


def test_bad_value_line_5_exit_2(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("series,timestamp,value\na,0,1\na,60,2\na,120,3\na,180,abc\na,240,5\n")
    res = run("scan", p)
    assert res.exit_code == 2
    assert res.stderr.strip() == f"detector: error: {p}, line 5: value 'abc' in column 'value' is not a number"
    assert res.stdout == ""


def test_missing_file_exit_2(tmp_path):
    res = run("scan", tmp_path / "absent.csv")
    assert res.exit_code == 2 and "absent.csv: no such file" in res.stderr


@pytest.mark.parametrize("args", [[], ["--format", "xml", "x.csv"], ["--demo", "x.csv"],
                                  ["--demo", "--format", "parquet"], ["--demo", "--limit", "lots"]])
def test_usage_errors_exit_2(args):
    assert run("scan", *args).exit_code == 2


def test_series_that_fails_is_reported_and_others_finish(tmp_path, monkeypatch):
    """A series whose analysis raises is recorded; the rest are still judged."""
    import detector.analysis.pipeline as pipeline

    real = pipeline.judge

    def judge(series, **kw):
        if series.id == "boom":
            raise RuntimeError("kaput")
        return real(series, **kw)

    monkeypatch.setattr(pipeline, "judge", judge)
    p = tmp_path / "two.csv"
    t = np.arange(0, 7200, 60)
    pd.concat([pd.DataFrame({"series": s, "timestamp": t, "value": 1.0}) for s in ("boom", "ok")]
              ).to_csv(p, index=False)
    res = run("scan", p, "--format", "json")
    rows = {r["series"]: r for r in json.loads(res.stdout)}
    assert rows["boom"]["verdict"] == "error" and "kaput" in rows["boom"]["error"]
    assert rows["ok"]["verdict"] == "no_leak"
    assert res.exit_code == 2 and "series boom: analysis failed" in res.stderr


# ---- the bundled demo --------------------------------------------------------------------

def demo_labels():
    from importlib import resources

    return json.loads((resources.files("detector.demo_data") / "labels.json").read_text())


def test_demo_table_names_every_series():
    res = run("scan", "--demo")
    assert res.exit_code == 1, res.output  # the demo holds leaks
    labels = demo_labels()
    ids = labels["series"] if "series" in labels else labels
    shown = {line.split()[0] for line in res.stdout.splitlines()[1:] if line.strip()}
    assert set(ids) <= shown


def test_demo_json_flags_some_and_not_others():
    rows = json.loads(run("scan", "--demo", "--format", "json").stdout)
    assert all(REQUIRED <= set(r) for r in rows)
    assert any(r["leak"] for r in rows) and any(not r["leak"] for r in rows)


def test_entry_point_in_a_subprocess(fleet_csv):
    """The real program, as a user runs it: exit status and streams."""
    res = subprocess.run([sys.executable, "-m", "detector", "scan", str(fleet_csv), "--format",
                          "json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 1, res.stderr
    assert len(json.loads(res.stdout)) == 3


def test_gzip_input_via_cli(tmp_path):
    p = tmp_path / "g.csv.gz"
    t = np.arange(0, 7200, 60)
    with gzip.open(p, "wt") as fh:
        pd.DataFrame({"timestamp": t, "value": 1.0}).to_csv(fh, index=False)
    res = run("scan", p, "--format", "json")
    assert res.exit_code == 0 and json.loads(res.stdout)[0]["series"] == "g"
