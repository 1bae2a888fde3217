"""Errors that reach users: each names what is wrong and where."""

from __future__ import annotations


class DetectorError(Exception):
    """Base class of the errors raised on purpose by detector."""


class InputError(DetectorError, ValueError):
    """Bad input: a file, a line, a column or a series that cannot be used.

    Parameters
    ----------
    message : str
        What is wrong, in one line.
    source : str, optional
        The file (or series id) the problem is in.
    line : int, optional
        1-based line number in ``source``, counting the header as line 1.
    """

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None):
        self.message = message
        self.source = source
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.source is not None:
            where = f"{self.source}"
            if self.line is not None:
                where += f", line {self.line}"
            where += ": "
        return where + self.message


class SourceUnreachable(DetectorError):
    """A data source (a server, a remote store) could not be reached."""
