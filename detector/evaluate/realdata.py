"""Loaders for the real public series in ``shared/datasets`` (Exathlon, Alibaba, NAB).

The data are not copied into this repository (only NAB's licence would allow
it); point at them with ``--data-dir``, the ``DETECTOR_DATA_DIR`` variable, or
keep the ``shared/`` folder beside the clone (``../shared/datasets``).
``labels.json`` there gives each file's provenance, licence and labels.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import InputError
from ..series import Series
from ..sources import read_path
from ..timestamps import to_unix_seconds

SOURCES = ("exathlon", "jindal_alibaba", "nab")


@dataclass(frozen=True)
class RealSeries:
    """One real series with its labels.

    Attributes
    ----------
    id : str
        Path relative to the data directory, e.g. ``exathlon/1_0_..._heap_used.csv``.
    source : str
        ``exathlon``, ``jindal_alibaba`` or ``nab``.
    series : Series
    anomaly_windows : list of (float, float) or None
        Labelled anomaly windows (unix seconds, both ends included); ``[]`` means
        labelled normal, ``None`` unlabelled.
    label_status : str
    series_label : str or None
    metric : str
    """

    id: str
    source: str
    series: Series
    anomaly_windows: list | None
    label_status: str
    series_label: str | None
    metric: str


def find_data_dir(explicit: str | Path | None = None) -> Path | None:
    """The directory holding ``labels.json``: explicit, ``$DETECTOR_DATA_DIR``, or ``../shared``.

    Returns None when none exists.
    """
    if explicit is not None:
        if (Path(explicit) / "labels.json").is_file():
            return Path(explicit)
        raise InputError("no labels.json here (expected the shared/datasets folder)",
                         source=str(explicit))
    candidates = []
    if os.environ.get("DETECTOR_DATA_DIR"):
        candidates.append(Path(os.environ["DETECTOR_DATA_DIR"]))
    repo = Path(__file__).resolve().parents[2]
    candidates += [repo.parent / "shared" / "datasets", Path.cwd().parent / "shared" / "datasets"]
    for c in candidates:
        if (c / "labels.json").is_file():
            return c
    return None


def load(data_dir: str | Path, sources=SOURCES) -> Iterator[RealSeries]:
    """Yield every labelled file of ``sources`` under ``data_dir``.

    Parameters
    ----------
    data_dir : str or Path
        Folder with ``labels.json`` and the source folders.
    sources : iterable of str
        Which sources to load.
    """
    data_dir = Path(data_dir)
    meta = json.loads((data_dir / "labels.json").read_text())["series"]
    for rel, lab in sorted(meta.items()):
        if lab.get("source") not in sources:
            continue
        path = data_dir / rel
        series = next(iter(read_path(path)))
        windows = lab.get("anomaly_windows")
        if windows is not None:
            windows = [tuple(float(x) for x in to_unix_seconds(list(w))) for w in windows]
        yield RealSeries(rel, lab["source"], series, windows, lab.get("label_status", ""),
                         lab.get("series_label"), lab.get("metric", ""))
