"""Test runs: minutes of one process from its start to its exit (Config.for_test_runs)."""

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import detector
from detector import Config
from detector.analysis.restarts import process_exit
from detector.cli import app

MiB = 2.0 ** 20


def naive_process_exit(v):
    """The first of the last tenth of the samples below half of the highest so far."""
    n = len(v)
    if n < 10:
        return None
    for i in range(n - max(1, n // 10), n):
        if v[i] < 0.5 * max(v[:i + 1]):
            return i
    return None


@pytest.mark.parametrize("seed", range(40))
def test_process_exit_equals_a_naive_loop(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 60))
    kind = seed % 4
    if kind == 0:
        v = rng.normal(100, 30, n)
    elif kind == 1:  # ties and a collapse near the end
        v = rng.integers(1, 5, n).astype(float) * 10
        if n > 3:
            v[-int(rng.integers(1, 4)):] = rng.choice([0.0, 4.0, 20.0])
    elif kind == 2:  # constant
        v = np.full(n, 7.0)
    else:  # a ramp that exits
        v = np.linspace(1, 10, n)
        if n:
            v[-1] = 0.5
    assert process_exit(v) == naive_process_exit(list(v))


def test_run(seed=0, *, grow=True, exit_=True, minutes=9):
    """A test run at 1 s: start-up, then growth (or not), then the process exits."""
    rng = np.random.default_rng(seed)
    n = minutes * 60
    t = 1.7e9 + np.arange(n, dtype=float)
    v = 2000 * MiB + (6.0 * MiB * np.arange(n) if grow else 0.0) + rng.normal(0, 5 * MiB, n)
    v[:10] = np.linspace(200 * MiB, 2000 * MiB, 10)  # the process starts
    if exit_:
        v[-12:] = 200 * MiB  # the process exits; what is left is the harness
    return t, v


test_run.__test__ = False  # a helper, not a test


def test_a_leaking_test_run_is_a_leak_only_in_test_run_mode():
    t, v = test_run()
    assert detector.analyze(v, t).verdict == "insufficient_data"  # 9 minutes < 30
    r = detector.analyze(v, t, config=Config.for_test_runs())
    assert r.leak, r.evidence.get("decision")
    assert r.evidence["input"]["process_exit"] == t[-12]
    assert any("process exited" in n for n in r.evidence["notes"])
    # without cutting the exit, the collapse at the end reads as memory given back
    kept = detector.analyze(v, t, config=Config.for_test_runs(process_exit=False))
    assert not kept.leak


def test_a_flat_test_run_is_not_a_leak():
    for seed in range(5):
        t, v = test_run(seed, grow=False)
        r = detector.analyze(v, t, config=Config.for_test_runs())
        assert not r.leak, (seed, r.evidence.get("decision"))
        assert r.verdict == "no_leak"


def test_a_run_without_an_exit_is_judged_whole():
    t, v = test_run(exit_=False)
    r = detector.analyze(v, t, config=Config.for_test_runs())
    assert r.leak and r.evidence["input"]["process_exit"] is None


def test_for_test_runs_keeps_the_other_defaults_and_takes_changes():
    c = Config.for_test_runs(alpha=0.01)
    assert c.process_exit and c.min_duration == 120 and c.min_leak_duration == 120
    assert c.alpha == 0.01 and c.min_relative_growth == Config().min_relative_growth
    assert not Config().process_exit


def test_cli_test_run(tmp_path):
    t, v = test_run()
    path = tmp_path / "run.csv"
    pd.DataFrame({"timestamp": t, "value": v}).to_csv(path, index=False)
    runner = CliRunner()
    plain = runner.invoke(app, ["scan", str(path)])
    assert plain.exit_code == 0 and "insufficient_data" in plain.stdout, plain.output
    res = runner.invoke(app, ["scan", str(path), "--test-run", "-f", "json",
                              "-o", str(tmp_path / "r.json"), "--report",
                              str(tmp_path / "scan.html")])
    assert res.exit_code == 1, res.output
    rows = pd.read_json(tmp_path / "r.json")
    assert bool(rows.leak[0])
    res = runner.invoke(app, ["report", str(tmp_path / "r.json"), str(path), "--test-run",
                              "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    assert 'data-series="run"' in (tmp_path / "r.html").read_text()
    # the results say the scan judged test runs: the report's trace cuts the exit without
    # being told, so the floor it draws is the one judged
    from detector.analysis.trace import trace
    from detector.series import Series

    series = Series.from_arrays(v, t, id="run")
    fields = rows.iloc[0].to_dict()
    told = trace(series, fields, Config.for_test_runs())
    untold = trace(series, fields)
    np.testing.assert_array_equal(untold.floor_t, told.floor_t)
    assert told.floor_t.max() < t[-12]
    res = runner.invoke(app, ["plot", str(path), "--test-run", "-o", str(tmp_path / "p.svg")])
    assert res.exit_code == 1 and "Leak" in res.stdout, res.output


def test_memorytools_test_runs():
    """The real labelled test runs: the growing control process is found, none of the
    fixed revision's processes (nor the others) is flagged. The second leak, one step of
    64 MiB (2 %) in a 3 GB process, stays below what a step must show."""
    from detector.evaluate.injected import memorytools_items

    config = Config.for_test_runs()
    flagged = [i for i in memorytools_items()
               if detector.analyze(i.values, i.timestamps, config=config).leak]
    assert [i.id for i in flagged] == ["memorytools/tdcsarv_377208/tdcsarvControl.csv"]
