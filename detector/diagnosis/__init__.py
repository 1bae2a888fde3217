"""From a verdict to a diagnosis.

What an SRE asks after "leak, onset 03:12", each answered by one module:

* :mod:`.breakdown`: which memory component grows (RSS, page cache, swap), and
  what that means for the verdict;
* :mod:`.events` and :mod:`.kube`: restarts, OOM kills, deploys and a user's
  own events, read from files or derived from kube-state-metrics and cAdvisor
  series; :mod:`.pairing` puts them beside the onset and the change points;
* :mod:`.verify`: did the fix work (slope, floor and peak before and after).

:mod:`.windows` holds the per-window summaries and the robust slope they share.
Everything here builds on the public analysis (:func:`detector.analyze`) and
the kernels; nothing here changes how a single series is judged.
"""
