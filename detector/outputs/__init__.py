"""Writers of scan results, one module per kind of output.

    formats      table, JSON, CSV and Parquet (``--format``), atomic writes, reading back
    openmetrics  gauges for node_exporter's textfile collector (``--openmetrics``)
    journal      the checkpoint journal of a running scan (``--resume``)

Every writer takes :class:`detector.results.ScanResult` s. The names of
:mod:`.formats` are available here too (``from detector.outputs import render``).
"""

from __future__ import annotations

from .formats import (FORMATS, human_bytes_rate, human_duration, human_time, read_results,
                      render, render_table, rows, write_atomic)

__all__ = ["FORMATS", "human_bytes_rate", "human_duration", "human_time", "read_results",
           "render", "render_table", "rows", "write_atomic"]
