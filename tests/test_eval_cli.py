"""`detector eval` end to end on small datasets."""

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from detector.cli import app
from detector.evaluate.realdata import find_data_dir

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
KEYS = {"detector", "precision", "recall", "f1", "fpr", "onset_error", "delay", "seconds"}


def test_synthetic_json_schema_and_ranking(tmp_path):
    out = tmp_path / "eval.json"
    res = runner.invoke(app, ["eval", "--dataset", "synthetic", "--n-series", "68", "--seed",
                              "5", "--format", "json", "--output", str(out)])
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text())
    assert report["n_series"] == 68 and report["dataset"].startswith("synthetic")
    names = [r["detector"] for r in report["results"]]
    assert names == ["detector", "prometheus", "coroot", "band", "mann_kendall", "precog"]
    for row in report["results"]:
        assert KEYS <= set(row)
    ours = report["results"][0]
    assert ours["f1"] >= max(r["f1"] for r in report["results"][1:])
    assert ours["fpr"] <= min(r["fpr"] for r in report["results"][1:])


def test_directory_dataset_and_plots(tmp_path):
    sys.path.insert(0, str(ROOT / "datasets"))
    try:
        import synthetic as script
    finally:
        sys.path.pop(0)
    data = tmp_path / "data"
    script.main(["--seed", "2", "--n-series", "34", "--output", str(data)])
    plots = tmp_path / "plots"
    res = runner.invoke(app, ["eval", "--dataset", str(data), "--detectors",
                              "detector,coroot", "--plots", str(plots)])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[1].split()[0] == "detector"
    assert list(plots.glob("wrong-*.png"))  # coroot gets some wrong


@pytest.mark.parametrize("args,match", [
    (["--detectors", "detector,oracle"], "unknown detector 'oracle'"),
    (["--dataset", "/no/such/dir"], "expected synthetic"),
    (["--dataset", "nab", "--data-dir", "/tmp"], "no labels.json"),
])
def test_bad_arguments_exit_2(args, match):
    res = runner.invoke(app, ["eval", *args])
    assert res.exit_code == 2 and match in res.stderr


@pytest.mark.skipif(find_data_dir() is None, reason="../shared/datasets not present")
def test_nab_band_rule_scores():
    res = runner.invoke(app, ["eval", "--dataset", "nab", "--format", "json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    row = report["results"][0]
    assert row["detector"] == "band" and row["n_series"] == 23
    assert 0 <= row["event_precision"] <= 1 and 0 <= row["event_recall"] <= 1
    assert row["nab_score"] < 100
