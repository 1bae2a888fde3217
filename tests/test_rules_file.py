"""The rules file (TOML) and the rules applied to series and fleets."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import numpy as np
import pytest

from detector.errors import InputError
from detector.rules_apply import fleet_alerts, series_alerts, with_fleet_alerts
from detector.rules_file import DEFAULT_STATIC, Maintenance, Rules, load_rules
from detector.results import ScanResult
from detector.series import Series

T0 = 1_717_200_000.0  # 2024-06-01T00:00:00Z, a Saturday
STEP = 60.0


def write(tmp_path, text, name="rules.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_are_the_practice(tmp_path):
    assert load_rules("default") == Rules()
    r = load_rules(write(tmp_path, "# nothing set\n"))
    assert dict(r.static) == {"memory": 0.8, "rss": 0.7, "swap": 0.3} == dict(DEFAULT_STATIC)
    assert (r.band, r.band_window, r.band_k, r.for_seconds) == (True, 3600.0, 2.0, 300.0)
    assert (r.breadth_min, r.breadth_by) == (3, ("namespace", "container"))


def test_a_full_file(tmp_path):
    r = load_rules(write(tmp_path, """
[static]
memory = 0.9
swap = false
cache = 0.5

[band]
window = "30m"
k = 3
enabled = true

[persistence]
for = "10m"

[breadth]
min_instances = 4
by = "app"

[[maintenance]]
start = "2024-06-02T01:00:00Z"
end = 2024-06-02T03:00:00Z
match = 'namespace="shop"'

[[maintenance]]
weekly = "Sat,Sun 23:00-01:00"
"""))
    assert dict(r.static) == {"memory": 0.9, "rss": 0.7, "cache": 0.5}
    assert (r.band_window, r.band_k, r.for_seconds, r.breadth_min, r.breadth_by) == (
        1800.0, 3, 600.0, 4, ("app",))
    explicit, weekly = r.maintenance
    assert (explicit.start, explicit.end) == (T0 + 86400 + 3600, T0 + 86400 + 3 * 3600)
    assert explicit.applies_to("x", {"namespace": "shop"})
    assert not explicit.applies_to("x", {"namespace": "edge"})
    # Saturday and Sunday 23:00 to 01:00 the next day, in UTC
    occ = weekly.intervals(T0, T0 + 8 * 86400)
    assert occ == [(T0 + 23 * 3600, T0 + 25 * 3600), (T0 + 47 * 3600, T0 + 49 * 3600),
                   (T0 + 7 * 86400 + 23 * 3600, T0 + 7 * 86400 + 25 * 3600)]


def test_weekly_windows_follow_the_local_clock_across_dst():
    # Europe/Berlin leaves summer time on 2024-10-27 (a Sunday): 04:00 local is 02:00 UTC
    # the Sunday before and 03:00 UTC that Sunday
    m = Maintenance(days=(6,), from_seconds=4 * 3600.0, to_seconds=5 * 3600.0,
                    tz="Europe/Berlin")
    start = dt.datetime(2024, 10, 19, tzinfo=dt.timezone.utc).timestamp()
    (a1, b1), (a2, b2) = m.intervals(start, start + 14 * 86400)
    utc = [dt.datetime.fromtimestamp(x, dt.timezone.utc).strftime("%m-%d %H:%M")
           for x in (a1, b1, a2, b2)]
    assert utc == ["10-20 02:00", "10-20 03:00", "10-27 03:00", "10-27 04:00"]


@pytest.mark.parametrize("text, line, message", [
    ("[band]\nk = \"two\"\n", 2, "field 'band.k': must be a number >= 0, got 'two'"),
    ("[static]\nmemory = 1.5\n", 2, "field 'static.memory': must be a number in [1e-09, 1]"),
    ("[static]\nheap = 0.5\n", 2, "field 'static.heap': unknown key"),
    ("\n[alerts]\nx = 1\n", 2, "field 'alerts': unknown table"),
    ("[persistence]\nfor = \"5 minutes\"\n", 2, "field 'persistence.for': '5 minutes' is not "
                                               "a duration"),
    ("[breadth]\nmin_instances = 2.5\n", 2, "field 'breadth.min_instances': must be an integer"),
    ("[breadth]\nby = [\"app\", \"no such\"]\n", 2, "field 'breadth.by': must be a label name"),
    ("[[maintenance]]\nstart = 10\nend = 20\n[[maintenance]]\nweekly = \"Funday 01:00-02:00\"\n",
     5, "field 'maintenance[2].weekly': 'funday' is not a day"),
    ("[[maintenance]]\nstart = \"tomorrow\"\nend = 20\n", 2,
     "field 'maintenance[1].start': 'tomorrow' is not a time"),
    ("[[maintenance]]\nstart = 30\nend = 20\n", 3, "field 'maintenance[1].end': ends before it "
                                                  "starts"),
    ("[[maintenance]]\nend = 20\n", 1, "field 'maintenance[1].start': missing"),
    ("[[maintenance]]\nweekly = \"Sun 01:00-02:00\"\ntz = \"Mars/Olympus\"\n", 3,
     "field 'maintenance[1].tz': unknown time zone 'Mars/Olympus'"),
    ("[[maintenance]]\nweekly = \"Sun 01:00-02:00\"\nmatch = 'namespace=shop'\n", 3,
     "field 'maintenance[1].match': 'namespace=shop' is not a label matcher"),
    ("[band]\nk = = 2\n", 2, "not valid TOML: Invalid value"),
])
def test_bad_rules_name_file_line_and_field(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_rules(path)
    assert str(err.value).startswith(f"{path}, line {line}: {message}")


def test_cli_bad_rules_file_is_a_one_line_error_exit_2(tmp_path):
    path = write(tmp_path, "[static]\nmemory = \"high\"\n")
    done = subprocess.run([sys.executable, "-m", "detector", "scan", "--demo", "--rules",
                           str(path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr == (f"detector: error: {path}, line 2: field 'static.memory': must be "
                           "a number in [1e-09, 1], got 'high'\n")
    done = subprocess.run([sys.executable, "-m", "detector", "scan", "--demo", "--rules",
                           str(tmp_path / "missing.toml")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2 and done.stderr.endswith("missing.toml: no such file\n")


def flat(n=600, level=1e9, seed=0):
    rng = np.random.default_rng(seed)
    t = T0 + STEP * np.arange(n)
    return t, level + rng.normal(0, 1e6, n)


def series(name, t, v, **labels):
    return Series.from_arrays(v, t, id=name, labels=labels)


def test_static_rule_needs_persistence_and_a_limit():
    t, v = flat()
    v[300:304] = 1.9e9  # 4 minutes above 80 % of 2e9: under the 5 minutes of persistence
    v[400:420] = 1.9e9  # 20 minutes: fires from the sixth minute on
    s = series("a", t, v)
    alerts = [a for a in series_alerts(s, Rules(band=False), limit=2e9)]
    assert alerts == [{"rule": "static", "component": "memory", "share": 0.8,
                       "start": t[405], "end": t[419], "firing": False}]
    assert series_alerts(s, Rules(band=False)) == []  # no limit, no static rule
    v[-10:] = 1.9e9
    firing = series_alerts(series("a", t, v), Rules(band=False), limit=2e9)[-1]
    assert firing["end"] == t[-1] and firing["firing"] is True


def band_step(at, seed):
    t, v = flat(seed=seed)
    v[at:at + 30] += 5e7  # far outside 2 sigma of the preceding hour, for 30 minutes
    return t, v


def fleet_of(n, at=(300,), ns="shop", name="api"):
    out = []
    rules = Rules(static=())
    for i in range(n):
        t, v = band_step(at[i % len(at)], seed=i)
        s = series(f"{name}-{i}", t, v, namespace=ns, container=name, pod=f"{name}-{i}")
        out.append((s.id, dict(s.labels), series_alerts(s, rules)))
    return out


def test_three_instances_over_the_band_at_once_give_one_fleet_alert():
    members = fleet_of(3)
    assert all(len(a) >= 1 and a[0]["rule"] == "band" for _, _, a in members)
    (alert,) = fleet_alerts(members, Rules())
    assert alert["rule"] == "breadth" and alert["of"] == "band"
    assert alert["workload"] == {"namespace": "shop", "container": "api"}
    assert alert["instances"] == ["api-0", "api-1", "api-2"]
    assert alert["start"] == max(a[0]["start"] for _, _, a in members)
    assert alert["end"] == min(a[0]["end"] for _, _, a in members)


def test_two_instances_do_not_and_neither_do_three_at_different_times():
    assert fleet_alerts(fleet_of(2), Rules()) == []
    assert fleet_alerts(fleet_of(3, at=(100, 250, 400)), Rules()) == []
    # two workloads of two instances each are not one of four
    assert fleet_alerts(fleet_of(2, name="api") + fleet_of(2, name="web"), Rules()) == []


def test_nothing_fires_inside_a_maintenance_window():
    t, v = band_step(300, seed=0)
    window = Maintenance(start=t[290], end=t[360], matchers=(("namespace", "=", "shop"),))
    rules = Rules(maintenance=(window,))
    inside = series("a", t, v, namespace="shop")
    assert [a["rule"] for a in series_alerts(inside, Rules(), limit=1.3e9)] == ["static", "band"]
    assert series_alerts(inside, rules, limit=1.3e9) == []
    # the window concerns one namespace only
    other = series("b", t, v, namespace="edge")
    assert [a["rule"] for a in series_alerts(other, rules)] == ["band"]
    # a weekly window covering the step (Saturday 04:00-07:00 UTC; the step is at 05:00)
    weekly = Maintenance(days=(5,), from_seconds=4 * 3600.0, to_seconds=7 * 3600.0)
    assert series_alerts(other, Rules(maintenance=(weekly,))) == []


def test_fleet_alerts_join_the_results_and_the_outputs():
    members = fleet_of(3) + fleet_of(1, name="cart")
    results = [ScanResult(sid, fields={"leak": False, "verdict": "no_leak", "pattern": "stable",
                                       "score": 0.0, "slope": 0.0, "onset": None,
                                       "changepoints": [], "period": None,
                                       "time_to_limit": None, "evidence": {},
                                       "alerts": alerts}, labels=labels)
               for sid, labels, alerts in members]
    joined, fleet = with_fleet_alerts(results, Rules())
    assert len(fleet) == 1
    assert [sum(a["rule"] == "breadth" for a in r.get("alerts")) for r in joined] == [1, 1, 1, 0]
    # results read back from a finished scan (--resume) get them once, not twice
    again, _ = with_fleet_alerts(joined, Rules())
    assert [r.get("alerts") for r in again] == [r.get("alerts") for r in joined]
    from detector.outputs import render
    from detector.outputs.openmetrics import render_openmetrics

    table = render(joined, "table").decode()
    assert "alerts" in table.splitlines()[0]
    assert "fleet alert band on namespace=shop,container=api: 3 instances at once" in table
    rows = json.loads(render(joined, "json"))
    assert [len(r["alerts"]) for r in rows] == [2, 2, 2, 1]
    csv = render(joined, "csv").decode()
    assert csv.splitlines()[0].endswith(",alerts,error")
    # nothing fires at the last sample: no gauge sample, only the families
    text = render_openmetrics(joined, now=0).decode()
    assert "# TYPE detector_rule_alert gauge" in text and "detector_rule_alert{" not in text
