"""Trend kernels: Mann-Kendall (plain and Hamed-Rao), Theil-Sen, and OLS with HAC errors.

``mann_kendall`` counts concordant and discordant pairs with a merge sort
(O(n log n)) instead of comparing every pair; ``theil_sen`` selects the median
pairwise slope by counting pairs below a trial slope (again a merge sort) and
narrowing the slope interval until few enough pairs remain to list them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ._jit import kernel
from ._validate import as_float_array, check_float, check_int
from .order import median, order_statistics

# ---------------------------------------------------------------- merge-sort counting


_RUN = 16  # _count_inversions: runs sorted by insertion before the merge passes


@kernel
def _count_inversions(a):
    """Pairs i < j with a[i] > a[j] (strict), by a bottom-up merge sort of a copy.

    Runs of 16 are sorted by insertion first (each shift past a larger value is one
    inversion), which replaces the four shortest, overhead-heaviest merge passes; indices
    are unsigned, so numba emits no negative-index wraparound code (~25 % faster at 1e6).
    Scratch arrays come from ``np.empty`` alone, the allocation every kernel on the
    analysis path shares (each other numpy constructor adds its own compile time).
    """
    one = np.uint64(1)
    n = np.uint64(a.shape[0])
    run = np.uint64(_RUN)
    src = np.empty(a.shape[0])
    dst = np.empty(a.shape[0])
    for i in range(n):
        src[i] = a[i]
    total = np.uint64(0)
    for lo in range(np.uint64(0), n, run):
        hi = min(lo + run, n)
        for i in range(lo + one, hi):
            v = src[i]
            j = i
            while j > lo and src[j - one] > v:
                src[j] = src[j - one]
                j -= one
            total += i - j
            src[j] = v
    width = run
    while width < n:
        for lo in range(np.uint64(0), n, width + width):
            mid = min(lo + width, n)
            hi = min(mid + width, n)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if src[i] <= src[j]:
                    dst[k] = src[i]
                    i += one
                else:
                    dst[k] = src[j]
                    total += mid - i
                    j += one
                k += one
            while i < mid:
                dst[k] = src[i]
                i += one
                k += one
            while j < hi:
                dst[k] = src[j]
                j += one
                k += one
        src, dst = dst, src
        width += width
    return np.int64(total)


@kernel
def _tie_terms(sorted_x):
    """For runs of equal values t: sum t(t-1)/2 and sum t(t-1)(2t+5)."""
    pairs = 0
    var_term = 0.0
    n = sorted_x.shape[0]
    i = 0
    while i < n:
        j = i + 1
        while j < n and sorted_x[j] == sorted_x[i]:
            j += 1
        t = j - i
        if t > 1:
            pairs += t * (t - 1) // 2
            var_term += t * (t - 1.0) * (2.0 * t + 5.0)
        i = j
    return pairs, var_term


def _mk_s(x: np.ndarray) -> tuple[int, float]:
    """Mann-Kendall S (concordant - discordant pairs) and its tie-corrected variance.

    The sort for the tie groups is numpy's: numba's ``np.sort`` alone costs about
    1.5 s to compile on a cold cache (and gives the same sorted values).
    """
    n = x.shape[0]
    inversions = int(_count_inversions(x))
    tie_pairs, var_term = _tie_terms(np.sort(x))
    s = n * (n - 1) // 2 - 2 * inversions - int(tie_pairs)
    var_s = (n * (n - 1.0) * (2.0 * n + 5.0) - float(var_term)) / 18.0
    return s, var_s


# ---------------------------------------------------------------- Mann-Kendall


@dataclass(frozen=True)
class MannKendallResult:
    """Result of :func:`mann_kendall` (fields as ``pymannkendall``).

    Attributes
    ----------
    trend : str
        ``"increasing"``, ``"decreasing"`` or ``"no trend"`` at level ``alpha``.
    h : bool
        Whether the trend is significant (two-sided).
    p : float
        Two-sided p-value.
    z : float
        Normal test statistic (continuity-corrected).
    tau : float
        Kendall's tau, ``s / (n (n - 1) / 2)``.
    s : int
        Mann-Kendall score: concordant minus discordant pairs.
    var_s : float
        Variance of ``s`` (tie-corrected; times n/n* with Hamed-Rao).
    n : int
        Samples used (NaN dropped).
    n_ns_ratio : float
        Hamed-Rao variance correction n/n* (1.0 without correction).
    slope, intercept : float
        Sen's slope (value units per sample) and intercept (properties,
        computed on first access: O(n log n) but costlier than the test).
    """

    trend: str
    h: bool
    p: float
    z: float
    tau: float
    s: int
    var_s: float
    n: int
    n_ns_ratio: float = 1.0
    _sen_input: tuple | None = field(default=None, repr=False, compare=False)

    @cached_property
    def _sen(self) -> tuple[float, float]:
        # Sen's slope costs more than the test itself: computed on first use only
        if self._sen_input is None:
            return math.nan, math.nan
        return _sen_on_positions(*self._sen_input)

    @property
    def slope(self) -> float:
        """Sen's slope (value units per sample), over the original sample positions."""
        return self._sen[0]

    @property
    def intercept(self) -> float:
        """Intercept of the Kendall-Theil line, as pymannkendall computes it."""
        return self._sen[1]


def _z_score(s: float, var_s: float) -> float:
    if s > 0:
        return (s - 1) / math.sqrt(var_s) if var_s > 0 else math.nan
    if s < 0:
        return (s + 1) / math.sqrt(var_s) if var_s > 0 else math.nan
    return 0.0


def _p_value(z: float, alpha: float):
    from scipy.special import ndtr, ndtri

    p = 2 * (1 - float(ndtr(abs(z))))  # as pymannkendall computes it
    h = bool(abs(z) > float(ndtri(1 - alpha / 2)))
    if z < 0 and h:
        trend = "decreasing"
    elif z > 0 and h:
        trend = "increasing"
    else:
        trend = "no trend"
    return p, h, trend


def mann_kendall(x, *, correction: str | None = None, alpha: float = 0.05,
                 lag: int | None = None) -> MannKendallResult:
    """Mann-Kendall trend test, in O(n log n).

    Parameters
    ----------
    x : array_like
        Values in time order (equally spaced samples); NaN are dropped.
    correction : {None, "hamed_rao"}
        ``None``: the original test (tie-corrected variance). ``"hamed_rao"``:
        variance multiplied by n/n* from the autocorrelation of the ranks of
        the Sen-detrended series at lags significant at ``alpha``.
    alpha : float, default 0.05
        Significance level.
    lag : int, optional
        Hamed-Rao: highest lag considered (default all, n - 1).

    Returns
    -------
    MannKendallResult

    Notes
    -----
    ``correction=None`` equals ``pymannkendall.original_test(x, alpha)``;
    ``"hamed_rao"`` equals ``pymannkendall.hamed_rao_modification_test(x,
    alpha, lag)`` (1e-9 relative). S comes from counting inversions with a
    merge sort (Knight's algorithm) rather than from all n^2 pairs; the Sen
    slope from :func:`theil_sen`, the rank autocorrelation by FFT.
    """
    x = as_float_array(x, "x")
    alpha = check_float(alpha, "alpha")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if correction not in (None, "hamed_rao"):
        raise ValueError(f"correction must be None or 'hamed_rao', got {correction!r}")
    if lag is not None:
        lag = check_int(lag, "lag", minimum=1)
    if np.isinf(x).any():
        raise ValueError("x must not hold inf (NaN marks missing samples)")
    finite = ~np.isnan(x)
    xs = np.ascontiguousarray(x[finite])
    n = xs.shape[0]
    if correction == "hamed_rao" and n < 3:
        raise ValueError(f"the Hamed-Rao correction needs at least 3 valid samples, got {n}")
    if n >= 2:
        s, var_s = _mk_s(xs)
    else:
        s, var_s = 0, 0.0
    s = int(s)
    tau = s / (0.5 * n * (n - 1)) if n >= 2 else math.nan
    ratio = 1.0
    result_sen = (x, finite)
    if correction == "hamed_rao":
        slope, intercept = _sen_on_positions(x, finite)
        ratio = _hamed_rao_ratio(xs, slope, alpha, lag)
        var_s = var_s * ratio
    z = _z_score(s, var_s)
    p, h, trend = _p_value(z, alpha)
    result = MannKendallResult(trend, h, p, z, tau, s, var_s, n, ratio, result_sen)
    if correction == "hamed_rao":
        result.__dict__["_sen"] = (slope, intercept)  # already computed: keep it
    return result


def hamed_rao_factor(x: np.ndarray, *, alpha: float = 0.05, lag: int | None = None,
                     sen_slope: float | None = None) -> float:
    """The factor n/n* by which the Hamed-Rao correction multiplies the variance of S.

    ``mann_kendall(x).var_s * hamed_rao_factor(x)`` is, to the last bit,
    ``mann_kendall(x, correction="hamed_rao").var_s``, without counting S again or
    working out Sen's intercept: for callers that already have the plain test and
    correct many stretches.

    Parameters
    ----------
    x : numpy.ndarray
        Values in time order (equally spaced samples), 1-D float64, at least 3,
        none NaN or inf.
    alpha : float, default 0.05
        Significance level of the lags kept.
    lag : int, optional
        Highest lag considered (default all, n - 1).
    sen_slope : float, optional
        Sen's slope of ``x`` over sample positions (units of x per sample), when the
        caller has it (:class:`detector.kernels.suffix_slopes.SuffixSlopes`); it must
        be that float, to the last bit, for the result to be the peer's.

    Returns
    -------
    float
        n/n* (may be below 1, or NaN for a constant series, as the peer's).
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    n = x.shape[0]
    if n < 3:
        raise ValueError(f"the Hamed-Rao correction needs at least 3 values, got {n}")
    if sen_slope is None:
        sen_slope, _ = _theil_sen_sorted(x, np.arange(n, dtype=np.float64))
    return _hamed_rao_ratio(x, sen_slope, alpha, lag)


def _sen_on_positions(x: np.ndarray, finite: np.ndarray) -> tuple[float, float]:
    """Sen's slope and intercept over sample positions, NaN samples left out."""
    pos = np.flatnonzero(finite).astype(np.float64)
    if pos.shape[0] < 2:
        return math.nan, math.nan
    return theil_sen(x[finite], pos)


def _hamed_rao_ratio(xs: np.ndarray, slope: float, alpha: float, lag: int | None) -> float:
    """n/n* of Hamed and Rao (1998): detrend by Sen's slope (over the original sample
    positions, as pymannkendall 1.4.3 does), rank, and sum the autocorrelation of
    the ranks at lags outside the +-z/sqrt(n) band."""
    from scipy.special import ndtri

    from .seasonal import acf

    n = xs.shape[0]
    detrended = xs - np.arange(1, n + 1) * slope
    ranks = _average_ranks(detrended)
    r = acf(ranks, n - 1) if np.ptp(ranks) > 0 else np.full(n, np.nan)
    bound = float(ndtri(1 - alpha / 2)) / math.sqrt(n)
    top = n if lag is None else lag + 1
    i = np.arange(1, min(top, n))
    ri = r[i]
    keep = ~((ri <= bound) & (ri >= -bound))  # outside the band (NaN counts, as in the peer)
    sni = float(np.sum(((n - i) * (n - i - 1.0) * (n - i - 2.0) * ri)[keep]))
    return 1 + (2 / (n * (n - 1) * (n - 2))) * sni


def _average_ranks(a: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties given their mean rank: ``scipy.stats.rankdata(a)`` (method
    "average"), the same floats, for finite ``a``, without importing scipy.stats (about
    0.6 s of every process's start)."""
    n = a.shape[0]
    order = np.argsort(a, kind="stable")
    s = a[order]
    first = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))  # each tie group
    size = np.diff(np.append(first, n))
    ranks = np.empty(n)
    ranks[order] = np.repeat(first + (size + 1) / 2.0, size)
    return ranks


# ---------------------------------------------------------------- Theil-Sen


def _count_below(y, x, s):
    """Pairs with x_i < x_j and slope < s, for points sorted by (x, y).

    With z = y - s x, such a pair is an inversion of z in that order. (The keys are
    computed here, in numpy: an array expression inside a kernel costs compile time.)
    """
    return int(_count_inversions(y - s * x))


def _pairs_between(yc, xc, y, x, lo, hi, limit):
    """Float slopes (from y, x) of the pairs with x_i < x_j and lo <= slope < hi.

    Points sorted by (x, y); ``yc``, ``xc`` are centred copies used for the
    ordering keys. A pair is in the band exactly when it is in z_lo order and
    inverted in z_hi order, so a merge sort of the z_hi keys taken in z_lo
    order lists them in O(n log n + k). At most ``limit`` are returned; the
    second value is how many there are. The z_lo order is numpy's stable sort
    (the permutation numba's merge sort gave, without its seconds of compile time).
    """
    order = np.argsort(yc - lo * xc, kind="stable")
    out = np.empty(max(limit, 1), np.float64)
    count = int(_list_band_pairs((yc - hi * xc)[order], order, y, x, out))
    return out[:min(count, limit)], count


@kernel
def _list_band_pairs(keys, order, y, x, out):
    """Merge-sort ``keys`` (z_hi in z_lo order; ``order`` the point of each) and write
    the slope of every inverted pair with distinct x into ``out`` while it has room;
    return how many there are."""
    n = keys.shape[0]
    limit = out.shape[0]
    src_k = np.empty(n)
    dst_k = np.empty(n)
    src_i = np.empty(n, np.int64)
    dst_i = np.empty(n, np.int64)
    for i in range(n):
        src_k[i] = keys[i]
        src_i[i] = order[i]
    count = 0
    width = 1
    while width < n:
        for a in range(0, n, 2 * width):
            mid = min(a + width, n)
            b = min(a + 2 * width, n)
            i, j, k = a, mid, a
            while i < mid and j < b:
                if src_k[i] <= src_k[j]:
                    dst_k[k] = src_k[i]
                    dst_i[k] = src_i[i]
                    i += 1
                else:
                    p2 = src_i[j]
                    for q in range(i, mid):
                        p1 = src_i[q]
                        if x[p1] < x[p2]:
                            if count < limit:
                                out[count] = (y[p2] - y[p1]) / (x[p2] - x[p1])
                            count += 1
                        elif x[p1] > x[p2]:
                            if count < limit:
                                out[count] = (y[p1] - y[p2]) / (x[p1] - x[p2])
                            count += 1
                    dst_k[k] = src_k[j]
                    dst_i[k] = src_i[j]
                    j += 1
                k += 1
            while i < mid:
                dst_k[k] = src_k[i]
                dst_i[k] = src_i[i]
                i += 1
                k += 1
            while j < b:
                dst_k[k] = src_k[j]
                dst_i[k] = src_i[j]
                j += 1
                k += 1
        src_k, dst_k = dst_k, src_k
        src_i, dst_i = dst_i, src_i
        width *= 2
    return count


def _all_slopes(y, x, n_pairs):
    """The float slopes of all pairs with x_i < x_j (points sorted by x), pair order."""
    out = np.empty(n_pairs, np.float64)
    return out[:_all_slopes_into(y, x, out)]


@kernel
def _all_slopes_into(y, x, out):
    k = 0
    n = y.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            if x[i] < x[j]:
                out[k] = (y[j] - y[i]) / (x[j] - x[i])
                k += 1
    return k


# -- exact arithmetic helpers (error-free transformations) for the exact counts

_U = 2.0 ** -53  # unit roundoff of float64


@kernel
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@kernel
def _two_prod(a, b):
    """a * b = p + e exactly (Dekker's product; |a|, |b| well below 1e300)."""
    p = a * b
    c = 134217729.0 * a
    ah = c - (c - a)
    al = a - ah
    c = 134217729.0 * b
    bh = c - (c - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


@kernel
def _sign_sum4(t0, t1, t2, t3):
    """Exact sign of t0 + t1 + t2 + t3 (Shewchuk's grow-expansion, largest component)."""
    q, h0 = _two_sum(t1, t0)
    h1 = q
    q, g0 = _two_sum(t2, h0)
    q, g1 = _two_sum(q, h1)
    g2 = q
    q, k0 = _two_sum(t3, g0)
    q, k1 = _two_sum(q, g1)
    q, k2 = _two_sum(q, g2)
    if q != 0.0:
        return 1 if q > 0 else -1
    if k2 != 0.0:
        return 1 if k2 > 0 else -1
    if k1 != 0.0:
        return 1 if k1 > 0 else -1
    if k0 != 0.0:
        return 1 if k0 > 0 else -1
    return 0


@kernel
def _greater_exact(y, x, z, tol, a, b, i, j):
    """Whether y_i - m x_i > y_j - m x_j exactly, m = a + b (differences of y, x exact).

    ``z`` holds rounded keys with error below ``tol / 2``: they decide unless close.
    """
    d = z[i] - z[j]
    if d > tol:
        return True
    if d < -tol:
        return False
    dy = y[i] - y[j]
    dx = x[i] - x[j]
    p, e = _two_prod(a, dx)
    return _sign_sum4(dy, -p, -e, -(b * dx)) > 0


@kernel
def _count_exact(y, x, z, tol, a, b):
    """Pairs i < j (points in (x, y) order) with key_i > key_j, key = y - (a + b) x exactly."""
    n = y.shape[0]
    src = np.arange(n)
    dst = np.empty_like(src)
    total = 0
    width = 1
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if not _greater_exact(y, x, z, tol, a, b, src[i], src[j]):
                    dst[k] = src[i]
                    i += 1
                else:
                    dst[k] = src[j]
                    total += mid - i
                    j += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
        src, dst = dst, src
        width *= 2
    return total


@kernel
def _count_inversions_le(a):
    """Pairs i < j with a[i] >= a[j] (merge sort of a copy)."""
    n = a.shape[0]
    src = a.copy()
    dst = np.empty_like(src)
    total = 0
    width = 1
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if src[i] < src[j]:
                    dst[k] = src[i]
                    i += 1
                else:
                    dst[k] = src[j]
                    total += mid - i
                    j += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
        src, dst = dst, src
        width *= 2
    return total


@kernel
def _equal_point_pairs(xs, ys):
    """Pairs of points with equal x and equal y, points sorted by (x, y)."""
    n = xs.shape[0]
    total = 0
    i = 0
    while i < n:
        j = i + 1
        while j < n and xs[j] == xs[i] and ys[j] == ys[i]:
            j += 1
        t = j - i
        total += t * (t - 1) // 2
        i = j
    return total


def _differences_exact(v: np.ndarray) -> bool:
    """Whether every difference v_i - v_j is exact in float64: all v are integer
    multiples of one power of two 2^-k with |v| * 2^k <= 2^52 (and |v| <= 2^200).

    ``v`` finite. Vectorised: for each nonzero value, the smallest k with v 2^k an
    integer is 53 - (its binary exponent) - (trailing zero bits of its 53-bit mantissa).
    """
    a = np.abs(v[v != 0.0])
    if a.shape[0] == 0:
        return True
    vmax = float(a.max())
    if not vmax <= 2.0 ** 200:
        return False
    frac, expo = np.frexp(a)
    mant = (frac * 9007199254740992.0).astype(np.int64)  # 53-bit integer mantissa
    low = mant & -mant  # its lowest set bit, a power of two
    trailing = np.frexp(low.astype(np.float64))[1] - 1
    kmax = int(np.max(53 - expo.astype(np.int64) - trailing))
    m_top, top = math.frexp(vmax)  # vmax * 2^kmax <= 2^52 (without overflow):
    return top + kmax <= 52 or (top + kmax == 53 and m_top == 0.5)


def _pair_slope_sample(ys, xs, i, j):
    """Float slopes (y_b - y_a) / (x_b - x_a) of the pairs (i[t], j[t]) with distinct x,
    oriented x_a < x_b as scipy does (points sorted by x); in the order of ``t``."""
    keep = xs[i] != xs[j]
    a = np.minimum(i, j)[keep]
    b = np.maximum(i, j)[keep]
    return (ys[b] - ys[a]) / (xs[b] - xs[a])


class _SlopeSelector:
    """Order statistics of the float pair slopes (y_j - y_i) / (x_j - x_i), x_i < x_j.

    Points are sorted by (x, y). Trial counts ``#{slope < s}`` run as inversion
    counts of the rounded keys ``yc - s * xc`` (centred copies); a pair can be
    miscounted only when its slope is within ``delta(s)`` of ``s``. The final
    band is widened by that margin before its pairs are listed, and the result is
    accepted only when the selected slopes lie inside the unwidened band, which
    proves them exact (see docs/kernels-trend.md). A value shared by very many
    pairs (flat stretches give slope 0; integer ramps an exact constant) is
    certified by exact counts on either side of it.
    """

    def __init__(self, ys, xs, n_pairs, rng):
        self.y, self.x = ys, xs
        self.n = n = ys.shape[0]
        self.n_pairs = n_pairs
        self.yc = ys - np.median(ys)
        self.xc = xs - np.median(xs)
        self.ym = float(np.max(np.abs(self.yc)))
        self.xm = float(np.max(np.abs(self.xc)))
        steps = np.diff(xs)
        self.dxmin = float(steps[steps > 0].min()) * (1 - 4 * _U)
        # the margin argument needs u * xm / dxmin small (always so for sample positions)
        self.certifiable = bool(6.02 * _U * self.xm / self.dxmin < 0.25)
        self.exact_diffs = bool(_differences_exact(ys)) and bool(_differences_exact(xs))
        self.budget = max(4 * n, 4096)
        self.list_max = max(8 * n, 8192)
        # 2n random pairs with distinct x: their float slopes propose the trial slopes and
        # the candidate crowded values (one gathering pass; left unsorted: each narrowing
        # round filters the part inside its band, cheaper than sorting 2n values)
        self.value_sample = _pair_slope_sample(ys, xs, rng.integers(0, n, 2 * n),
                                               rng.integers(0, n, 2 * n))
        self.exact = True

    def delta(self, s):
        e = 2.01 * _U * self.ym + 3.01 * _U * abs(s) * self.xm
        return 2.0 * (2.0 * e / self.dxmin + 3.01 * _U * abs(s)) + 1e-300

    def count(self, s):
        return _count_below(self.yc, self.xc, s)

    def select(self, k1, k2):
        bound = float(np.ptp(self.yc)) / self.dxmin + 1.0
        lo, hi = -bound * (1 + 1e-9) - 1.0, bound * (1 + 1e-9) + 1.0
        band = self._narrow(k1, k2, lo, hi, 0, self.n_pairs)
        if band[0] == "split":  # a trial fell between the two middle slopes
            _, s, c, lo, hi, c_lo, c_hi = band
            b1 = self._narrow(k1, k1, lo, s, c_lo, c)
            b2 = self._narrow(k2, k2, s, hi, c, c_hi)
            return self._resolve(k1, k1, *b1[1:])[0], self._resolve(k2, k2, *b2[1:])[0]
        return self._resolve(k1, k2, *band[1:])

    def _narrow(self, ka, kb, lo, hi, c_lo, c_hi):
        """Shrink [lo, hi) (with #{< lo} <= ka, kb < #{< hi}) until few pairs remain."""
        sample = self.value_sample
        stall = 0
        g = 0.01  # half-width of the interpolated bracket, as a fraction of the band
        interp_ok = True
        for _ in range(100):
            if c_hi - c_lo <= self.budget or stall >= 3:
                break
            if hi - lo <= 2 * (self.delta(lo) + self.delta(hi)):
                break  # below the resolution of rounded counts: a cluster of equal slopes
            inside = sample[(sample >= lo) & (sample < hi)]
            sample = inside  # the band only shrinks from here
            frac = (0.5 * (ka + kb) + 0.5 - c_lo) / (c_hi - c_lo)
            interpolated = False
            if stall == 0 and inside.size >= 16 and (inside.size >= 1600 or not interp_ok
                                                     or c_hi - c_lo >= self.n_pairs):
                # sample quantiles bracketing the ranks (+-2 sd: within +-5 % of the band)
                spread = 2.0 / math.sqrt(inside.size)
                q = np.quantile(inside, [min(1.0, max(0.0, frac - spread)),
                                         min(1.0, max(0.0, frac + spread))])
                trials = [float(q[0]), float(q[1])]
            elif stall == 0 and interp_ok:
                # a thin sample brackets loosely; the counts across a band already narrowed
                # are close to linear in s, so interpolate on them and bracket by +-g of the
                # band (g shrinks while the brackets hold; one miss, as when most slopes
                # crowd at one end of the band, and the sample takes over again)
                interpolated = True
                trials = [lo + (hi - lo) * max(0.0, frac - g), lo + (hi - lo) * min(1.0, frac + g)]
            else:  # interpolate on the counts, then bisect
                trials = [lo + (hi - lo) * min(0.95, max(0.05, frac)), 0.5 * (lo + hi)]
            width = c_hi - c_lo
            moved = 0
            for s in trials:
                if not lo < s < hi:
                    continue
                c = self.count(s)
                moved += 1
                if c <= ka:
                    lo, c_lo = s, c
                elif c > kb:
                    hi, c_hi = s, c
                else:
                    return ("split", s, c, lo, hi, c_lo, c_hi)
            if interpolated and c_hi - c_lo >= 0.5 * width:
                interp_ok = False  # not linear here: back to the sample (not a stall)
                continue
            if interpolated:
                g = max(0.25 * g, 0.001)
            stall = stall + 1 if c_hi - c_lo > 0.7 * width else 0
        return ("band", lo, hi, c_lo, c_hi)

    def _resolve(self, ka, kb, lo, hi, c_lo, c_hi):
        """The slopes of ranks ka, kb from a band [lo, hi) that holds them.

        The pairs counted between the band's ends are listed; the selected
        slopes are certified when they lie at least ``delta`` inside the band
        (a pair counted outside cannot then have a slope on the wrong side of
        them). Otherwise the band is widened and counted afresh.
        """
        t_a, t_b, c_a, c_b = lo, hi, c_lo, c_hi
        # Ranks close to an end of the band (by interpolation on the counts) would fail the
        # certification there and cost a second count and listing of a wider band: move
        # that end out by a few margins first (one count).
        if c_hi > c_lo and hi > lo:
            span = hi - lo
            v_a = lo + span * (ka - c_lo) / (c_hi - c_lo)
            v_b = lo + span * (kb + 1 - c_lo) / (c_hi - c_lo)
            if v_a - lo < 4 * self.delta(lo) + 0.02 * span:
                t_a = lo - 8 * self.delta(lo) - 0.05 * span
                c_a = self.count(t_a)
            if hi - v_b < 4 * self.delta(hi) + 0.02 * span:
                t_b = hi + 8 * self.delta(hi) + 0.05 * span
                c_b = self.count(t_b)
            lo, hi = t_a, t_b
        for _ in range(4):
            if c_b - c_a > self.list_max:
                break
            if c_a <= ka <= kb < c_b:
                slopes, count = _pairs_between(self.yc, self.xc, self.y, self.x, t_a, t_b,
                                               c_b - c_a)
                if count != c_b - c_a:
                    break
                part = np.partition(slopes, [ka - c_a, kb - c_a])
                v1, v2 = float(part[ka - c_a]), float(part[kb - c_a])
                if t_a + self.delta(t_a) <= v1 and v2 <= t_b - self.delta(t_b):
                    self.exact = self.exact and self.certifiable
                    return v1, v2
                lo, hi = min(lo, v1), max(hi, v2)
            w = hi - lo + 2 * (self.delta(lo) + self.delta(hi))
            t_a, t_b = lo - w, hi + w
            c_a, c_b = self.count(t_a), self.count(t_b)
            lo, hi = t_a, t_b
        return self._cluster(ka, kb, lo, hi)

    def _exact_counts(self, v):
        """(#{slope < v}, #{slope <= v}, exact?) over the float slopes."""
        if v == 0.0:  # slope < 0 iff y_j < y_i: the keys are y itself, no rounding
            lt = int(_count_inversions(self.y))
            le = int(_count_inversions_le(self.y)) - int(_equal_point_pairs(self.x, self.y))
            return lt, le, True
        if self.exact_diffs and 1e-290 < abs(v) < 1e290:
            # q = RN(r) with r the exact slope: q < v iff r < v - ulp_below/2, and
            # q <= v iff r < v + ulp_above/2 (no r hits these midpoints, see the docs)
            z = self.yc - v * self.xc
            b_lo = -(v - float(np.nextafter(v, -np.inf))) / 2
            b_hi = (float(np.nextafter(v, np.inf)) - v) / 2
            tol = 4.0 * (2.01 * _U * self.ym + 3.01 * _U * abs(v) * self.xm
                         + abs(b_lo) * self.xm + abs(b_hi) * self.xm) + 1e-300
            lt = int(_count_exact(self.y, self.x, z, tol, v, b_lo))
            le = int(_count_exact(self.y, self.x, z, tol, v, b_hi))
            return lt, le, True
        z = self.yc - v * self.xc
        lt = int(_count_inversions(z))
        le = int(_count_inversions_le(z)) - int(_equal_point_pairs(self.x, self.y))
        return lt, le, False

    def _cluster(self, ka, kb, lo, hi):
        """Ranks inside a band too crowded to list: values shared by many pairs."""
        t_a, t_b = lo - self.delta(lo), hi + self.delta(hi)
        vals = self.value_sample
        vals = vals[(vals >= t_a) & (vals <= t_b)]
        cands, freq = np.unique(vals, return_counts=True)
        cands = [float(v) for v in cands[np.argsort(-freq, kind="stable")][:6]]
        if t_a <= 0.0 <= t_b and 0.0 not in cands:
            cands.insert(0, 0.0)
        found = {}
        for v in cands:
            lt, le, exact = self._exact_counts(v)
            for k in {ka, kb}:
                if lt <= k < le:
                    found[k] = v
                    self.exact = self.exact and exact
            if len(found) == len({ka, kb}):
                return found[ka], found[kb]
        # not resolved by the crowded values: the most frequent sampled one (not certified)
        self.exact = False
        fallback = cands[0] if cands else 0.5 * (lo + hi)
        return found.get(ka, fallback), found.get(kb, fallback)


#: Up to this many pairs the median slope is taken from all of them (an exact bracketed
#: partition, kernels/order.py); above, by randomised selection. Measured (AMD EPYC, with
#: detector.malloc's settings): all pairs 0.13 ms against 0.23 at 44,850 pairs (n = 300),
#: 0.23-0.43 against 0.32-0.70 at 51,000-79,800 (n = 320-400); 3.5x faster at n = 200.
#: 79,800 pairs is a floor of growth.MAX_POINTS (400) points, so the pipeline never
#: selects, and a cold start does not compile the selection's merge kernel
#: (``_list_band_pairs``).
ALL_PAIRS_MAX = 80_000


def _theil_sen_sorted(ys, xs, want_exact=False):
    """(slope, intercept-free) median slope of points sorted by (x, y); NaN-free input."""
    n = ys.shape[0]
    tie_pairs, _ = _tie_terms(xs)
    n_pairs = n * (n - 1) // 2 - int(tie_pairs)
    if n_pairs == 0:
        return math.nan, True
    k1, k2 = (n_pairs - 1) // 2, n_pairs // 2
    exact = True
    if n_pairs <= max(4 * n, ALL_PAIRS_MAX):
        a, b = order_statistics(_all_slopes(ys, xs, n_pairs), [k1, k2])
    else:
        sel = _SlopeSelector(ys, xs, n_pairs, np.random.default_rng(0x5EED))
        a, b = sel.select(k1, k2)
        exact = sel.exact
    slope = float(a) if k1 == k2 else float((a + b) / 2)
    return slope, exact


def theil_sen(y, x=None) -> tuple[float, float]:
    """Theil-Sen slope (median pairwise slope) and intercept, in O(n log n) expected time.

    Parameters
    ----------
    y : array_like
        Values (any unit), 1-D.
    x : array_like, optional
        Positions (e.g. seconds), same length; default ``0..n-1`` (samples).
        Pairs with equal x are left out, as scipy does.

    Returns
    -------
    (slope, intercept) : (float, float)
        Slope in units of y per unit of x; intercept ``median(y) - slope *
        median(x)``. ``(nan, nan)`` when fewer than two points remain or no
        pair has distinct x (scipy raises or returns NaN there).

    Raises
    ------
    ValueError
        If ``y`` or ``x`` is not 1-D or not numeric, their lengths differ, or
        either holds inf.

    Notes
    -----
    Equals ``scipy.stats.theilslopes(y, x)[:2]`` (method ``"separate"``): the
    median of the float slopes ``(y_j - y_i) / (x_j - x_i)`` over pairs with
    distinct x, the mean of the two middle ones for an even count. Pairs
    holding NaN (in x or y) are left out, i.e. the result is scipy's on the
    NaN-free pairs.

    Cost: O(n log n) expected time, O(n) memory (scipy: O(n^2) of both). The
    slope is selected without listing the n^2 slopes: ``#{slope < s}`` is the
    number of inversions of ``y - s x`` in x order (a merge sort); random
    pair slopes propose trial values that narrow a band around the middle
    ranks until at most ~8n pairs remain, which are listed and partitioned.
    Rounding in the counts is bounded and the band widened by that bound, so
    the slope is the very float scipy returns; a slope shared by very many
    pairs (flat stretches, integer ramps) is certified by exact counts. The
    one uncertified case (a crowded non-zero slope value in data that are
    not integer multiples of a power of two) returns a slope within the
    rounding spread of that value (see docs/kernels-trend.md).
    """
    y = as_float_array(y, "y")
    if x is None:
        x = np.arange(y.shape[0], dtype=np.float64)
    else:
        x = as_float_array(x, "x")
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"x and y differ in length ({x.shape[0]} vs {y.shape[0]})")
    if np.isinf(y).any() or np.isinf(x).any():
        raise ValueError("x and y must not hold inf (NaN marks missing samples)")
    ok = ~(np.isnan(y) | np.isnan(x))
    if not ok.all():
        y, x = y[ok], x[ok]
    n = y.shape[0]
    if n < 2:
        return math.nan, math.nan
    if np.all(x[1:] > x[:-1]):  # already in x order (sample positions, times)
        ys, xs = np.ascontiguousarray(y), np.ascontiguousarray(x)
    else:
        order = np.lexsort((y, x))
        ys, xs = np.ascontiguousarray(y[order]), np.ascontiguousarray(x[order])
    slope, _ = _theil_sen_sorted(ys, xs)
    if math.isnan(slope):
        return math.nan, math.nan
    intercept = float(median(y) - slope * median(x))  # np.median's floats, no dispatch
    return slope, intercept


def theil_sen_interval(y, x=None, *, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Theil-Sen slope, intercept and the slope's confidence interval, for small inputs.

    Lists all pairwise slopes (O(n^2) memory: meant for a few thousand points)
    and takes the interval of Sen (1968, eq. 2.6) with the variance corrected
    for ties in x and y.

    Returns
    -------
    (slope, intercept, low, high) : float
        Equal to ``scipy.stats.theilslopes(y, x, alpha=confidence)``; NaN when no
        pair has distinct x. NaN pairs are left out.

    Raises
    ------
    ValueError
        If ``y`` or ``x`` is not 1-D or not numeric, their lengths differ, or either
        holds inf (as :func:`theil_sen`).
    """
    from scipy.special import ndtri

    y = as_float_array(y, "y")
    x = np.arange(y.shape[0], dtype=np.float64) if x is None else as_float_array(x, "x")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y differ in length ({x.shape[0]} vs {y.shape[0]})")
    if np.isinf(y).any() or np.isinf(x).any():  # as theil_sen: inf - inf makes NaN slopes
        raise ValueError("x and y must not hold inf (NaN marks missing samples)")
    ok = ~(np.isnan(y) | np.isnan(x))
    y, x = y[ok], x[ok]
    n = y.shape[0]
    if n < 2:
        return math.nan, math.nan, math.nan, math.nan
    order = np.lexsort((y, x))
    ys, xs = np.ascontiguousarray(y[order]), np.ascontiguousarray(x[order])
    tie_pairs, x_ties = _tie_terms(xs)
    n_pairs = n * (n - 1) // 2 - int(tie_pairs)
    if n_pairs == 0:
        return math.nan, math.nan, math.nan, math.nan
    slopes = _all_slopes(ys, xs, n_pairs)
    alpha = 1.0 - confidence if confidence > 0.5 else confidence
    z = float(ndtri(alpha / 2.0))  # negative, as scipy uses it
    _, y_ties = _tie_terms(np.sort(y))
    sigsq = (n * (n - 1.0) * (2.0 * n + 5.0) - x_ties - y_ties) / 18.0
    sigma = math.sqrt(sigsq) if sigsq > 0 else 0.0
    nt = slopes.shape[0]
    hi_i = min(int(np.round((nt - z * sigma) / 2.0)), nt - 1)
    lo_i = max(int(np.round((nt + z * sigma) / 2.0)) - 1, 0)
    k1, k2 = (nt - 1) // 2, nt // 2
    # four order statistics, O(n): by a bracketed partition (kernels/order.py), the same
    # values as a partition of all the slopes at a third of its cost
    lo_v, hi_v, a, b = order_statistics(slopes, [lo_i, hi_i, k1, k2])
    slope = float(a) if k1 == k2 else float((a + b) / 2)
    intercept = float(median(y) - slope * median(x))  # np.median's floats, no dispatch
    return slope, intercept, float(lo_v), float(hi_v)


# ---------------------------------------------------------------- OLS


@dataclass(frozen=True)
class OLSResult:
    """Result of :func:`ols`.

    Attributes
    ----------
    slope, intercept : float
        Least-squares line (units of y per unit of x, units of y).
    r2 : float
        Coefficient of determination.
    stderr : float
        Classic standard error of the slope.
    hac_stderr : float
        Newey-West (HAC, Bartlett kernel) standard error of the slope.
    hac_lags : int
        Lags used for ``hac_stderr``.
    n : int
        Pairs used (NaN dropped).
    """

    slope: float
    intercept: float
    r2: float
    stderr: float
    hac_stderr: float
    hac_lags: int
    n: int


@kernel
def _ols_kernel(x, y, lags):
    n = x.shape[0]
    mx = 0.0
    my = 0.0
    for i in range(n):
        mx += x[i]
        my += y[i]
    mx /= n
    my /= n
    sxx = 0.0
    sxy = 0.0
    syy = 0.0
    for i in range(n):
        dx = x[i] - mx
        dy = y[i] - my
        sxx += dx * dx
        sxy += dx * dy
        syy += dy * dy
    slope = sxy / sxx
    intercept = my - slope * mx
    rss = 0.0
    g = np.empty(n)  # scores (x_i - mx) u_i
    s = 0.0
    for i in range(n):
        u = y[i] - intercept - slope * x[i]
        rss += u * u
        g[i] = (x[i] - mx) * u
        s += g[i] * g[i]
    r2 = 1.0 - rss / syy if syy > 0 else np.nan
    sigma2 = rss / (n - 2) if n > 2 else np.nan
    stderr = np.sqrt(sigma2 / sxx)
    # Newey-West on the slope: Bartlett-weighted autocovariances of the scores
    for lag in range(1, min(lags, n - 1) + 1):  # Bartlett weights of all ``lags``
        w = 1.0 - lag / (lags + 1.0)
        a0 = a1 = a2 = a3 = 0.0  # four chains: the loop is latency-bound otherwise
        i = lag
        while i + 3 < n:
            a0 += g[i] * g[i - lag]
            a1 += g[i + 1] * g[i + 1 - lag]
            a2 += g[i + 2] * g[i + 2 - lag]
            a3 += g[i + 3] * g[i + 3 - lag]
            i += 4
        while i < n:
            a0 += g[i] * g[i - lag]
            i += 1
        s += 2.0 * w * ((a0 + a1) + (a2 + a3))
    return slope, intercept, r2, stderr, s / (sxx * sxx)


def ols(y, x=None, *, hac_lags: int | None = None) -> OLSResult:
    """Ordinary least squares line with classic and Newey-West (HAC) slope errors. O(n).

    Parameters
    ----------
    y : array_like
        Values.
    x : array_like, optional
        Positions (e.g. seconds); default ``0..n-1`` (samples).
    hac_lags : int, optional
        Bartlett-kernel lags; default ``floor(4 * (n / 100) ** (2 / 9))``.

    Returns
    -------
    OLSResult

    Notes
    -----
    Equals ``statsmodels.OLS(y, add_constant(x)).fit()`` (slope, intercept,
    rsquared, bse) and ``.fit(cov_type="HAC", cov_kwds={"maxlags": L})``
    (bse of the slope; statsmodels' default, no small-sample correction).
    Pairs holding NaN are dropped.
    """
    y = as_float_array(y, "y")
    if x is None:
        x = np.arange(y.shape[0], dtype=np.float64)
    else:
        x = as_float_array(x, "x")
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"x and y differ in length ({x.shape[0]} vs {y.shape[0]})")
    if np.isinf(y).any() or np.isinf(x).any():
        raise ValueError("x and y must not hold inf (NaN marks missing samples)")
    ok = ~(np.isnan(x) | np.isnan(y))
    if not ok.all():
        x, y = np.ascontiguousarray(x[ok]), np.ascontiguousarray(y[ok])
    n = x.shape[0]
    if n < 3:
        raise ValueError(f"ols needs at least 3 valid pairs, got {n}")
    if np.ptp(x) == 0:
        raise ValueError("x must vary (all x are equal)")
    if hac_lags is None:
        hac_lags = int(math.floor(4 * (n / 100) ** (2 / 9)))
    hac_lags = check_int(hac_lags, "hac_lags", minimum=0)
    # statsmodels' HAC default: no small-sample correction
    slope, intercept, r2, stderr, hac_var = _ols_kernel(x, y, hac_lags)
    return OLSResult(float(slope), float(intercept), float(r2), float(stderr),
                     float(math.sqrt(hac_var)) if hac_var >= 0 else math.nan, hac_lags, n)
