"""Series: validation and repairs, each counted in the metadata."""

import numpy as np
import pandas as pd
import pytest

from detector import InputError, Series
from detector.series import GAP_FACTOR


def test_sorts_and_counts_unsorted():
    s = Series.from_arrays([3.0, 1.0, 2.0], [30, 10, 20])
    assert s.timestamps.tolist() == [10, 20, 30]
    assert s.values.tolist() == [1.0, 2.0, 3.0]
    assert s.meta.was_sorted is False


def test_duplicates_keep_last_in_input_order():
    s = Series.from_arrays([1.0, 2.0, 3.0, 4.0], [10, 20, 10, 30])
    assert s.timestamps.tolist() == [10, 20, 30]
    assert s.values.tolist() == [3.0, 2.0, 4.0]  # the later sample at t=10 wins
    assert s.meta.n_duplicates == 1


def test_nonfinite_values_become_missing_and_are_counted():
    s = Series.from_arrays([1.0, np.nan, np.inf, -np.inf, 5.0], [1, 2, 3, 4, 5])
    assert np.isnan(s.values[1:4]).all()
    assert s.meta.n_nonfinite == 3
    assert s.n_valid == 2


def test_interval_is_median_spacing_and_gaps_recorded():
    ts = np.concatenate([np.arange(0, 600, 15), np.arange(1200, 1800, 15)]).astype(float)
    s = Series.from_arrays(np.ones(ts.size), ts)
    assert s.interval == 15.0
    assert s.meta.gaps == ((585.0, 1200.0),)
    assert s.meta.gap_seconds == pytest.approx(1200 - 585 - 15)
    # a spacing just under the gap factor is not a gap
    ts2 = np.array([0, 10, 20, 20 + GAP_FACTOR * 10 - 1, 50], float)
    assert Series.from_arrays(np.ones(5), ts2).meta.n_gaps == 0


@pytest.mark.parametrize("scale,unit", [(1, "s"), (1e3, "ms"), (1e6, "us"), (1e9, "ns")])
def test_epoch_units_detected_by_magnitude(scale, unit):
    base = np.array([1.7e9, 1.7e9 + 15, 1.7e9 + 30])
    s = Series.from_arrays([1, 2, 3], (base * scale).astype(np.int64))
    np.testing.assert_allclose(s.timestamps, base, rtol=0, atol=1e-6)
    assert s.interval == pytest.approx(15.0)


def test_datetime64_and_zones():
    idx = pd.date_range("2024-03-01", periods=4, freq="15s", tz="America/New_York")
    s = Series.from_pandas(pd.Series([1.0, 2, 3, 4], index=idx, name="app"))
    assert s.id == "app"
    assert s.timestamps[0] == pd.Timestamp("2024-03-01T05:00:00Z").timestamp()
    naive = Series.from_arrays([1, 2], np.array(["2024-03-01T00:00:00", "2024-03-01T00:00:15"],
                                                dtype="datetime64[s]"))
    assert naive.timestamps[0] == pd.Timestamp("2024-03-01T00:00:00Z").timestamp()


def test_iso_strings_with_and_without_zone():
    s = Series.from_arrays([1, 2, 3], ["2024-01-01T01:00:00+01:00", "2024-01-01T00:00:15Z",
                                       "2024-01-01 00:00:30"])
    assert s.timestamps.tolist() == [1704067200.0, 1704067215.0, 1704067230.0]


def test_dataframe_inputs():
    df = pd.DataFrame({"timestamp": [2, 1], "value": [20.0, 10.0]})
    s = Series.from_pandas(df, id="x")
    assert s.values.tolist() == [10.0, 20.0]
    one = pd.DataFrame({"mem": [1.0, 2.0]}, index=pd.to_datetime([0, 15], unit="s"))
    assert Series.from_pandas(one).id == "mem"
    with pytest.raises(InputError, match="needs 'timestamp' and 'value'"):
        Series.from_pandas(pd.DataFrame({"a": [1], "b": [2]}), id="f")


def test_nat_timestamps_dropped_and_counted():
    ts = np.array(["2024-01-01T00:00:00", "NaT", "2024-01-01T00:00:30"], dtype="datetime64[s]")
    s = Series.from_arrays([1.0, 2.0, 3.0], ts)
    assert len(s) == 2 and s.meta.n_bad_timestamps == 1


@pytest.mark.parametrize("values,match", [
    ([[1, 2], [3, 4]], "1-D"),
    (["1", "x"], "'x' at position 1 is not a number"),
    ([1 + 2j], "complex"),
])
def test_bad_values_name_the_series(values, match):
    with pytest.raises(InputError, match=match) as info:
        Series.from_arrays(values, id="pod-a")
    assert str(info.value).startswith("pod-a: ")


def test_length_mismatch_and_bad_timestamps():
    with pytest.raises(InputError, match="differ in length"):
        Series.from_arrays([1, 2, 3], [1, 2], id="s")
    with pytest.raises(InputError, match="'yesterday' at position 1"):
        Series.from_arrays([1, 2], ["2024-01-01", "yesterday"], id="s")


def test_empty_and_tiny():
    s = Series.from_arrays([], [])
    assert len(s) == 0 and np.isnan(s.interval)
    one = Series.from_arrays([5.0], [100])
    assert len(one) == 1 and np.isnan(one.interval) and one.duration == 0.0


def test_arrays_are_read_only_and_input_not_modified():
    v = np.array([1.0, np.inf])
    s = Series.from_arrays(v, [1, 2])
    assert np.isinf(v[1])  # caller's array untouched
    with pytest.raises(ValueError):
        s.values[0] = 3.0
