"""A real Prometheus server for tests: data backfilled with promtool, started on 127.0.0.1.

``PrometheusServer(samples).start()`` writes the samples as OpenMetrics text,
turns them into TSDB blocks with ``promtool tsdb create-blocks-from
openmetrics``, starts ``prometheus`` on a free loopback port with that TSDB
(retention long enough that old test data is not deleted) and waits until it
answers ``/-/ready``.  ``stop()`` ends it by its PID.

Needs the Debian package ``prometheus`` (``prometheus`` and ``promtool`` on
PATH); ``.ci/run`` installs it.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Family:
    """One metric family: a name and its series ``(labels, timestamps, values)``."""

    name: str
    series: list[tuple[dict[str, str], np.ndarray, np.ndarray]]
    help: str = "test data"


def format_value(v: float) -> str:
    """A float as OpenMetrics text, exactly (repr round-trips; NaN/+Inf/-Inf spelled out)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def write_openmetrics(families: list[Family], path: Path) -> int:
    """Write ``families`` as an OpenMetrics file for promtool; return the sample count."""
    n = 0
    with open(path, "w") as fh:
        for fam in families:
            fh.write(f"# HELP {fam.name} {fam.help}\n# TYPE {fam.name} gauge\n")
            for labels, ts, vals in fam.series:
                lab = ",".join(f'{k}="{escape_label(v)}"' for k, v in sorted(labels.items()))
                prefix = f"{fam.name}{{{lab}}} "
                fh.writelines(f"{prefix}{format_value(v)} {int(t)}\n"
                              for t, v in zip(ts.tolist(), vals.tolist()))
                n += len(ts)
        fh.write("# EOF\n")
    return n


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available() -> bool:
    """Whether prometheus and promtool are installed."""
    return bool(shutil.which("prometheus") and shutil.which("promtool"))


#: The Alertmanager binary (Debian's name, or upstream's), or None.
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def requires(*, alertmanager: bool = False):
    """The ``pytestmark`` of a test module that needs Prometheus (and Alertmanager).

    The module is skipped, saying why, on a machine without them; under
    ``DETECTOR_REQUIRE_PROMETHEUS`` (set by ``.ci/run``) a missing server is an
    error instead, so that CI never counts skipped server tests as passing.
    """
    import pytest

    ok = available() and (ALERTMANAGER is not None or not alertmanager)
    what = "prometheus, promtool" + (" or prometheus-alertmanager" if alertmanager else "")
    if not ok and os.environ.get("DETECTOR_REQUIRE_PROMETHEUS"):
        raise RuntimeError(f"DETECTOR_REQUIRE_PROMETHEUS is set (as .ci/run does) but {what} "
                           "is missing")
    packages = "prometheus" + (" and prometheus-alertmanager" if alertmanager else "")
    return pytest.mark.skipif(not ok, reason=f"Debian packages {packages} are not installed")


class PrometheusServer:
    """A Prometheus process serving backfilled data (see module docstring).

    Parameters
    ----------
    families : list of Family
    workdir : pathlib.Path
        Where the OpenMetrics file, the TSDB and the log go.
    scrape_interval : str
        The global scrape interval written into the configuration (what
        ``/api/v1/status/config`` reports).
    """

    def __init__(self, families: list[Family], workdir: Path, scrape_interval: str = "15s"):
        self.families = families
        self.workdir = Path(workdir)
        self.scrape_interval = scrape_interval
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, timeout: float = 60.0) -> "PrometheusServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        data = self.workdir / "data.om"
        tsdb = self.workdir / "tsdb"
        write_openmetrics(self.families, data)
        done = subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q",
                               str(data), str(tsdb)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"promtool backfill failed: {done.stderr.strip()[-2000:]}")
        data.unlink()
        config = self.workdir / "prometheus.yml"
        config.write_text(f"global:\n  scrape_interval: {self.scrape_interval}\n")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        log = open(self.workdir / "prometheus.log", "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tsdb}",
             "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}",
             "--web.enable-lifecycle"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("prometheus exited at start: "
                                   + (self.workdir / "prometheus.log").read_text()[-2000:])
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"prometheus not ready within {timeout} s")

    def stop(self) -> None:
        """Stop the server by its PID (SIGTERM, then SIGKILL)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            pass
