"""Pure parts of the Prometheus source: chunking, ids, presets, time arguments."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.sources.presets import PRESETS, preset
from detector.sources.prometheus import _fast_matrix, _join, _parse_matrix, chunk_spans, series_id
from detector.timestamps import parse_duration, parse_time


@settings(max_examples=300, deadline=None)
@given(start=st.integers(0, 2_000_000_000), n=st.integers(1, 50_000),
       step=st.sampled_from([1, 5, 15, 30, 60, 0.5]), max_points=st.integers(2, 12_000))
def test_chunks_cover_the_grid_exactly_once(start, n, step, max_points):
    end = start + (n - 1) * step
    spans = chunk_spans(start, end, step, max_points)
    # evaluation times of every chunk, as Prometheus computes them: a, a+step, ..., <= b
    grid = []
    for a, b in spans:
        k = int(math.floor((b - a) / step + 1e-9)) + 1
        assert k <= max_points
        grid.extend(a + step * np.arange(k))
    np.testing.assert_allclose(grid, start + step * np.arange(n), rtol=0, atol=1e-6)
    assert len(spans) == -(-n // max_points)


def test_chunks_of_an_end_off_the_grid():
    assert chunk_spans(0, 100, 30) == [(0, 90)]
    assert chunk_spans(10, 10, 15) == [(10, 10)]
    with pytest.raises(ValueError):
        chunk_spans(10, 5, 15)
    with pytest.raises(ValueError):
        chunk_spans(0, 5, 0)


def test_join_keeps_a_border_sample_once_and_orders_chunks():
    a = (np.array([0.0, 15.0, 30.0]), np.array([1.0, 2.0, 3.0]))
    b = (np.array([30.0, 45.0]), np.array([3.5, 4.0]))
    ts, vals = _join([b, a])
    np.testing.assert_array_equal(ts, [0, 15, 30, 45])
    np.testing.assert_array_equal(vals, [1, 2, 3.5, 4])


def test_series_id_is_the_sorted_label_set():
    assert series_id({"pod": "y", "container": "app", "namespace": "x"}) == \
        '{container="app",namespace="x",pod="y"}'
    assert series_id({"__name__": "up", "job": 'a"b\\c'}) == 'up{job="a\\"b\\\\c"}'
    assert series_id({}) == "{}"


def test_presets_and_matchers():
    assert set(PRESETS) == {"working-set", "rss", "breakdown", "jvm-heap", "go-heap",
                            "goroutines", "node"}
    ws = preset("working-set").with_matchers('namespace="shop"')
    assert ws.query == ('max by (namespace, pod, container) (container_memory_working_set_'
                        'bytes{container!="",container!="POD",namespace="shop"})')
    assert all('namespace="shop"' in q for q in ws.limit_queries)
    node = preset("node").with_matchers('instance=~"db.*"')
    assert node.query.count('instance=~"db.*"') == 2
    assert preset("goroutines").with_matchers("") == preset("goroutines")
    with pytest.raises(ValueError, match="unknown metric preset 'heap'; choose one of"):
        preset("heap")
    # the breakdown's components take the matchers too, and its primary is the working set
    b = preset("breakdown").with_matchers('namespace="shop"')
    assert [c for c, _ in b.components] == ["working_set", "rss", "cache", "swap",
                                            "mapped_file"]
    assert all('namespace="shop"' in q for _, q in b.components)
    assert b.query == ws.query and b.components[0][1] == ws.query
    assert b.components[1][1] == ws.query.replace("working_set_bytes", "rss")


@pytest.mark.parametrize("text, seconds", [
    ("15s", 15), ("5m", 300), ("1h30m", 5400), ("7d", 604800), ("2w", 1209600),
    ("1y", 365 * 86400), ("250ms", 0.25), ("15", 15), ("0.5", 0.5), (" 3d ", 259200)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "7x", "h", "-5", "0", "5m3", "1h 30m", "nan", "inf"])
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("text, ts", [
    ("1700000000", 1_700_000_000), ("1700000000.5", 1_700_000_000.5),
    ("2024-06-01T00:00:00Z", 1_717_200_000), ("2024-06-01T02:00:00+02:00", 1_717_200_000),
    ("2024-06-01", 1_717_200_000), ("2024-06-01T00:00:00.250Z", 1_717_200_000.25),
    ("now", 42.0)])
def test_parse_time(text, ts):
    assert parse_time(text, now=42.0) == ts


@pytest.mark.parametrize("text", ["yesterday", "", "2024-13-01", "inf"])
def test_parse_time_refuses(text):
    with pytest.raises(ValueError):
        parse_time(text)


_label_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_point_value = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.sampled_from(["NaN", "+Inf", "-Inf", "0", "-0", "1e+06", "123456789012345"]))
_matrix = st.lists(st.tuples(
    st.dictionaries(st.sampled_from(["__name__", "pod", "values", "metric", "a}b", "c"]),
                    _label_text, max_size=4),
    st.lists(st.tuples(st.integers(0, 2_000_000_000), _point_value), max_size=30)),
    max_size=5)


def _answer(matrix, **dump):
    body = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": labels, "values": [[t, v] for t, v in points]}
        for labels, points in matrix]}}
    return json.dumps(body, **dump).encode()


def _same(a, b):
    assert len(a) == len(b)
    for (la, ta, va), (lb, tb, vb) in zip(a, b):
        assert la == lb
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(va, vb)


@settings(max_examples=300, deadline=None)
@given(matrix=_matrix)
def test_fast_decoder_equals_json_on_compact_answers(matrix):
    raw = _answer(matrix, separators=(",", ":"))  # Prometheus' own spacing
    fast = _fast_matrix(raw)
    assert fast is not None
    _same(fast.series, _parse_matrix(json.loads(raw)["data"], "q"))


@settings(max_examples=100, deadline=None)
@given(matrix=_matrix, indent=st.sampled_from([None, 1]), ascii_=st.booleans())
def test_fast_decoder_equals_json_or_declines(matrix, indent, ascii_):
    raw = _answer(matrix, indent=indent, ensure_ascii=ascii_)
    fast = _fast_matrix(raw)
    if fast is not None:
        _same(fast.series, _parse_matrix(json.loads(raw)["data"], "q"))


@pytest.mark.parametrize("raw", [
    b'{"status":"success","data":{"resultType":"vector","result":[]}}',
    b'{"status":"success","data":{"resultType":"matrix","result":[]},"warnings":["x"]}',
    b'{"status":"error","errorType":"bad_data","error":"x"}',
    b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},'
    b'"values":[[1,"2"],[3,"4"]',
    b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},'
    b'"values":[[1,"2","5"]]}]}}',
    b'not json at all'])
def test_fast_decoder_declines_what_it_does_not_know(raw):
    assert _fast_matrix(raw) is None
