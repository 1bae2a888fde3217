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


def test_a_counter_column_gives_the_times_it_changes(tmp_path):
    p = tmp_path / "pod.csv"
    # unsorted rows, a missing count, a count that goes down (the pod recreated under its
    # name, as a StatefulSet rollout does: a restart too), and a duplicated timestamp
    # whose last row (the one the series keeps) is the one that counts
    p.write_text("timestamp,value,restarts\n"
                 "60,2,0\n0,1,0\n120,3,\n180,1,1\n240,2,1\n300,1,3\n360,2,0\n420,1,0\n"
                 "480,2,4\n480,2,0\n")
    (s,) = read_path(p)
    assert s.id == "pod" and dict(s.labels) == {}  # the counter is no label
    assert s.restarts.tolist() == [180.0, 300.0, 360.0]
    assert pickle.loads(pickle.dumps(s)).restarts.tolist() == [180.0, 300.0, 360.0]
    assert not s.restarts.flags.writeable


def test_a_column_with_fewer_than_two_values_says_nothing(tmp_path):
    """An empty counter (or one value) is unknown, not "no restart": the restarts are
    then found from the drops."""
    p = tmp_path / "long.csv"
    p.write_text("series,timestamp,value,restarts\n"
                 "a,0,1,\na,60,2,\na,120,3,\nb,0,1,5\nb,60,2,\nc,0,1,2\nc,60,2,2\n")
    got = {s.id: s.restarts for s in read_path(p)}
    assert got["a"] is None and got["b"] is None
    assert got["c"].tolist() == []


def test_a_start_time_column_gives_the_times_it_moves_later(tmp_path):
    p = tmp_path / "long.csv"
    # web's start time wobbles by a second from scrape to scrape (as client libraries and
    # node_exporter report it): no restart; api's moves 110 s later: one
    p.write_text("series,timestamp,value,pod,start_time\n"
                 "api,0,1,a,1000\nweb,0,5,b,900\napi,60,2,a,1000\nweb,60,6,b,901\n"
                 "api,120,1,a,1110\nweb,120,7,b,900\napi,180,2,a,1110\nweb,180,7,b,901\n")
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


def test_start_times_as_date_times_or_in_ms(tmp_path):
    t = 1.7e9 + 60.0 * np.arange(6)
    start = np.array([0, 0, 0, 200, 200, 200]) + 1.7e9 - 50
    frame = pd.DataFrame({"timestamp": t.astype(int), "value": np.arange(6.0),
                          "start_time": pd.to_datetime(start, unit="s", utc=True)})
    frame.to_parquet(tmp_path / "dt.parquet", index=False)
    frame.assign(start_time=frame.start_time.dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(
        tmp_path / "iso.csv", index=False)
    frame.assign(start_time=(start * 1000).astype(np.int64)).to_csv(tmp_path / "ms.csv",
                                                                     index=False)
    for name in ("dt.parquet", "iso.csv", "ms.csv"):
        (s,) = read_path(tmp_path / name)
        assert s.restarts.tolist() == [t[3]], name


def test_restart_columns_in_the_other_layouts(tmp_path):
    # a wide file has a series per column: a counter there is an error, not a series
    p = tmp_path / "wide.csv"
    p.write_text("timestamp,a,b,restarts\n0,1,2,0\n60,1,2,1\n")
    with pytest.raises(InputError, match="'restarts' says when a process restarted, but a "
                                         "wide file"):
        list(read_path(p))
    # a breakdown per container: every component gets the restarts, none is a component
    q = tmp_path / "breakdown.csv"
    q.write_text("timestamp,working_set,rss,cache,restarts\n"
                 "0,10,8,2,0\n60,11,9,2,0\n120,5,4,1,1\n180,6,5,1,1\n")
    (item,) = read_path(q)
    assert set(item.components) == {"working_set", "rss", "cache"}
    assert all(part.restarts.tolist() == [120.0] for part in item.components.values())


def test_a_streamed_csv_whose_first_block_has_no_count(tmp_path, monkeypatch):
    """pyarrow types a column per block; an empty first block would type the counter
    null and the next block fail (falling back to reading the whole file): the restart
    columns are read as numbers from the start."""
    import detector.sources.csv as csv_source
    from detector.sources import grouped

    rows = ["series,timestamp,value,restarts"]
    rows += [f"a,{60 * k},{k},{'' if k < 2000 else 1 + k // 3000}" for k in range(6000)]
    rows += [f"b,{60 * k},{k},0" for k in range(3000)]
    p = tmp_path / "big.csv"
    p.write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(csv_source, "STREAM_BLOCK", 1 << 14)  # many blocks
    whole = []
    monkeypatch.setattr("detector.sources.read_whole",
                        lambda path: whole.append(path) or iter(()))
    the_plan = grouped.plan(p, grouped.key_columns(grouped.column_names(p)))
    got = {s.id: s.restarts for s in grouped.stream(p, the_plan)}
    assert whole == []  # streamed, not read again whole
    assert got["a"].tolist() == [60.0 * k for k in (3000,)] and got["b"].tolist() == []


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
