"""Exact order statistics (median, percentiles) without numpy's overheads.

``np.median`` and ``np.percentile`` cost 10-30 us of dispatch on a handful of values, and
partition the whole of a long array through a copy (about 0.45 ms for a week of 15 s
samples here, several times a series). Here a median of up to :data:`SMALL` values sorts a
Python list, arrays below :data:`BRACKET_MIN` are partitioned directly, and longer ones are
bracketed first: the quantiles of a strided sample bound the wanted ranks, two vectorised
passes count what lies below and inside the bracket, and only the inside (a tenth to a
fifth of the array) is partitioned; when the sample puts both ends of the bracket on one
tied value (a regular sampling interval, integer counts), the counts alone give the answer.
The bracket never decides the answer: when the counts show a rank outside it (an unlucky
sample), the whole array is partitioned. The results are
the same floats as numpy's (``median``: the mean of the two middle values for an even
count; ``percentile``: numpy's default ``linear`` method, its interpolation formula
included), which the tests check on random, tied, constant and tiny inputs.

Plain numpy, no kernel to compile: these run on the default path, where every compiled
kernel adds to the first call's time.
"""

from __future__ import annotations

import math

import numpy as np

#: Below this many values a plain partition is faster than bracketing (measured on this
#: machine: 82 against 65 us at 30,000 values of noise, 23 against 40 at 10,000; the
#: partition, which copies, slows fourfold once the copy leaves the L2 cache).
BRACKET_MIN = 25_000

#: Up to this many values a median is taken by sorting a Python list.
SMALL = 16

#: Values in the strided sample that sets the bracket.
SAMPLE_SIZE = 1024


def order_statistics(x: np.ndarray, ranks) -> np.ndarray:
    """The ``ranks``-th smallest values of ``x`` (0-based), as ``np.partition`` gives them.

    Parameters
    ----------
    x : numpy.ndarray
        1-D array of finite floats (any unit). Not modified.
    ranks : sequence of int
        0-based ranks, each in ``[0, len(x))``.

    Returns
    -------
    numpy.ndarray
        One value per rank, in the order given.
    """
    n = x.shape[0]
    if n < BRACKET_MIN:
        return np.partition(x, ranks)[ranks]  # (kth in any order, repeats allowed)
    ranks = [int(k) for k in ranks]
    stride = n // SAMPLE_SIZE
    sample = np.sort(x[::stride])
    m = sample.shape[0]
    lo_k, hi_k = min(ranks), max(ranks)
    # +- 4 standard deviations of a sample quantile, and a little more for the stride
    pad = 4.0 * math.sqrt(0.25 * m) + 2.0
    i_lo = int(lo_k / n * m - pad)
    i_hi = int(math.ceil((hi_k + 1) / n * m + pad))
    lo = sample[i_lo] if i_lo > 0 else -math.inf
    hi = sample[i_hi] if i_hi < m else math.inf
    if i_lo > 0:
        keep = x >= lo
        below = n - int(np.count_nonzero(keep))  # no NaN: the rest is below
        if i_hi < m:
            keep &= x <= hi
        if lo == hi:  # a tied value (a regular sampling interval, integer counts): the
            # ranks inside the bracket are that value, with nothing to partition
            tied = int(np.count_nonzero(keep))
            if below <= lo_k and hi_k < below + tied:
                return np.full(len(ranks), lo)
        inside = x[keep]
    else:
        below = 0
        inside = x[x <= hi] if i_hi < m else x.copy()
    if below <= lo_k and hi_k < below + inside.shape[0]:
        local = [k - below for k in ranks]
        return np.partition(inside, local)[local]
    return np.partition(x, ranks)[ranks]  # the bracket missed: the plain way


def median(x: np.ndarray) -> float:
    """``np.median(x)`` for a 1-D array of finite floats (the same float), NaN when empty."""
    n = x.shape[0]
    if n == 0:
        return math.nan
    if n <= SMALL:  # in Python floats: a tenth of numpy's overhead for a handful of values
        s = sorted(x.tolist())
        return float(s[n // 2]) if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0
    if n % 2:
        return float(order_statistics(x, [n // 2])[0])
    a, b = order_statistics(x, [n // 2 - 1, n // 2])
    return float((a + b) / 2.0)


def mad(x: np.ndarray) -> float:
    """Median absolute deviation from the median, ``median(|x - median(x)|)``, for a 1-D
    array of finite floats (numpy's very floats); NaN when empty."""
    return median(np.abs(x - median(x)))


def percentiles(x: np.ndarray, qs) -> list[float]:
    """``np.percentile(x, q)`` for each ``q`` in ``qs`` (percent, 0-100), numpy's default
    ``linear`` method, for a 1-D array of finite floats; the same floats."""
    n = x.shape[0]
    if n == 0:
        raise ValueError("percentiles of an empty array")
    wanted = []
    for q in qs:
        virtual = (n - 1) * (float(q) / 100.0)
        if virtual >= n - 1:
            prev = nxt = n - 1
        else:
            prev = int(math.floor(virtual))
            nxt = prev + 1
        wanted.append((virtual, prev, nxt))
    ranks = sorted({k for _, prev, nxt in wanted for k in (prev, nxt)})
    values = dict(zip(ranks, order_statistics(x, ranks)))
    out = []
    for virtual, prev, nxt in wanted:
        a, b = values[prev], values[nxt]
        gamma = virtual - prev  # at the top a == b, and any gamma gives b
        diff = b - a
        # numpy's _lerp: from the nearer end, so that gamma = 1 gives b exactly
        out.append(float(b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma))
    return out
