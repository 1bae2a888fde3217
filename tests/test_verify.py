"""Fix verification: fixed, not_fixed, too_early (and no_leak_before), library and CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from detector.diagnosis.simulate import MIB, container
from detector.diagnosis.verify import verify
from detector.series import Series

T0 = 1_717_200_000.0
H = 3600.0
FIX = T0 + 12 * H
LAB = {"namespace": "shop", "pod": "checkout-0", "container": "checkout"}
#: the issue's heap: 500 MB to 3.8 GB in 12 h, then held (here at about 665 MiB)
RATE = 3300 * MIB / (12 * H)


def series(c, until=None, name="checkout-0"):
    keep = c.t <= (until if until is not None else np.inf)
    return Series.from_arrays(c.components["working_set"][keep], c.t[keep], id=name)


@pytest.fixture(scope="module")
def fixed():
    return container(LAB, seed=1, start=T0, duration=36 * H, base=500 * MIB,
                     rss_growth=RATE, limit=16 * 1024 * MIB, fixed_at=FIX, warmup=120 * MIB)


@pytest.fixture(scope="module")
def continues():
    return container(LAB, seed=2, start=T0, duration=36 * H, base=500 * MIB,
                     rss_growth=RATE, limit=16 * 1024 * MIB)


def test_a_leak_that_stops_is_fixed(fixed):
    v = verify(series(fixed), FIX)
    assert v.status == "fixed" and not v.leak
    b, a = v.before, v.after
    assert b.slope == pytest.approx(RATE, rel=0.02)
    assert b.slope_interval[0] <= RATE <= b.slope_interval[1] * 1.01
    assert a.slope_interval[1] < b.slope_interval[0] and abs(a.slope) < 0.01 * RATE
    # where it stood before the fix and where it holds now
    assert b.peak == pytest.approx(3800 * MIB, rel=0.06) and b.peak_interval[0] <= b.peak
    held = (500 + 120 + 0.3 * 150) * MIB  # base, warm-up and the active page cache
    assert a.floor == pytest.approx(held, rel=0.01)
    assert a.floor_interval[0] <= a.floor <= a.floor_interval[1]
    assert b.verdict == "leak" and a.verdict == "no_leak"
    assert v.ready_at is not None and FIX < v.ready_at < FIX + 2 * H
    assert v.to_dict()["after"]["floor_interval"] == list(a.floor_interval)


def test_a_slope_that_continues_is_not_fixed(continues):
    v = verify(series(continues), FIX)
    assert v.status == "not_fixed" and v.leak
    assert v.after.slope == pytest.approx(RATE, rel=0.02)
    assert v.after.slope_interval[0] > 0
    assert "still leaking after the fix" in v.reason


@pytest.mark.parametrize("minutes", [1, 10, 30])
def test_right_after_the_fix_it_is_too_early(fixed, continues, minutes):
    for c in (fixed, continues):
        v = verify(series(c), FIX, until=FIX + minutes * 60)
        assert v.status == "too_early", (minutes, v.reason)
        assert v.ready_at > FIX + minutes * 60
    v = verify(series(fixed, until=FIX - 60), FIX)
    assert v.status == "too_early" and v.reason == "no sample after the fix yet"


def test_too_early_turns_into_fixed_once_the_old_slope_would_have_shown(fixed):
    v = verify(series(fixed), FIX, until=FIX + 1800)
    assert v.status == "too_early"
    later = verify(series(fixed), FIX, until=v.ready_at + 600)
    assert later.status == "fixed"


def test_a_slower_leak_is_not_fixed():
    c = container(LAB, seed=3, start=T0, duration=36 * H, base=500 * MIB, rss_growth=RATE,
                  limit=16 * 1024 * MIB)
    # after the "fix" the leak goes on at a third of the rate (a partial fix)
    v = c.components["working_set"].copy()
    after = c.t >= FIX
    v[after] = v[after][0] + (v[after] - v[after][0]) / 3
    got = verify(Series.from_arrays(v, c.t, id="x"), FIX)
    assert got.status == "not_fixed"
    assert got.after.slope == pytest.approx(RATE / 3, rel=0.05)


def test_nothing_to_verify_without_a_leak_before():
    c = container(LAB, seed=4, start=T0, duration=36 * H)
    v = verify(series(c), FIX)
    assert v.status == "no_leak_before" and not v.leak
    assert "does not grow before the fix" in v.reason


def _csv(c, path):
    path.write_text("series,timestamp,value,namespace\n" + "".join(
        f"checkout-0,{int(t)},{int(x)},shop\n" for t, x in zip(c.t, c.components["working_set"])))
    return path


def _verify(*args):
    return subprocess.run([sys.executable, "-m", "detector", "verify", *args],
                          capture_output=True, text=True, timeout=300)


def test_cli_exit_codes_and_outputs(fixed, continues, tmp_path):
    good, bad = _csv(fixed, tmp_path / "fixed.csv"), _csv(continues, tmp_path / "cont.csv")
    done = _verify(str(good), "--fixed-at", "2024-06-01T12:00:00Z")
    assert done.returncode == 0, done.stderr
    head, row = done.stdout.splitlines()[:2]
    assert head.split() == ["series", "status", "fixed", "at", "slope", "before", "slope",
                            "after", "floor", "before", "floor", "after", "peak", "before",
                            "peak", "after"]
    assert row.startswith('checkout-0{namespace="shop"}  fixed   2024-06-01T12:00Z  +275 MiB/h')
    assert 'checkout-0{namespace="shop"}: fixed: the floor slope fell from +275 MiB/h' \
        in done.stdout
    done = _verify(str(bad), "--fixed-at", str(int(FIX)), "-f", "json")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)[0]["status"] == "not_fixed"
    done = _verify(str(good), "--fixed-at", str(int(FIX)), "--end", str(int(FIX + 600)),
                   "-f", "json", "-o", str(tmp_path / "v.json"))
    assert done.returncode == 0 and done.stdout == ""
    assert json.loads((tmp_path / "v.json").read_text())[0]["status"] == "too_early"


def test_cli_fix_time_from_an_events_file(fixed, tmp_path):
    good = _csv(fixed, tmp_path / "fixed.csv")
    events = tmp_path / "deploys.csv"
    events.write_text("time,kind,text,match\n"
                      "2024-06-01T06:00:00Z,deploy,deploy shop/checkout:1.4.2,\n"
                      '2024-06-01T12:00:00Z,deploy,deploy shop/checkout:1.4.3,namespace="shop"\n'
                      '2024-06-01T13:00:00Z,deploy,deploy shop/cart:1.4.3,namespace="cart"\n')
    done = _verify(str(good), "--fixed-by", "checkout:1.4.3", "--events", str(events), "-f",
                   "json")
    assert done.returncode == 0, done.stderr
    (v,) = json.loads(done.stdout)
    assert v["fixed_at"] == FIX and v["fix_event"]["text"] == "deploy shop/checkout:1.4.3"
    assert v["status"] == "fixed"


@pytest.mark.parametrize("args, message", [
    (["--fixed-at", "1"], "give files to verify or --prometheus URL"),
    (["X.csv"], "give --fixed-at T or --fixed-by TEXT"),
    (["X.csv", "--fixed-at", "1", "--fixed-by", "a"], "give --fixed-at T or --fixed-by TEXT"),
    (["X.csv", "--fixed-at", "soon"], "'soon' is not a time"),
    (["X.csv", "--fixed-by", "nothing", "--events", "E.csv"],
     "no event concerning this series holds 'nothing'"),
    (["X.csv", "--fixed-at", "1", "--query", "up"], "need --prometheus URL"),
])
def test_cli_usage_errors_exit_2(fixed, tmp_path, args, message):
    _csv(fixed, tmp_path / "X.csv")
    (tmp_path / "E.csv").write_text("time,text\n1717200000,deploy\n")
    args = [str(tmp_path / a) if a in ("X.csv", "E.csv") else a for a in args]
    done = _verify(*args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_the_restarts_a_series_knows_are_used_on_both_sides():
    """An OOM-kill loop on a moving background before a fix, with its kill times known
    (tests/test_given_restarts.py): judged with them, the side before the fix is a
    restart loop; from its drops alone it is not."""
    from test_given_restarts import loop_on_a_moving_background

    t, v, kills = loop_on_a_moving_background(1)
    fix = float(t[-1]) + 3600.0  # a fix after the window: the before side is all of it
    known = Series.from_arrays(v, t, id="loop", restarts=kills)
    blind = Series.from_arrays(v, t, id="loop")
    assert verify(known, fix).before.pattern == "restart_loop"
    assert verify(blind, fix).before.pattern != "restart_loop"
