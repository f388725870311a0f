"""Chi-square based fit measures, one implementation for every estimator.

Each estimator hands over a :class:`TestStatistic` (chi-square, df, baseline
chi-square and df, the sample size the statistics use, and, for robust estimators,
the scaling and shift of the test); :func:`fit_measures` turns it into lavaan's
``fitMeasures`` (lavaan ``lav_fit_cfi``, ``lav_fit_rmsea`` serve all estimators the
same way).

* CFI = 1 - max(X2 - df, 0) / max(X2 - df, X2_b - df_b, 0)  (Bentler 1990)
* TLI = (X2_b/df_b - X2/df) / (X2_b/df_b - 1)                (Tucker & Lewis 1973)
* RMSEA = sqrt(G) sqrt(max(X2/(n df) - c/n, 0)) with the 90 % interval from the
  noncentral chi-square (Steiger 1998 for G groups); c = 1 except for the robust
  RMSEA (Brosseau-Liard, Savalei & Li 2012; Brosseau-Liard & Savalei 2014), which
  with the robust CFI/TLI uses the unscaled X2 and df scaled by c.
* Scaled statistics: Yuan-Bentler X2/c (MLR); scaled-and-shifted a X2 + b (WLSMV,
  Asparouhov & Muthen 2010).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .._distributions import brent_root, chi2_sf, ncx2_cdf, norm_ppf

__all__ = ["TestStatistic", "fit_measures", "cfi", "tli", "rmsea", "rmsea_ci"]


@dataclass(frozen=True)
class TestStatistic:
    """What an estimator's test produces; input of :func:`fit_measures`.

    ``n_test`` is the sample size the statistics are scaled by (N for the normal
    likelihood, N - G for Wishart and least squares).  ``kind`` is ``"standard"``,
    ``"yuan_bentler"`` (scaled chi-square X2/c with baseline c_b) or
    ``"scaled_shifted"`` (a X2 + b with a = 1/c, baseline a_b, b_b).
    ``robust_indices``: report lavaan's ``*.robust`` CFI/TLI/RMSEA from the scaled test.
    ``robust_chisq`` and the other ``robust_*`` fields (FIML) give the statistic and
    scaling factors those indices use instead: lavaan's FIML-corrected statistic
    (Zhang & Savalei 2022, ``lav_fit_fiml_corrected``), reported for ML and MLR alike.
    """

    __test__ = False  # not a pytest test class

    chisq: float
    df: float
    baseline_chisq: float
    baseline_df: float
    n_test: float
    n_groups: int
    kind: Literal["standard", "yuan_bentler", "scaled_shifted"] = "standard"
    scaling_factor: float | None = None
    baseline_scaling_factor: float | None = None
    shift: float | None = None
    baseline_shift: float | None = None
    robust_indices: bool = True
    robust_chisq: float | None = None
    robust_scaling_factor: float | None = None
    robust_baseline_chisq: float | None = None
    robust_baseline_scaling_factor: float | None = None

    @property
    def chisq_scaled(self) -> float | None:
        if self.kind == "yuan_bentler":
            assert self.scaling_factor is not None
            return self.chisq / self.scaling_factor
        if self.kind == "scaled_shifted":
            assert self.scaling_factor is not None and self.shift is not None
            return self.chisq / self.scaling_factor + self.shift
        return None

    @property
    def baseline_chisq_scaled(self) -> float | None:
        if self.kind == "yuan_bentler":
            assert self.baseline_scaling_factor is not None
            return self.baseline_chisq / self.baseline_scaling_factor
        if self.kind == "scaled_shifted":
            assert self.baseline_scaling_factor is not None and self.baseline_shift is not None
            return self.baseline_chisq / self.baseline_scaling_factor + self.baseline_shift
        return None


def cfi(x2: float, df: float, x2_b: float, df_b: float, c: float = 1.0, c_b: float = 1.0) -> float:
    """Comparative fit index (lavaan ``lav_fit_cfi``); 1 when both numerators vanish.

    ``c``, ``c_b`` > 1 give the robust CFI (unscaled X2 against c df)."""
    den = max(x2 - c * df, x2_b - c_b * df_b, 0.0)
    return 1.0 - max(x2 - c * df, 0.0) / den if den > 0 else 1.0


def tli(x2: float, df: float, x2_b: float, df_b: float, c: float = 1.0, c_b: float = 1.0) -> float:
    """Tucker-Lewis index as 1 - (X2 - c df) df_b / ((X2_b - c_b df_b) df), which for c = 1
    equals (X2_b/df_b - X2/df)/(X2_b/df_b - 1); c, c_b > 1 give the robust TLI (lavaan
    ``lav_fit_tli``)."""
    t2 = (x2_b - c_b * df_b) * df
    return 1.0 - (x2 - c * df) * df_b / t2 if df > 0 and t2 != 0 else 1.0


def rmsea(x2: float, df: float, n: float, n_groups: int = 1, c: float = 1.0) -> float:
    """Root mean square error of approximation; ``c`` > 1 gives the robust version."""
    return float(np.sqrt(max(x2 / n / df - c / n, 0.0)) * np.sqrt(n_groups)) if df > 0 else 0.0


def rmsea_ci(chisq: float, df: float, n: float, n_groups: int, level: float = 0.90) -> tuple[float, float]:
    """Interval for RMSEA by inverting the noncentral chi-square cdf in its noncentrality
    (lavaan ``lav_fit_rmsea_ci``)."""
    if df < 1:
        return 0.0, 0.0
    upper_p, lower_p = 1 - (1 - level) / 2, (1 - level) / 2

    def cdf(lam: float) -> float:
        return ncx2_cdf(chisq, df, lam)

    if cdf(0.0) < upper_p:
        lo = 0.0
    else:
        lam = _noncentrality(cdf, chisq, df, upper_p, chisq)
        lo = float(np.sqrt(lam / (n * df)) * np.sqrt(n_groups))
    top = max(n, 4 * chisq)
    if cdf(top) - lower_p > 0 or cdf(0.0) < lower_p:
        hi = 0.0
    else:
        lam = _noncentrality(cdf, chisq, df, lower_p, top)
        hi = float(np.sqrt(lam / (n * df)) * np.sqrt(n_groups))
    return lo, hi


def _noncentrality(cdf: Callable[[float], float], chisq: float, df: float, p: float, top: float) -> float:
    """The noncentrality in [0, top] at which ``cdf`` (falling in it) equals p.

    Bracketed around the normal approximation of the noncentral chi-square (mean
    df + lam, variance 2 (df + 2 lam)), whose solution is chisq - df + 2 z^2 -
    2 z sqrt(chisq - df/2 + z^2) with z the normal p-quantile, then solved by Brent's
    method: a handful of cdf evaluations, all near the root.
    """
    z = norm_ppf(p)
    guess = chisq - df + 2 * z * z - 2 * z * math.sqrt(max(chisq - df / 2 + z * z, 0.0))
    step = 0.1 * math.sqrt(2 * (df + 2 * max(guess, 0.0))) + 1e-3
    a, b = min(max(guess - step, 0.0), top), min(max(guess + step, 0.0), top)
    fa, fb = cdf(a) - p, cdf(b) - p
    while fa < 0 and a > 0.0:  # the root is below the bracket
        step *= 4
        b, fb = a, fa
        a = max(a - step, 0.0)
        fa = cdf(a) - p
    while fb > 0 and b < top:  # ... or above it
        step *= 4
        a, fa = b, fb
        b = min(b + step, top)
        fb = cdf(b) - p
    return brent_root(lambda v: cdf(v) - p, a, b, f_lo=fa, f_hi=fb)


def fit_measures(test: TestStatistic, *, npar: int, srmr: float, n_total: int, fmin: float | None = None,
                 loglik: float | None = None, unrestricted_loglik: float | None = None) -> dict[str, float]:
    """lavaan's ``fitMeasures`` from one estimator's test statistic.

    Keys (lavaan's names with ``.`` written ``_``): ``npar, fmin, chisq, df, pvalue,
    baseline_chisq, baseline_df, baseline_pvalue, cfi, tli, nfi, rmsea, rmsea_ci_low,
    rmsea_ci_high, rmsea_pvalue, srmr`` and, with a likelihood, ``loglik,
    unrestricted_loglik, aic, bic, sabic``; robust tests add ``chisq_scaled,
    df_scaled, pvalue_scaled, scaling_factor, baseline_chisq_scaled,
    baseline_scaling_factor, cfi_scaled, tli_scaled, rmsea_scaled``; MLR, and ML or MLR
    with FIML, add ``cfi_robust, tli_robust, rmsea_robust``; WLSMV adds
    ``shift_parameter``.

    Examples
    --------
    >>> t = TestStatistic(85.306, 24, 918.852, 36, 301, 1)
    >>> round(fit_measures(t, npar=21, srmr=0.065, n_total=301)["cfi"], 3)
    0.931
    """
    x2, df, x2b, dfb, n, G = test.chisq, test.df, test.baseline_chisq, test.baseline_df, test.n_test, test.n_groups
    lo, hi = rmsea_ci(x2, df, n, G)
    out: dict[str, float] = {"npar": float(npar)}
    if fmin is not None:
        out["fmin"] = fmin
    out.update({
        "chisq": x2, "df": float(df), "pvalue": chi2_sf(x2, df) if df > 0 else np.nan,
        "baseline_chisq": x2b, "baseline_df": float(dfb), "baseline_pvalue": chi2_sf(x2b, dfb),
        "cfi": cfi(x2, df, x2b, dfb), "tli": tli(x2, df, x2b, dfb), "nfi": (x2b - x2) / x2b,
        "rmsea": rmsea(x2, df, n, G), "rmsea_ci_low": lo, "rmsea_ci_high": hi,
        "rmsea_pvalue": 1.0 - ncx2_cdf(x2, df, n * df * 0.05**2 / G) if df > 0 else np.nan,
        "srmr": srmr,
    })
    if loglik is not None:
        out.update({
            "aic": -2 * loglik + 2 * npar, "bic": -2 * loglik + npar * np.log(n_total),
            "sabic": -2 * loglik + npar * np.log((n_total + 2) / 24), "loglik": loglik,
            "unrestricted_loglik": unrestricted_loglik if unrestricted_loglik is not None else np.nan,
        })
    if test.robust_chisq is not None:
        # FIML: X2 and c of the FIML-corrected statistic, RMSEA with its df (lavaan df3 = df)
        x3, c3 = test.robust_chisq, float(test.robust_scaling_factor or np.nan)
        x3b, c3b = float(test.robust_baseline_chisq or np.nan), float(test.robust_baseline_scaling_factor or np.nan)
        robust = {"cfi_robust": cfi(x3, df, x3b, dfb, c3, c3b), "tli_robust": tli(x3, df, x3b, dfb, c3, c3b),
                  "rmsea_robust": rmsea(x3, df, n, G, c3)}
    elif test.kind == "yuan_bentler" and test.robust_indices:
        c, cb = float(test.scaling_factor or np.nan), float(test.baseline_scaling_factor or np.nan)
        robust = {"cfi_robust": cfi(x2, df, x2b, dfb, c, cb), "tli_robust": tli(x2, df, x2b, dfb, c, cb),
                  "rmsea_robust": rmsea(x2, df, n, G, c)}
    else:
        robust = {}
    if test.kind == "standard":
        out.update(robust)
        return out
    xs, xbs = test.chisq_scaled, test.baseline_chisq_scaled
    assert xs is not None and xbs is not None and test.scaling_factor is not None
    out.update({
        "chisq_scaled": xs, "df_scaled": float(df), "pvalue_scaled": chi2_sf(xs, df) if df > 0 else np.nan,
        "scaling_factor": test.scaling_factor,
        "baseline_chisq_scaled": xbs, "baseline_scaling_factor": float(test.baseline_scaling_factor or np.nan),
        "cfi_scaled": cfi(xs, df, xbs, dfb), "tli_scaled": tli(xs, df, xbs, dfb), "rmsea_scaled": rmsea(xs, df, n, G),
    })
    if test.kind == "scaled_shifted":
        out["shift_parameter"] = float(test.shift or 0.0)
    out.update(robust)
    return out
