"""Distribution functions from scipy.special (cheap to import, unlike scipy.stats).

Each equals the scipy.stats method named in its docstring to floating-point accuracy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special


def chi2_sf(x: float, df: float) -> float:
    """scipy.stats.chi2.sf(x, df)."""
    return float(special.chdtrc(df, x))


def ncx2_cdf(x: float, df: float, nc: float) -> float:
    """scipy.stats.ncx2.cdf(x, df, nc); the central cdf when nc == 0."""
    return float(special.chndtr(x, df, nc)) if nc > 0 else float(special.chdtr(df, x))


def norm_sf(z: float) -> float:
    """scipy.stats.norm.sf(z)."""
    return float(special.ndtr(-z))


def norm_ppf(p: float) -> float:
    """scipy.stats.norm.ppf(p)."""
    return float(special.ndtri(p))


def t_ppf(p: float, df: float) -> float:
    """scipy.stats.t.ppf(p, df)."""
    return float(special.stdtrit(df, p))


def t_sf(t: float, df: float) -> float:
    """scipy.stats.t.sf(t, df)."""
    return float(special.stdtr(df, -t))


def f_ppf(p: float, dfn: float, dfd: float) -> float:
    """scipy.stats.f.ppf(p, dfn, dfd)."""
    return float(special.fdtri(dfn, dfd, p))


def bisect_root(f: Callable[[float], float], lo: float, hi: float, *, xtol: float = 1e-13, max_iter: int = 200) -> float:
    """Root of a continuous f with a sign change on [lo, hi] (bisection to xtol relative)."""
    flo = f(lo)
    for _ in range(max_iter):
        mid = 0.5 * (lo + hi)
        fm = f(mid)
        if fm == 0 or (hi - lo) <= xtol * max(1.0, abs(mid)):
            return mid
        if np.sign(fm) == np.sign(flo):
            lo, flo = mid, fm
        else:
            hi = mid
    return 0.5 * (lo + hi)
