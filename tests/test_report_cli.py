"""detector scan --report, detector report, detector plot: outputs, exit codes, one-line errors."""

import html
import json
import os
import re
import stat

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import detector
from detector.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(map(str, args)))


def plotted(path):
    return [html.unescape(s) for s in re.findall(
        r'<article class="plot [^"]*" id="plot-\d+" data-series="([^"]*)"', path.read_text())]


def one_line_error(res):
    lines = res.stderr.strip().splitlines()
    assert res.exit_code == 2, res.output
    assert len(lines) == 1 and lines[0].startswith("detector: error: "), res.stderr
    return lines[0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    res = run("scan", "--demo", "-f", "json", "-o", d / "results.json", "--report",
              d / "scan.html")
    assert res.exit_code == 1, res.output
    rows = json.loads((d / "results.json").read_text())
    return d, rows


@pytest.fixture(scope="module")
def small_fleet(tmp_path_factory):
    """Long CSV, two leaking series and one flat, with a label column."""
    rng = np.random.default_rng(11)
    t = np.arange(1_700_000_000, 1_700_000_000 + 2 * 86400, 60)
    frames = []
    for name, v in {"grow-a": 5e8 + (t - t[0]) * 3e3, "grow-b": 7e8 + (t - t[0]) * 2e3,
                    "flat": np.full(t.size, 8e8)}.items():
        frames.append(pd.DataFrame({"series": name, "timestamp": t, "team": "x",
                                    "value": (v + rng.normal(0, 4e6, t.size)).round()}))
    p = tmp_path_factory.mktemp("fleet") / "fleet.csv"
    pd.concat(frames).to_csv(p, index=False)
    return p


def test_scan_report_plots_every_leaking_series(demo):
    d, rows = demo
    leaking = [r["series"] for r in rows if r["leak"]]
    html = (d / "scan.html").read_text()
    assert sorted(plotted(d / "scan.html")) == sorted(leaking)
    assert "the bundled demo fleet" in html
    assert os.stat(d / "scan.html").st_mode & stat.S_IROTH  # readable by others


def test_report_from_saved_results_matches_the_scan(demo, tmp_path):
    d, rows = demo
    res = run("report", d / "results.json", "--demo", "-o", tmp_path / "r.html")
    assert res.exit_code == 0, res.output
    assert "32 series, 7 leaking, 7 plotted" in res.stderr
    strip = lambda s: re.sub(r"report made [^.]*\.", "", s)  # noqa: E731
    assert strip((tmp_path / "r.html").read_text()) == strip((d / "scan.html").read_text())


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_report_from_csv_and_parquet_results(small_fleet, tmp_path, fmt):
    out = tmp_path / f"results.{fmt}"
    res = run("scan", small_fleet, "-f", fmt, "-o", out)
    assert res.exit_code == 1, res.output
    res = run("report", out, small_fleet, "-o", tmp_path / "r.html", "--plot", "flat")
    assert res.exit_code == 0, res.output
    assert sorted(plotted(tmp_path / "r.html")) == ['flat{team="x"}', 'grow-a{team="x"}',
                                                    'grow-b{team="x"}']


def test_plot_all_and_plot_by_name(demo, tmp_path):
    d, rows = demo
    res = run("report", d / "results.json", "--demo", "-o", tmp_path / "all.html",
              "--plot-all", "--workers", "2")
    assert res.exit_code == 0, res.output
    assert sorted(plotted(tmp_path / "all.html")) == sorted(r["series"] for r in rows)
    res = run("report", d / "results.json", "--demo", "-o", tmp_path / "one.html",
              "--plot", "frontend-8d2e", "--plot", 'thumbnailer-2f9a{namespace="media"}')
    assert res.exit_code == 0, res.output
    names = plotted(tmp_path / "one.html")
    assert 'frontend-8d2e{namespace="shop"}' in names
    assert 'thumbnailer-2f9a{namespace="media"}' in names and len(names) == 9


def test_parallel_scan_reads_the_files_again_for_the_plots(small_fleet, tmp_path):
    res = run("scan", small_fleet, "--workers", "2", "--report", tmp_path / "p.html")
    assert res.exit_code == 1, res.output
    res = run("scan", small_fleet, "--report", tmp_path / "s.html")
    assert res.exit_code == 1, res.output
    strip = lambda s: re.sub(r"report made [^.]*\.", "", s)  # noqa: E731
    assert strip((tmp_path / "p.html").read_text()) == strip((tmp_path / "s.html").read_text())


def test_zero_leaks_report_says_so(small_fleet, tmp_path):
    flat = tmp_path / "flat.csv"
    frame = pd.read_csv(small_fleet)
    frame[frame.series == "flat"].to_csv(flat, index=False)
    res = run("scan", flat, "--report", tmp_path / "r.html")
    assert res.exit_code == 0, res.output
    html = (tmp_path / "r.html").read_text()
    assert "No leaking series: none of the 1 series scanned was judged a leak." in html
    assert plotted(tmp_path / "r.html") == []


def test_bad_inputs_get_one_line_errors(demo, tmp_path):
    d, rows = demo
    out = tmp_path / "r.html"
    line = one_line_error(run("report", tmp_path / "missing.json", "--demo", "-o", out))
    assert "missing.json: no such file" in line
    (tmp_path / "torn.json").write_text(json.dumps(rows)[:500])
    line = one_line_error(run("report", tmp_path / "torn.json", "--demo", "-o", out))
    assert "torn.json: cannot read results" in line
    (tmp_path / "other.json").write_text(json.dumps({"series": "x"}))
    assert "not the results of detector scan" in one_line_error(
        run("report", tmp_path / "other.json", "--demo", "-o", out))
    (tmp_path / "rows.json").write_text(json.dumps([{"series": "x", "score": 1}]))
    assert "result 1 is not a result" in one_line_error(
        run("report", tmp_path / "rows.json", "--demo", "-o", out))
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    assert "bad.parquet: cannot read results" in one_line_error(
        run("report", tmp_path / "bad.parquet", "--demo", "-o", out))
    (tmp_path / "r.txt").write_text("x")
    assert "expected the results of detector scan" in one_line_error(
        run("report", tmp_path / "r.txt", "--demo", "-o", out))
    # a series that is no longer in the source
    gone = [dict(r) for r in rows]
    first_leak = next(r for r in gone if r["leak"])
    first_leak["series"] = "renamed-away"
    (tmp_path / "gone.json").write_text(json.dumps(gone))
    line = one_line_error(run("report", tmp_path / "gone.json", "--demo", "-o", out))
    assert "series renamed-away of the results is not in the bundled demo fleet" in line
    assert "unknown-series" in one_line_error(
        run("report", d / "results.json", "--demo", "-o", out, "--plot", "unknown-series"))
    assert "unknown-series" in one_line_error(
        run("scan", "--demo", "--report", out, "--plot", "unknown-series"))
    assert not out.exists()


def test_usage_errors(demo, tmp_path):
    d, _ = demo
    assert run("report", d / "results.json", "-o", tmp_path / "r.html").exit_code == 2
    assert run("scan", "--demo", "--plot-all").exit_code == 2
    assert run("scan", "--demo", "--report", tmp_path / "no" / "r.html").exit_code == 2


def test_plot_command(small_fleet, tmp_path):
    res = run("plot", small_fleet, "-s", "grow-a", "-o", tmp_path / "a.png", "--limit", "2GiB")
    assert res.exit_code == 1, res.output
    assert res.stdout.startswith('grow-a{team="x"}: Leak: linear growth')
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    res = run("plot", small_fleet, "-s", 'flat{team="x"}', "-o", tmp_path / "f.svg")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "f.svg").read_text().lstrip().startswith("<?xml")
    assert "holds several series" in one_line_error(
        run("plot", small_fleet, "-o", tmp_path / "x.png"))
    assert "no series named 'nope'" in one_line_error(
        run("plot", small_fleet, "-s", "nope", "-o", tmp_path / "x.png"))
    assert "no such file" in one_line_error(run("plot", tmp_path / "no.csv", "-o",
                                                tmp_path / "x.png"))
    assert run("plot", small_fleet, "-s", "flat", "-o", tmp_path / "x.txt").exit_code == 2
    short = tmp_path / "short.csv"
    pd.DataFrame({"timestamp": [1, 2, 3], "value": [1.0, 2.0, 3.0]}).to_csv(short, index=False)
    res = run("plot", short, "-o", tmp_path / "s.png")
    assert res.exit_code == 0 and "insufficient data" in res.stdout, res.output


def test_series_at_equals_the_series_at_that_place_of_a_full_read(small_fleet, tmp_path):
    """FileSource.series_at (a report reads only the series it draws) against iterating."""
    from detector.sources.files import FileSource

    frame = pd.read_csv(small_fleet)
    rng = np.random.default_rng(2)
    parts = []
    for k in range(3):  # more series, several row groups, and a grouped Parquet file
        f = frame.copy()
        f["series"] = f["series"] + f"-{k}"
        parts.append(f)
    big = pd.concat(parts)
    big.to_parquet(tmp_path / "grouped.parquet", index=False, row_group_size=1000)
    big.sample(frac=1.0, random_state=1).to_parquet(tmp_path / "shuffled.parquet", index=False)
    paths = [tmp_path / "grouped.parquet", small_fleet, tmp_path / "shuffled.parquet"]
    source = FileSource(paths)
    every = list(source)
    assert len(every) == 9 + 3 + 9
    for _ in range(5):
        positions = sorted(set(rng.integers(0, len(every) + 3, 6).tolist()))
        got = list(source.series_at(reversed(positions)))
        inside = [p for p in positions if p < len(every)]
        assert [p for p, _ in got] == inside
        for p, s in got:
            assert s.id == every[p].id and s.labels == every[p].labels
            np.testing.assert_array_equal(s.timestamps, every[p].timestamps)
            np.testing.assert_array_equal(s.values, every[p].values)


def test_report_finds_series_by_name_when_the_files_are_in_another_order(small_fleet, tmp_path):
    other = tmp_path / "other.csv"
    frame = pd.read_csv(small_fleet)
    frame[frame.series == "flat"].to_csv(other, index=False)
    res = run("scan", small_fleet, other, "-f", "json", "-o", tmp_path / "r.json")
    assert res.exit_code == 1, res.output
    # the same files, given in the other order: positions do not match, ids still do
    res = run("report", tmp_path / "r.json", other, small_fleet, "-o", tmp_path / "r.html")
    assert res.exit_code == 0, res.output
    assert sorted(plotted(tmp_path / "r.html")) == ['grow-a{team="x"}', 'grow-b{team="x"}']


def _uneven_grouped_parquet(small_fleet, path):
    """A grouped Parquet file of series of different lengths, over several row groups."""
    frame = pd.read_csv(small_fleet)
    parts = []
    for k, n in enumerate((700, 2880, 1500, 40)):
        f = frame[frame.series == ("grow-a", "grow-b", "flat", "grow-a")[k]].head(n).copy()
        f["series"] = f["series"] + f"-{k}"
        parts.append(f)
    pd.concat(parts).to_parquet(path, index=False, row_group_size=1000)
    return [len(p) for p in parts]


def test_row_counts_place_series_like_a_plan_does(small_fleet, tmp_path):
    """The rows a scan recorded per series locate them in a Parquet file exactly where a
    pass over its key columns does; counts that are not the file's give no plan."""
    from detector.sources import grouped
    from detector.sources.files import FileSource

    path = tmp_path / "uneven.parquet"
    counts = _uneven_grouped_parquet(small_fleet, path)
    read = grouped.plan(path, ["series", "team"])
    hinted = grouped.plan_from_rows(path, ["series", "team"], counts)
    np.testing.assert_array_equal(hinted.starts, read.starts)
    np.testing.assert_array_equal(hinted.stops, read.stops)
    assert grouped.plan_from_rows(path, ["series"], counts[:-1]) is None
    assert grouped.plan_from_rows(path, ["series"], counts[:-1] + [counts[-1] + 1]) is None
    source = FileSource([path, small_fleet])
    every = list(source)
    rows = counts + [None, None, None]  # the CSV file's series: not known
    got = list(source.series_at([0, 3, 4, 6], rows=rows))
    assert [p for p, _ in got] == [0, 3, 4, 6]
    for p, s in got:
        assert s.id == every[p].id
        np.testing.assert_array_equal(s.values, every[p].values)


def test_report_with_wrong_row_counts_still_draws_the_right_series(small_fleet, tmp_path):
    """Results whose recorded rows do not fit the file (another file under the same name,
    edited results) misplace the series: the report notices and plans the file."""
    from detector.analysis.trace import trace
    from detector.outputs.drawings import Selection, retrace
    from detector.results import ScanResult
    from detector.sources.files import FileSource

    path = tmp_path / "uneven.parquet"
    counts = _uneven_grouped_parquet(small_fleet, path)
    every = list(FileSource([path]))
    results = []
    for s, n in zip(every, counts[::-1]):  # the right total, each count wrong
        fields = detector.analyze(s).to_dict()
        fields["evidence"]["input"]["n_input"] = n
        results.append(ScanResult(s.id, fields))
    traces = retrace(FileSource([path]), results, Selection(all=True))
    assert list(traces) == [s.id for s in every]
    # only the first series drawn, its count too small: it would be read cut short
    results[0].fields["evidence"]["input"]["n_input"] = counts[0] - 100
    results[1].fields["evidence"]["input"]["n_input"] = counts[1] + 100
    for r, n in zip(results[2:], counts[2:]):
        r.fields["evidence"]["input"]["n_input"] = n
    for r in results:
        r.fields["leak"] = r is results[0]
    first = retrace(FileSource([path]), results, Selection())
    assert list(first) == [every[0].id]
    np.testing.assert_array_equal(first[every[0].id].t, trace(every[0], results[0].fields).t)
    for s, r in zip(every, results):
        expected = trace(s, r.fields)
        np.testing.assert_array_equal(traces[s.id].t, expected.t)
        np.testing.assert_array_equal(traces[s.id].hi, expected.hi)


def test_drawing_while_tracing_gives_the_serial_page(demo, tmp_path):
    """--workers 2 draws on other processes as the series are traced; the page is the
    serial one (same drawings, same ids), but for the time it was made."""
    d, _ = demo
    pages = []
    for extra in ([], ["--workers", "2"]):
        out = tmp_path / f"p{len(extra)}.html"
        res = run("report", d / "results.json", "--demo", "-o", out, "--plot-all", *extra)
        assert res.exit_code == 0, res.output
        pages.append(re.sub(r"report made [0-9T:\-]+Z", "", out.read_text()))
    assert pages[0] == pages[1]
