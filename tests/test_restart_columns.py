"""A file can say when its process restarted: a ``restarts`` column (a restart counter,
as kube-state-metrics exports it) or a ``start_time`` column (the process's start time,
as ``process_start_time_seconds``). The series then carries those times
(``Series.restarts``) and is judged with them (``analyze(restarts=...)``), through every
reader: a CSV or Parquet file read whole, streamed by series, or split between worker
processes."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import detector
from detector import InputError
from detector.cli import app
from detector.sources import read_path
from detector.sources.files import FileSource
from test_given_restarts import loop_on_a_moving_background


def test_a_counter_column_gives_the_times_it_counts_up(tmp_path):
    p = tmp_path / "pod.csv"
    # unsorted rows, a missing count, and a counter that is reset (kube-state-metrics
    # restarted): only the rises are restarts
    p.write_text("timestamp,value,restarts\n"
                 "60,2,0\n0,1,0\n120,3,\n180,1,1\n240,2,1\n300,1,3\n360,2,0\n420,1,0\n")
    (s,) = read_path(p)
    assert s.id == "pod" and dict(s.labels) == {}  # the counter is no label
    assert s.restarts.tolist() == [180.0, 300.0]
    assert pickle.loads(pickle.dumps(s)).restarts.tolist() == [180.0, 300.0]


def test_a_start_time_column_gives_the_times_it_changes(tmp_path):
    p = tmp_path / "long.csv"
    p.write_text("series,timestamp,value,pod,start_time\n"
                 "api,0,1,a,1000\nweb,0,5,b,900\napi,60,2,a,1000\nweb,60,6,b,900\n"
                 "api,120,1,a,1110\nweb,120,7,b,900\napi,180,2,a,1110\n")
    got = {s.id: s for s in read_path(p)}
    assert set(got) == {'api{pod="a"}', 'web{pod="b"}'}
    assert got['api{pod="a"}'].restarts.tolist() == [120.0]
    assert got['web{pod="b"}'].restarts.tolist() == []  # known: no restart
    # without such a column the restarts are unknown
    q = tmp_path / "plain.csv"
    q.write_text("timestamp,value\n0,1\n60,2\n")
    assert next(iter(read_path(q))).restarts is None


def loop_files(tmp_path):
    """The same OOM-kill loop on a moving background as a single CSV, a long CSV and a
    long Parquet file (two series each: the loop with its restart counter, and a
    twin whose counter never moves). Returns the first sample after each kill and the
    three paths."""
    t, v, kills = loop_on_a_moving_background(1)
    count = np.searchsorted(kills, t, side="right")
    single = tmp_path / "pod-7.csv"
    pd.DataFrame({"timestamp": t.astype(int), "value": v, "restarts": count}).to_csv(
        single, index=False)
    rows = pd.concat([
        pd.DataFrame({"series": "loop", "timestamp": t.astype(int), "value": v,
                      "restarts": count}),
        pd.DataFrame({"series": "twin", "timestamp": t.astype(int), "value": v,
                      "restarts": 0})])
    long_csv, long_pq = tmp_path / "long.csv", tmp_path / "long.parquet"
    rows.to_csv(long_csv, index=False)
    rows.to_parquet(long_pq, index=False, row_group_size=500)
    return t[np.searchsorted(t, kills)], single, long_csv, long_pq


def test_every_reader_gives_the_same_restarts(tmp_path):
    firsts, single, long_csv, long_pq = loop_files(tmp_path)
    expect = firsts.tolist()  # the first sample after each kill, where the counter rises
    (s,) = read_path(single)
    assert s.restarts.tolist() == expect
    for path in (long_csv, long_pq):
        whole = {x.id: x.restarts.tolist() for x in read_path(path)}
        assert whole == {"loop": expect, "twin": []}
        # streamed series by series (as a fleet scan reads a big grouped file), and in
        # the picklable units a worker process or a Dask worker loads
        source = FileSource([path], stream_min_bytes=0)
        assert {x.id: x.restarts.tolist() for x in source} == whole
        units = [pickle.loads(pickle.dumps(u)) for u in source.units(rows=1000)]
        loaded = {x.id: x.restarts.tolist() for u in units for x in u.load()}
        assert loaded == whole


def test_a_scan_judges_with_the_restarts_of_the_file(tmp_path):
    _, single, long_csv, long_pq = loop_files(tmp_path)
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["scan", str(single), str(long_pq), "--workers", "2",
                                   "--format", "json", "--output", str(out)])
    assert res.exit_code == 1, res.output  # a leak
    rows = {r["series"]: r for r in json.loads(out.read_text())}
    assert set(rows) == {"pod-7", "loop", "twin"}
    for sid in ("pod-7", "loop"):
        lt = rows[sid]["evidence"]["lifetimes"]
        assert lt["restarts_from"] == "given" and lt["count"] == 6
        assert rows[sid]["pattern"] == "restart_loop"
    twin = rows["twin"]["evidence"]["lifetimes"]
    assert twin["restarts_from"] == "given" and twin["count"] == 1
    # the same series without the column: the loop is not found from its drops alone
    bare = tmp_path / "bare.csv"
    pd.read_csv(single).drop(columns="restarts").to_csv(bare, index=False)
    (s,) = read_path(bare)
    rep = detector.analyze(s)
    assert rep.evidence["lifetimes"]["restarts_from"] == "drops"
    assert rep.pattern != "restart_loop"


def test_analyze_prefers_the_restarts_it_is_given_over_the_file(tmp_path):
    _, single, _, _ = loop_files(tmp_path)
    (s,) = read_path(single)
    rep = detector.analyze(s, restarts=[])
    assert rep.evidence["lifetimes"]["count"] == 1


@pytest.mark.parametrize("header, row, match", [
    ("timestamp,value,restarts,start_time", "0,1,0,5",
     "columns 'restarts' and 'start_time' both say when the process restarted"),
    ("timestamp,value,restarts", "0,1,many",
     "line 3: value 'many' in column 'restarts' is not a number"),
])
def test_bad_restart_columns_are_named(tmp_path, header, row, match):
    p = tmp_path / "bad.csv"
    p.write_text(f"{header}\n{row.replace('many', '0')}\n{row.replace('0,1', '60,2')}\n")
    with pytest.raises(InputError, match=match):
        list(read_path(p))
