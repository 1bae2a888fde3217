"""The checkpoint journal of a scan: results appended as they come, for ``--resume``.

While ``detector scan --output FILE`` runs, every result is appended to
``FILE.journal`` as one JSON line (``{"row": ..., "labels": ...}``), written
through to the operating system at once and forced to disk (``fsync``) at most
every :data:`SYNC_SECONDS`. A process that is killed loses at most the line it
was writing, which :func:`read_journal` ignores. When the scan ends the output is
written whole (temporary file, then rename) and the journal is deleted.

The first line is a header naming what was scanned; resuming with other inputs
is refused, since the recorded results would not belong to them.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Mapping

from ..errors import InputError
from ..results import ScanResult

#: Longest time (seconds) between two fsyncs of the journal.
SYNC_SECONDS = 1.0


def journal_path(output: str | Path) -> Path:
    """The journal beside ``output``: ``<output>.journal``."""
    output = Path(output)
    return output.with_name(output.name + ".journal")


def read_journal(path: str | Path, header: Mapping | None = None) -> dict[str, ScanResult]:
    """The results recorded in a journal, by series id (empty if there is none).

    Parameters
    ----------
    path : str or pathlib.Path
        The journal.
    header : mapping, optional
        What this scan is; a journal written for something else is refused.

    Raises
    ------
    InputError
        The journal was written for other inputs, or a line other than the
        last is not JSON.
    """
    path = Path(path)
    if not path.exists():
        return {}
    lines = path.read_bytes().split(b"\n")
    done: dict[str, ScanResult] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number >= len(lines) - 1:  # the line a killed run was writing
                break
            raise InputError("not a JSON line", source=str(path), line=number) from None
        if number == 1:
            if header is not None and record.get("header") != dict(header):
                raise InputError("this journal was written by a scan of other inputs or "
                                 "settings; delete it or run without --resume",
                                 source=str(path))
            continue
        result = ScanResult.from_record(record)
        done[result.series] = result
    return done


class Journal:
    """Append-only writer of a scan's journal.

    Parameters
    ----------
    path : str or pathlib.Path
        The journal file.
    header : mapping
        JSON-serialisable description of the scan (inputs, limit, ...).
    resume : bool
        Keep the results already in the file (else start a new journal).
    """

    def __init__(self, path: str | Path, header: Mapping, *, resume: bool):
        self.path = Path(path)
        keep = resume and self.path.exists() and self.path.stat().st_size > 0
        if keep:
            self._drop_torn_tail()
        self._fh = open(self.path, "ab" if keep else "wb")
        if not keep:
            self._write(json.dumps({"header": dict(header)}).encode() + b"\n")
        self._synced = time.monotonic()

    def _drop_torn_tail(self) -> None:
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(self.path, "r+b") as fh:
                fh.truncate(data.rfind(b"\n") + 1)

    def _write(self, data: bytes) -> None:
        self._fh.write(data)
        self._fh.flush()

    def append(self, result: ScanResult) -> None:
        """Record one result (flushed to the OS now, to disk within SYNC_SECONDS)."""
        self._write(json.dumps(result.to_record(), allow_nan=False).encode() + b"\n")
        now = time.monotonic()
        if now - self._synced >= SYNC_SECONDS:
            os.fsync(self._fh.fileno())
            self._synced = now

    def close(self) -> None:
        """Flush and close (the file stays)."""
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def remove(self) -> None:
        """Close and delete the journal (the scan finished and its output is written)."""
        self.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False
