"""`detector warmup`: it compiles every kernel, later runs compile nothing, and a machine
where numba cannot keep a cache still runs (uncached, with one clear warning)."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(args, env_extra, cwd=ROOT, timeout=600):
    env = {**os.environ, **env_extra}
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout)


def kernel_dispatchers():
    """(module short name, function name) of every numba kernel in detector.kernels."""
    import importlib
    import pkgutil

    import numba

    import detector.kernels as k

    found = []
    for info in pkgutil.iter_modules(k.__path__):
        mod = importlib.import_module("detector.kernels." + info.name)
        for name, obj in vars(mod).items():
            if isinstance(obj, numba.core.registry.CPUDispatcher) \
                    and obj.__module__ == mod.__name__ \
                    and obj.targetoptions.get("inline") != "always":  # inlined: no own code
                found.append((info.name, name))
    return found


def test_warmup_fills_an_empty_cache_and_a_later_scan_compiles_nothing(tmp_path):
    """On an empty NUMBA_CACHE_DIR, `detector warmup` compiles every kernel of
    detector.kernels (each has its cache index file afterwards: a kernel added without a
    warmup step fails here); then `detector scan --demo` loads its kernels from the cache
    and compiles none (numba's own cache log)."""
    cache = tmp_path / "numba-cache"
    env = {"NUMBA_CACHE_DIR": str(cache)}
    res = run([sys.executable, "-m", "detector", "warmup"], env)
    assert res.returncode == 0, res.stderr
    assert f"kernels cached in {cache}" in res.stderr
    indexes = {p.name for p in cache.rglob("*.nbi")}
    kernels = kernel_dispatchers()
    assert len(kernels) > 40
    missing = [f"{m}.{f}" for m, f in kernels
               if not any(i.startswith(f"{m}.{f}-") for i in indexes)]
    assert not missing, f"warmup does not compile {missing}"
    res = run([sys.executable, "-m", "detector", "scan", "--demo"],
              {**env, "NUMBA_DEBUG_CACHE": "1"})
    assert res.returncode == 1, res.stderr  # the demo holds leaks
    assert "data loaded from" in res.stdout
    assert "data saved to" not in res.stdout  # nothing compiled


@pytest.fixture
def no_writable_cache(tmp_path):
    """A copy of the package where numba can write no cache: NUMBA_CACHE_DIR, the
    package's __pycache__ and the user cache directory all lie under a regular file."""
    copy = tmp_path / "pkg"
    shutil.copytree(ROOT / "detector", copy / "detector",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for d in (copy / "detector").rglob("*"):
        if d.is_dir():
            (d / "__pycache__").write_text("not a directory")
    (copy / "detector" / "__pycache__").write_text("not a directory")
    blocker = tmp_path / "file"
    blocker.write_text("")
    return copy, {"NUMBA_CACHE_DIR": str(blocker / "numba"), "HOME": str(blocker),
                  "XDG_CACHE_HOME": str(blocker / "cache"), "PYTHONPATH": str(copy),
                  "PYTHONDONTWRITEBYTECODE": "1"}


def test_no_writable_cache_compiles_uncached_with_one_warning(no_writable_cache):
    """numba alone raises `RuntimeError: cannot cache function` at import there; the
    kernels compile without a cache instead, warn once, and give the same results."""
    copy, env = no_writable_cache
    script = textwrap.dedent("""
        import warnings
        import numpy as np
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            import detector
            from detector.kernels import bin_stats, theil_sen
            count = bin_stats(np.arange(6.0), np.arange(6.0), 0.0, 2.0, 3)[0]
            slope = theil_sen([1.0, 2.0, 4.0, 8.0])[0]
        print(detector.__file__)
        print(count.tolist(), slope)
        print(sum("NUMBA_CACHE_DIR" in str(w.message) for w in caught))
    """)
    res = run([sys.executable, "-c", script], env, cwd=copy)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith(str(copy))
    from scipy.stats import theilslopes

    assert lines[1] == f"[2, 2, 2] {float(theilslopes([1.0, 2.0, 4.0, 8.0])[0])!r}"
    assert lines[2] == "1"


def test_warmup_without_a_writable_cache_exits_2(no_writable_cache):
    copy, env = no_writable_cache
    res = run([sys.executable, "-m", "detector", "warmup", "--quiet"], env, cwd=copy)
    assert res.returncode == 2, res.stderr
    assert "no writable cache directory" in res.stderr
    assert "Traceback" not in res.stderr
