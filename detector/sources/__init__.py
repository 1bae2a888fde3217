"""Sources: readers that turn files and servers into :class:`detector.Series`.

One small interface: a reader is a callable ``read(path) -> Iterator[Series]``
that raises :class:`detector.errors.InputError` naming the file and line for
bad input.  Sources know nothing of statistics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..errors import InputError
from ..series import Series


def read_path(path: str | Path) -> Iterator[Series]:
    """Read every series in a CSV (``.csv``, ``.csv.gz``) or Parquet file.

    Parameters
    ----------
    path : str or pathlib.Path
        The file. Its format is chosen by its suffix.

    Yields
    ------
    Series

    Raises
    ------
    InputError
        Missing or unreadable file, unknown suffix, or bad content (naming the
        line).
    """
    return read_whole(path)


def read_whole(path: str | Path) -> Iterator[Series]:
    """Read a file whole and split it into series (any layout, any row order).

    Same parameters and errors as :func:`read_path`.
    """
    path = Path(path)
    name = path.name.lower()
    if not path.exists():
        raise InputError("no such file", source=str(path))
    if path.is_dir():
        raise InputError("is a directory, expected a .csv, .csv.gz or .parquet file",
                         source=str(path))
    if name.endswith((".parquet", ".pq", ".parq")):
        from .parquet import read_parquet
        return read_parquet(path)
    if name.endswith((".csv", ".csv.gz", ".txt", ".txt.gz", ".tsv", ".tsv.gz")):
        from .csv import read_csv
        return read_csv(path)
    raise InputError("unknown file type: expected .csv, .csv.gz or .parquet", source=str(path))


__all__ = ["read_path"]
