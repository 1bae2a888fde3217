"""The reports of a fixed sample of series, kept so that a speed change can show it
changed no verdict (issue 14).

``tests/data/report_snapshot.json`` holds, for every series of :func:`sample`, the fields
of :func:`fields`: what the code *before* a change said. ``tests/test_report_snapshot.py``
analyses the same series with the code under test and compares. A change meant to be
faster must leave every field as it was; a change meant to alter detection rewrites the
file on purpose, and its commit says which series changed and why::

    python tests/report_snapshot.py --write    # rewrite tests/data/report_snapshot.json
    python tests/report_snapshot.py            # list what differs from the file

The sample: every pattern of the synthetic generator with seeds 0-2 (``generate``'s
defaults: each series draws its own span and sampling, from 10 s to 5 minutes), the
generator's balanced dataset of seed 7 (60 series), and, where ``../shared/datasets`` is present, the
injected real set of seed 0 (101 real backgrounds, plain and with one leak each) and the
memorytools test runs judged with ``Config.for_test_runs()``.

This is a regression check, not a check of correctness: the file says what the code did,
not what it should do. Correctness is judged by ``detector eval`` and the other tests.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

SNAPSHOT = Path(__file__).with_name("data") / "report_snapshot.json"

#: Floats are compared to this relative tolerance (exactly at zero): a change in the last
#: bits from summation order is not a change of verdict, anything larger is.
REL_TOL = 1e-9
#: Times (unix seconds, ~1.7e9) are compared to this absolute tolerance instead: 1e-9 of
#: them would be 1.7 s, and samples come every second in some of the series.
TIME_FIELDS = frozenset({"onset", "changepoints"})
TIME_TOL = 1e-6


def sample(include_real: bool = True):
    """``(key, timestamps, values, limit, config)`` for every series of the sample."""
    from detector.config import Config
    from detector.evaluate.synthetic import PATTERNS, generate, generate_dataset

    for p in PATTERNS:
        for seed in range(3):
            g = generate(p, seed=seed)
            yield f"synthetic/{p}/{seed}", g.timestamps, g.values, g.limit, None
    for s in generate_dataset(60, seed=7):
        yield f"dataset7/{s.id}", s.timestamps, s.values, s.limit, None
    if not include_real:
        return
    from detector.evaluate import injected
    from detector.evaluate.realdata import find_data_dir

    data = find_data_dir()
    if data is None:
        return
    for it in injected.injected_items(0, data):
        yield f"injected0/{it.id}", it.timestamps, it.values, it.limit, None
    for it in injected.memorytools_items(data):
        yield f"memorytools/{it.id}", it.timestamps, it.values, it.limit, \
            Config.for_test_runs()


def fields(report) -> dict:
    """What must not change: the verdict, its pattern and numbers, and the decision text."""
    ev = report.evidence
    return {
        "leak": bool(report.leak),
        "verdict": report.verdict,
        "pattern": report.pattern,
        "score": report.score,
        "slope": report.slope,
        "onset": report.onset,
        "time_to_limit": report.time_to_limit,
        "period": report.period,
        "changepoints": [float(c) for c in report.changepoints],
        "decision": ev.get("decision"),
        "restarts": len(ev.get("lifetimes", {}).get("restarts", [])),
    }


def compute(include_real: bool = True) -> dict:
    """The fields of every series of the sample, by key."""
    from detector.analysis.pipeline import analyze

    out = {}
    for key, t, v, limit, config in sample(include_real):
        out[key] = fields(analyze(v, t, limit=limit, config=config))
    return out


def _same(a, b, time: bool = False) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if time:
            return abs(a - b) <= TIME_TOL
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0.0)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, time) for x, y in zip(a, b))
    return a == b


_MISSING = object()


def differences(expected: dict, actual: dict) -> list[str]:
    """One line per series and field that differs (or is missing on either side).

    ``expected`` as read from the file; ``actual`` as :func:`compute` gives it.
    """
    actual = json.loads(dump(actual))  # NaN and inf as the file stores them
    lines = []
    for key in sorted(set(expected) | set(actual)):
        if key not in actual:
            lines.append(f"{key}: in the snapshot, not in the sample")
        elif key not in expected:
            lines.append(f"{key}: new in the sample, not in the snapshot")
        else:
            for name in sorted(set(expected[key]) | set(actual[key])):
                want = expected[key].get(name, _MISSING)
                got = actual[key].get(name, _MISSING)
                if want is _MISSING or got is _MISSING:
                    lines.append(f"{key}: {name} is {'new' if want is _MISSING else 'gone'}")
                elif not _same(want, got, name in TIME_FIELDS):
                    lines.append(f"{key}: {name} was {want!r}, now {got!r}")
    return lines


def versions() -> str:
    """What the numbers depend on besides the code: the libraries and the real data."""
    import numba
    import numpy
    import scipy

    from detector.evaluate.realdata import find_data_dir

    data = find_data_dir()
    return (f"numpy {numpy.__version__}, scipy {scipy.__version__}, numba {numba.__version__}, "
            f"real data {'at ' + str(data) if data else 'absent'}")


def dump(values: dict) -> str:
    """The file's text: JSON, with NaN and infinities as the strings "nan", "inf", "-inf"
    (JSON has no such numbers)."""
    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
        if isinstance(x, list):
            return [clean(y) for y in x]
        if isinstance(x, dict):
            return {k: clean(y) for k, y in x.items()}
        return x

    return json.dumps(clean(values), indent=1, sort_keys=True) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help=f"rewrite {SNAPSHOT}")
    opts = ap.parse_args(argv)
    actual = compute()
    if opts.write:
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(dump(actual))
        print(f"wrote {len(actual)} reports to {SNAPSHOT}")
        return 0
    expected = json.loads(SNAPSHOT.read_text())
    diff = differences(expected, actual)
    print("\n".join(diff) if diff else f"all {len(actual)} reports as in the snapshot")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
