"""A real Alertmanager for tests (Debian package ``prometheus-alertmanager``) on 127.0.0.1.

``Alertmanager(workdir)`` starts it on a free loopback port with a route that
sends nowhere, waits until it answers ``/-/ready``; ``alerts()`` lists what it
holds; ``stop()`` ends it by its PID.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from contextlib import contextmanager

from prometheus_server import ALERTMANAGER, PrometheusServer, free_port


class Alertmanager:
    def __init__(self, workdir):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = workdir / "alertmanager.yml"
        config.write_text("route:\n  receiver: none\nreceivers:\n  - name: none\n")
        self.proc = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={config}", f"--storage.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
            stdout=open(workdir / "alertmanager.log", "w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("alertmanager not ready: "
                           + (workdir / "alertmanager.log").read_text()[-2000:])

    def alerts(self, active=True):
        q = "active=true&silenced=false&inhibited=false&unprocessed=true" if active else \
            "active=false&silenced=false&inhibited=false&unprocessed=false"
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts?{q}", timeout=5) as r:
            return json.loads(r.read())

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)


@contextmanager
def prometheus_and_alertmanager(families, tmp_path_factory, scrape_interval="60s"):
    """A Prometheus serving ``families`` and an Alertmanager, both stopped on exit."""
    prom = PrometheusServer(families, tmp_path_factory.mktemp("prom"), scrape_interval).start()
    try:
        am = Alertmanager(tmp_path_factory.mktemp("am"))
    except BaseException:
        prom.stop()
        raise
    try:
        yield prom, am
    finally:
        prom.stop()
        am.stop()
