"""Fleet scans: streaming reads, parallel executors equal to serial, failures, resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from detector.cli import app
from detector.errors import InputError
from detector.fleet import run
from detector.results import ScanResult
from detector.sources import grouped, read_whole
from detector.sources.files import FileSource

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def cli(*args):
    return runner.invoke(app, list(map(str, args)))


def fleet_frame(n_series=12, n=2880, step=60, seed=3, labels=True):
    """A grouped long frame: leaking, flat and daily series, one all-NaN series."""
    rng = np.random.default_rng(seed)
    t = 1_700_000_000 + step * np.arange(n)
    frames = []
    for i in range(n_series):
        kind = i % 3
        if kind == 0:
            v = 5e8 + (t - t[0]) * rng.uniform(1e3, 3e3) + rng.normal(0, 5e6, n)
        elif kind == 1:
            v = 8e8 + rng.normal(0, 5e6, n)
        else:
            v = 6e8 + 1e8 * np.sin(2 * np.pi * (t - t[0]) / 86400) + rng.normal(0, 5e6, n)
        if i == 4:
            v = np.full(n, np.nan)
        frame = pd.DataFrame({"series": f"app-{i:02d}", "timestamp": t, "value": v.round()})
        if labels:
            frame["namespace"] = f"ns-{i % 2}"
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def parquet_fleet(tmp_path_factory):
    p = tmp_path_factory.mktemp("fleet") / "fleet.parquet"
    fleet_frame().to_parquet(p, index=False, row_group_size=5000)  # series straddle groups
    return p


def same_series(a, b):
    assert [s.id for s in a] == [s.id for s in b]
    for x, y in zip(a, b):
        assert np.array_equal(x.timestamps, y.timestamps)
        assert np.array_equal(x.values, y.values, equal_nan=True)
        assert dict(x.labels) == dict(y.labels)


# ---- streaming reads ---------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["parquet", "csv", "csv.gz"])
def test_streamed_file_gives_the_whole_read_series(tmp_path, monkeypatch, suffix):
    monkeypatch.setattr(grouped, "BATCH_ROWS", 1000)  # many batches, runs across them
    from detector.sources import csv as csv_mod

    monkeypatch.setattr(csv_mod, "STREAM_BLOCK", 1 << 14)
    frame = fleet_frame(n_series=7, n=1500)
    p = tmp_path / f"f.{suffix}"
    frame.to_parquet(p, index=False) if suffix == "parquet" else frame.to_csv(p, index=False)
    src = FileSource([p], stream_min_bytes=0)
    streamed = list(src)
    assert src.notes == []
    same_series(streamed, list(read_whole(p)))


def test_stream_yields_a_series_before_reading_the_rest(tmp_path, monkeypatch):
    """Bounded memory: the first series comes out after the batches that hold it."""
    monkeypatch.setattr(grouped, "BATCH_ROWS", 1000)
    p = tmp_path / "f.parquet"
    fleet_frame(n_series=10, n=1500).to_parquet(p, index=False)
    read = []
    real = grouped._batches

    def counting(path, columns, **kw):
        for b in real(path, columns, **kw):
            if columns is None:
                read.append(b.num_rows)
            yield b

    monkeypatch.setattr(grouped, "_batches", counting)
    it = iter(FileSource([p]))
    first = next(it)
    assert first.id == "app-00{namespace=\"ns-0\"}" and len(first) == 1500
    assert sum(read) <= 2000  # 2 of 15 batches, not the file
    rest = list(it)
    assert len(rest) == 9 and sum(read) == 15000


def test_interleaved_file_is_read_whole_and_noted(tmp_path):
    frame = fleet_frame(n_series=4, n=500, labels=False)
    frame = frame.iloc[np.argsort(np.tile(np.arange(500), 4), kind="stable")]  # by time
    p = tmp_path / "mixed.parquet"
    frame.to_parquet(p, index=False)
    the_plan = grouped.plan(p, ["series"])
    assert not the_plan.grouped and "app-00" in the_plan.reason and "row 5" in the_plan.reason
    src = FileSource([p])
    same_series(list(src), list(read_whole(p)))
    assert len(src.notes) == 1 and "not grouped by series" in src.notes[0]


def test_streamed_csv_bad_value_names_the_line(tmp_path, monkeypatch):
    from detector.errors import InputError
    from detector.sources import csv as csv_mod

    monkeypatch.setattr(csv_mod, "STREAM_BLOCK", 1 << 12)
    frame = fleet_frame(n_series=3, n=400, labels=False).astype({"value": object})
    frame.iloc[900, 2] = "lots"  # data row 901 -> line 902
    p = tmp_path / "bad.csv"
    frame.to_csv(p, index=False)
    with pytest.raises(InputError) as err:
        list(FileSource([p], stream_min_bytes=0))
    assert str(err.value) == f"{p}, line 902: value 'lots' in column 'value' is not a number"


def test_row_spans_hold_whole_series(parquet_fleet):
    the_plan = grouped.plan(parquet_fleet, ["series", "namespace"])
    assert the_plan.grouped and the_plan.starts.size == 12
    spans = list(grouped.spans(the_plan, rows=7000))
    assert [s.n_series for s in spans] == [3, 3, 3, 3]
    loaded = [s for span in spans for s in span.load()]
    same_series(loaded, list(read_whole(parquet_fleet)))


# ---- executors ---------------------------------------------------------------------------

def rows_of(results):
    return [r.to_dict() for r in results]


@pytest.fixture(scope="module")
def serial_rows(parquet_fleet):
    return rows_of(run(FileSource([parquet_fleet])))


def test_serial_run_records_the_failed_series(serial_rows):
    by = {r["series"]: r for r in serial_rows}
    assert len(serial_rows) == 12
    nan = by['app-04{namespace="ns-0"}']
    assert nan["leak"] is False and nan["verdict"] in ("insufficient_data", "error")
    assert sum(r["leak"] for r in serial_rows) >= 3


def test_process_workers_equal_serial(parquet_fleet, serial_rows):
    rows = rows_of(run(FileSource([parquet_fleet]), executor="processes", workers=2))
    assert rows == serial_rows


def test_process_workers_equal_serial_for_a_plain_iterable(parquet_fleet, serial_rows):
    series = list(read_whole(parquet_fleet))  # not a FileSource: batches are shipped
    rows = rows_of(run(iter(series), executor="processes", workers=2))
    assert rows == serial_rows


def test_a_files_plan_is_made_in_a_thread_beside_the_warm_up(parquet_fleet, monkeypatch):
    """A parallel scan of files plans them (reads their key columns) in a thread while the
    main one warms the kernels up; the scan yields every series, and an error in the plan
    reaches the caller as it is. A caller's own iterable is read in the main thread."""
    import threading

    from detector import fleet

    threads, warmed = [], []
    real_units = FileSource.units

    def units(self, *args, **kwargs):
        threads.append(threading.current_thread().name)
        yield from real_units(self, *args, **kwargs)

    monkeypatch.setattr(FileSource, "units", units)
    real_warm_up = fleet.warm_up  # (kept: workers must find the kernels in the cache)
    monkeypatch.setattr(fleet, "warm_up",
                        lambda config=None: (warmed.append(1), real_warm_up(config)))
    rows = rows_of(run(FileSource([parquet_fleet]), executor="processes", workers=2))
    assert threads == ["detector-plan"] and warmed == [1]
    assert len(rows) == len(list(read_whole(parquet_fleet)))

    def broken(self, *args, **kwargs):
        raise InputError("cannot read Parquet: broken", source="fleet.parquet")
        yield  # (a generator)

    monkeypatch.setattr(FileSource, "units", broken)
    with pytest.raises(InputError, match="broken"):
        list(run(FileSource([parquet_fleet]), executor="processes", workers=2))

    seen = []

    def own():
        seen.append(threading.current_thread().name)
        yield from read_whole(parquet_fleet)

    assert len(rows_of(run(own(), executor="processes", workers=2))) == len(rows)
    assert seen == [threading.main_thread().name]


def test_dask_local_cluster_equals_serial(parquet_fleet, serial_rows):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        rows = rows_of(run(FileSource([parquet_fleet]), executor="dask", workers=2,
                           scheduler=cluster.scheduler_address))
        assert len(cluster.scheduler_info["workers"]) == 2
    assert rows == serial_rows


def test_cli_workers_2_equals_serial(parquet_fleet, tmp_path):
    a, b = tmp_path / "serial.json", tmp_path / "workers.json"
    res_a = cli("scan", parquet_fleet, "--format", "json", "--output", a)
    res_b = cli("scan", parquet_fleet, "--format", "json", "--output", b, "--workers", 2)
    assert res_a.exit_code == res_b.exit_code == 1
    assert a.read_bytes() == b.read_bytes()


def test_exception_in_one_series_is_recorded_in_a_worker(parquet_fleet):
    """The analysis raising in a worker process: that series is an error, the rest finish."""
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing as mp

    from detector.config import Config
    from detector.fleet import scan_unit
    from detector.sources.files import SeriesBatch

    series = list(read_whole(parquet_fleet))[:3]
    # values one sample shorter than the timestamps: the analysis raises IndexError
    bad = type(series[1])(id="broken", timestamps=series[1].timestamps,
                          values=series[1].values[:-1], labels={}, meta=series[1].meta)
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        out = pool.submit(scan_unit, SeriesBatch((series[0], bad, series[2])), frozenset(),
                          None, Config()).result()
    assert [r.series for r in out] == [series[0].id, "broken", series[2].id]
    assert out[1].error and out[1].error.startswith("analysis failed:")
    assert out[0].fields is not None and out[2].fields is not None


def test_cli_series_error_gives_exit_2_when_none_leaks(tmp_path):
    t = 1_700_000_000 + 60 * np.arange(600)
    p = tmp_path / "calm.parquet"
    pd.concat([pd.DataFrame({"series": "ok", "timestamp": t, "value": 1e9}),
               pd.DataFrame({"series": "empty", "timestamp": t, "value": np.nan})]
              ).to_parquet(p, index=False)
    res = cli("scan", p, "--format", "json", "--workers", 2)
    rows = {r["series"]: r for r in json.loads(res.stdout)}
    assert rows["ok"]["verdict"] == "no_leak"
    assert rows["empty"]["verdict"] in ("insufficient_data", "error")
    assert res.exit_code == (2 if rows["empty"]["verdict"] == "error" else 0)


# ---- resume ------------------------------------------------------------------------------

def test_run_does_not_analyse_series_already_done(parquet_fleet, serial_rows, monkeypatch):
    import detector.analysis.pipeline as pipeline

    first = {r["series"]: ScanResult.from_record(r) for r in serial_rows[:5]}
    seen = []
    real = pipeline.judge

    def judge(series, **kw):
        seen.append(series.id)
        return real(series, **kw)

    monkeypatch.setattr(pipeline, "judge", judge)
    rows = rows_of(run(FileSource([parquet_fleet]), done=first))
    assert rows == serial_rows
    assert seen == [r["series"] for r in serial_rows[5:]]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba-cache"))
    return env


@pytest.mark.parametrize("workers", [1, 2])
def test_killed_scan_resumes_without_losing_or_repeating(tmp_path, workers):
    """SIGKILL a real scan midway, resume it, and compare with a clean run."""
    data = tmp_path / "big.parquet"
    fleet_frame(n_series=60, n=5760, step=30, seed=11).to_parquet(data, index=False,
                                                                    row_group_size=100_000)
    clean = tmp_path / "clean.json"
    cmd = [sys.executable, "-m", "detector", "scan", str(data), "--format", "json"]
    done = subprocess.run(cmd + ["--output", str(clean)], env=_env(), capture_output=True)
    assert done.returncode == 1, done.stderr.decode()

    out = tmp_path / "out.json"
    journal = tmp_path / "out.json.journal"
    proc = subprocess.Popen(cmd + ["--output", str(out), "--workers", str(workers)],
                            env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(b"\n") >= 16:  # header + 15
            break
        time.sleep(0.02)
    import psutil

    children = psutil.Process(proc.pid).children(recursive=True)
    proc.kill()  # SIGKILL the scan only: its worker processes must notice and exit
    proc.wait()
    gone, alive = psutil.wait_procs(children, timeout=15)
    for p in alive:  # (cleanup if the assertion below fails)
        p.kill()
    assert not alive, f"worker processes outlived the killed scan: {alive}"
    assert not out.exists(), "killed before the end: no output yet"
    before = journal.read_bytes().splitlines()[1:]
    n_before = len([line for line in before if line.endswith(b"}")])
    assert 15 <= n_before < 60

    # tamper with one journalled result: a resumed scan must take it, not recompute it
    records = [json.loads(line) for line in before if line.endswith(b"}")]
    records[0]["row"]["score"] = 0.123456
    journal.write_bytes(journal.read_bytes().splitlines()[0] + b"\n" + b"".join(
        json.dumps(r).encode() + b"\n" for r in records))
    resumed = subprocess.run(cmd + ["--output", str(out), "--workers", str(workers),
                                    "--resume"], env=_env(), capture_output=True)
    assert resumed.returncode == 1, resumed.stderr.decode()
    assert not journal.exists()
    got, want = json.loads(out.read_text()), json.loads(clean.read_text())
    assert [r["series"] for r in got] == [r["series"] for r in want]  # none lost or repeated
    assert got[0]["score"] == 0.123456
    got[0]["score"] = want[0]["score"]
    assert got == want


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_resume_after_a_finished_scan_reads_its_output(parquet_fleet, tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    assert cli("scan", parquet_fleet, "--format", fmt, "--output", out).exit_code == 1
    first = out.read_bytes()
    from detector.outputs import read_results

    previous = read_results(out, fmt)
    assert [r.to_dict() for r in previous] == [
        r.to_dict() for r in read_results(out, fmt)] and len(previous) == 12
    res = cli("scan", parquet_fleet, "--format", fmt, "--output", out, "--resume")
    assert res.exit_code == 1
    if fmt == "parquet":
        pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(
            __import__("io").BytesIO(first)))
    else:
        assert out.read_bytes() == first


def test_resume_refuses_a_journal_of_other_inputs(parquet_fleet, tmp_path):
    out = tmp_path / "out.json"
    (tmp_path / "out.json.journal").write_text('{"header": {"inputs": ["/elsewhere.csv"], '
                                               '"limit": null}}\n')
    res = cli("scan", parquet_fleet, "--format", "json", "--output", out, "--resume")
    assert res.exit_code == 2 and "other inputs" in res.stderr


def test_resume_needs_output(parquet_fleet):
    assert cli("scan", parquet_fleet, "--resume").exit_code == 2


def test_unreachable_dask_scheduler_exit_3(parquet_fleet):
    pytest.importorskip("distributed")
    res = cli("scan", parquet_fleet, "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9")
    assert res.exit_code == 3
    assert res.stderr.startswith("detector: error: Dask scheduler tcp://127.0.0.1:9:")


def test_scheduler_without_dask_is_a_usage_error(parquet_fleet):
    assert cli("scan", parquet_fleet, "--scheduler", "tcp://127.0.0.1:9").exit_code == 2


def test_process_workers_run_numerical_libraries_single_threaded(monkeypatch):
    # a BLAS thread pool in each worker would spin beside the pipeline (a fleet scan with
    # --workers 2 took twice as long): the workers start with one thread each, as Dask's
    # do, and the parent's environment is left as it was
    from detector.fleet import SINGLE_THREAD_ENV, _pool

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # a user's own choice is kept
    with _pool("processes", 2, None) as (submit, _):
        # the parent has its own environment back while the pool runs
        assert "OPENBLAS_NUM_THREADS" not in os.environ
        got = {k: submit(os.getenv, k).result(timeout=60) for k in SINGLE_THREAD_ENV}
    assert got == {"OMP_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    assert "OPENBLAS_NUM_THREADS" not in os.environ and "MKL_NUM_THREADS" not in os.environ
    assert os.environ["OMP_NUM_THREADS"] == "3"
