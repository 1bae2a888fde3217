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
from numba import njit

from ._validate import as_float_array, check_float, check_int

# ---------------------------------------------------------------- merge-sort counting


@njit(cache=True)
def _count_inversions(a):
    """Pairs i < j with a[i] > a[j] (strict), by a bottom-up merge sort of a copy."""
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
                if src[i] <= src[j]:
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


@njit(cache=True)
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


@njit(cache=True)
def _mk_s_kernel(x):
    n = x.shape[0]
    inversions = _count_inversions(x)
    tie_pairs, var_term = _tie_terms(np.sort(x))
    total = n * (n - 1) // 2
    s = total - 2 * inversions - tie_pairs  # concordant - discordant
    var_s = (n * (n - 1.0) * (2.0 * n + 5.0) - var_term) / 18.0
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
        s, var_s = _mk_s_kernel(xs)
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
    from scipy.stats import rankdata

    from .seasonal import acf

    n = xs.shape[0]
    detrended = xs - np.arange(1, n + 1) * slope
    ranks = rankdata(detrended)
    r = acf(ranks, n - 1) if np.ptp(ranks) > 0 else np.full(n, np.nan)
    bound = float(ndtri(1 - alpha / 2)) / math.sqrt(n)
    top = n if lag is None else lag + 1
    i = np.arange(1, min(top, n))
    ri = r[i]
    keep = ~((ri <= bound) & (ri >= -bound))  # outside the band (NaN counts, as in the peer)
    sni = float(np.sum(((n - i) * (n - i - 1.0) * (n - i - 2.0) * ri)[keep]))
    return 1 + (2 / (n * (n - 1) * (n - 2))) * sni


# ---------------------------------------------------------------- Theil-Sen


@njit(cache=True)
def _count_below(y, x, s):
    """Pairs with x_i < x_j and slope < s, for points sorted by (x, y).

    With z = y - s x, such a pair is an inversion of z in that order.
    """
    z = y - s * x
    return _count_inversions(z)


@njit(cache=True)
def _pairs_between(yc, xc, y, x, lo, hi, limit):
    """Float slopes (from y, x) of the pairs with x_i < x_j and lo <= slope < hi.

    Points sorted by (x, y); ``yc``, ``xc`` are centred copies used for the
    ordering keys. A pair is in the band exactly when it is in z_lo order and
    inverted in z_hi order, so a merge sort of the z_hi keys taken in z_lo
    order lists them in O(n log n + k). At most ``limit`` are returned; the
    second value is how many there are.
    """
    n = y.shape[0]
    order = np.argsort(yc - lo * xc, kind="mergesort")
    src_k = (yc - hi * xc)[order]
    src_i = order.copy()
    dst_k = np.empty_like(src_k)
    dst_i = np.empty_like(src_i)
    out = np.empty(max(limit, 1), np.float64)
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
    return out[:min(count, limit)], count


@njit(cache=True)
def _all_slopes(y, x, n_pairs):
    out = np.empty(n_pairs, np.float64)
    k = 0
    n = y.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            if x[i] < x[j]:
                out[k] = (y[j] - y[i]) / (x[j] - x[i])
                k += 1
    return out[:k]


def _select_ranks(yc, xc, y, x, ranks, n_pairs, lo, hi, rng):
    """The float slopes of the adjacent 0-based ``ranks`` (k or k, k+1) among all pairs
    with distinct x.

    Keeps a slope band [lo, hi) holding the ranks (``#slopes < lo <= k1`` and
    ``k2 < #slopes < hi``) and shrinks it with trial slopes (each trial costs
    one O(n log n) count): quantiles of a random sample of the pairs while it
    still has points inside the band, then interpolation on the counts with a
    bisection safeguard. Once few enough pairs remain they are listed, and the
    ranks picked with a partial sort.
    """
    n = y.shape[0]
    k1, k2 = ranks
    budget = max(4 * n, 4096)
    c_lo, c_hi = 0, n_pairs
    sample = _sample_pairs(yc, xc, rng, 2 * n)
    for _ in range(200):
        if c_hi - c_lo <= budget:
            break
        inside = sample[(sample >= lo) & (sample < hi)]
        frac = (0.5 * (k1 + k2) + 0.5 - c_lo) / (c_hi - c_lo)
        if inside.size >= 16:
            spread = 2.0 / math.sqrt(inside.size)
            q = np.quantile(inside, [min(1.0, max(0.0, frac - spread)),
                                     min(1.0, max(0.0, frac + spread))])
            trials = [float(q[0]), float(q[1])]
        else:  # interpolate on the counts; bisect when that stalls
            trials = [lo + (hi - lo) * min(0.95, max(0.05, frac)), 0.5 * (lo + hi)]
        width = c_hi - c_lo
        for s in trials:
            if not lo < s < hi:
                continue
            c = int(_count_below(yc, xc, s))
            if c <= k1:
                lo, c_lo = s, c
            elif c > k2:
                hi, c_hi = s, c
            # else k1 < c <= k2: s falls between the two middle slopes; keep the band
        if c_hi - c_lo == width and not lo < 0.5 * (lo + hi) < hi:
            break  # the band cannot be split further in floating point
        if c_hi - c_lo == width and inside.size < 16:
            s = 0.5 * (lo + hi)  # both trials straddled the middle pair: bisect once more
            c = int(_count_below(yc, xc, s))
            if c <= k1:
                lo, c_lo = s, c
            elif c > k2:
                hi, c_hi = s, c
            else:
                break
    slopes, count = _pairs_between(yc, xc, y, x, lo, hi, c_hi - c_lo + 64)
    if count != c_hi - c_lo or not 0 <= k1 - c_lo <= k2 - c_lo < slopes.shape[0]:
        raise ArithmeticError("slope selection lost track of ranks (rounding); please report")
    part = np.partition(slopes, [k1 - c_lo, k2 - c_lo])
    return float(part[k1 - c_lo]), float(part[k2 - c_lo])


def _sample_pairs(yc, xc, rng, k):
    """Slopes of ``k`` random pairs with distinct x (unsorted)."""
    n = yc.shape[0]
    i = rng.integers(0, n, k)
    j = rng.integers(0, n, k)
    dx = xc[j] - xc[i]
    ok = dx != 0
    return (yc[j][ok] - yc[i][ok]) / dx[ok]


def theil_sen(y, x=None) -> tuple[float, float]:
    """Theil-Sen slope (median pairwise slope) and intercept, in O(n log n) expected time.

    Parameters
    ----------
    y : array_like
        Values.
    x : array_like, optional
        Positions (e.g. seconds), same length; default ``0..n-1`` (samples).
        Pairs with equal x are left out, as scipy does.

    Returns
    -------
    (slope, intercept) : (float, float)
        Slope in units of y per unit of x; intercept ``median(y) - slope *
        median(x)``. NaN when no pair has distinct x.

    Notes
    -----
    Equals ``scipy.stats.theilslopes(y, x)[:2]`` (method "separate"): the
    median of the float slopes ``(y_j - y_i) / (x_j - x_i)``, the mean of the
    two middle ones for an even count. Pairs holding NaN (in x or y) are left
    out. The median is selected by counting the pairs below a trial slope with
    a merge sort (O(n log n)) and narrowing the slope band until at most ~4n
    pairs remain, which are listed and sorted: never the O(n^2) list of all
    slopes.
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
    y, x = y[ok], x[ok]
    n = y.shape[0]
    if n < 2:
        return math.nan, math.nan
    if n > 1 and np.all(x[1:] > x[:-1]):  # already in x order (sample positions, times)
        ys, xs = np.ascontiguousarray(y), np.ascontiguousarray(x)
    else:
        order = np.lexsort((y, x))
        ys, xs = np.ascontiguousarray(y[order]), np.ascontiguousarray(x[order])
    tie_pairs, _ = _tie_terms(xs)
    n_pairs = n * (n - 1) // 2 - int(tie_pairs)
    if n_pairs == 0:
        return math.nan, math.nan
    k1, k2 = (n_pairs - 1) // 2, n_pairs // 2
    if n_pairs <= max(4 * n, 4096):
        slopes = np.sort(_all_slopes(ys, xs, n_pairs))
        a, b = slopes[k1], slopes[k2]
    else:
        # centred copies keep the trial counts precise at large levels
        yc = ys - np.median(ys)
        xc = xs - np.median(xs)
        steps = np.diff(xc)
        min_dx = float(steps[steps > 0].min())
        bound = float(np.ptp(yc)) / min_dx + 1.0
        lo, hi = -bound * (1 + 1e-9) - 1.0, bound * (1 + 1e-9) + 1.0
        rng = np.random.default_rng(0x5EED)
        a, b = _select_ranks(yc, xc, ys, xs, (k1, k2), n_pairs, lo, hi, rng)
    slope = float(a) if k1 == k2 else float((a + b) / 2)
    intercept = float(np.median(y) - slope * np.median(x))
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
    """
    from scipy.special import ndtri

    y = as_float_array(y, "y")
    x = np.arange(y.shape[0], dtype=np.float64) if x is None else as_float_array(x, "x")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y differ in length ({x.shape[0]} vs {y.shape[0]})")
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
    part = np.partition(slopes, sorted({lo_i, hi_i, k1, k2}))  # four order statistics, O(n)
    slope = float(part[k1]) if k1 == k2 else float((part[k1] + part[k2]) / 2)
    intercept = float(np.median(y) - slope * np.median(x))
    return slope, intercept, float(part[lo_i]), float(part[hi_i])


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


@njit(cache=True)
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
    u = np.empty(n)
    for i in range(n):
        u[i] = y[i] - intercept - slope * x[i]
        rss += u[i] * u[i]
    r2 = 1.0 - rss / syy if syy > 0 else np.nan
    sigma2 = rss / (n - 2) if n > 2 else np.nan
    stderr = np.sqrt(sigma2 / sxx)
    # Newey-West on the slope: sandwich with scores g_i = (x_i - mx) u_i
    s = 0.0
    for i in range(n):
        g = (x[i] - mx) * u[i]
        s += g * g
    for lag in range(1, lags + 1):
        w = 1.0 - lag / (lags + 1.0)
        acc = 0.0
        for i in range(lag, n):
            acc += (x[i] - mx) * u[i] * (x[i - lag] - mx) * u[i - lag]
        s += 2.0 * w * acc
    return slope, intercept, r2, stderr, s


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
    x, y = np.ascontiguousarray(x[ok]), np.ascontiguousarray(y[ok])
    n = x.shape[0]
    if n < 3:
        raise ValueError(f"ols needs at least 3 valid pairs, got {n}")
    if np.ptp(x) == 0:
        raise ValueError("x must vary (all x are equal)")
    if hac_lags is None:
        hac_lags = int(math.floor(4 * (n / 100) ** (2 / 9)))
    hac_lags = check_int(hac_lags, "hac_lags", minimum=0)
    slope, intercept, r2, stderr, s = _ols_kernel(x, y, min(hac_lags, n - 1))
    sxx = float(np.sum((x - x.mean()) ** 2))
    hac_var = s / sxx ** 2  # statsmodels' HAC default: no small-sample correction
    return OLSResult(float(slope), float(intercept), float(r2), float(stderr),
                     float(math.sqrt(hac_var)) if hac_var >= 0 else math.nan, hac_lags, n)
