"""Events: files, label matchers, events from kube-state-metrics points, pairing with onsets."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from detector.diagnosis.events import Event, events_for, read_events
from detector.diagnosis.kube import events_from_points, queries
from detector.diagnosis.pairing import pair_events, slack_for
from detector.errors import InputError
from detector.labels import match_labels, parse_matchers

T0 = 1_717_200_000.0


def test_matchers_parse_and_match_as_promql():
    m = parse_matchers('{namespace="shop", pod=~"check.*", container!="", app!~"x|y"}')
    assert m == (("namespace", "=", "shop"), ("pod", "=~", "check.*"), ("container", "!=", ""),
                 ("app", "!~", "x|y"))
    assert match_labels(m, {"namespace": "shop", "pod": "checkout-0", "container": "c"})
    assert not match_labels(m, {"namespace": "shop", "pod": "xcheckout", "container": "c"})
    assert not match_labels(m, {"namespace": "shop", "pod": "checkout-0"})  # container ""
    assert not match_labels(m, {"namespace": "shop", "pod": "checkout", "container": "c",
                                "app": "y"})
    assert parse_matchers('a="q\\"uote\\\\"') == (("a", "=", 'q"uote\\'),)
    assert parse_matchers("") == ()
    for bad in ('namespace=shop', 'a="x" b="y"', 'a=~"("', 'a="x",,'):
        with pytest.raises(ValueError):
            parse_matchers(bad)


def test_event_concerns_series_by_id_name_matchers_or_shared_labels():
    labels = {"namespace": "shop", "pod": "checkout-0", "container": "checkout"}
    sid = 'checkout-0{namespace="shop"}'
    assert Event(0, "log", "x").concerns(sid, labels)  # nothing said: every series
    assert Event(0, "log", "x", series="checkout-0").concerns(sid, labels)
    assert Event(0, "log", "x", series=sid).concerns(sid, labels)
    assert not Event(0, "log", "x", series="checkout-1").concerns(sid, labels)
    assert Event(0, "log", "x", matchers=parse_matchers('pod=~"checkout-.*"')).concerns(
        sid, labels)
    # kube events compare the labels both sides have: a workload-level series has no pod
    ev = Event(0, "restart", "x", labels={"namespace": "shop", "pod": "checkout-0"})
    assert ev.concerns("{}", {"namespace": "shop", "container": "checkout"})
    assert not ev.concerns("{}", {"namespace": "shop", "pod": "checkout-1"})


def test_read_csv_and_json_lines(tmp_path):
    csv = tmp_path / "events.csv"
    csv.write_text('Time,Kind,Text,Series,Match\n'
                   '2024-06-01T06:00:00Z,deploy,deploy shop/checkout:1.4.2,,'
                   '"container=""checkout"""\n'
                   '\n'
                   f'{int(T0 + 60)},,cache flushed,checkout-0,\n'
                   f'{int(T0 * 1000)},log,"GC overhead, 40 %",,\n')
    events = read_events(csv)
    assert [(e.time, e.kind, e.text) for e in events] == [
        (T0, "log", "GC overhead, 40 %"), (T0 + 60, "event", "cache flushed"),
        (T0 + 6 * 3600, "deploy", "deploy shop/checkout:1.4.2")]
    assert events[2].matchers == (("container", "=", "checkout"),)
    assert events[1].series == "checkout-0" and events[1].origin == "events.csv, line 4"
    jl = tmp_path / "events.jsonl.gz"
    jl.write_bytes(gzip.compress(b'{"time": 1717200000, "text": "a"}\n\n'
                                 b'{"timestamp": "2024-06-01T00:01:00+02:00", "message": "b",'
                                 b' "labels": "pod=\\"p\\""}\n'))
    a, b = read_events(jl)
    assert {e.text: e.time for e in (a, b)} == {"a": T0, "b": T0 + 60 - 7200}
    assert [e.matchers for e in (a, b) if e.text == "b"] == [(("pod", "=", "p"),)]


@pytest.mark.parametrize("name, content, line, message", [
    ("e.csv", "time,text\n1717200000,ok\nyesterday,bad\n", 3,
     "field 'time': 'yesterday' is neither unix seconds nor an ISO-8601 date-time"),
    ("e.csv", "time,text,severity\n1,x,high\n", 1, "unknown field 'severity'"),
    ("e.csv", "time,text\n1717200000\n", 2, "expected 2 fields (time, text), got 1"),
    ("e.csv", "time,text\n1717200000,\n", 2, "field 'text': missing"),
    ("e.csv", "time,text,match\n1717200000,x,pod=p\n", 2,
     "field 'match': 'pod=p' is not a label matcher"),
    ("e.csv", "time,text,kind\n1717200000,x,two words\n", 2, "field 'kind': 'two words' is "
                                                             "not a word"),
    ("e.jsonl", '{"time": 1, "text": "a"}\n{"time": 2, "text": \n', 2, "not a JSON object"),
    ("e.jsonl", '{"time": 1, "text": "a"}\n[1, 2]\n', 2, "expected a JSON object, got list"),
    ("e.jsonl", '{"time": true, "text": "a"}\n', 1, "field 'time': True is neither"),
    ("e.jsonl", '{"text": "a"}\n', 1, "field 'time': missing"),
])
def test_bad_events_name_file_line_and_field(tmp_path, name, content, line, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError) as err:
        read_events(path)
    assert str(err.value).startswith(f"{path}, line {line}: {message}")


def test_events_file_errors_without_a_line(tmp_path):
    for path, message in ((tmp_path / "none.csv", "no such file"),
                          (tmp_path / "e.yaml", "unknown events file type")):
        if path.suffix == ".yaml":
            path.write_text("x")
        with pytest.raises(InputError, match=re.escape(f"{path}: {message}")):
            read_events(path)
    empty = tmp_path / "empty.csv"
    empty.write_text("\n")
    with pytest.raises(InputError, match="the events file is empty"):
        read_events(empty)


def test_cli_bad_events_file_is_a_one_line_error_exit_2(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("time,text\n1717200000,deploy\nsoon,deploy\n")
    done = subprocess.run([sys.executable, "-m", "detector", "scan", "--demo", "--events",
                           str(path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr == (f"detector: error: {path}, line 3: field 'time': 'soon' is neither "
                           "unix seconds nor an ISO-8601 date-time\n")


def naive_pair(when, events, tolerance, slack):
    best = None
    for e in events:
        lag = when - e.time
        if -slack <= lag <= tolerance:
            if best is None or abs(lag) < abs(when - best.time) or (
                    abs(lag) == abs(when - best.time) and e.time > best.time):
                best = e
    return best


@pytest.mark.parametrize("seed", range(20))
def test_pairing_takes_the_nearest_event_in_the_window(seed):
    rng = np.random.default_rng(seed)
    events = [Event(float(t), str(rng.choice(["deploy", "log", "restart", "oom_kill"])),
                    f"e{i}") for i, t in enumerate(np.round(rng.uniform(T0, T0 + 86400, 30)))]
    onset = float(np.round(rng.uniform(T0, T0 + 86400)))
    cps = [float(x) for x in np.round(rng.uniform(T0, T0 + 86400, 5))]
    tol, slack = float(rng.uniform(60, 7200)), float(rng.uniform(0, 600))
    fields = {"onset": onset, "changepoints": cps, "pattern": "linear_growth", "leak": True}
    got = pair_events(fields, events, start=T0, end=T0 + 86400, slack=slack, tolerance=tol)
    for p, when in zip([got["onset"], *got["changepoints"]], [onset, *cps]):
        best = naive_pair(when, events, tol, slack)
        assert (p["event"] or {}).get("text") == (best.text if best else None)
        if best is not None:
            assert p["lag"] == when - best.time
    kinds = [e.kind for e in events]
    assert got["oom_kills"] == kinds.count("oom_kill")
    assert got["restarts"] == kinds.count("restart")
    assert got["deploys"] == kinds.count("deploy")


def test_pairing_says_it_in_words_and_confirms_a_restart_loop():
    deploy = Event(T0 + 3600, "deploy", "deploy shop/checkout:1.4.2")
    kills = [Event(T0 + 7200 * k, "oom_kill", "OOM kill of shop/x/x") for k in (2, 3, 4)]
    fields = {"onset": T0 + 3600 + 180, "changepoints": [T0 + 14400.0, T0 + 21600.0],
              "pattern": "restart_loop", "leak": True}
    got = pair_events(fields, [deploy, *kills], start=T0, end=T0 + 86400, slack=240)
    assert got["onset"]["text"] == "onset 3 min after deploy shop/checkout:1.4.2"
    assert got["confirms"] == "restart_loop"
    assert got["summary"] == ["onset 3 min after deploy shop/checkout:1.4.2",
                              "2 of 2 change points near an event: 2 OOM kills",
                              "restart loop confirmed by 3 OOM kills"]
    # an event a little after the onset (inside one bin) is paired too, and said so
    early = pair_events({**fields, "onset": T0 + 3600 - 120}, [deploy], start=T0,
                        end=T0 + 86400, slack=240)
    assert early["onset"]["text"] == "onset 2 min before deploy shop/checkout:1.4.2"
    # outside the tolerance: nothing
    far = pair_events({**fields, "onset": T0 + 3 * 3600}, [deploy], start=T0,
                      end=T0 + 86400, slack=240)
    assert far["onset"]["event"] is None and far["confirms"] is None
    assert slack_for(T0, T0 + 72 * 3600, 60.0, 720) == 360.0
    assert slack_for(T0, T0 + 3600, 60.0, 720) == 120.0


def test_kube_points_become_events():
    pod = {"namespace": "shop", "pod": "checkout-0", "container": "checkout"}
    other = {"namespace": "shop", "pod": "cart-0", "container": "cart"}
    got = {
        "restarts": [(pod, np.array([T0 + 60, T0 + 600]), np.array([1.0, 2.0])),
                     (other, np.array([T0 + 120]), np.array([1.0]))],
        "oom_restarts": [(pod, np.array([T0 + 600]), np.array([2.0])),
                         (other, np.array([T0 + 120]), np.array([1.0]))],
        "oom_events": [(other, np.array([T0 + 120]), np.array([1.0]))],
        "deploys": [({"namespace": "shop", "container": "checkout",
                      "image": "reg.example:5000/shop/checkout:1.4.2"},
                     np.array([T0, T0 + 3600]), np.array([1.0, 1.0])),
                    ({"namespace": "shop", "container": "cart",
                      "image": "cart@sha256:0123456789abcdef0123"},
                     np.array([T0 + 7200]), np.array([1.0]))],
    }
    events = events_from_points(got, start=T0, step=60.0)
    said = [(e.time - T0, e.kind, e.text) for e in events]
    assert said == [
        (60, "restart", "restart of shop/checkout-0/checkout"),
        (120, "oom_kill", "OOM kill of shop/cart-0/cart"),  # cAdvisor's counter, once
        (120, "restart", "restart of shop/cart-0/cart (OOMKilled)"),
        (600, "oom_kill", "OOM kill of shop/checkout-0/checkout"),  # from the reason
        (600, "oom_kill", "OOM kill of shop/checkout-0/checkout"),
        (600, "restart", "restart of shop/checkout-0/checkout (OOMKilled)"),
        (600, "restart", "restart of shop/checkout-0/checkout (OOMKilled)"),
        (3600, "deploy", "deploy shop/checkout:1.4.2"),  # the one at the start is not
        (7200, "deploy", "deploy shop/cart:sha256:0123456789ab"),
    ]
    assert events_for(events, "{}", {"namespace": "shop", "container": "cart"})[-1].text == \
        "deploy shop/cart:sha256:0123456789ab"
    q = queries(15.0, 'namespace="shop"')
    assert "offset 15s" in q["restarts"] and 'namespace="shop"' in q["deploys"]
    assert set(q) == {"restarts", "oom_restarts", "oom_events", "deploys"}


def test_events_beside_a_file_scan(tmp_path):
    from detector.diagnosis.simulate import MIB, container

    c = container({"namespace": "shop", "pod": "p", "container": "checkout"}, seed=3,
                  start=T0, duration=24 * 3600, rss_growth=30 * MIB / 3600,
                  onset=T0 + 8 * 3600 + 120)
    data = tmp_path / "checkout.csv"
    data.write_text("timestamp,value\n" + "".join(
        f"{int(t)},{int(v)}\n" for t, v in zip(c.t, c.components["working_set"])))
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"time": T0 + 8 * 3600, "kind": "deploy",
                                  "text": "deploy shop/checkout:1.4.2",
                                  "series": "checkout"}) + "\n"
                      + json.dumps({"time": T0 + 8 * 3600, "text": "elsewhere",
                                    "series": "cart"}) + "\n")
    done = subprocess.run([sys.executable, "-m", "detector", "scan", str(data), "--events",
                           str(events), "-f", "json"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1, done.stderr
    (row,) = json.loads(done.stdout)
    onset = row["evidence"]["events"]["onset"]
    assert onset["event"]["text"] == "deploy shop/checkout:1.4.2"
    # the onset comes from 2-minute bins: within a bin of the true one, 2 min after the deploy
    assert re.fullmatch(r"onset \d+ min (after|before) deploy shop/checkout:1\.4\.2",
                        onset["text"])
    assert -240 <= onset["lag"] <= 360
    assert row["evidence"]["events"]["counts"] == {"deploy": 1}
