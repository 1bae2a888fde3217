"""The HTML report of a scan: one self-contained file that opens offline.

The page holds a fleet summary (counts by verdict and by pattern), a table of
the leaking series (sortable by time to limit, score and growth; filterable by
series name and labels, e.g. ``namespace=shop``), and for every drawn series
its plot (inline SVG from :mod:`.plot`), the verdict in words (:mod:`.explain`)
and the evidence. Styles and the small sorting/filtering script are inline;
nothing is fetched from the network: no fonts, scripts, styles or images from
elsewhere.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections import Counter
from html import escape
from typing import Any, Callable, Mapping, Sequence

from ..analysis.trace import Trace
from ..labels import labels_of_id
from ..results import ScanResult
from .explain import checks, explain, growth
from .formats import human_duration, human_time

#: Fewest drawings per process worth starting processes for.
BATCH = 8

#: Order of the verdicts in the summary.
VERDICT_ORDER = ("leak", "no_leak", "insufficient_data", "error")


def _labels(result: ScanResult) -> dict[str, str]:
    return dict(result.labels) if result.labels else labels_of_id(result.series)


def _search_text(result: ScanResult) -> str:
    """What the filter box matches against: the id and ``name=value`` per label."""
    pairs = " ".join(f"{k}={v}" for k, v in _labels(result).items())
    return f"{result.series} {pairs}".lower()


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _sort_key(result: ScanResult):
    """Leaking series, soonest at the limit first, then the most certain."""
    ttl = _num(result.get("time_to_limit"))
    return (ttl is None, ttl or 0.0, -(_num(result.get("score")) or 0.0), result.series)


class Drawer:
    """Draws traces into SVG markup, as they are handed over or all at the end.

    With ``workers`` > 1 the drawings are made on that many processes while the
    caller goes on (reading and tracing the next series): each batch of
    :data:`BATCH` traces is sent off as soon as it is complete. With one worker
    everything is drawn here, in :meth:`finish`, on one reused figure.

    Parameters
    ----------
    workers : int
        Processes to draw on (1: in this process).
    on_drawn : callable, optional
        Called after each drawing is done (progress).

    Examples
    --------
    >>> drawer = Drawer(workers=2)                                  # doctest: +SKIP
    >>> traces = retrace(source, results, selection, on_trace=drawer.add)  # doctest: +SKIP
    >>> svgs = drawer.finish(traces)                                # doctest: +SKIP
    """

    def __init__(self, workers: int = 1, on_drawn: Callable[[], None] | None = None):
        self.workers = workers
        self.on_drawn = on_drawn
        self._traces: dict[str, Trace] = {}
        self._salts: dict[str, str] = {}
        self._pending: list[str] = []
        self._sent: list[tuple[list[str], Any]] = []
        self._pool = None

    def add(self, series: str, trace: Trace) -> None:
        """Hand over the trace of ``series`` (a series handed over again is drawn once)."""
        if series in self._traces:
            return
        self._salts[series] = f"s{len(self._traces)}"  # ids unique in the page
        self._traces[series] = trace
        if self.workers > 1:
            self._pending.append(series)
            if len(self._pending) >= BATCH:
                self._send()

    def _send(self) -> None:
        from . import plot

        if not self._pending:
            return
        if self._pool is None:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                             mp_context=mp.get_context("spawn"))
        batch, self._pending = self._pending, []
        future = self._pool.submit(plot.svg_batch, [self._traces[s] for s in batch],
                                   [self._salts[s] for s in batch])
        self._sent.append((batch, future))

    def close(self) -> None:
        """Stop the worker processes (drawings not yet made are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def finish(self, traces: Mapping[str, Trace] | None = None) -> dict[str, str]:
        """The markup of every trace handed over (and of ``traces``), in their order.

        Returns
        -------
        dict of str to str
            Series id -> ``<svg>...</svg>``.
        """
        from . import plot

        for series, trace in (traces or {}).items():
            self.add(series, trace)
        order = list(traces) if traces is not None else list(self._traces)
        out: dict[str, str] = {}
        try:
            self._send()
            for batch, future in self._sent:
                for series, svg in zip(batch, future.result()):
                    out[series] = svg
                    if self.on_drawn is not None:
                        self.on_drawn()
        finally:
            self.close()
        sketcher = None
        for series in order:
            if series not in out:
                sketcher = sketcher or plot.Sketcher()
                out[series] = sketcher.svg(self._traces[series], salt=self._salts[series])
                if self.on_drawn is not None:
                    self.on_drawn()
        return {series: out[series] for series in order}


def render_drawings(traces: Mapping[str, Trace], *, workers: int = 1,
                    on_drawn: Callable[[], None] | None = None) -> dict[str, str]:
    """SVG markup of every trace, drawn here or on ``workers`` processes.

    Parameters
    ----------
    traces : mapping of series id to Trace
    workers : int
        Processes to draw on (1: in this process); fewer than ``2 * BATCH``
        drawings are always made here.
    on_drawn : callable, optional
        Called after each drawing (progress).

    Returns
    -------
    dict of str to str
        Series id -> ``<svg>...</svg>``.
    """
    workers = workers if len(traces) >= 2 * BATCH else 1
    return Drawer(workers, on_drawn).finish(traces)


def render_report(results: Sequence[ScanResult], drawings: Mapping[str, str], *,
                  source: str | None = None, key: str | None = None,
                  generated: float | None = None, title: str = "detector: memory leak report"
                  ) -> str:
    """The report page.

    Parameters
    ----------
    results : sequence of ScanResult
        Every result of the scan, in scan order.
    drawings : mapping of series id to str
        SVG markup per drawn series (:func:`render_drawings`); every leaking series
        should have one (a missing one is said so on the page).
    source : str, optional
        What was scanned, shown in the header.
    key : str, optional
        SVG markup of the legend of the drawings (:func:`detector.outputs.plot.key_svg`).
    generated : float, optional
        Unix seconds shown as the time the report was made; default now.
    title : str

    Returns
    -------
    str
        A whole HTML document.
    """
    when = human_time(generated if generated is not None else
                      _dt.datetime.now(_dt.timezone.utc).timestamp())
    leaking = sorted((r for r in results if r.leak), key=_sort_key)
    others = [r for r in results if not r.leak and r.series in drawings]
    failed = [r for r in results if r.fields is None]
    parts = [_HEAD.format(title=escape(title), style=_STYLE),
             f"<header><h1>{escape(title)}</h1><p>{len(results)} series"
             + (f" from {escape(source)}" if source else "")
             + f"; report made {escape(when)}.</p></header>",
             _summary(results), _table(leaking, drawings, len(results))]
    shown = leaking + others
    if shown:
        parts.append(f'<section id="plots"><h2>Plots</h2>'
                     + (f'<figure class="key">{key}</figure>' if key else "")
                     + "".join(_article(i, r, drawings.get(r.series))
                               for i, r in enumerate(shown)) + "</section>")
    if failed:
        parts.append('<section id="failed"><h2>Series that could not be analysed '
                     f'({len(failed)})</h2><ul>'
                     + "".join(f"<li><code>{escape(r.series)}</code>: {escape(r.error or '')}"
                               "</li>" for r in failed) + "</ul></section>")
    parts.append(f"<script>{_SCRIPT}</script></body></html>\n")
    return "\n".join(parts)


def _summary(results: Sequence[ScanResult]) -> str:
    verdicts = Counter(r.get("verdict") if r.fields is not None else "error" for r in results)
    patterns = Counter((r.get("verdict") if r.fields is not None else "error",
                        r.get("pattern") if r.fields is not None else "error")
                       for r in results)
    cards = "".join(f'<div class="card {escape(v)}"><b>{verdicts.get(v, 0)}</b>'
                    f"{escape(v.replace('_', ' '))}</div>"
                    for v in (*VERDICT_ORDER, *sorted(set(verdicts) - set(VERDICT_ORDER))))
    order = {v: i for i, v in enumerate(VERDICT_ORDER)}
    rows = "".join(f"<tr><td>{escape(str(p))}</td><td>{escape(str(v))}</td><td>{n}</td></tr>"
                   for (v, p), n in sorted(patterns.items(),
                                           key=lambda kv: (order.get(kv[0][0], 9), -kv[1],
                                                           str(kv[0][1]))))
    return (f'<section id="summary"><h2>Fleet</h2><div class="cards">{cards}</div>'
            f'<table class="patterns"><thead><tr><th>pattern</th><th>verdict</th>'
            f"<th>series</th></tr></thead><tbody>{rows}</tbody></table></section>")


def _cell(text: str, value: Any = None, cls: str = "") -> str:
    v = "" if value is None else (json.dumps(value) if not isinstance(value, str) else value)
    attr = f' class="{cls}"' if cls else ""
    return f'<td{attr} data-v="{escape(v)}">{text}</td>'


def _table(leaking: Sequence[ScanResult], drawings: Mapping[str, str], n_all: int) -> str:
    head = ('<section id="flagged"><h2>Leaking series '
            f'(<span id="shown">{len(leaking)}</span> of {len(leaking)})</h2>')
    if not leaking:
        return head + (f'<p class="none" id="no-leaks">No leaking series: none of the {n_all} '
                       "series scanned was judged a leak.</p></section>")
    rows = []
    for i, r in enumerate(leaking):
        labels = _labels(r)
        label_text = " ".join(f'<span class="label">{escape(k)}={escape(v)}</span>'
                              for k, v in labels.items())
        link = f'<a href="#plot-{i}">{escape(r.series)}</a>' if r.series in drawings \
            else escape(r.series)
        ttl, score, slope = (_num(r.get(k)) for k in ("time_to_limit", "score", "slope"))
        onset = _num(r.get("onset"))
        rows.append(
            f'<tr data-search="{escape(_search_text(r))}">'
            + _cell(link, r.series, "series")
            + _cell(escape(str(r.get("pattern"))), str(r.get("pattern")))
            + _cell(escape(human_duration(ttl)), ttl, "num")
            + _cell(f"{score:.2f}" if score is not None else "-", score, "num")
            + _cell(escape(growth(r.fields)), slope, "num")
            + _cell(escape(human_time(onset)), onset, "num")
            + _cell(label_text, " ".join(f"{k}={v}" for k, v in labels.items()))
            + "</tr>")
    header = "".join(
        f'<th data-sort="{kind}" tabindex="0"{aria}>{name}</th>' for name, kind, aria in (
            ("series", "text", ""), ("pattern", "text", ""),
            ("time to limit", "num", ' aria-sort="ascending"'), ("score", "num", ""),
            ("growth", "num", ""), ("onset", "num", ""), ("labels", "text", "")))
    return (head + '<p class="hint">Click a column to sort; type to filter by series or '
            'label (<code>namespace=shop</code>; several words must all match).</p>'
            '<input id="filter" type="search" placeholder="filter: name or label=value" '
            'aria-label="filter the leaking series">'
            f'<table id="flagged-table"><thead><tr>{header}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></section>')


def _article(i: int, r: ScanResult, svg: str | None) -> str:
    sentences = explain(r.fields or {})
    verdict = r.get("verdict") or "error"
    body = svg if svg else '<p class="missing">No drawing for this series.</p>'
    words = "".join(f"<p>{escape(s)}</p>" for s in sentences[1:])
    found = checks(r.fields or {})
    table = ""
    if found:
        table = ('<table class="lookalikes"><caption>Look-alike checks</caption><thead><tr>'
                 "<th>check</th><th>matched</th><th>value</th><th>threshold</th>"
                 "<th>reason</th></tr></thead><tbody>"
                 + "".join(f'<tr class="{"matched" if c.matched else ""}">'
                           f"<td>{escape(c.name)}</td>"
                           f"<td>{'yes' if c.matched else ('no' if c.matched is False else '?')}"
                           f"</td><td>{escape(_short(c.value))}</td>"
                           f"<td>{escape(_short(c.threshold))}</td><td>{escape(c.reason)}</td></tr>"
                           for c in found) + "</tbody></table>")
    evidence = (r.fields or {}).get("evidence")
    details = ""
    if isinstance(evidence, Mapping) and evidence:
        details = f"<details><summary>Evidence</summary>{_value_html(evidence)}</details>"
    return (f'<article class="plot {escape(verdict)}" id="plot-{i}" '
            f'data-series="{escape(r.series)}" data-search="{escape(_search_text(r))}">'
            f'<h3><code>{escape(r.series)}</code></h3>'
            f'<p class="verdict">{escape(sentences[0])}</p>{body}'
            f'<div class="words">{words}</div>{table}{details}</article>')


def _short(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _value_html(value: Any, depth: int = 0) -> str:
    """Evidence of any shape as nested definition lists and tables."""
    if isinstance(value, Mapping):
        if not value:
            return "<i>none</i>"
        return "<dl>" + "".join(f"<dt>{escape(str(k))}</dt><dd>{_value_html(v, depth + 1)}</dd>"
                                for k, v in value.items()) + "</dl>"
    if isinstance(value, (list, tuple)):
        if not value:
            return "<i>none</i>"
        if all(isinstance(v, Mapping) for v in value) and depth < 4:
            keys = list(dict.fromkeys(k for v in value for k in v))
            return ("<table><thead><tr>" + "".join(f"<th>{escape(str(k))}</th>" for k in keys)
                    + "</tr></thead><tbody>"
                    + "".join("<tr>" + "".join(f"<td>{escape(_short(v.get(k)))}</td>"
                                               for k in keys) + "</tr>" for v in value)
                    + "</tbody></table>")
        shown = ", ".join(_short(v) if not isinstance(v, (Mapping, list, tuple))
                          else json.dumps(v) for v in value[:50])
        return escape(shown + (f", ... ({len(value)} in all)" if len(value) > 50 else ""))
    return escape(_short(value))


_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>{style}</style></head><body>"""

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;
max-width:1040px;padding:0 16px 48px;color:#1d1d1f;background:#fff}
h1{font-size:22px;margin:20px 0 4px}h2{font-size:18px;margin:28px 0 8px;
border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:14px;margin:0 0 2px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
.cards{display:flex;gap:10px;flex-wrap:wrap;margin-bottom:12px}
.card{border:1px solid #ddd;border-radius:6px;padding:6px 14px;min-width:110px}
.card b{display:block;font-size:22px}.card.leak b{color:#c62828}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eee;vertical-align:top}
td.num{text-align:right;white-space:nowrap}
#flagged-table{width:100%}#flagged-table th{cursor:pointer;user-select:none;
white-space:nowrap;background:#f6f6f6}
#flagged-table th[aria-sort=ascending]::after{content:" \\25B2"}
#flagged-table th[aria-sort=descending]::after{content:" \\25BC"}
#flagged-table td.series{word-break:break-all}
.label{display:inline-block;background:#eef3f9;border-radius:3px;padding:0 4px;margin:1px;
font-size:12px}
#filter{width:320px;padding:4px 6px;margin:4px 0;font:inherit}
.hint{color:#666;font-size:12px;margin:2px 0}.none{font-size:16px;color:#2e7d32}
article.plot{border-top:1px solid #ddd;padding:14px 0 8px}
article.plot svg{width:100%;height:auto;display:block}
figure.key{margin:0}figure.key svg{width:100%;height:auto}
.verdict{font-weight:600;margin:0 0 4px}.leak .verdict{color:#c62828}
.no_leak .verdict{color:#2e7d32}.words p{margin:2px 0}
table.lookalikes tr.matched td{background:#fff6e5}
details{margin-top:6px;font-size:12px}dl{margin:0 0 0 8px}
dt{font-weight:600;float:left;clear:left;margin-right:6px}dd{margin:0 0 0 12px}
dd dl{margin-left:0;clear:left}[hidden]{display:none!important}
@media print{#filter,.hint{display:none}article.plot{break-inside:avoid}}
"""

_SCRIPT = r"""
(function () {
  var table = document.getElementById('flagged-table');
  if (!table) return;
  var body = table.tBodies[0];
  function sortBy(th) {
    var col = th.cellIndex, num = th.dataset.sort === 'num';
    var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
      if (num) {
        var nx = x === '', ny = y === '';
        if (nx || ny) return nx === ny ? 0 : (nx ? 1 : -1);  /* missing values last */
        return dir * (parseFloat(x) - parseFloat(y));
      }
      return dir * x.localeCompare(y);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  table.querySelectorAll('th[data-sort]').forEach(function (th) {
    th.addEventListener('click', function () { sortBy(th); });
    th.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(th); }
    });
  });
  var input = document.getElementById('filter'), shown = document.getElementById('shown');
  input.addEventListener('input', function () {
    var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    function keep(el) {
      var text = el.dataset.search || '';
      return terms.every(function (t) { return text.indexOf(t) >= 0; });
    }
    var n = 0;
    Array.prototype.forEach.call(body.rows, function (r) {
      r.hidden = !keep(r); if (!r.hidden) n++;
    });
    document.querySelectorAll('article.plot').forEach(function (a) { a.hidden = !keep(a); });
    shown.textContent = n;
  });
})();
"""
