"""The allocator settings (detector.malloc): applied once, and can be switched off."""

import subprocess
import sys

CODE = """
import ctypes, numpy as np, detector
from detector import malloc
print(malloc.applied())
detector.analyze(np.arange(100.0))
print(malloc.applied())
"""


def _run(env_value):
    import os

    env = dict(os.environ)
    env.pop("DETECTOR_MALLOC_TUNE", None)
    if env_value is not None:
        env["DETECTOR_MALLOC_TUNE"] = env_value
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                         env=env, check=True)
    return out.stdout.split()


def test_first_analyze_tunes_the_allocator():
    # (CI runs on Debian, glibc: mallopt is there)
    # import alone changes nothing; the first analyze applies the settings
    assert _run(None) == ["False", "True"]


def test_switched_off_by_the_environment():
    assert _run("0") == ["False", "False"]
    assert _run(" Off ") == ["False", "False"]
