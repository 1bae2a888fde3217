"""The analysis stages: from one validated series to a Report.

One module per stage, data flowing one way::

    regularise   equal time bins (count, mean, min, max) over a stretch
    restarts     lifetimes split at restarts
    seasonality  the dominant period (day and week first)
    floor        what the process holds at its lowest, cycle after cycle
    growth       where growth began, whether it goes on, whether it is real
    checks       a named test with its number, threshold and reason
    lookalikes   the normal behaviours growth is mistaken for, one test each
    verdict      one lifetime: regime and growth checks and no veto
    replicates   completed lifetimes together: restart loop, batch work
    pipeline     the stages in order, and the verdict of the series
    trace        what a drawing of a verdict needs, as plain arrays

:func:`detector.analyze` (``pipeline.analyze``) is the public entry point.
"""
