"""A real headless Chromium for tests, driven by Playwright (the system browser, not a download).

``open_page(path)`` serves the directory of ``path`` on 127.0.0.1 (a
thread of ``http.server``), launches Debian's ``/usr/bin/chromium`` headless
through Playwright's Python package with the flags this machine needs, and
yields ``(page, requests)``: the Playwright page with the file loaded, and
the list of every URL the page requested (any that is not the page itself
is a network request the report should not make).

Needs the Debian package ``chromium`` and the pip package ``playwright``
(the test extra; ``playwright install`` is never run). ``.ci/run`` installs
both. ``docs/figures/make_report_screenshots.py`` takes the documentation's
screenshots through the same path.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import tempfile
import threading
from pathlib import Path

#: Where Debian installs Chromium.
CHROMIUM = os.environ.get("DETECTOR_CHROMIUM", "/usr/bin/chromium")

#: Flags for a root, sandboxless, offline machine (see /work/.library/env/machines).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


def missing() -> str | None:
    """Why a browser test cannot run here (None when it can)."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


class _LoggingHandler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, served: list, **kwargs):
        self.served = served
        super().__init__(*args, **kwargs)

    def log_message(self, *args):
        self.served.append(self.path)


@contextlib.contextmanager
def serve(directory: Path, served: list | None = None):
    """Serve ``directory`` on a free 127.0.0.1 port; yields the base URL.

    Every path asked of the server (a favicon included) is appended to ``served``.
    """
    handler = functools.partial(_LoggingHandler, directory=str(directory),
                                served=served if served is not None else [])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def open_page(path: Path, *, width: int = 1100, height: int = 900):
    """Open the HTML file ``path`` in headless Chromium; yields ``(page, requests)``.

    ``requests`` lists every URL the page asked for (Playwright's request
    events), prefixed with ``served:`` every path the local server was asked
    for (which includes what the browser fetches by itself, a favicon; added
    when the page closes), and prefixed with ``error:`` every uncaught
    script error.
    """
    from playwright.sync_api import sync_playwright

    path = Path(path).resolve()
    served: list[str] = []
    requests: list[str] = []
    with serve(path.parent, served) as base, tempfile.TemporaryDirectory() as profile, \
            sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": width, "height": height})
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: requests.append(f"error:{e}"))
            page.goto(f"{base}/{path.name}", wait_until="load")
            page.wait_for_timeout(300)  # let anything the page would fetch start
            yield page, requests
        finally:
            browser.close()
            requests.extend(f"served:{p}" for p in served)


def other_requests(requests: list[str], path: Path) -> list[str]:
    """The requests other than the page itself (the report must make none)."""
    name = Path(path).name
    return [u for u in requests if not u.startswith("error:")
            and not u.split("#", 1)[0].endswith("/" + name) and u != f"served:/{name}"]


def script_errors(requests: list[str]) -> list[str]:
    """The uncaught script errors of the page."""
    return [u for u in requests if u.startswith("error:")]
