"""CSV reader (plain or gzip), on pyarrow's multi-threaded parser."""

from __future__ import annotations

import csv as _csv
import gzip
import re
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import InputError
from ..series import Series
from .table import RESTART_NAMES, table_to_series


def read_csv(path: str | Path) -> Iterator[Series]:
    """Read the series of a CSV file (``.csv`` or ``.csv.gz``).

    Parameters
    ----------
    path : str or pathlib.Path
        Long (``series,timestamp,value[,labels...]``), single
        (``timestamp,value``) or wide (``timestamp,<one column per series>``)
        CSV; tab-separated when the name ends in ``.tsv``/``.tsv.gz``.

    Yields
    ------
    Series

    Raises
    ------
    InputError
        Naming the file and 1-based line (header = line 1) of the first
        problem: a non-numeric value, an unparseable timestamp, a row with the
        wrong number of fields, a missing column, an empty file.
    """
    path = Path(path)
    source = str(path)
    stem = path.name
    for suffix in (".gz", ".csv", ".tsv", ".txt"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    table = _read_table(path, _delimiter(path))
    return table_to_series(table, source=source, default_id=stem,
                           locate=lambda row: physical_line(path, row + 2))


def _delimiter(path: Path) -> str:
    return "\t" if ".tsv" in Path(path).name.lower() else ","


#: Bytes of CSV parsed per block when streaming.
STREAM_BLOCK = 16 << 20


def open_csv_stream(path: str | Path, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
    """Record batches of a long CSV file, parsed block by block (bounded memory).

    Parameters
    ----------
    path : str or pathlib.Path
        A long-format CSV (``.gz`` decompressed on the fly).
    columns : list of str, optional
        Only these columns (all when None).

    Yields
    ------
    pyarrow.RecordBatch
        Key and label columns as dictionaries, ``value`` as float64 (a value
        that is not a number raises ``pyarrow.ArrowInvalid``; callers then read
        the file whole for the exact message).
    """
    path = Path(path)
    delimiter = _delimiter(path)
    with _open_binary(path) as fh:
        head = fh.read(1 << 16)
    types = _label_column_types(head, delimiter)
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").rstrip("\r")
    for name in next(_csv.reader([first], delimiter=delimiter), []):
        # (a type of its own per block would differ: an empty first block is null)
        if name.strip().lower() in ("value", *RESTART_NAMES):
            types[name] = pa.float64()
    convert = pacsv.ConvertOptions(column_types=types, include_columns=columns or [])
    try:
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=STREAM_BLOCK),
                                parse_options=pacsv.ParseOptions(delimiter=delimiter),
                                convert_options=convert)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc}", source=str(path)) from None
    yield from reader


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _read_table(path: Path, delimiter: str) -> pa.Table:
    source = str(path)
    try:
        with _open_binary(path) as fh:
            head = fh.read(1 << 16)
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read file: {exc}", source=source) from None
    if not head.strip():
        raise InputError("file is empty", source=source)
    parse = pacsv.ParseOptions(delimiter=delimiter)
    convert = pacsv.ConvertOptions(column_types=_label_column_types(head, delimiter))
    try:
        table = pacsv.read_csv(path, parse_options=parse, convert_options=convert)
        return table.unify_dictionaries()
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "Empty CSV file" in msg:
            raise InputError("file is empty", source=source) from None
        if "CSV parse error" in msg:
            row = _bad_row_number(path, delimiter)
            detail = re.sub(r"^CSV parse error: (Row #\d+: )?", "", msg)
            raise InputError(f"malformed row: {detail}", source=source,
                             line=physical_line(path, row) if row else None) from None
        raise InputError(f"cannot parse CSV: {msg}", source=source) from None
    except OSError as exc:  # gzip errors and the like
        raise InputError(f"cannot read file: {exc}", source=source) from None


def _label_column_types(head: bytes, delimiter: str) -> dict:
    """Read id and label columns of a long file as dictionaries (far less memory and work).

    Only when the header names a ``value`` column: in a wide file every other
    column holds numbers.
    """
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").rstrip("\r")
    names = next(_csv.reader([first], delimiter=delimiter), [])
    keys = [n.strip().lower() for n in names]
    if "value" not in keys:
        return {}
    skip = {"value", "timestamp", "time", *RESTART_NAMES}
    return {n: pa.dictionary(pa.int32(), pa.string()) for n, k in zip(names, keys)
            if k not in skip}


def _bad_row_number(path: Path, delimiter: str) -> int | None:
    """Non-empty row number (header = 1) of the first malformed row (slow path)."""
    found: list[int] = []

    def handler(row):
        if row.number is not None and not found:
            found.append(row.number)
        return "error"

    try:
        pacsv.read_csv(path, read_options=pacsv.ReadOptions(use_threads=False),
                       parse_options=pacsv.ParseOptions(delimiter=delimiter,
                                                        invalid_row_handler=handler))
    except pa.ArrowInvalid:
        pass
    return found[0] if found else None


def physical_line(path: Path, nonempty_row: int) -> int:
    """The 1-based physical line of the ``nonempty_row``-th non-empty line.

    pyarrow skips empty lines when it numbers rows; users count every line.
    Only called on error paths.
    """
    seen = 0
    with _open_binary(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            if line.strip(b"\r\n"):
                seen += 1
                if seen == nonempty_row:
                    return lineno
    return nonempty_row
