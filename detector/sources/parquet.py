"""Parquet reader, on pyarrow."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from ..series import Series
from .table import table_to_series


def read_parquet(path: str | Path) -> Iterator[Series]:
    """Read the series of a Parquet file (same layouts as CSV).

    Parameters
    ----------
    path : str or pathlib.Path
        A Parquet file in long, single or wide layout.

    Yields
    ------
    Series

    Raises
    ------
    InputError
        Naming the file and the 1-based data row of the first problem.
    """
    path = Path(path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read Parquet: {exc}", source=str(path)) from None
    stem = path.name.rsplit(".", 1)[0]
    return table_to_series(table, source=str(path), default_id=stem,
                           locate=lambda row: row + 1, unit="row")
