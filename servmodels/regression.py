"""Satisfaction regression on dimension scores, relative importance, and the
SERVQUAL-versus-SERVPERF comparison (Cronin & Taylor 1992; Davidson & MacKinnon 1981).

Predictors are respondents' dimension means of perception (SERVPERF), of the P - E gap
(SERVQUAL), or of the importance-weighted gap.  OLS uses statsmodels with HC3 standard
errors by default (Long & Ervin 2000), classical or cluster-robust on request; an
ordinal (proportional-odds) logit is fitted by Newton's method with closed-form derivatives
(:mod:`servmodels._ordinal_logit`), as ``MASS::polr``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._distributions import norm_ppf, norm_sf, t_ppf, t_sf
from ._exceptions import NumericalError, ParameterError, Problem, ValidationError
from ._inputs import survey_input
from ._numerics import singular_cause
from ._params import check_bool, check_choice, check_cluster, check_confidence_level, check_int, check_rng
from ._progress import progress as progress_bar
from ._results import Result, jsonable, text_table
from .data import SurveyData
from .scoring import score
from .simulate import as_generator

__all__ = ["RegressionResult", "ComparisonResult", "RelativeImportanceResult", "regress", "relative_importance", "compare_servqual_servperf", "lmg"]

ScoresKind = Literal["P", "gap", "weighted_gap"]


def _design(data: SurveyData, scores: str) -> tuple[pd.DataFrame, np.ndarray]:
    inst = data.instrument
    code = None if scores in ("gap", "weighted_gap") else inst.set_code(scores)
    if code is None:
        scores = check_choice("scores", scores, (*inst.score_sets, "gap", "weighted_gap"))
    if data.outcome is None:
        raise ValidationError([Problem("missing_column", None, "this analysis needs an outcome column (overall "
                                       "satisfaction): read_survey(..., outcome='COL')")], data.source)
    res = score(data)
    r = res.respondents
    dims = list(data.instrument.dimension_names)
    if code is not None:
        data.require(code)
        X = r[[f"{inst.set_name(code)}_{d}" for d in dims]]
    elif scores == "gap":
        X = r[[f"gap_{d}" for d in dims]]
    elif scores == "weighted_gap":
        if data.importance is None:
            raise ParameterError("scores='weighted_gap' needs importance columns (read_survey(..., importance=...))")
        w = data.importance / data.importance.sum(axis=1, keepdims=True)
        X = pd.DataFrame(r[[f"gap_{d}" for d in dims]].to_numpy() * w, columns=dims)
    X = pd.DataFrame(X.to_numpy(), columns=dims)
    # collinear dimension scores leave the coefficients unidentified (numpy would return a
    # minimum-norm solution or raise LinAlgError deep inside a test): say which ones
    cause = singular_cause(X.to_numpy(dtype=np.float64), dims, kind="dimension score")
    if cause is not None:
        raise NumericalError(f"regression on {scores} dimension scores is not identified: {cause}")
    return X, np.asarray(data.outcome, float)


def _ols(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    Xc = np.column_stack([np.ones(len(y)), X])
    beta, *_ = np.linalg.lstsq(Xc, y, rcond=None)
    resid = y - Xc @ beta
    return beta, resid, float(resid @ resid)


def _r2(X: np.ndarray, y: np.ndarray) -> float:
    if X.shape[1] == 0:
        return 0.0
    _, _, rss = _ols(X, y)
    tss = float(((y - y.mean()) ** 2).sum())
    return 1.0 - rss / tss


def lmg(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """LMG / general dominance weights: each predictor's R^2 increase averaged over all
    orders of entry (Lindeman, Merenda & Gold 1980; Budescu 1993); they sum to R^2.

    Computed from the R^2 of all 2^p subsets with Shapley weights |S|! (p - |S| - 1)! / p!.
    """
    p = X.shape[1]
    r2 = {(): 0.0}
    for k in range(1, p + 1):
        for S in combinations(range(p), k):
            r2[S] = _r2(X[:, S], y)
    out = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for k in range(p):
            w = math.factorial(k) * math.factorial(p - k - 1) / math.factorial(p)
            for S in combinations(others, k):
                out[j] += w * (r2[tuple(sorted(S + (j,)))] - r2[S])
    return out


@dataclass(frozen=True)
class RegressionResult(Result):
    """OLS (or ordinal) regression of satisfaction on dimension scores (frozen).

    ``coefficients``: ``term, estimate, se, statistic, p_value, ci_low, ci_high`` and for
    OLS ``std_estimate`` (beta weight), ``vif``, ``partial_r2``, ``se_classical``.
    ``fit``: ``r2, adj_r2, aic, bic, f_statistic, f_p_value, df_resid`` (OLS; AIC/BIC as R's
    ``AIC(lm)``, counting the residual variance) or ``loglik, aic, bic, iterations`` (ordinal).
    ``thresholds`` (ordinal only): the cut-points ``threshold`` ("1|2", ...), ``estimate``, ``se``.
    ``diagnostics``: Breusch-Pagan (studentized, as ``lmtest::bptest``) and Jarque-Bera.
    """

    scores: str
    cov_type: str
    model: str
    coefficients: pd.DataFrame
    fit: dict[str, float]
    diagnostics: dict[str, float]
    n_respondents: int
    n_dropped: int
    thresholds: pd.DataFrame | None = None
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.coefficients.copy()

    def to_dict(self) -> dict[str, Any]:
        c = self.coefficients.set_index("term")
        return jsonable({
            "scores": self.scores, "model": self.model, "cov_type": self.cov_type,
            "n_respondents": self.n_respondents, "n_dropped": self.n_dropped, "fit": self.fit,
            "coef": c["estimate"].to_dict(), "se": c["se"].to_dict(),
            "se_classical": c["se_classical"].to_dict() if "se_classical" in c else None,
            "coefficients": self.coefficients, "diagnostics": self.diagnostics,
            "thresholds": None if self.thresholds is None else self.thresholds,
            "warnings": list(self.warnings),
        })

    def summary(self, digits: int = 3) -> str:
        f = self.fit
        head = (f"{self.model} regression of satisfaction on {self.scores} dimension scores — n = {self.n_respondents}; "
                f"SE: {self.cov_type}")
        stats = (f"R2 = {f['r2']:.3f}, adj. R2 = {f['adj_r2']:.3f}, F = {f['f_statistic']:.2f} (p = {f['f_p_value']:.3g}), "
                 f"AIC = {f['aic']:.2f}, BIC = {f['bic']:.2f}") if "r2" in f else (
                 f"log-likelihood = {f['loglik']:.3f}, AIC = {f['aic']:.2f}, BIC = {f['bic']:.2f}")
        return "\n".join([head, stats, "", text_table(self.coefficients, digits)])


@survey_input
def regress(data: SurveyData, *, scores: ScoresKind | str | None = None,
            cov_type: Literal["HC3", "classical", "cluster"] | None = None,
            cluster: str | None = None, ordinal: bool = False, confidence_level: float = 0.95) -> RegressionResult:
    """Regress overall satisfaction on the five dimension scores.

    Parameters
    ----------
    data : SurveyData
        With an outcome column.
    scores : {"P", "gap", "weighted_gap"} or str, optional
        Perception, gap or importance-weighted gap dimension scores, or any score
        set of the instrument; default: its only set, else ``"P"``.
    cov_type : {"HC3", "classical", "cluster"}, optional
        HC3 (as ``sandwich::vcovHC(type = "HC3")``), classical OLS, or
        cluster-robust by ``cluster`` (as ``sandwich::vcovCL(type = "HC1")``).
        Default: ``"cluster"`` when ``cluster`` is given, else ``"HC3"``.
    cluster : str, optional
        Cluster column, e.g. ``"village"`` (read with ``groups=[...]``): the same
        option as in :func:`~servmodels.sem.cfa` and
        :func:`~servmodels.gap_bootstrap`; here it gives cluster-robust SEs.
    ordinal : bool
        Proportional-odds logit (``MASS::polr(method = "logistic")``) instead of OLS:
        logit P(Y <= k) = zeta_k - x'beta, fitted by Newton's method with the closed-form
        score and Hessian (McCullagh 1980); SEs from the observed information, as
        ``vcov(polr)``.  ``cov_type`` does not apply.

    Examples
    --------
    >>> from servmodels import read_survey, load_example
    >>> data = read_survey(load_example(), outcome="satisfaction")
    >>> res = regress(data, scores="P")
    >>> list(res.coefficients["term"])[:2]
    ['intercept', 'tangibles']
    """
    if cov_type is None:
        cov_type = "cluster" if cluster is not None else "HC3"
    cov_type = check_choice("cov_type", cov_type, ("HC3", "classical", "cluster"))
    if cluster is not None and cov_type != "cluster":
        raise ParameterError(f"cluster={cluster!r} gives cluster-robust SEs; cov_type={cov_type!r} contradicts it "
                             "(leave cov_type out, or drop cluster)")
    if cluster is not None and ordinal:
        raise ParameterError("cluster= with ordinal=True is not implemented (the proportional-odds model has "
                             "classical SEs); drop cluster or ordinal")
    ordinal = check_bool("ordinal", ordinal)
    confidence_level = check_confidence_level(confidence_level)
    if cov_type == "cluster":
        if cluster is None:
            raise ParameterError("cluster: cov_type='cluster' needs cluster=<grouping column read with groups=[...]>; "
                                 "got None")
        check_cluster(cluster, data.groups, data.source)
    X, y = _design(data, scores)
    dims = list(X.columns)
    n = len(y)
    if ordinal:
        return _ordinal(data, scores, X, y, confidence_level)
    import statsmodels.api as smapi  # here: 0.7 s to import, and the ordinal model does not need it

    Xc = smapi.add_constant(X.to_numpy(), has_constant="add")
    ols = smapi.OLS(y, Xc).fit()
    if cov_type == "HC3":
        rob = ols.get_robustcov_results(cov_type="HC3")
    elif cov_type == "classical":
        rob = ols
    else:  # "cluster", checked above
        codes = pd.factorize(data.groups[cluster])[0]
        rob = ols.get_robustcov_results(cov_type="cluster", groups=codes)
    terms = ["intercept"] + dims
    se = np.asarray(rob.bse)
    tvals = np.asarray(ols.params) / se
    df_resid = float(ols.df_resid)
    tq = t_ppf(1 - (1 - confidence_level) / 2, df_resid)
    sdx = X.std(ddof=1).to_numpy()
    sdy = float(np.std(y, ddof=1))
    # VIF_j = 1 / (1 - R_j^2) of x_j on the other predictors = the j-th diagonal element of the inverse
    # correlation matrix of the predictors (Belsley, Kuh & Welsch 1980, p. 93): no auxiliary regressions
    Xv = X.to_numpy(dtype=np.float64)
    vif = [np.nan] + (np.diag(np.linalg.inv(np.atleast_2d(np.corrcoef(Xv, rowvar=False)))).tolist()
                      if Xv.shape[1] > 1 else [1.0])
    t_classical = np.asarray(ols.tvalues)
    coefs = pd.DataFrame({
        "term": terms, "estimate": np.asarray(ols.params), "se": se, "statistic": tvals,
        "p_value": [2 * t_sf(abs(v), df_resid) for v in tvals],
        "ci_low": np.asarray(ols.params) - tq * se, "ci_high": np.asarray(ols.params) + tq * se,
        "std_estimate": np.concatenate([[np.nan], np.asarray(ols.params)[1:] * sdx / sdy]),
        "vif": vif,
        "partial_r2": np.concatenate([[np.nan], t_classical[1:] ** 2 / (t_classical[1:] ** 2 + df_resid)]),
        "se_classical": np.asarray(ols.bse),
    })
    k = Xc.shape[1]
    llf = float(ols.llf)
    fit = {"r2": float(ols.rsquared), "adj_r2": float(ols.rsquared_adj),
           "aic": -2 * llf + 2 * (k + 1), "bic": -2 * llf + (k + 1) * np.log(n),  # R's AIC(lm) counts sigma^2
           "f_statistic": float(ols.fvalue), "f_p_value": float(ols.f_pvalue), "df_resid": df_resid}
    from statsmodels.stats.diagnostic import het_breuschpagan
    from statsmodels.stats.stattools import jarque_bera

    bp, bp_p, _, _ = het_breuschpagan(ols.resid, Xc)
    jb, jb_p, _, _ = jarque_bera(ols.resid)
    diag = {"breusch_pagan": float(bp), "breusch_pagan_p_value": float(bp_p),
            "jarque_bera": float(jb), "jarque_bera_p_value": float(jb_p)}
    label = {"HC3": "HC3", "classical": "classical", "cluster": f"cluster-robust by {cluster}"}[cov_type]
    return RegressionResult(scores, label, "OLS", coefs, fit, diag, n, data.n_dropped, warnings=data.warnings)


def _ordinal(data: SurveyData, scores: str, X: pd.DataFrame, y: np.ndarray,
             confidence_level: float) -> RegressionResult:
    """Proportional-odds logit of the outcome on the dimension scores (``MASS::polr``), fitted by
    Newton's method with the closed-form score and Hessian of :mod:`servmodels._ordinal_logit`."""
    import warnings

    from ._exceptions import NonConvergenceWarning
    from ._ordinal_logit import fit_ordinal_logit

    dims = list(X.columns)
    n = len(y)
    levels, codes = np.unique(y, return_inverse=True)
    if len(levels) < 2:
        raise ParameterError(f"ordinal=True needs an outcome with at least two levels; it has one ({levels[0]:g})")
    fit = fit_ordinal_logit(X.to_numpy(dtype=np.float64), codes, len(levels))
    issued: list[str] = []
    if not fit.converged:
        msg = "the proportional-odds model did not converge; estimates are not trustworthy"
        warnings.warn(msg, NonConvergenceWarning, stacklevel=3)
        issued.append(msg)
    k = len(dims)
    se = np.sqrt(np.diag(fit.cov))
    z = fit.beta / se[:k]
    zq = norm_ppf(1 - (1 - confidence_level) / 2)  # Wald intervals, as confint.default(polr)
    coefs = pd.DataFrame({"term": dims, "estimate": fit.beta, "se": se[:k], "statistic": z,
                          "p_value": [2 * norm_sf(abs(v)) for v in z],
                          "ci_low": fit.beta - zq * se[:k], "ci_high": fit.beta + zq * se[:k]})
    thr = pd.DataFrame({"threshold": [f"{a:g}|{b:g}" for a, b in zip(levels[:-1], levels[1:])],
                        "estimate": fit.zeta, "se": se[k:]})
    npar = k + len(fit.zeta)
    llf = fit.loglik
    stats = {"loglik": llf, "aic": -2 * llf + 2 * npar, "bic": -2 * llf + npar * float(np.log(n)),
             "iterations": float(fit.iterations)}
    return RegressionResult(scores, "classical (observed information)", "proportional-odds logit", coefs, stats, {},
                            n, data.n_dropped, thresholds=thr, warnings=data.warnings + tuple(issued))


@dataclass(frozen=True)
class RelativeImportanceResult(Result):
    """LMG relative importance of the dimensions (frozen).

    ``table`` (indexed by dimension): ``estimate`` (the LMG weight; they sum to R^2),
    ``share`` (of R^2), ``ci_low``, ``ci_high`` (bootstrap percentile; absent without
    resamples) and ``rank``.
    """

    scores: str
    table: pd.DataFrame
    r2: float
    n_resamples: int
    confidence_level: float
    n_respondents: int
    n_dropped: int
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index()

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"scores": self.scores, "r2": self.r2, "n_resamples": self.n_resamples,
                         "confidence_level": self.confidence_level, "n_respondents": self.n_respondents,
                         "n_dropped": self.n_dropped, "dimensions": self.table.reset_index(),
                         "warnings": list(self.warnings)})

    def summary(self, digits: int = 3) -> str:
        head = (f"Relative importance (LMG) of {self.scores} dimension scores — R2 = {self.r2:.3f}, n = {self.n_respondents}"
                + (f"; {self.n_resamples} bootstrap resamples" if self.n_resamples else ""))
        return head + "\n" + text_table(self.table.reset_index(), digits)


@survey_input
def relative_importance(data: SurveyData, *, scores: ScoresKind | str | None = None, n_resamples: int = 1000,
                        rng: int | np.random.Generator | None = None,
                        confidence_level: float = 0.95, progress: bool = False) -> RelativeImportanceResult:
    """LMG relative importance of the dimensions with bootstrap percentile intervals.

    ``progress=True`` shows a progress bar of the bootstrap on stderr; results are the same
    without it.

    Returns
    -------
    RelativeImportanceResult
        ``table`` indexed by dimension: ``estimate`` (the LMG weight; they sum to R^2),
        ``share`` (of R^2), ``ci_low``, ``ci_high``, ``rank``.
    """
    n_resamples = check_int("n_resamples", n_resamples, low=0)
    if n_resamples == 1:
        raise ParameterError("n_resamples must be 0 (no intervals) or >= 2; got 1")
    rng = check_rng(rng)
    confidence_level = check_confidence_level(confidence_level)
    progress = check_bool("progress", progress)
    X, y = _design(data, scores)
    w = lmg(X.to_numpy(), y)
    out = pd.DataFrame({"estimate": w, "share": w / w.sum()}, index=pd.Index(X.columns, name="dimension"))
    if n_resamples:
        from .bootstrap import bootstrap

        p = X.shape[1]
        ci = bootstrap(lambda rows: lmg(rows[:, :p], rows[:, p]), np.column_stack([X.to_numpy(), y]),
                       method="percentile", n_resamples=n_resamples, rng=rng, confidence_level=confidence_level,
                       progress=progress)
        out["ci_low"] = ci["ci_low"].to_numpy()
        out["ci_high"] = ci["ci_high"].to_numpy()
    out["rank"] = out["estimate"].rank(ascending=False).astype(int)
    return RelativeImportanceResult(scores, out, float(w.sum()), n_resamples, confidence_level, len(y),
                                    data.n_dropped, data.warnings)


# ----------------------------------------------------------------------------- non-nested tests
def _t_added(X: np.ndarray, extra: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """t statistic (classical SE) of an added regressor, and its p-value (lmtest::jtest rows)."""
    Xc = np.column_stack([np.ones(len(y)), X, extra])
    beta, *_ = np.linalg.lstsq(Xc, y, rcond=None)
    resid = y - Xc @ beta
    df = len(y) - Xc.shape[1]
    s2 = resid @ resid / df
    try:
        cov = s2 * np.linalg.inv(Xc.T @ Xc)
    except np.linalg.LinAlgError:
        raise NumericalError("J test: the fitted values of one model are collinear with the other model's "
                             "dimension scores, so the added regressor is not identified") from None
    t = beta[-1] / np.sqrt(cov[-1, -1])
    return float(t), 2 * t_sf(abs(t), df)


def _fitted(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    Xc = np.column_stack([np.ones(len(y)), X])
    beta, *_ = np.linalg.lstsq(Xc, y, rcond=None)
    fit = Xc @ beta
    return fit, y - fit


def cox_test(X: np.ndarray, Z: np.ndarray, y: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """Cox (1961) test as ``lmtest::coxtest``: (z, p) for "M1 (X) adequate against M2 (Z)" and the reverse."""
    n = len(y)

    def mse(r: np.ndarray) -> float:
        return float(np.mean(r * r))

    fx, rx = _fitted(X, y)
    fz, rz = _fitted(Z, y)
    s2x, s2z = mse(rx), mse(rz)
    _, r_zx = _fitted(Z, fx)
    s2zx = s2x + mse(r_zx)
    _, r_xz = _fitted(X, fz)
    s2xz = s2z + mse(r_xz)
    s2xzx = mse(_fitted(X, r_zx)[1])
    s2zxz = mse(_fitted(Z, r_xz)[1])
    c01 = n / 2 * np.log(s2z / s2zx)
    v01 = n * (s2x / s2zx**2) * s2xzx
    c10 = n / 2 * np.log(s2x / s2xz)
    v10 = n * (s2z / s2xz**2) * s2zxz
    z01, z10 = c01 / np.sqrt(v01), c10 / np.sqrt(v10)
    return (float(z01), 2 * norm_sf(abs(z01))), (float(z10), 2 * norm_sf(abs(z10)))


def encompassing_test(X: np.ndarray, Z: np.ndarray, y: np.ndarray) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Encompassing F tests as ``lmtest::encomptest``: each model against the union model."""
    XZ = np.column_stack([X, Z])
    _, _, rss_e = _ols(XZ, y)
    n = len(y)
    df_e = n - 1 - XZ.shape[1]
    out = []
    for M, other in ((X, Z), (Z, X)):
        _, _, rss = _ols(M, y)
        q = other.shape[1]
        F = ((rss - rss_e) / q) / (rss_e / df_e)
        from scipy import special

        out.append((float(F), float(q), float(special.fdtrc(q, df_e, F))))
    return out[0], out[1]


@dataclass(frozen=True)
class ComparisonResult(Result):
    """SERVQUAL (gap) versus SERVPERF (perception) as predictors of satisfaction (frozen)."""

    servperf: RegressionResult
    servqual: RegressionResult
    j_test: dict[str, dict[str, float]]
    cox_test: dict[str, dict[str, float]]
    encompassing_test: dict[str, dict[str, float]]
    cv_r2: dict[str, dict[str, float]]
    r2_difference: dict[str, float]
    cfa_fit: pd.DataFrame | None
    difference_scores: pd.DataFrame | None
    verdict: str
    n_respondents: int
    n_dropped: int
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per model: ``model, r2, adj_r2, aic, bic, f_statistic, f_p_value, cv_r2``."""
        rows = []
        for name, r in (("servperf", self.servperf), ("servqual", self.servqual)):
            rows.append({"model": name, **{k: r.fit[k] for k in ("r2", "adj_r2", "aic", "bic", "f_statistic", "f_p_value")},
                         "cv_r2": self.cv_r2[name]["mean"]})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        def side(r: RegressionResult) -> dict[str, Any]:
            c = r.coefficients.set_index("term")
            return {"r2": r.fit["r2"], "adj_r2": r.fit["adj_r2"], "aic": r.fit["aic"], "bic": r.fit["bic"],
                    "coef": c["estimate"].to_dict(), "se_classical": c["se_classical"].to_dict(),
                    "se_hc3": c["se"].to_dict(), "f_statistic": r.fit["f_statistic"], "f_p_value": r.fit["f_p_value"]}

        return jsonable({
            "n_respondents": self.n_respondents, "n_dropped": self.n_dropped,
            "servperf": side(self.servperf), "servqual": side(self.servqual),
            "j_test": self.j_test, "cox_test": self.cox_test, "encompassing_test": self.encompassing_test,
            "cv_r2": {k: v["mean"] for k, v in self.cv_r2.items()}, "cv_r2_detail": self.cv_r2,
            "r2_difference": self.r2_difference,
            "cfa_fit": None if self.cfa_fit is None else self.cfa_fit.reset_index().to_dict(orient="records"),
            "difference_scores": None if self.difference_scores is None else self.difference_scores.reset_index().to_dict(orient="records"),
            "verdict": self.verdict, "warnings": list(self.warnings),
        })

    def summary(self, digits: int = 3) -> str:
        rows = []
        for name, r in (("SERVPERF (P)", self.servperf), ("SERVQUAL (P - E)", self.servqual)):
            rows.append({"model": name, "r2": r.fit["r2"], "adj_r2": r.fit["adj_r2"], "aic": r.fit["aic"],
                         "bic": r.fit["bic"], "cv_r2": self.cv_r2["servperf" if "PERF" in name else "servqual"]["mean"]})
        tests = pd.DataFrame([{"test": f"{t} {k}", "statistic": v["statistic"], "p_value": v["p_value"]}
                              for t, d in (("J", self.j_test), ("Cox", self.cox_test)) for k, v in d.items()])
        return "\n".join(["SERVQUAL vs SERVPERF", text_table(pd.DataFrame(rows), digits), "", text_table(tests, digits),
                          "", f"R2 difference (SERVPERF - SERVQUAL) = {self.r2_difference['estimate']:.3f} "
                          f"[{self.r2_difference['ci_low']:.3f}, {self.r2_difference['ci_high']:.3f}]", "", self.verdict])


def _verdict(perf: RegressionResult, qual: RegressionResult, j: dict, cv: dict, diff: dict,
             dscores: pd.DataFrame | None, n: int, alpha: float = 0.05) -> str:
    rq_rej = j["servqual_vs_servperf"]["p_value"] < alpha  # SERVQUAL rejected: SERVPERF adds information
    rp_rej = j["servperf_vs_servqual"]["p_value"] < alpha  # SERVPERF rejected: SERVQUAL adds information
    # a measure "explains" satisfaction only if its regression is significant *and* it predicts
    # out of sample (cross-validated R2 > 0): guards against a chance F-test rejection
    perf_sig = perf.fit["f_p_value"] < alpha and cv["servperf"]["mean"] > 0
    qual_sig = qual.fit["f_p_value"] < alpha and cv["servqual"]["mean"] > 0
    d_lo, d_hi = diff["ci_low"], diff["ci_high"]
    parts = []
    if not perf_sig and not qual_sig:
        parts.append(
            f"Neither measure explains overall satisfaction: neither regression is both significant and predictive out of "
            f"sample (SERVPERF R2 = {perf.fit['r2']:.3f}, cross-validated {cv['servperf']['mean']:.3f}; SERVQUAL R2 = "
            f"{qual.fit['r2']:.3f}, cross-validated {cv['servqual']['mean']:.3f}), so the data cannot say which is the "
            "better measure."
        )
    elif rq_rej and not rp_rej:
        parts.append(
            f"The evidence favours SERVPERF: performance scores explain more of satisfaction (R2 {perf.fit['r2']:.3f} vs "
            f"{qual.fit['r2']:.3f}; cross-validated {cv['servperf']['mean']:.3f} vs {cv['servqual']['mean']:.3f}), adding "
            f"SERVPERF's predictions to the SERVQUAL model helps (J test p = {j['servqual_vs_servperf']['p_value']:.3g}) "
            f"while the reverse does not (p = {j['servperf_vs_servqual']['p_value']:.3g})."
        )
    elif rp_rej and not rq_rej:
        parts.append(
            f"The evidence favours SERVQUAL: gap scores carry information on satisfaction that performance scores lack "
            f"(J test p = {j['servperf_vs_servqual']['p_value']:.3g}; reverse p = {j['servqual_vs_servperf']['p_value']:.3g}); "
            f"R2 {qual.fit['r2']:.3f} vs {perf.fit['r2']:.3f}."
        )
    elif rq_rej and rp_rej:
        better = "SERVPERF" if perf.fit["r2"] > qual.fit["r2"] else "SERVQUAL"
        parts.append(
            f"Each measure carries information the other lacks (both J tests reject), so neither encompasses the other; "
            f"{better} fits better (R2 {max(perf.fit['r2'], qual.fit['r2']):.3f} vs {min(perf.fit['r2'], qual.fit['r2']):.3f}), "
            "which suggests expectations matter in their own right rather than as the subtrahend of a gap."
        )
    else:
        parts.append(
            f"Neither measure is rejected against the other (J tests p = {j['servqual_vs_servperf']['p_value']:.3g} and "
            f"{j['servperf_vs_servqual']['p_value']:.3g}); the data do not discriminate between them "
            f"(R2 {perf.fit['r2']:.3f} vs {qual.fit['r2']:.3f})."
        )
    if d_lo > 0:
        parts.append(f"The bootstrap interval for the R2 difference (SERVPERF - SERVQUAL) excludes zero [{d_lo:.3f}, {d_hi:.3f}].")
    elif d_hi < 0:
        parts.append(f"The bootstrap interval for the R2 difference (SERVPERF - SERVQUAL) is below zero [{d_lo:.3f}, {d_hi:.3f}].")
    else:
        parts.append(f"The bootstrap interval for the R2 difference includes zero [{d_lo:.3f}, {d_hi:.3f}].")
    caveats = []
    if dscores is not None and "overall" in dscores.index:
        row = dscores.loc["overall"]
        if row["reliability_gap"] < row["alpha_P"]:
            caveats.append(f"gap scores are less reliable than perception scores ({row['reliability_gap']:.2f} vs "
                           f"{row['alpha_P']:.2f}, Johns 1981), which by itself lowers SERVQUAL's R2")
    if n < 200:
        caveats.append(f"with n = {n} the tests have limited power")
    caveats.append("satisfaction is a single self-reported item measured at the same time as the predictors "
                   "(common-method variance), and the design is cross-sectional, so this is about prediction, not causation")
    return " ".join(parts) + " Caveats: " + "; ".join(caveats) + "."


def _cv_r2(Z: np.ndarray, models: list[np.ndarray], folds: Any, n_splits: int, bar: Any) -> list[np.ndarray]:
    """Out-of-fold R^2 of least squares (with intercept) of the last column of Z on each model's columns,
    for every test fold: what ``cross_val_score(LinearRegression(), X, y, cv=folds, scoring="r2")`` gives,
    from sums of products.  The training fit solves the normal equations of the totals minus the test
    fold; the test fold's residual sum of squares is a quadratic form in its own centred sums, so no
    model object is fitted and no training copy made.  r2_score's convention for a constant test
    outcome is kept (1 if predicted exactly, else 0)."""
    n, q = Z.shape
    y = q - 1
    Zc = Z - Z.mean(axis=0)  # centring: the sums of products below lose no precision
    T1, T2 = Zc.sum(axis=0), Zc.T @ Zc
    out: list[list[float]] = [[] for _ in models]
    with bar:
        for i, test in enumerate(folds):
            Zt = Zc[test]
            m = len(test)
            s1, S2 = Zt.sum(axis=0), Zt.T @ Zt
            n_tr = n - m
            mu_tr = (T1 - s1) / n_tr
            C_tr = (T2 - S2) - np.outer(T1 - s1, T1 - s1) / n_tr
            mu_t = s1 / m
            C_t = S2 - np.outer(s1, s1) / m  # test fold, about its own means
            for k, x in enumerate(models):
                Sxx, sxy = C_tr[np.ix_(x, x)], C_tr[x, y]
                try:
                    beta = np.linalg.solve(Sxx, sxy)
                except np.linalg.LinAlgError:
                    beta = np.linalg.lstsq(Sxx, sxy, rcond=None)[0]
                delta = (mu_t[y] - mu_tr[y]) - (mu_t[x] - mu_tr[x]) @ beta  # mean test residual
                sse = C_t[y, y] - 2 * beta @ C_t[x, y] + beta @ C_t[np.ix_(x, x)] @ beta + m * delta**2
                sst = C_t[y, y]
                out[k].append(1 - sse / sst if sst > 0 else (1.0 if sse <= 0 else 0.0))
            if (i + 1) % n_splits == 0:
                bar.update(len(models))  # one repeat of k-fold of every model
    return [np.array(v) for v in out]


def _integer_sums(M: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Dimension means times the dimension's item count: the integer item sums when the answers are
    integers (R^2 does not change when a predictor is rescaled), so their moments are summed exactly."""
    S = M * sizes
    R = np.rint(S)
    return R if np.allclose(S, R, rtol=0, atol=1e-8) else M


def _r2_difference_replicates(data: SurveyData, P: np.ndarray, G: np.ndarray, y: np.ndarray,
                              seeds: Any, progress: bool,
                              clusters: np.ndarray | None = None) -> np.ndarray:
    """R^2(SERVPERF) - R^2(SERVQUAL) in every bootstrap resample, from the resample's covariance
    matrix of [P dimensions, gap dimensions, outcome] (:mod:`servmodels._resample_moments`): the R^2 of
    least squares is s_xy' S_xx^-1 s_xy / s_yy, so no model is refitted and no row copied."""
    from ._resample_moments import all_pairs, r2_from_cov, resample_moments, weighted_cov

    inst = data.instrument
    sizes = np.array([len(inst.dimensions[d]) for d in inst.dimension_names], dtype=float)
    k = P.shape[1]
    Z = np.column_stack([_integer_sums(P, sizes), _integer_sums(G, sizes), y])
    ms = resample_moments(Z, seeds=seeds, pairs=all_pairs(Z.shape[1]), progress=progress,
                          desc="compare: bootstrap", clusters=clusters)
    C = weighted_cov(ms)
    return r2_from_cov(C, np.arange(k), 2 * k) - r2_from_cov(C, np.arange(k, 2 * k), 2 * k)


@survey_input
def compare_servqual_servperf(data: SurveyData, *, n_splits: int = 10, n_repeats: int = 10, n_resamples: int = 1000,
                              rng: int | np.random.Generator | None = None, include_cfa: bool = True,
                              confidence_level: float = 0.95, options: Any = None, cluster: str | None = None,
                              progress: bool = False) -> ComparisonResult:
    """SERVQUAL (gap) against SERVPERF (perception) as predictors of overall satisfaction.

    Both OLS models side by side; Davidson-MacKinnon J tests, Cox tests and encompassing
    tests in both directions (as ``lmtest::jtest``, ``coxtest``, ``encomptest``; the key
    ``servqual_vs_servperf`` is the test of the SERVQUAL model against SERVPERF, i.e. whether
    adding SERVPERF's fitted values helps); repeated k-fold cross-validated R^2
    (scikit-learn); a bootstrap percentile interval for the R^2 difference; the CFA fit of
    the P-item and gap-item measurement models; the difference-score reliability; and a
    plain-language verdict with caveats.

    ``options`` (a :class:`~servmodels.SEMOptions`) sets the estimator of the two CFAs
    (with ``estimator="MLR"`` the table adds the scaled chi-square and robust
    CFI/TLI/RMSEA); their warnings are kept in the table's ``warnings`` column.

    ``cluster`` (e.g. ``"village"``; also taken from ``options.cluster``): both
    regressions get cluster-robust SEs, the bootstrap of the R^2 difference resamples
    whole clusters and the CFAs are cluster-robust.  The J, Cox and encompassing tests
    and the cross-validation treat respondents as independent.

    ``progress=True`` shows progress bars on stderr for the cross-validation (one step per
    repeat of k-fold) and the bootstrap; results are the same without them.
    """
    n_splits = check_int("n_splits", n_splits, low=2, high=max(2, data.n_respondents))
    n_repeats = check_int("n_repeats", n_repeats, low=1)
    n_resamples = check_int("n_resamples", n_resamples, low=0)
    if n_resamples == 1:
        raise ParameterError("n_resamples must be 0 (no interval) or >= 2; got 1")
    rng = check_rng(rng)
    include_cfa = check_bool("include_cfa", include_cfa)
    confidence_level = check_confidence_level(confidence_level)
    progress = check_bool("progress", progress)

    from .sem.options import resolve_options

    sem_options = resolve_options(options, cluster=cluster)
    cluster = sem_options.cluster
    clusters = None if cluster is None else check_cluster(cluster, data.groups, data.source)
    data.require("E", "P")
    gen = as_generator(rng)
    perf = regress(data, scores="P", cluster=cluster)
    qual = regress(data, scores="gap", cluster=cluster)
    Xp, y = _design(data, "P")
    Xg, _ = _design(data, "gap")
    P, G = Xp.to_numpy(), Xg.to_numpy()
    j1 = _t_added(G, _fitted(P, y)[0], y)
    j2 = _t_added(P, _fitted(G, y)[0], y)
    j = {"servqual_vs_servperf": {"statistic": j1[0], "p_value": j1[1]},
         "servperf_vs_servqual": {"statistic": j2[0], "p_value": j2[1]}}
    c1, c2 = cox_test(G, P, y)
    cox = {"servqual_vs_servperf": {"statistic": c1[0], "p_value": c1[1]},
           "servperf_vs_servqual": {"statistic": c2[0], "p_value": c2[1]}}
    e1, e2 = encompassing_test(G, P, y)
    enc = {"servqual_vs_encompassing": {"statistic": e1[0], "df": e1[1], "p_value": e1[2]},
           "servperf_vs_encompassing": {"statistic": e2[0], "df": e2[1], "p_value": e2[2]}}
    from sklearn.model_selection import RepeatedKFold

    seed = int(gen.integers(0, 2**31 - 1))
    # the folds of cross_val_score(LinearRegression(), M, y, cv=RepeatedKFold(...), scoring="r2"): they depend
    # only on n and the seed, so both models share them; only the test indices are kept
    folds = (test for _, test in RepeatedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed).split(P))
    scores = _cv_r2(np.column_stack([P, G, y]), [np.arange(P.shape[1]), P.shape[1] + np.arange(G.shape[1])], folds,
                    n_splits, progress_bar(2 * n_repeats, "compare: cross-validation", progress, unit="repeats"))
    cv = {name: {"mean": float(sc.mean()), "sd": float(sc.std(ddof=1)), "n_folds": int(len(sc))}
          for name, sc in zip(("servperf", "servqual"), scores)}
    n = len(y)
    diff = {"estimate": perf.fit["r2"] - qual.fit["r2"], "ci_low": np.nan, "ci_high": np.nan, "n_resamples": n_resamples}
    if n_resamples:
        from .bootstrap import _intervals, _seeds

        seeds = _seeds(np.random.SeedSequence(int(gen.integers(0, 2**63 - 1))), n_resamples)
        reps = _r2_difference_replicates(data, P, G, y, seeds, progress, clusters)[:, None]
        est = np.array([diff["estimate"]])  # percentile bounds use only the replicates
        ci = _intervals(est, reps, np.full_like(reps, np.nan), np.full_like(est, np.nan), None, "percentile",
                        confidence_level, "linear", null=None)
        diff["ci_low"], diff["ci_high"] = float(ci["ci_low"][0]), float(ci["ci_high"][0])
    cfa_fit = None
    if include_cfa:
        import warnings

        from .sem import cfa

        rows = {}
        keys = ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "chisq_scaled", "scaling_factor", "cfi_robust",
                "tli_robust", "rmsea_robust")
        for name, s in (("servperf (P items)", "P"), ("servqual (gap items)", "gap")):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fitted = cfa(data, scores=s, options=sem_options)
            f = fitted.fit
            rows[name] = {k: f[k] for k in keys if k in f}
            rows[name]["estimator"] = sem_options.label
            rows[name]["warnings"] = "; ".join(dict.fromkeys(str(w.message) for w in caught))
        cfa_fit = pd.DataFrame.from_dict(rows, orient="index")
        cfa_fit.index.name = "model"
    from .validity import _difference_table

    inst = data.instrument
    pos = {item: k for k, item in enumerate(inst.items)}
    groups = [np.array([pos[i] for i in inst.dimensions[d]]) for d in inst.dimension_names]
    dscores = _difference_table(data, list(inst.dimension_names), groups)
    verdict = _verdict(perf, qual, j, cv, diff, dscores, n)
    return ComparisonResult(perf, qual, j, cox, enc, cv, diff, cfa_fit, dscores, verdict, n, data.n_dropped,
                            warnings=tuple(dict.fromkeys(perf.warnings + qual.warnings)))
