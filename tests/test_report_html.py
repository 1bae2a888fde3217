"""The report page, the drawing and the words, without a browser (see test_report_browser.py)."""

import re
from collections import Counter
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import detector
from detector.analysis.trace import trace
from detector.evaluate.synthetic import generate
from detector.labels import escape_label_value, labels_of_id
from detector.outputs import plot
from detector.outputs.explain import CRITERIA, LOOKALIKES, checks, explain
from detector.outputs.html import BATCH, render_drawings, render_report
from detector.results import ScanResult
from detector.series import Series


class Page(HTMLParser):
    """Every start tag with its attributes, and the text (a test-side reader of the page)."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.text = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag, **attrs):
        return [a for t, a in self.tags if t == tag
                and all(a.get(k) == v for k, v in attrs.items())]


def result(pattern, seed=1, *, sid=None, limit=True, labels=None):
    """A series and its result; ``limit``: the generator's (True), none (False) or a number."""
    g = generate(pattern, seed=seed, interval=60.0, duration=3 * 86400.0)
    s = Series.from_arrays(g.values, g.timestamps, id=sid or pattern)
    rep = detector.analyze(s, limit=g.limit if limit is True else (limit or None))
    return s, ScanResult(s.id, fields=rep.to_dict(), labels=labels or {})


@pytest.fixture(scope="module")
def fleet():
    items = [result("linear_growth", 1, sid='api{namespace="shop"}'),
             result("restart_loop", 2, sid='img{namespace="media",pod="a\\"b"}'),
             result("gc_floor_growth", 3, sid="jvm", labels={"team": "pay"}),
             result("periodic", 4), result("warmup", 5), result("level_shift", 6)]
    series = [s for s, _ in items]
    results = [r for _, r in items] + [ScanResult("broken", error="bad input: line 3")]
    return series, results


def test_page_has_summary_table_and_a_plot_per_leak(fleet):
    series, results = fleet
    leaking = [r for r in results if r.leak]
    assert len(leaking) >= 2
    traces = {s.id: trace(s, r.fields) for s, r in zip(series, results) if r.leak}
    page_text = render_report(results, render_drawings(traces), source="test",
                              key=plot.key_svg(), generated=1.7e9)
    page = Page(page_text)
    arts = page.all("article")
    assert sorted(a["data-series"] for a in arts) == sorted(r.series for r in leaking)
    assert len(page.all("svg")) == len(leaking) + 1  # and the key
    rows = [a for t, a in page.tags if t == "tr" and "data-search" in a]
    assert len(rows) == len(leaking)
    # first in the table and on the page: the soonest at its limit
    ttl = {r.series: r.get("time_to_limit") for r in leaking}
    known = [a["data-series"] for a in arts if ttl[a["data-series"]] is not None]
    assert [ttl[k] for k in known] == sorted(ttl[k] for k in known)
    assert [a["data-series"] for a in arts][:len(known)] == known
    text = " ".join(page.text)
    # counts by verdict
    verdicts = Counter(r.get("verdict") if r.fields else "error" for r in results)
    for v, n in verdicts.items():
        assert re.search(rf"{n}\s*{v.replace('_', ' ')}", text), v
    # the failed series is listed with its error
    assert "bad input: line 3" in text
    # labels: from the id when the result has none, else its own
    assert 'namespace=media pod=a"b' in page_text.replace("&quot;", '"')
    assert "team=pay" in page_text


def test_page_makes_no_network_request_by_markup(fleet):
    """Nothing in the page points elsewhere: no src, no external href, no url(http...)."""
    series, results = fleet
    traces = {s.id: trace(s, r.fields) for s, r in zip(series, results)}
    text = render_report(results, render_drawings(traces), key=plot.key_svg())
    page = Page(text)
    for tag, attrs in page.tags:
        for name in ("src", "href", "xlink:href", "action", "data", "poster"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith("#") or value == "data:,", (tag, name, value)
    assert not re.search(r"url\(\s*['\"]?(?!#)", text)
    assert not re.search(r"@import|<link (?![^>]*data:,)", text)
    # only XML namespace declarations mention http at all
    mentions = re.findall(r"[a-z:]+=\"https?://[^\"]*\"", text)
    assert all(m.startswith("xmlns") for m in mentions), set(mentions)


def test_ids_are_unique_across_many_drawings(fleet):
    series, results = fleet
    traces = {s.id: trace(s, r.fields) for s, r in zip(series, results)}
    text = render_report(results, render_drawings(traces), key=plot.key_svg())
    ids = re.findall(r' id="([^"]+)"', text)
    dup = [i for i, n in Counter(ids).items() if n > 1]
    assert dup == []
    # every url(#...) reference points at an id of the page
    refs = set(re.findall(r"url\(#([^)]+)\)", text))
    assert refs and refs <= set(ids)


def test_drawing_in_worker_processes_gives_the_same_markup(fleet):
    series, results = fleet
    traces = {s.id: trace(s, r.fields) for s, r in zip(series, results)}
    traces = {f"{k}-{i}": v for i in range(3) for k, v in traces.items()}  # 2 batches or more
    assert len(traces) >= 2 * BATCH
    assert render_drawings(traces, workers=2) == render_drawings(traces)


def test_a_reused_figure_draws_what_a_new_one_draws(fleet):
    """The Sketcher clears what the previous drawing left: same markup as a fresh figure."""
    series, results = fleet
    traces = [trace(s, r.fields) for s, r in zip(series, results)]
    sketcher = plot.Sketcher()
    for order in (traces, traces[::-1]):
        for i, tr in enumerate(order):
            assert sketcher.svg(tr, salt=f"x{i}") == plot.to_svg(tr, salt=f"x{i}")


def test_zero_leaks_says_so(fleet):
    _, results = fleet
    calm = [r for r in results if not r.leak]
    text = render_report(calm, {})
    assert f"No leaking series: none of the {len(calm)} series scanned was judged a leak." in text
    assert "<article" not in text and 'id="flagged-table"' not in text
    assert "No leaking series" in render_report([], {})


def test_words_for_every_lookalike_pattern():
    for pattern in ("periodic", "warmup", "level_shift", "gc_sawtooth", "scheduled_restarts",
                    "batch_spikes", "resolved_leak"):
        _, r = result(pattern, 7)
        words = explain(r.fields)
        assert words[0].startswith(("Not a leak", "Leak")), words
        if not r.leak:
            expected = LOOKALIKES.get(r.get("pattern"))
            head = expected.split("{")[0].split(":")[0] if expected else ""
            assert any(w.startswith(head) for w in words[1:]), (pattern, words)
            ev = r.fields["evidence"]
            vetoed = any(c["holds"] for c in ev["lookalikes"] if c["role"] == "veto")
            failed = [] if vetoed else [c["name"] for c in ev["growth"] if not c["holds"]]
            for name in failed:
                assert any(CRITERIA[name].split(":")[0] in w for w in words), (name, words)
            for c in ev["lookalikes"]:  # every veto that matched is said, with its number
                if c["role"] == "veto" and c["holds"]:
                    assert any(c["reason"] in w for w in words), (c["name"], words)


def test_leak_words_name_rate_onset_and_time_to_limit():
    s, r = result("linear_growth", 2, limit=3 * float(np.nanmax(
        generate("linear_growth", seed=2, interval=60.0, duration=3 * 86400.0).values)))
    words = " ".join(explain(r.fields))
    assert r.leak and r.get("time_to_limit") is not None
    assert "/h" in words and "since 20" in words
    assert "reaches the limit in" in words
    _, r = result("linear_growth", 2, limit=False)
    assert "No memory limit was given" in " ".join(explain(r.fields))


def test_lookalike_checks_are_rendered_with_their_reason():
    _, r = result("warmup", 5)
    fields = dict(r.fields)
    fields["evidence"] = {**fields["evidence"], "lookalikes": [
        {"name": "warmup", "matched": True, "value": 0.02, "threshold": 0.3,
         "reason": "second-half growth is 2% of the first half's"},
        {"name": "periodic", "matched": False, "value": None, "threshold": 0.4, "reason": ""},
        "not a check"]}
    assert [c.name for c in checks(fields)] == ["warmup", "periodic"]
    words = explain(fields)
    assert "Not a leak because: second-half growth is 2% of the first half's." in words
    res = ScanResult("w", fields=fields)
    text = render_report([res], {"w": "<svg></svg>"})
    assert "Look-alike checks" in text and 'class="matched"' in text
    assert "second-half growth is 2% of the first half&#x27;s" in text
    # odd shapes of the evidence do not break the page
    fields["evidence"] = {"lookalikes": {"warmup": {"matched": 1}}, "x": [[1, 2], {"a": None}]}
    assert "warmup" in render_report([ScanResult("w", fields=fields)], {"w": "<svg></svg>"})
    fields["evidence"] = "gone"
    assert "w" in render_report([ScanResult("w", fields=fields)], {"w": "<svg></svg>"})


@given(st.dictionaries(st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True),
                       st.text(max_size=12), min_size=1, max_size=4))
def test_labels_round_trip_through_the_series_id(labels):
    sid = "name{" + ",".join(f'{k}="{escape_label_value(v)}"' for k, v in labels.items()) + "}"
    assert labels_of_id(sid) == labels


def test_labels_of_ids_without_labels():
    assert labels_of_id("plain") == {} and labels_of_id("x{}") == {}
    assert labels_of_id('x{a="1" junk}') == {}


@pytest.mark.parametrize("peak,unit", [(0, ""), (2000, ""), (1e5, ""), (2e5, "KiB"),
                                       (5 * 2**20, "MiB"), (3 * 2**30, "GiB"),
                                       (2**50, "TiB"), (float("nan"), "")])
def test_value_unit(peak, unit):
    scale, name = plot.value_unit(peak)
    assert name == unit
    if unit not in ("", "TiB"):
        assert 1 <= peak / scale < 1024


def test_plot_png_is_written_with_its_legend(tmp_path):
    s, r = result("restart_loop", 2)
    path = tmp_path / "p.png"
    plot.save(trace(s, r.fields), path, title="t")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (int(plot.WIDTH * plot.DPI),
                               int(round((plot.HEIGHT + plot.KEY_HEIGHT) * plot.DPI)))
    svg = tmp_path / "p.svg"
    plot.save(trace(s, r.fields), svg)
    assert "floor the detector judged" in svg.read_text()


def test_a_spike_is_drawn(tmp_path):
    """A one-sample spike in 200,000 samples reaches the top of the drawn band."""
    rng = np.random.default_rng(1)
    t = 1.7e9 + 15.0 * np.arange(200_000)
    v = rng.normal(1e9, 1e6, t.size)
    v[150_001] = 4e9
    s = Series.from_arrays(v, t, id="spike")
    tr = trace(s, detector.analyze(s).to_dict())
    fig = plot.figure(tr, key=False)
    ax = fig.axes[0]
    band = ax.collections[0]
    ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
    scale, unit = plot.value_unit(4e9)
    assert unit == "GiB" and np.max(ys) == pytest.approx(4e9 / scale)
