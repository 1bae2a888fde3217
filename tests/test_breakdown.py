"""Memory breakdown: tables with one column per component, the judgement, the window helpers."""

from __future__ import annotations

import json
import math
import pickle
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from detector.diagnosis.breakdown import judge_breakdown
from detector.diagnosis.simulate import MIB, container
from detector.diagnosis.windows import median_interval, robust_slope, window_stats
from detector.errors import InputError
from detector.series import Series
from detector.sources import read_path
from detector.sources.components import ComponentSeries, breakdown_columns, component_name

T0 = 1_717_200_000.0
H = 3600.0


def breakdown(c, sid="c"):
    return ComponentSeries(sid, {k: Series.from_arrays(v, c.t, id=k)
                                 for k, v in c.components.items()}, c.labels)


def sim(seed=0, **kw):
    return container({"namespace": "shop", "pod": "p-0", "container": "p"}, seed=seed,
                     start=T0, duration=24 * H, **kw)


# ---- reading ------------------------------------------------------------------------------

def test_component_names():
    assert component_name("container_memory_rss") == "rss"
    assert component_name(" Working_Set ") == "working_set"
    assert component_name("anon") == "rss" and component_name("heap") is None
    assert breakdown_columns(["timestamp", "rss", "cache"]) == {"rss": "rss", "cache": "cache"}
    assert breakdown_columns(["timestamp", "value", "rss", "cache"]) is None  # long layout
    assert breakdown_columns(["timestamp", "rss", "frontend"]) is None  # a wide file
    with pytest.raises(InputError, match="both the component 'rss'"):
        breakdown_columns(["timestamp", "rss", "container_memory_rss"])


def test_long_breakdown_table_csv_and_parquet(tmp_path):
    rows = []
    for name, c in (("a", sim(1, rss_growth=10 * MIB / H)), ("b", sim(2))):
        for i in range(0, c.t.size, 10):
            rows.append({"series": name, "timestamp": int(c.t[i]), "namespace": "shop",
                         **{k: c.components[k][i] for k in ("working_set", "rss", "cache")},
                         "heap_bytes": 1.0})
    frame = pd.DataFrame(rows).sample(frac=1, random_state=0)  # any row order
    frame.to_csv(tmp_path / "b.csv", index=False)
    frame.to_parquet(tmp_path / "b.parquet", index=False)
    for path in (tmp_path / "b.csv", tmp_path / "b.parquet"):
        got = {s.id: s for s in read_path(path)}
        assert set(got) == {'a{namespace="shop"}', 'b{namespace="shop"}'}
        a = got['a{namespace="shop"}']
        assert isinstance(a, ComponentSeries) and dict(a.labels) == {"namespace": "shop"}
        assert set(a.components) == {"working_set", "rss", "cache", "heap_bytes"}
        assert a.primary_name == "working_set" and len(a) == 145
        want = frame[frame.series == "a"].sort_values("timestamp")
        np.testing.assert_array_equal(a.components["rss"].values, want.rss.to_numpy())
        np.testing.assert_array_equal(a.components["rss"].timestamps, want.timestamp)
        b = pickle.loads(pickle.dumps(got['b{namespace="shop"}']))  # for worker processes
        assert set(b.components) == set(a.components) and b.primary.id.endswith("[working_set]")


def test_wide_breakdown_table_and_a_bad_value(tmp_path):
    path = tmp_path / "checkout.csv"
    path.write_text("timestamp,container_memory_rss,container_memory_cache\n"
                    "0,10,3\n60,11,4\n120,12,x\n")
    with pytest.raises(InputError, match=r"checkout.csv, line 4: value 'x' in column "
                                         r"'container_memory_cache' is not a number"):
        list(read_path(path))
    path.write_text("timestamp,container_memory_rss,container_memory_cache\n0,10,3\n60,11,4\n")
    (item,) = read_path(path)
    assert item.id == "checkout" and set(item.components) == {"rss", "cache"}
    assert item.primary_name == "rss"


# ---- the judgement --------------------------------------------------------------------------

def test_rss_growth_is_a_leak():
    rep = judge_breakdown(breakdown(sim(rss_growth=8 * MIB / H)), limit=2048 * MIB)
    b = rep.evidence["breakdown"]
    assert rep.leak and b["cause"] == "anonymous" and not b["pressure"]
    assert b["components"]["rss"]["slope"] == pytest.approx(8 * MIB / H, rel=0.02)
    assert b["components"]["rss"]["share"] == pytest.approx(1.0, abs=0.05)
    assert b["components"]["cache"]["share"] == pytest.approx(0.0, abs=0.05)
    assert re.fullmatch(r"RSS grows \(\+8(\.0\d)? MiB/h\): anonymous memory, a leak",
                        b["summary"])


def test_cache_growth_lifting_the_working_set_is_not_a_leak():
    item = breakdown(sim(cache_growth=30 * MIB / H, active_share=0.6))
    rep = judge_breakdown(item)
    b = rep.evidence["breakdown"]
    assert not rep.leak and rep.pattern == "cache_growth" and b["cause"] == "cache"
    assert rep.evidence["primary_report"]["verdict"] == "leak"  # alone it would be
    assert b["components"]["cache"]["share"] == pytest.approx(1 / 0.6, rel=0.05)
    assert b["components"]["mapped_file"]["share"] == pytest.approx(0.2 / 0.6, rel=0.05)
    assert rep.score < 0.5 and rep.time_to_limit is None and rep.onset is None


def test_cache_growth_under_a_flat_working_set_is_said_but_changes_nothing():
    rep = judge_breakdown(breakdown(sim(cache_growth=30 * MIB / H, active_share=0.0)))
    b = rep.evidence["breakdown"]
    assert not rep.leak and rep.pattern == "stable" and b["cause"] is None
    assert b["components"]["cache"]["grows"]
    assert b["summary"] == "the page cache grows while the working set holds: reclaimable, " \
                           "not a leak"


def test_swap_growth_is_pressure_and_a_leak_of_anonymous_memory():
    rep = judge_breakdown(breakdown(sim(swap_growth=6 * MIB / H)))
    b = rep.evidence["breakdown"]
    assert rep.leak and b["pressure"] and b["cause"] == "anonymous"
    assert rep.evidence["judged_component"] == "rss+swap"
    assert rep.evidence["primary_report"]["verdict"] == "no_leak"
    assert b["summary"].endswith("swap grows (+6 MiB/h): memory pressure")


def test_without_rss_the_primary_decides():
    c = sim(cache_growth=30 * MIB / H, active_share=0.6)
    item = ComponentSeries("c", {k: Series.from_arrays(c.components[k], c.t, id=k)
                                 for k in ("working_set", "cache")})
    rep = judge_breakdown(item)
    assert rep.leak and rep.evidence["breakdown"]["cause"] is None
    assert rep.evidence["breakdown"]["summary"] == "judged on working_set alone (no RSS " \
                                                   "component)"


def test_scan_of_a_breakdown_file_in_worker_processes(tmp_path):
    rows = ["series,timestamp,working_set,rss,cache,swap"]
    for name, c in (("leak", sim(1, rss_growth=10 * MIB / H)),
                    ("cache", sim(2, cache_growth=30 * MIB / H, active_share=0.6))):
        rows += [f"{name},{int(t)},{int(w)},{int(r)},{int(k)},{int(s)}" for t, w, r, k, s in
                 zip(c.t, *(c.components[x] for x in ("working_set", "rss", "cache", "swap")))]
    path = tmp_path / "fleet.csv"
    path.write_text("\n".join(rows) + "\n")
    out = []
    for workers in ("1", "2"):
        done = subprocess.run([sys.executable, "-m", "detector", "scan", str(path), "-f", "json",
                               "--workers", workers], capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 1, done.stderr
        out.append({r["series"]: r for r in json.loads(done.stdout)})
    assert out[0] == out[1]
    assert out[0]["leak"]["pattern"] == "linear_growth"
    assert out[0]["cache"]["pattern"] == "cache_growth" and not out[0]["cache"]["leak"]


# ---- the window helpers against references ---------------------------------------------------

@pytest.mark.parametrize("seed", range(8))
def test_window_stats_equals_pandas_groupby(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 3000))
    t = np.sort(rng.uniform(0, 1e5, n))
    v = rng.normal(0, 1, n)
    v[rng.random(n) < 0.05] = np.nan
    start, end = float(rng.uniform(-100, 3e4)), float(rng.uniform(5e4, 1.2e5))
    w = window_stats(t, v, start, end, max_windows=int(rng.integers(1, 300)))
    inside = (t >= start) & (t <= end) & np.isfinite(v)
    frame = pd.DataFrame({"b": np.floor((t[inside] - start) / w.width).astype(int),
                          "v": v[inside]})
    g = frame.groupby("b")["v"].agg(["min", "mean", "max"])
    np.testing.assert_allclose(w.low, g["min"], rtol=1e-12)
    np.testing.assert_allclose(w.mean, g["mean"], rtol=1e-9)
    np.testing.assert_allclose(w.high, g["max"], rtol=1e-12)
    np.testing.assert_allclose(w.t, start + (g.index.to_numpy() + 0.5) * w.width)


@pytest.mark.parametrize("seed", range(8))
def test_robust_slope_is_scipys_theil_sen_widened_for_autocorrelation(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 200))
    x = np.sort(rng.uniform(0, 1e4, n))
    x[rng.random(n) < 0.1] = x[0]  # ties in x
    y = 0.3 * x + np.cumsum(rng.normal(0, 50, n)) * rng.integers(0, 2)  # sometimes correlated
    y = np.round(y, int(rng.integers(-2, 3)))  # ties in y
    if np.unique(x).size < 2:
        return
    slope, lo, hi = robust_slope(x, y)
    ref = stats.theilslopes(y, x, alpha=0.95)
    assert slope == pytest.approx(ref.slope, rel=1e-12, abs=1e-12)
    resid = y - (ref.intercept + ref.slope * x)
    r = 0.0
    if n >= 4 and np.std(resid) > 0:
        d = resid - resid.mean()
        r = float(np.sum(d[:-1] * d[1:]) / np.sum(d * d))
    f = math.sqrt((1 + min(max(r, 0), 0.9)) / (1 - min(max(r, 0), 0.9)))
    assert lo == pytest.approx(ref.slope - f * (ref.slope - ref.low_slope), rel=1e-9, abs=1e-9)
    assert hi == pytest.approx(ref.slope + f * (ref.high_slope - ref.slope), rel=1e-9, abs=1e-9)
    assert all(math.isnan(v) for v in robust_slope(x[:2], y[:2]))  # too few points


@pytest.mark.parametrize("n", [1, 2, 5, 6, 7, 10, 31, 100, 1001])
def test_median_interval_is_the_order_statistics_interval(n):
    rng = np.random.default_rng(n)
    y = rng.normal(0, 1, n)
    med, lo, hi = median_interval(np.concatenate([y, [np.nan]]))
    assert med == np.median(y)
    # naive: the widest symmetric pair of order statistics covering at least 95 %
    s = np.sort(y)
    best = (s[0], s[-1])
    for k in range(1, n // 2 + 1):
        cover = 1 - 2 * stats.binom.cdf(k - 1, n, 0.5)
        if cover >= 0.95:
            best = (s[k - 1], s[n - k])
    assert (lo, hi) == best
    assert all(math.isnan(x) for x in median_interval([]))
