"""Screenshots of the demo fleet's HTML report for docs/report.md.

Usage: python docs/figures/make_report_screenshots.py
(needs the test extra and Debian's chromium: the same headless-Chromium path as
tests/test_report_browser.py, through tests/chromium_browser.py)

Writes docs/figures/report-overview.png (summary and table), report-leak.png
(one leak's plot and words), report-lookalike.png (a look-alike, drawn with
--plot) and report-filtered.png (the table filtered by a label, sorted by score).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from typer.testing import CliRunner  # noqa: E402

from chromium_browser import open_page, other_requests  # noqa: E402
from detector.cli import app  # noqa: E402

OUT = Path(__file__).parent


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "report.html"
        res = CliRunner().invoke(app, ["scan", "--demo", "--report", str(page_path),
                                       "--plot", "thumbnailer-2f9a", "-o",
                                       str(Path(tmp) / "r.json"), "-f", "json"])
        assert res.exit_code == 1, res.output
        with open_page(page_path, width=1100, height=1000) as (page, requests):
            page.screenshot(path=str(OUT / "report-overview.png"),
                            clip={"x": 0, "y": 0, "width": 1100, "height": 1000})
            page.locator('article.plot[data-series^="image-resizer"]').screenshot(
                path=str(OUT / "report-leak.png"))
            page.locator('article.plot[data-series^="thumbnailer"]').screenshot(
                path=str(OUT / "report-lookalike.png"))
            page.fill("#filter", "namespace=shop")
            page.locator("#flagged-table th", has_text="score").click()
            page.locator("#flagged").screenshot(path=str(OUT / "report-filtered.png"))
        assert other_requests(requests, page_path) == [], requests
    for name in ("overview", "leak", "lookalike", "filtered"):
        print(OUT / f"report-{name}.png")


if __name__ == "__main__":
    main()
