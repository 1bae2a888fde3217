"""A speed change changes no verdict: the reports of a fixed sample of synthetic and real
series equal those of the code before the change (``tests/data/report_snapshot.json``,
see ``tests/report_snapshot.py`` for the sample, the fields and how a detection change
rewrites the file on purpose)."""

from __future__ import annotations

import json

import report_snapshot as snap
from detector.evaluate.realdata import find_data_dir


def test_reports_equal_the_snapshot():
    expected = json.loads(snap.SNAPSHOT.read_text())
    include_real = find_data_dir() is not None
    if not include_real:  # without ../shared/datasets only the synthetic part can be run
        expected = {k: v for k, v in expected.items() if k.startswith(("synthetic/", "dataset7/"))}
    diff = snap.differences(expected, snap.compute(include_real))
    assert not diff, (
        f"{len(diff)} report fields differ from tests/data/report_snapshot.json (the code "
        "before the change). A speed change must change none; a detection change rewrites "
        "the file with `python tests/report_snapshot.py --write` and says why in its "
        f"commit ({snap.versions()}):\n" + "\n".join(diff[:40]))


def test_the_snapshot_covers_real_series_and_every_pattern():
    from detector.evaluate.synthetic import PATTERNS

    keys = json.loads(snap.SNAPSHOT.read_text()).keys()
    assert {k.split("/")[1] for k in keys if k.startswith("synthetic/")} == set(PATTERNS)
    assert sum(k.startswith("injected0/") for k in keys) >= 200
    assert sum(k.startswith("memorytools/") for k in keys) >= 30


def test_a_changed_verdict_is_named():
    """The comparison names the series and the field of every difference: a renamed
    pattern, scores moved by one part in a million; rounding in the last bits is none."""
    expected = json.loads(snap.SNAPSHOT.read_text())
    key = next(k for k in expected if k.startswith("synthetic/"))
    actual = json.loads(json.dumps(expected))
    actual[key]["pattern"] = "something_else"
    assert snap.differences(expected, actual) == [
        f"{key}: pattern was {expected[key]['pattern']!r}, now 'something_else'"]
    actual = json.loads(json.dumps(expected))
    for v in actual.values():
        v["score"] *= 1 + 1e-6
    moved = snap.differences(expected, actual)
    assert moved and all(": score was " in line for line in moved)
    actual = json.loads(json.dumps(expected))
    for v in actual.values():
        v["slope"] = None if v["slope"] is None else v["slope"] * (1 + 1e-12)
    assert snap.differences(expected, actual) == []
    # an onset one second later is a change, though 1e-9 of a unix time is 1.7 s
    timed = next(k for k, v in expected.items() if v["onset"] is not None)
    actual = json.loads(json.dumps(expected))
    actual[timed]["onset"] += 1.0
    assert snap.differences(expected, actual) == [
        f"{timed}: onset was {expected[timed]['onset']!r}, now {actual[timed]['onset']!r}"]
    # a field gone from the report, or NaN where there was none, is a change too
    actual = json.loads(json.dumps(expected))
    del actual[key]["period"]
    actual[timed]["slope"] = float("nan")
    assert sorted(snap.differences(expected, actual)) == sorted([
        f"{key}: period is gone",
        f"{timed}: slope was {expected[timed]['slope']!r}, now 'nan'"])
