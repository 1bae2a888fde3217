"""Importing detector is cheap: no numba, no kernel compiled, no heavy module."""

import subprocess
import sys


def run(code):
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_import_detector_loads_no_numba():
    out = run("import sys, detector, detector.kernels; "
              "print(sorted(m for m in ('numba', 'scipy', 'statsmodels', 'ruptures') "
              "if m in sys.modules))")
    assert out == "[]"


def test_version_flag_does_not_load_kernels():
    out = run("import sys; from typer.testing import CliRunner; from detector.cli import app; "
              "r = CliRunner().invoke(app, ['--version']); print(r.stdout.strip(), "
              "'numba' in sys.modules)")
    assert out.endswith("False") and out.startswith("detector ")
