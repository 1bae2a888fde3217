"""CSV and Parquet ingest: layouts, timestamp units and zones, errors with lines."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detector import InputError
from detector.sources import read_path


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(p, "wt") as fh:
            fh.write(text)
    else:
        p.write_text(text)
    return p


def read(path):
    return {s.id: s for s in read_path(path)}


def test_long_format_with_labels(tmp_path):
    p = write(tmp_path, "f.csv", "series,timestamp,value,namespace\n"
                                 "api,0,1,prod\napi,15,2,prod\napi,0,5,dev\nweb,0,7,prod\n")
    got = read(p)
    assert set(got) == {'api{namespace="prod"}', 'api{namespace="dev"}', 'web{namespace="prod"}'}
    assert got['api{namespace="prod"}'].values.tolist() == [1.0, 2.0]
    assert dict(got['api{namespace="dev"}'].labels) == {"namespace": "dev"}


def test_single_series_named_after_file(tmp_path):
    p = write(tmp_path, "node-7.csv", "timestamp,value\n0,1.5\n60,2.5\n")
    (s,) = read_path(p)
    assert s.id == "node-7" and s.values.tolist() == [1.5, 2.5] and s.interval == 60


def test_wide_format(tmp_path):
    p = write(tmp_path, "w.csv", "timestamp,a,b\n0,1,10\n15,2,\n30,3,30\n")
    got = read(p)
    assert got["a"].values.tolist() == [1, 2, 3]
    assert np.isnan(got["b"].values[1]) and got["b"].meta.n_nonfinite == 1


def test_column_names_case_insensitive(tmp_path):
    p = write(tmp_path, "c.csv", "Series,TimeStamp,Value\nx,0,1\nx,1,2\n")
    assert read(p)["x"].values.tolist() == [1, 2]


@pytest.mark.parametrize("scale", [1, 1000, 1_000_000, 1_000_000_000])
def test_epoch_units(tmp_path, scale):
    base = 1_700_000_000
    p = write(tmp_path, "u.csv", "timestamp,value\n" + "".join(
        f"{(base + 15 * i) * scale},{i}\n" for i in range(3)))
    (s,) = read_path(p)
    assert s.timestamps.tolist() == [base, base + 15, base + 30]


def test_float_epoch_seconds(tmp_path):
    p = write(tmp_path, "f.csv", "timestamp,value\n1700000000.5,1\n1700000015.5,2\n")
    (s,) = read_path(p)
    assert s.timestamps.tolist() == [1700000000.5, 1700000015.5]


@pytest.mark.parametrize("stamps,expected", [
    (["2024-01-01T00:00:00Z", "2024-01-01T00:00:15Z"], [1704067200, 1704067215]),
    (["2024-01-01T00:00:00", "2024-01-01T00:00:15"], [1704067200, 1704067215]),  # naive: UTC
    (["2024-01-01 02:00:00+02:00", "2024-01-01 02:00:15+02:00"], [1704067200, 1704067215]),
    (["2024-01-01T00:00:00.250Z", "2024-01-01T00:00:15.250Z"], [1704067200.25, 1704067215.25]),
    (["2024-01-01T00:00:00Z", "2024-01-01T01:00:15+01:00"], [1704067200, 1704067215]),  # mixed
])
def test_iso_timestamps_and_zones(tmp_path, stamps, expected):
    p = write(tmp_path, "iso.csv", "timestamp,value\n" + "".join(f"{t},{i}\n" for i, t in
                                                                 enumerate(stamps)))
    (s,) = read_path(p)
    assert s.timestamps.tolist() == expected


def test_unsorted_rows_and_duplicates(tmp_path):
    p = write(tmp_path, "d.csv", "series,timestamp,value\n"
                                 "a,30,3\nb,0,9\na,0,1\na,15,2\na,15,22\n")
    got = read(p)
    a = got["a"]
    assert a.timestamps.tolist() == [0, 15, 30]
    assert a.values.tolist() == [1, 22, 3]
    assert a.meta.n_duplicates == 1 and a.meta.was_sorted is False
    assert got["b"].values.tolist() == [9]


def test_nan_and_inf_values(tmp_path):
    p = write(tmp_path, "n.csv", "timestamp,value\n0,1\n1,NaN\n2,inf\n3,-inf\n4,\n5,nan\n6,7\n")
    (s,) = read_path(p)
    assert s.meta.n_nonfinite == 5
    assert s.values[0] == 1 and s.values[-1] == 7


def test_gzip(tmp_path):
    p = write(tmp_path, "g.csv.gz", "series,timestamp,value\na,0,1\na,60,2\n")
    assert read(p)["a"].values.tolist() == [1, 2]


def test_parquet_long_and_datetime_column(tmp_path):
    df = pd.DataFrame({"series": ["a", "a", "b"],
                       "timestamp": pd.to_datetime([0, 15, 0], unit="s", utc=True),
                       "value": [1.0, 2.0, 3.0]})
    p = tmp_path / "f.parquet"
    df.to_parquet(p)
    got = read(p)
    assert got["a"].timestamps.tolist() == [0, 15] and got["b"].values.tolist() == [3.0]


def test_parquet_bad_value_names_row(tmp_path):
    df = pd.DataFrame({"timestamp": [0, 1, 2], "value": ["1", "2", "x"]})
    p = tmp_path / "bad.parquet"
    df.to_parquet(p)
    with pytest.raises(InputError, match=r"bad.parquet: row 3: value 'x'"):
        list(read_path(p))


# ---- errors: one clear line naming the file and the line --------------------------------

def error_of(path) -> str:
    with pytest.raises(InputError) as info:
        list(read_path(path))
    return str(info.value)


def test_non_numeric_value_on_line_5(tmp_path):
    p = write(tmp_path, "long.csv", "series,timestamp,value\na,0,1\na,15,2\na,30,3\na,45,abc\n")
    msg = error_of(p)
    assert msg == f"{p}, line 5: value 'abc' in column 'value' is not a number"


def test_error_line_counts_blank_lines_and_gzip(tmp_path):
    p = write(tmp_path, "blank.csv.gz", "timestamp,value\n0,1\n\n15,2\n30,x\n")
    assert ", line 5: value 'x'" in error_of(p)


def test_error_line_far_into_a_big_file(tmp_path):
    rows = "".join(f"a,{i},{i}\n" for i in range(200_000))
    p = write(tmp_path, "big.csv", "series,timestamp,value\n" + rows + "a,200000,oops\n")
    assert ", line 200002: value 'oops'" in error_of(p)


def test_unparseable_timestamp(tmp_path):
    p = write(tmp_path, "t.csv", "timestamp,value\n2024-01-01T00:00:00Z,1\nnot-a-time,2\n")
    assert error_of(p) == (f"{p}, line 3: timestamp 'not-a-time' is neither a number nor an "
                           "ISO-8601 date-time")


def test_missing_timestamp_cell(tmp_path):
    p = write(tmp_path, "t.csv", "series,timestamp,value\na,0,1\na,,2\n")
    assert ", line 3: missing timestamp" in error_of(p)


def test_missing_series_cell(tmp_path):
    p = write(tmp_path, "t.csv", "series,timestamp,value\na,0,1\n,1,2\n")
    assert ", line 3: empty 'series'" in error_of(p)


def test_wrong_field_count(tmp_path):
    p = write(tmp_path, "t.csv", "series,timestamp,value\na,0,1\na,1,2,3\n")
    assert ", line 3: malformed row: Expected 3 columns, got 4" in error_of(p)


def test_missing_column(tmp_path):
    p = write(tmp_path, "t.csv", "series,time_s,value\na,0,1\n")
    assert error_of(p) == f"{p}: missing column 'timestamp' (found: series, time_s, value)"
    p2 = write(tmp_path, "t2.csv", "series,timestamp,val\na,0,1\n")
    assert "missing column 'value'" in error_of(p2)


def test_empty_file_and_header_only(tmp_path):
    assert error_of(write(tmp_path, "e.csv", "")) == f"{tmp_path / 'e.csv'}: file is empty"
    assert error_of(write(tmp_path, "h.csv", "series,timestamp,value\n")) == \
        f"{tmp_path / 'h.csv'}: no data rows (only a header)"


def test_missing_file_and_unknown_type(tmp_path):
    assert error_of(tmp_path / "nope.csv") == f"{tmp_path / 'nope.csv'}: no such file"
    assert "unknown file type" in error_of(write(tmp_path, "x.json", "{}"))


def test_corrupt_gzip(tmp_path):
    p = tmp_path / "c.csv.gz"
    p.write_bytes(b"this is not gzip")
    assert "cannot read file" in error_of(p)
