"""The detector on real public data: healthy series must not be flagged.

Exathlon (healthy Spark JVM heap and non-heap): no leak on any series.
Alibaba machine memory (no sustained leak by inspection): at most 2 % flagged.
The data live in ../shared/datasets (not redistributable here); CI has them.
"""

import pytest

import detector
from detector.evaluate.realdata import find_data_dir, load

DATA = find_data_dir()
needs_data = pytest.mark.skipif(DATA is None, reason="../shared/datasets not present")


@needs_data
def test_no_leak_on_any_exathlon_series():
    flagged = []
    n = 0
    for item in load(DATA, sources=("exathlon",)):
        n += 1
        rep = detector.analyze(item.series)
        if rep.leak:
            flagged.append((item.id, rep.pattern, rep.score))
    assert n == 44
    assert flagged == []


@needs_data
def test_at_most_two_percent_of_alibaba_machines():
    items = list(load(DATA, sources=("jindal_alibaba",)))
    assert len(items) >= 55
    flagged = [i.id for i in items if detector.analyze(i.series).leak]
    assert len(flagged) <= 0.02 * len(items), flagged


@needs_data
def test_loader_reads_labels():
    nab = [i for i in load(DATA, sources=("nab",))]
    assert len(nab) == 23
    labelled = [i for i in nab if i.anomaly_windows]
    assert labelled and all(a <= b for i in labelled for a, b in i.anomaly_windows)
