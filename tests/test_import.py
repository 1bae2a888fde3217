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


def test_analyze_of_arrays_does_not_load_pandas():
    # pandas costs a first analyze a quarter of a second; arrays in, no pandas needed
    out = run("import sys, numpy as np, detector; "
              "t = 1.7e9 + np.arange(2000) * 60.0; "
              "r = detector.analyze(5e8 + (t - t[0]) * 2e3 + np.random.default_rng(0).normal(0, 1e6, t.size), t); "
              "r.to_dict(); print(r.verdict, 'pandas' in sys.modules)")
    assert out == "leak False"


def test_pandas_input_still_works_when_pandas_is_loaded_later():
    # the checks for pandas objects look at sys.modules: an object made after the first
    # analyze (pandas imported late) must still be recognised
    out = run("import numpy as np, detector; "
              "t = 1.7e9 + np.arange(2000) * 60.0; "
              "v = 5e8 + (t - t[0]) * 2e3 + np.random.default_rng(0).normal(0, 1e6, t.size); "
              "detector.analyze(v, t); import pandas as pd; "
              "s = pd.Series(v, index=pd.to_datetime(t, unit='s', utc=True)); "
              "r = detector.analyze(s); print(r.verdict, r.evidence['input']['interval'])")
    assert out == "leak 60.0"
