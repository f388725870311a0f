"""Distribution functions without scipy.stats.

The normal and (noncentral) chi-square functions that every CFA result needs are
computed here with the ``math`` module, because importing ``scipy.special`` costs about
0.15 s — a third of a whole ``servmodels cfa`` process (docs/cli.md, *Start-up time*).
They follow R's algorithms (``pnorm``/``qnorm``, ``pchisq``, Loader's saddle-point
terms) and agree with R and scipy to about 1e-14 relative (tests/test_distributions.py
against tests/reference/distributions.json).  The Student t and F functions, needed only
by the regressions and item statistics, still come from ``scipy.special``, imported on
first use.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

_LN_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_EPS = 2.220446049250313e-16
_MAX_TERMS = 100_000


def _stirlerr(n: float) -> float:
    """log Gamma(n + 1) - log(sqrt(2 pi n) (n/e)^n), the error of Stirling's formula.

    Loader (2000), *Fast and accurate computation of binomial probabilities*, and R's
    ``stirlerr``: the asymptotic series 1/(12n) - 1/(360n^3) + ... above n = 15.
    """
    if n <= 15.0:
        return math.lgamma(n + 1.0) - (n + 0.5) * math.log(n) + n - _LN_SQRT_2PI
    s0, s1, s2, s3, s4 = 1 / 12, 1 / 360, 1 / 1260, 1 / 1680, 1 / 1188
    nn = n * n
    if n > 500:
        return (s0 - s1 / nn) / n
    if n > 80:
        return (s0 - (s1 - s2 / nn) / nn) / n
    if n > 35:
        return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n
    return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n


def _bd0(x: float, m: float) -> float:
    """x log(x/m) + m - x without cancellation when x is close to m (Loader 2000; R ``bd0``)."""
    if abs(x - m) < 0.1 * (x + m):
        v = (x - m) / (x + m)
        s = (x - m) * v
        ej = 2 * x * v
        v *= v
        for j in range(1, 1000):
            ej *= v
            s1 = s + ej / (2 * j + 1)
            if s1 == s:
                return s1
            s = s1
        return s
    return x * math.log(x / m) + m - x


def _dpois_raw(k: float, lam: float) -> float:
    """lam^k e^(-lam) / Gamma(k + 1) for real k >= 0 (R ``dpois_raw``), accurate for large k and lam."""
    if lam == 0.0:
        return 1.0 if k == 0.0 else 0.0
    if k == 0.0:
        return math.exp(-lam)
    return math.exp(-_stirlerr(k) - _bd0(k, lam)) / math.sqrt(2 * math.pi * k)


def _gamma_p_q(a: float, x: float) -> tuple[float, float]:
    """Regularized incomplete gamma functions (P(a, x), Q(a, x)), a > 0, x >= 0.

    Below x = a + 1 the power series of P, above it the continued fraction of Q
    (evaluated by the modified Lentz method); Numerical Recipes, 3rd ed., section 6.2.
    The factor x^a e^(-x) / Gamma(a + 1) uses Loader's saddle-point form.
    """
    if x <= 0.0:
        return 0.0, 1.0
    front = _dpois_raw(a, x)
    if x < a + 1.0:
        # P = x^a e^-x / Gamma(a+1) * sum_n x^n / ((a+1)...(a+n))
        term = total = 1.0
        ap = a
        for _ in range(_MAX_TERMS):
            ap += 1.0
            term *= x / ap
            total += term
            if term < total * _EPS:
                break
        p = min(front * total, 1.0)
        return p, 1.0 - p
    # Q = x^a e^-x / Gamma(a) * 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- ...)))
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    q = min(a * front * h, 1.0)
    return 1.0 - q, q


def chi2_sf(x: float, df: float) -> float:
    """Upper tail of the chi-square distribution, Q(df/2, x/2) (R ``pchisq(x, df, lower.tail = FALSE)``;
    scipy.stats.chi2.sf).

    Examples
    --------
    >>> round(chi2_sf(3.841458820694124, 1), 12)
    0.05
    """
    if math.isnan(x) or math.isnan(df):
        return math.nan
    return _gamma_p_q(0.5 * df, 0.5 * x)[1] if x > 0 else 1.0


def ncx2_cdf(x: float, df: float, nc: float) -> float:
    """Noncentral chi-square cdf (R ``pchisq(x, df, ncp)``; scipy.stats.ncx2.cdf); central when nc == 0.

    The Poisson(nc/2) mixture of central chi-square cdfs, summed outwards from the
    Poisson mode with the recurrences P(s + 1, y) = P(s, y) - y^s e^-y / Gamma(s + 1)
    for the cdfs and the Poisson ratios for the weights, so one incomplete gamma function
    is evaluated (Benton & Krishnamoorthy 2003, *Computational Statistics & Data
    Analysis* 43, 249-267; Ding 1992, algorithm AS 275).

    Examples
    --------
    >>> round(ncx2_cdf(10.0, 4, 3.0), 10)  # R: pchisq(10, 4, ncp = 3) = 0.783763181681781
    0.7837631817
    """
    if math.isnan(x) or math.isnan(df) or math.isnan(nc):
        return math.nan
    if x <= 0.0:
        return 0.0
    a, y = 0.5 * df, 0.5 * x
    if nc <= 0.0:
        return _gamma_p_q(a, y)[0]
    lam = 0.5 * nc
    k = math.floor(lam)
    w_k = _dpois_raw(k, lam)  # Poisson weight at the mode
    p_k, q_k = _gamma_p_q(a + k, y)
    g_k = _dpois_raw(a + k, y)  # y^(a+k) e^-y / Gamma(a+k+1) = P(a+k, y) - P(a+k+1, y)
    # Terms within 38 Poisson standard deviations of the mode: the weights beyond are below 1e-300 of the
    # largest.  The recurrences run as cumulative products and sums (the same operations in the same
    # order as a loop); both tails are summed, sum_j w_j P_j and sum_j w_j Q_j, so that their ratio cancels
    # the rounding of the weights and the smaller tail is accurate near 0 and near 1.
    reach = int(38.0 * math.sqrt(lam) + 40.0)
    # upwards, j = k+1, k+2, ...: w_j = w_(j-1) lam / j; P(s+1) = P(s) - g(s), g(s+1) = g(s) y / (s+1)
    up = np.arange(k + 1, k + reach + 1, dtype=np.float64)
    w_up = w_k * np.cumprod(lam / up)
    g_up = np.cumprod(np.concatenate(([g_k], y / (a + up[:-1]))))  # g(a+k), ..., g(a+j-1); g_k first: no overflow
    drop = np.cumsum(g_up)
    p_up = np.maximum(p_k - drop, 0.0)
    q_up = np.minimum(q_k + drop, 1.0)
    # downwards, j = k-1, ..., 0: w_j = w_(j+1) (j+1) / lam; P(s-1) = P(s) + g(s-1), g(s-1) = g(s) s / y
    down = np.arange(k, max(k - reach, 0), -1, dtype=np.float64)  # j + 1 for j = k-1, k-2, ...
    w_down = w_k * np.cumprod(down / lam)
    rise = np.cumsum(np.cumprod(np.concatenate(([g_k], (a + down) / y)))[1:])
    p_down = np.minimum(p_k + rise, 1.0)
    q_down = np.maximum(q_k - rise, 0.0)
    sum_p = w_k * p_k + float(w_up @ p_up) + float(w_down @ p_down)
    sum_q = w_k * q_k + float(w_up @ q_up) + float(w_down @ q_down)
    total = sum_p + sum_q
    return 1.0 - sum_q / total if sum_q < sum_p else sum_p / total


def norm_sf(z: float) -> float:
    """Upper tail of the standard normal, erfc(z / sqrt 2) / 2 (R ``pnorm(z, lower.tail = FALSE)``;
    scipy.stats.norm.sf).

    Examples
    --------
    >>> round(norm_sf(1.959963984540054), 12)
    0.025
    """
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def norm_ppf(p: float) -> float:
    """Standard normal quantile (R ``qnorm``; scipy.stats.norm.ppf): Wichura's AS 241, as
    ``statistics.NormalDist.inv_cdf`` computes it; -inf and inf at 0 and 1.

    Examples
    --------
    >>> round(norm_ppf(0.975), 12)
    1.959963984541
    """
    if math.isnan(p) or p < 0.0 or p > 1.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)


def t_ppf(p: float, df: float) -> float:
    """scipy.stats.t.ppf(p, df)."""
    from scipy import special

    return float(special.stdtrit(df, p))


def t_sf(t: float, df: float) -> float:
    """scipy.stats.t.sf(t, df)."""
    from scipy import special

    return float(special.stdtr(df, -t))


def f_ppf(p: float, dfn: float, dfd: float) -> float:
    """scipy.stats.f.ppf(p, dfn, dfd)."""
    from scipy import special

    return float(special.fdtri(dfn, dfd, p))


def brent_root(f: Callable[[float], float], lo: float, hi: float, *, xtol: float = 1e-13, max_iter: int = 200,
               f_lo: float | None = None, f_hi: float | None = None) -> float:
    """Root of a continuous f with a sign change on [lo, hi], to ``xtol`` relative (absolute below 1);
    NaN when f(lo) and f(hi) have the same sign or are NaN.

    Brent's method (Brent 1973, *Algorithms for Minimization without Derivatives*,
    ch. 4, the ``zeroin`` of R's ``uniroot`` and scipy's ``brentq``): inverse quadratic
    interpolation or secant steps, bisection whenever they do not shrink the bracket
    fast enough; about 10 evaluations where bisection needs 45.  ``f_lo`` and ``f_hi``
    are f(lo) and f(hi) when the caller has them.

    Examples
    --------
    >>> round(brent_root(lambda v: v * v - 2.0, 0.0, 2.0), 12)
    1.414213562373
    """
    a, b = lo, hi
    fa = f(a) if f_lo is None else f_lo
    fb = f(b) if f_hi is None else f_hi
    if fa == 0:
        return a
    if fb == 0:
        return b
    if not ((fa > 0 and fb < 0) or (fa < 0 and fb > 0)):  # no sign change, or NaN
        return math.nan
    c, fc = a, fa
    d = e = b - a
    for _ in range(max_iter):
        if (fb > 0) == (fc > 0):  # the root is between a and b again: restart the bracket at a
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):  # b is the best estimate so far
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 2.0 * _EPS * abs(b) + 0.5 * xtol * max(1.0, abs(b))
        m = 0.5 * (c - b)
        if abs(m) <= tol or fb == 0:
            return b
        if abs(e) >= tol and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:  # secant
                p, q = 2.0 * m * s, 1.0 - s
            else:  # inverse quadratic interpolation
                q, r = fa / fc, fb / fc
                p = s * (2.0 * m * q * (q - r) - (b - a) * (r - 1.0))
                q = (q - 1.0) * (r - 1.0) * (s - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if 2.0 * p < min(3.0 * m * q - abs(tol * q), abs(e * q)):
                e, d = d, p / q
            else:
                d = e = m
        else:
            d = e = m
        a, fa = b, fb
        b += d if abs(d) > tol else (tol if m > 0 else -tol)
        fb = f(b)
    return b
