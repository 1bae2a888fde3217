"""The analysis stages: from one validated series to a Report.

One module per stage, data flowing one way::

    regularise   equal time bins (count, mean, min, max) over a stretch
    restarts     lifetimes split at restarts
    seasonality  the dominant period (day and week first)
    floor        what the process holds at its lowest, cycle after cycle
    regimes      where growth began, whether it goes on, whether it is a leak
    pipeline     the stages in order, and the verdict

:func:`detector.analyze` (``pipeline.analyze``) is the public entry point.
"""
