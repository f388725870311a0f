"""Reliability and validity of an instrument in one call, and exploratory factor analysis.

* From the correlated-factors CFA (ML): McDonald's omega per dimension as semTools
  ``compRelSEM`` (``(sum lambda)^2 psi / 1' S 1`` with the observed covariance S of the
  dimension's items), composite reliability (Fornell & Larcker 1981;
  ``(sum l)^2 / ((sum l)^2 + sum(1 - l^2))`` on standardized loadings), average variance
  extracted as semTools ``AVE`` (``sum lambda^2 psi / sum s_ii``) and the Fornell-Larcker
  table (sqrt(AVE) on the diagonal, factor correlations off it).
* HTMT (Henseler, Ringle & Sarstedt 2015; semTools ``htmt``): mean absolute
  heterotrait-heteromethod correlation over the geometric mean of the two mean
  monotrait-heteromethod correlations; flagged above 0.85 and 0.90.
* Bootstrap percentile intervals (resampling respondents; reproducible from ``rng``).
* Difference-score reliability of P - E (Johns 1981; Peter, Churchill & Brown 1993):
  ``r_D = (s_P^2 r_P + s_E^2 r_E - 2 r_PE s_P s_E) / (s_P^2 + s_E^2 - 2 r_PE s_P s_E)``.
* KMO and Bartlett's sphericity test, EFA by minres or ML with
  varimax/promax/oblimin rotation (as psych, :mod:`servmodels._rotation`), parallel analysis, and
  Tucker congruence of the EFA loadings with the intended dimensions.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._distributions import chi2_sf
from ._exceptions import NumericalError, ServmodelsError
from ._inputs import survey_input
from ._numerics import check_nonsingular
from ._params import check_bool, check_choice, check_confidence_level, check_int, check_rng
from ._progress import progress as progress_bar
from ._results import Result, jsonable, text_table
from .data import SurveyData
from .reliability import _alpha_result
from .simulate import as_generator

__all__ = ["ValidityResult", "EFAResult", "validity", "efa", "htmt", "difference_score_reliability", "kmo", "bartlett"]


# ----------------------------------------------------------------------------- building blocks
def htmt(R: np.ndarray, groups: list[np.ndarray], *, geometric: bool = True) -> np.ndarray:
    """HTMT matrix from a correlation matrix and the item indices of each construct.

    ``geometric=True`` (default, semTools' default ``htmt2 = TRUE``) uses geometric means
    of absolute correlations (HTMT2, Roemer, Schuberth & Henseler 2021); ``False`` the
    arithmetic means of Henseler, Ringle & Sarstedt (2015).

    Examples
    --------
    >>> R = np.array([[1, .6, .3, .3], [.6, 1, .3, .3], [.3, .3, 1, .5], [.3, .3, .5, 1]])
    >>> round(float(htmt(R, [np.array([0, 1]), np.array([2, 3])], geometric=False)[0, 1]), 4)  # .3/sqrt(.6*.5)
    0.5477
    """
    A = np.abs(R)

    def avg(block: np.ndarray) -> float:
        return float(np.exp(np.mean(np.log(block)))) if geometric else float(np.mean(block))

    k = len(groups)
    mono = np.empty(k)
    for a, ia in enumerate(groups):
        sub = A[np.ix_(ia, ia)]
        mono[a] = avg(sub[~np.eye(len(ia), dtype=bool)]) if len(ia) > 1 else np.nan
    out = np.eye(k)
    for a in range(k):
        for b in range(a + 1, k):
            out[a, b] = out[b, a] = avg(A[np.ix_(groups[a], groups[b])].ravel()) / np.sqrt(mono[a] * mono[b])
    return out


def kmo(x: np.ndarray, columns: list[str] | None = None) -> tuple[float, np.ndarray]:
    """Kaiser-Meyer-Olkin measure of sampling adequacy, overall and per item (psych ``KMO``):
    sum r_ij^2 / (sum r_ij^2 + sum q_ij^2) over i != j, with q the partial correlations
    -R^-1_ij / sqrt(R^-1_ii R^-1_jj) (Kaiser 1970).

    Raises :class:`NumericalError` naming the cause (constant, identical or collinear
    items; fewer respondents than items) when the correlation matrix is singular.
    """
    x = np.asarray(x, dtype=np.float64)
    cols = list(columns) if columns is not None else [f"column {j + 1}" for j in range(x.shape[1])]
    check_nonsingular(x, cols, "KMO")
    R = np.corrcoef(x, rowvar=False)
    try:
        Ri = np.linalg.inv(R)
    except np.linalg.LinAlgError:  # pragma: no cover - check_nonsingular catches these first
        raise NumericalError("KMO: the correlation matrix is singular") from None
    d = np.sqrt(np.diag(Ri))
    Q = -Ri / np.outer(d, d)
    off = ~np.eye(len(R), dtype=bool)
    r2 = np.where(off, R**2, 0.0)
    q2 = np.where(off, Q**2, 0.0)
    overall = r2.sum() / (r2.sum() + q2.sum())
    per_item = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    return float(overall), per_item


def bartlett(x: np.ndarray) -> dict[str, float]:
    """Bartlett's test of sphericity (as psych ``cortest.bartlett``):
    chi2 = -(n - 1 - (2p + 5)/6) log|R| on p(p - 1)/2 df."""
    n, p = x.shape
    R = np.corrcoef(x, rowvar=False)
    sign, logdet = np.linalg.slogdet(R)
    if not (sign > 0 and np.isfinite(logdet)):
        check_nonsingular(x, [f"column {j + 1}" for j in range(p)], "Bartlett's test")
        raise NumericalError("Bartlett's test: the correlation matrix is not positive definite")
    chisq = -(n - 1 - (2 * p + 5) / 6) * logdet
    df = p * (p - 1) / 2
    return {"chisq": float(chisq), "df": float(df), "p_value": chi2_sf(chisq, df)}


def difference_score_reliability(r_p: float, r_e: float, sd_p: float, sd_e: float, r_pe: float) -> float:
    """Reliability of P - E (Johns 1981, eq. 2; Peter, Churchill & Brown 1993).

    Examples
    --------
    >>> round(difference_score_reliability(0.8, 0.8, 1.0, 1.0, 0.5), 4)  # (0.8 + 0.8 - 1) / (2 - 1)
    0.6
    """
    num = sd_p**2 * r_p + sd_e**2 * r_e - 2 * r_pe * sd_p * sd_e
    den = sd_p**2 + sd_e**2 - 2 * r_pe * sd_p * sd_e
    return float(num / den)


def _percentile_ci(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    tail = (1 - level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(samples, tail, axis=0), np.nanquantile(samples, 1 - tail, axis=0)


def _resample_batches(n: int, n_resamples: int, rng: Any, batch: int = 100):
    """Index batches of servmodels.bootstrap's resample stream (:mod:`servmodels._stream`): each
    resample has its own key, so the intervals for a seed do not depend on the batch size."""
    from .bootstrap import _seeds

    seeds = _seeds(rng, n_resamples)
    for start in range(0, n_resamples, batch):
        yield seeds[start : start + batch].indices(n)


# ----------------------------------------------------------------------------- CFA-based quantities
def _quantities(L: np.ndarray, Psi: np.ndarray, sigma: np.ndarray, S: np.ndarray, idx: list[np.ndarray]) -> dict[str, np.ndarray]:
    """omega (semTools compRelSEM, obs.var = TRUE), CR (Fornell-Larcker, standardized
    loadings), AVE (semTools AVE) and factor correlations from one fitted model;
    ``idx[f]`` are the rows of factor f's indicators in L, S and sigma."""
    k = len(idx)
    omega, cr, ave = np.empty(k), np.empty(k), np.empty(k)
    for f in range(k):
        ii = idx[f]
        lam = L[ii, f]
        psi = Psi[f, f]
        omega[f] = lam.sum() ** 2 * psi / S[np.ix_(ii, ii)].sum()
        ave[f] = (lam**2).sum() * psi / np.trace(S[np.ix_(ii, ii)])
        std = lam * np.sqrt(psi) / np.sqrt(np.diag(sigma)[ii])
        cr[f] = std.sum() ** 2 / (std.sum() ** 2 + (1 - std**2).sum())
    d = np.sqrt(np.diag(Psi))
    return {"omega": omega, "composite_reliability": cr, "ave": ave, "factor_cor": Psi / np.outer(d, d)}


def _quantities_at(est: Any, x: np.ndarray, S: np.ndarray, cols: list[str], groups: list[np.ndarray]) -> dict[str, np.ndarray]:
    """omega/CR/AVE of a fitted one-group estimator at x, against the h1 covariance S."""
    M = est.groups[0]
    mats = M.build(x)
    sigma, _, _ = M.implied(mats)
    ov = {v: i for i, v in enumerate(est.spec.ov)}
    idx = [np.array([ov[cols[i]] for i in g]) for g in groups]
    return _quantities(mats["L"], mats["P"], sigma, S, idx)


def _model_text(cols: list[str], groups: list[np.ndarray], names: list[str]) -> str:
    return "\n".join(f"{d} =~ " + " + ".join(cols[i] for i in g) for d, g in zip(names, groups))


def _check_full_fit(ok: bool, iterations: int, mats: dict, spec: Any, options: Any) -> None:
    """The checks cfa makes, for the full-sample fit behind omega/CR/AVE: no convergence is a
    ConvergenceError with ``strict`` (else a warning); Heywood cases are warned about, since
    they push omega, CR or AVE above 1."""
    from ._exceptions import ConvergenceError, HeywoodCaseWarning, NonConvergenceWarning

    if not ok:
        msg = (f"validity: the CFA behind omega, CR and AVE ({options.label}) did not converge after "
               f"{iterations} iterations; those values are not trustworthy")
        if options.strict:
            raise ConvergenceError(msg)
        warnings.warn(msg, NonConvergenceWarning, stacklevel=3)
    neg = [spec.ov[i] for i in np.flatnonzero(np.diag(mats["T"]) < 0)]
    negl = [spec.lv[i] for i in np.flatnonzero(np.diag(mats["P"]) < 0)]
    if neg or negl:
        what = ", ".join(neg + negl)
        warnings.warn(f"validity: Heywood case in the CFA behind omega, CR and AVE (negative variance of {what}); "
                      "omega, CR or AVE may exceed 1", HeywoodCaseWarning, stacklevel=3)


def _cfa_quantities(values: np.ndarray, cols: list[str], groups: list[np.ndarray], names: list[str],
                    x0: np.ndarray | None = None, options: Any = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Fast ML path (complete data): ML and MLR share their estimates, so their omega/CR/AVE
    are the same; bootstrap resamples are refitted by Newton steps from the full-sample optimum."""
    from .sem.estimator import SampleData
    from .sem.ml import ML
    from .sem.options import SEMOptions

    spec = _spec_cache(tuple(cols), tuple(tuple(int(i) for i in g) for g in groups), tuple(names))
    est = ML(SEMOptions())
    est.prepare(spec, SampleData(blocks=[values[:, [cols.index(v) for v in spec.ov]]]))
    if x0 is None:
        est.check_identified()
        x, it, ok, _ = est.optimize(est.start())
    else:
        x = _refit(est, x0)
    if x0 is None:
        _check_full_fit(ok, it, est.groups[0].build(x), spec, options)
    return _quantities_at(est, x, est.moments[0].cov, cols, groups), x


def _cfa_quantities_cov(cov: np.ndarray, mean: np.ndarray, n: int, cols: list[str], groups: list[np.ndarray],
                        names: list[str], x0: np.ndarray) -> dict[str, np.ndarray]:
    """omega/CR/AVE of a bootstrap resample from its covariance matrix (divisor n): the ML fit of
    complete data depends on the rows only through it; Newton steps from the full-sample optimum."""
    from .sem.estimator import SampleData
    from .sem.ml import ML
    from .sem.moments import moments_from_cov
    from .sem.options import SEMOptions

    spec = _spec_cache(tuple(cols), tuple(tuple(int(i) for i in g) for g in groups), tuple(names))
    order = [cols.index(v) for v in spec.ov]
    est = ML(SEMOptions())
    est.prepare(spec, SampleData(moments=[moments_from_cov(cov[np.ix_(order, order)], mean[order], n, "normal",
                                                           unbiased=False, names=spec.ov)]))
    x = _refit(est, x0)
    return _quantities_at(est, x, est.moments[0].cov, cols, groups)


@functools.lru_cache(maxsize=8)
def _spec_cache(cols: tuple[str, ...], groups: tuple[tuple[int, ...], ...], names: tuple[str, ...]):
    from .sem.specification import build_spec

    return build_spec(_model_text(list(cols), [np.array(g) for g in groups], list(names)))


def _refit(est: Any, x0: np.ndarray) -> np.ndarray:
    """Newton steps on the exact Hessian from a nearby optimum (bootstrap resamples), with
    Fisher scoring as the fallback when a step does not decrease F."""
    from .sem.ml import fisher_scoring, observed_hessian

    spec, groups, moms = est.spec, est.groups, est.moments
    x = x0.copy()
    ev = est.evaluate(x, info=False)
    for _ in range(1, 30):
        H = observed_hessian(spec, groups, moms, ev) if np.isfinite(ev.F) else None
        if H is None:
            break
        step = np.linalg.solve(H, ev.grad)
        xn = x - step
        evn = est.evaluate(xn, info=False)
        if not np.isfinite(evn.F) or evn.F > ev.F + 1e-12 * max(1.0, abs(ev.F)):
            break
        x, ev = xn, evn
        # Newton converges quadratically: a step below 1e-7 leaves an error far below 1e-10,
        # negligible against resampling variability
        if float(np.max(np.abs(step))) < 1e-7:
            return x
    x, _, _, _ = fisher_scoring(spec, groups, moms, x, max_iter=200, tol=1e-9)
    return x


def _fiml_quantities(values: np.ndarray, cols: list[str], groups: list[np.ndarray], names: list[str],
                     x0: np.ndarray | None, fit: bool, options: Any = None) -> tuple[dict[str, np.ndarray], np.ndarray | None, np.ndarray]:
    """FIML path (lavaan missing = "ml"): the EM covariance (for alpha, HTMT, KMO) and, with
    ``fit``, omega/CR/AVE from the FIML estimates; point estimates only (no standard
    errors), warm-started from the full-sample optimum for bootstrap resamples."""
    from .sem.estimator import SampleData
    from .sem.fiml import FIML
    from .sem.options import SEMOptions
    from .sem.specification import build_spec

    spec = build_spec(_model_text(cols, groups, names), meanstructure=True)
    est = FIML(SEMOptions(missing="fiml"))
    est.prepare(spec, SampleData(blocks=[values[:, [cols.index(v) for v in spec.ov]]]))
    S = est.moments[0].cov
    back = np.array([spec.ov.index(c) for c in cols])
    C = S[np.ix_(back, back)]  # EM covariance in the data's column order
    if not fit:
        return {}, None, C
    est.check_identified()
    x, it, ok, _ = est.optimize(est.start() if x0 is None else x0)
    if x0 is None:
        _check_full_fit(ok, it, est.groups[0].build(x), spec, options)
    return _quantities_at(est, x, S, cols, groups), x, C


def _corr(cov: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.diag(cov))
    return cov / np.outer(d, d)


def _alpha_cov(C: np.ndarray) -> float:
    """Cronbach's alpha from a covariance matrix: k/(k-1) (1 - tr C / 1'C1)."""
    k = C.shape[0]
    return float(k / (k - 1) * (1 - np.trace(C) / C.sum()))


def _kmo_bartlett_corr(R: np.ndarray, n: int) -> tuple[float, np.ndarray, dict[str, float]]:
    """KMO and Bartlett's test from a correlation matrix (the EM correlations under FIML)."""
    Ri = np.linalg.inv(R)
    d = np.sqrt(np.diag(Ri))
    Q = -Ri / np.outer(d, d)
    off = ~np.eye(len(R), dtype=bool)
    r2 = np.where(off, R**2, 0.0)
    q2 = np.where(off, Q**2, 0.0)
    p = R.shape[0]
    chisq = -(n - 1 - (2 * p + 5) / 6) * np.linalg.slogdet(R)[1]
    df = p * (p - 1) / 2
    return (float(r2.sum() / (r2.sum() + q2.sum())), r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0)),
            {"chisq": float(chisq), "df": float(df), "p_value": chi2_sf(chisq, df)})


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class ValidityResult(Result):
    """Reliability and validity of one score set (frozen).

    Attributes
    ----------
    dimensions : DataFrame
        Per dimension: ``alpha, omega, composite_reliability, ave, sqrt_ave`` and, with
        bootstrap, ``<stat>_ci_low`` / ``<stat>_ci_high``; ``fornell_larcker_ok``.
    htmt : DataFrame
        HTMT matrix; ``htmt_ci_low`` / ``htmt_ci_high`` bootstrap bounds.
    fornell_larcker : DataFrame
        sqrt(AVE) on the diagonal, factor correlations off it.
    difference_scores : DataFrame or None
        For gap scores: reliability of P, of E, their correlation, Johns' reliability of
        P - E, and alpha of the gap items themselves, per dimension and overall.
    kmo, kmo_items, bartlett :
        Sampling adequacy.
    """

    scores: str
    dimensions: pd.DataFrame
    htmt: pd.DataFrame
    htmt_ci_low: pd.DataFrame | None
    htmt_ci_high: pd.DataFrame | None
    fornell_larcker: pd.DataFrame
    difference_scores: pd.DataFrame | None
    kmo: float
    kmo_items: pd.Series
    bartlett: dict[str, float]
    n_respondents: int
    n_dropped: int
    n_resamples: int
    confidence_level: float
    warnings: tuple[str, ...] = ()

    def htmt_flags(self) -> pd.DataFrame:
        """Pairs of dimensions with HTMT above 0.85 or 0.90 (discriminant validity in doubt)."""
        rows = []
        names = list(self.htmt.index)
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                v = float(self.htmt.iat[a, b])
                hi = None if self.htmt_ci_high is None else float(self.htmt_ci_high.iat[a, b])
                rows.append({"pair": f"{names[a]}-{names[b]}", "htmt": v, "ci_high": hi,
                             "above_0.85": v > 0.85, "above_0.90": v > 0.90,
                             "ci_includes_1": hi is not None and hi >= 1.0})
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """The per-dimension table with a ``dimension`` column."""
        return self.dimensions.reset_index()

    def to_dict(self) -> dict[str, Any]:
        dims = self.dimensions.to_dict(orient="index")
        out = {
            "scores": self.scores, "n_respondents": self.n_respondents, "n_dropped": self.n_dropped,
            "n_resamples": self.n_resamples, "confidence_level": self.confidence_level,
            "dimensions": dims, "htmt": self.htmt.to_numpy().tolist(), "htmt_order": list(self.htmt.index),
            "htmt_ci_low": None if self.htmt_ci_low is None else self.htmt_ci_low.to_numpy().tolist(),
            "htmt_ci_high": None if self.htmt_ci_high is None else self.htmt_ci_high.to_numpy().tolist(),
            "htmt_flags": self.htmt_flags(),
            "fornell_larcker": self.fornell_larcker.to_numpy().tolist(),
            "kmo": self.kmo, "kmo_items": self.kmo_items.to_dict(), "bartlett": self.bartlett,
            "difference_scores": None if self.difference_scores is None else self.difference_scores.reset_index().to_dict(orient="records"),
            "warnings": list(self.warnings),
        }
        return jsonable(out)

    def summary(self, digits: int = 3) -> str:
        parts = [f"Reliability and validity of {self.scores} scores — n = {self.n_respondents} used, {self.n_dropped} dropped"
                 + (f"; {self.n_resamples} bootstrap resamples" if self.n_resamples else ""),
                 "", text_table(self.dimensions.reset_index(names="dimension"), digits),
                 "", "HTMT", text_table(self.htmt.reset_index(names="dimension"), digits),
                 "", f"KMO = {self.kmo:.3f}; Bartlett chi2({self.bartlett['df']:.0f}) = {self.bartlett['chisq']:.2f}, "
                 f"p = {self.bartlett['p_value']:.3g}"]
        if self.difference_scores is not None:
            parts += ["", "Difference-score (P - E) reliability", text_table(self.difference_scores.reset_index(names="dimension"), digits)]
        return "\n".join(parts)


def _moment_replicates(x: np.ndarray, groups: list[np.ndarray], n_resamples: int, gen: np.random.Generator,
                       bootstrap_cfa: bool, x_hat: np.ndarray | None, cols: list[str], names: list[str],
                       progress: bool) -> dict[str, np.ndarray]:
    """Bootstrap replicates of alpha and HTMT (and with ``bootstrap_cfa`` omega, CR, AVE) of complete data
    from each resample's weighted covariance matrix (:mod:`servmodels._resample_moments`): alpha and HTMT
    are closed forms of it, and the ML CFA depends on the data only through it, so no resampled rows are
    copied.  Resample r is resample r of the stream of :mod:`servmodels._stream` (counts of n uniform draws), the
    stream of :func:`servmodels.bootstrap.resample_counts`."""
    from ._resample_moments import all_pairs, alpha_from_cov, htmt_batch, resample_moments, weighted_cov
    from .bootstrap import _seeds

    p = x.shape[1]
    ms = resample_moments(x, pairs=all_pairs(p), seeds=_seeds(gen, n_resamples), progress=progress,
                          desc="reliability bootstrap")
    C = weighted_cov(ms)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt(np.einsum("bii->bi", C))
        R = C / (sd[:, :, None] * sd[:, None, :])
        out = {"alpha": np.column_stack([alpha_from_cov(C[:, g][:, :, g]) for g in groups]),
               "htmt": htmt_batch(R, groups)}
    if bootstrap_cfa:
        means = ms.means()
        n = x.shape[0]
        q = {k: np.full((len(C), len(groups)), np.nan) for k in ("omega", "composite_reliability", "ave")}
        with warnings.catch_warnings(), progress_bar(len(C), "reliability bootstrap: CFA", progress,
                                                     unit="resamples") as bar:
            warnings.simplefilter("ignore")
            for b in range(len(C)):
                try:
                    st = _cfa_quantities_cov(C[b], means[b], n, cols, groups, names, x_hat)
                except (ServmodelsError, np.linalg.LinAlgError):
                    st = {}
                for k in q:
                    if k in st:
                        q[k][b] = st[k]
                bar.update(1)
        out.update(q)
    return out


def _fiml_replicates(x: np.ndarray, n_resamples: int, gen: np.random.Generator, keys: list[str],
                     full: dict[str, np.ndarray], stats_of: Any, x_hat: np.ndarray | None,
                     progress: bool) -> dict[str, np.ndarray]:
    """With missing answers (FIML) every resample is refitted from its rows (EM and FIML need them)."""
    n = x.shape[0]
    draws: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    with warnings.catch_warnings(), progress_bar(n_resamples, "reliability bootstrap", progress, unit="resamples") as bar:
        warnings.simplefilter("ignore")
        for idx_batch in _resample_batches(n, n_resamples, gen):
            for idx in idx_batch:
                try:
                    st, _ = stats_of(x[idx], x_hat, "omega" in keys)
                except (ServmodelsError, np.linalg.LinAlgError):
                    st = {k: np.full_like(full[k], np.nan) for k in keys}
                for k in keys:
                    draws[k].append(st[k])
                bar.update(1)  # a resample is a refit (milliseconds), so one step each costs nothing
    return {k: np.array(v) for k, v in draws.items()}


@survey_input
def validity(data: SurveyData, *, scores: str | None = None, n_resamples: int = 1000, rng: int | np.random.Generator | None = None,
             confidence_level: float = 0.95, bootstrap_cfa: bool = True, options: Any = None,
             progress: bool = False) -> ValidityResult:
    """Reliability and validity of an instrument's dimensions in one call.

    Parameters
    ----------
    data : SurveyData
    scores : str, optional
        ``"P"``, ``"E"``, ``"gap"`` or a custom score set; default: the instrument's
        only set, else ``"P"``; with ``"gap"`` (and for ``"P"`` when E was read)
        the difference-score reliability table is added.
    n_resamples : int
        Bootstrap resamples of respondents for percentile intervals (0: none).
    rng : int or numpy.random.Generator
        Seed; the same seed gives the same intervals.
    confidence_level : float
        Level of the bootstrap intervals.
    bootstrap_cfa : bool
        Also bootstrap omega, CR and AVE (one CFA refit per resample on its covariance
        matrix, warm-started).  alpha and HTMT of a resample are closed forms of its
        weighted covariance matrix and are never refitted.
    options : SEMOptions, optional
        Options of the CFA behind omega, CR and AVE (the same object ``cfa`` takes).
        ``missing="listwise"`` (default) uses complete respondents for every statistic
        and counts the others in ``n_dropped``; ``missing="fiml"`` uses every answer:
        the CFA by FIML, and alpha, HTMT, KMO and Bartlett from the EM estimate of the
        covariance matrix (as semTools ``htmt(..., missing = "ml")``).  ML and MLR
        give the same estimates, hence the same omega/CR/AVE.  WLSMV is not
        implemented here (see :func:`servmodels.ordinal_reliability`).
    progress : bool
        Show a progress bar of the bootstrap on stderr (advanced per batch of resamples;
        with ``bootstrap_cfa`` a second bar, one step per CFA refit); the results are the
        same without it.

    Returns
    -------
    ValidityResult

    Examples
    --------
    >>> from servmodels import read_survey, load_example
    >>> res = validity(read_survey(load_example()), n_resamples=0)
    >>> list(res.dimensions.columns[:4])
    ['alpha', 'omega', 'composite_reliability', 'ave']
    """
    n_resamples = check_int("n_resamples", n_resamples, low=0)
    rng = check_rng(rng)
    confidence_level = check_confidence_level(confidence_level)
    bootstrap_cfa = check_bool("bootstrap_cfa", bootstrap_cfa)
    progress = check_bool("progress", progress)

    from ._exceptions import ParameterError
    from .sem.options import resolve_options

    opts = resolve_options(options)
    if opts.cluster is not None:
        raise ParameterError(f"validity with cluster={opts.cluster!r} is not implemented (omega, CR and AVE are "
                             "point estimates, unchanged by clustering, and the bootstrap resamples respondents); "
                             "drop cluster from the options")
    if opts.estimator == "WLSMV":
        raise ParameterError("validity with estimator='WLSMV' is not implemented; ordinal alpha and omega per "
                             "dimension are in ordinal_reliability()")
    inst = data.instrument
    x = data.item_scores(scores).astype(np.float64)
    cols = list(data.item_columns(scores))
    pos = {item: j for j, item in enumerate(inst.items)}
    names = list(inst.dimension_names)
    groups = [np.array([pos[i] for i in inst.dimensions[d]]) for d in names]
    n_dropped = data.n_dropped
    fiml = opts.missing == "fiml"
    incomplete = np.isnan(x).any(axis=1)
    if fiml:
        keep = ~np.isnan(x).all(axis=1)
    else:
        keep = ~incomplete
    if not keep.all():
        n_dropped += int((~keep).sum())
        x = x[keep]
    if data.has_missing and not fiml and all(s in data.responses for s in ("E", "P")):
        data = data.take(np.flatnonzero(keep))
    n = x.shape[0]
    fiml = fiml and bool(np.isnan(x).any())  # complete data: FIML equals ML
    if not fiml:
        check_nonsingular(x, cols, "validity")

    def stats_of(xs: np.ndarray, x0: np.ndarray | None, cfa_too: bool) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        if fiml:
            q, xn, C = _fiml_quantities(xs, cols, groups, names, x0, cfa_too, opts)
            R = _corr(C)
            out = {"alpha": np.array([_alpha_cov(C[np.ix_(g, g)]) for g in groups]), "htmt": htmt(R, groups), **q}
            return out, xn
        else:
            R = np.corrcoef(xs, rowvar=False)
            out = {"alpha": np.array([_alpha_result(xs[:, g], confidence_level).alpha for g in groups]),
                   "htmt": htmt(R, groups)}
        xn = None
        if cfa_too:
            q, xn = _cfa_quantities(xs, cols, groups, names, x0, opts)
            out.update(q)
        return out, xn

    issued: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        full, x_hat = stats_of(x, None, True)
    issued += [str(w.message) for w in caught]
    for w in caught:  # recorded on the result and passed on to the caller (the CLI prints them)
        warnings.warn(w.message, w.category, stacklevel=2)
    dims = pd.DataFrame({k: full[k] for k in ("alpha", "omega", "composite_reliability", "ave")}, index=names)
    dims["sqrt_ave"] = np.sqrt(dims["ave"])
    phi = full["factor_cor"]
    off = np.abs(phi - np.eye(len(names)))
    dims["fornell_larcker_ok"] = dims["sqrt_ave"].to_numpy() > off.max(axis=1)
    dims.index.name = "dimension"
    fl = phi.copy()
    np.fill_diagonal(fl, dims["sqrt_ave"].to_numpy())
    ht = pd.DataFrame(full["htmt"], index=names, columns=names)
    lo_ht = hi_ht = None
    if n_resamples:
        gen = as_generator(rng)
        keys = ["alpha", "htmt"] + (["omega", "composite_reliability", "ave"] if bootstrap_cfa else [])
        if fiml:
            draws = _fiml_replicates(x, n_resamples, gen, keys, full, stats_of, x_hat, progress)
        else:
            draws = _moment_replicates(x, groups, n_resamples, gen, bootstrap_cfa, x_hat, cols, names, progress)
        for k in keys:
            lo, hi = _percentile_ci(draws[k], confidence_level)
            if k == "htmt":
                lo_ht = pd.DataFrame(lo, index=names, columns=names)
                hi_ht = pd.DataFrame(hi, index=names, columns=names)
            else:
                dims[f"{k}_ci_low"], dims[f"{k}_ci_high"] = lo, hi
    complete_ep = all(s in data.responses for s in ("E", "P")) and not data.has_missing
    diff = _difference_table(data, names, groups) if complete_ep else None
    if fiml:
        k_overall, k_items, bart = _kmo_bartlett_corr(_corr(_fiml_quantities(x, cols, groups, names, None, False)[2]), n)
    else:
        k_overall, k_items = kmo(x, cols)
        bart = bartlett(x)
    return ValidityResult(
        scores=scores, dimensions=dims, htmt=ht, htmt_ci_low=lo_ht, htmt_ci_high=hi_ht,
        fornell_larcker=pd.DataFrame(fl, index=names, columns=names), difference_scores=diff,
        kmo=k_overall, kmo_items=pd.Series(k_items, index=cols), bartlett=bart,
        n_respondents=n, n_dropped=n_dropped, n_resamples=int(n_resamples),
        confidence_level=confidence_level, warnings=data.warnings + tuple(issued),
    )


def _difference_table(data: SurveyData, names: list[str], groups: list[np.ndarray]) -> pd.DataFrame:
    """Per dimension and overall: alpha of P, of E and of the gap items, the correlation and SDs of the
    P and E sums and Johns' reliability of P - E.  Every quantity is a block of one covariance matrix
    of [P, E] (var(1'x) = 1'C1; the gap items' covariance is C_PP + C_EE - C_PE - C_EP), so the data
    are read once."""
    from .reliability import _alpha_from_cov

    P = data.responses["P"].astype(float)
    E = data.responses["E"].astype(float)
    k = P.shape[1]
    C = np.cov(np.hstack([P, E]), rowvar=False)
    Cpp, Cee, Cpe = C[:k, :k], C[k:, k:], C[:k, k:]
    Cgg = Cpp + Cee - Cpe - Cpe.T
    rows = {}
    for name, g in [*zip(names, groups), ("overall", np.arange(k))]:
        ix = np.ix_(g, g)
        a_p, a_e = _alpha_from_cov(Cpp[ix])[0], _alpha_from_cov(Cee[ix])[0]
        var_p, var_e, cov_pe = float(Cpp[ix].sum()), float(Cee[ix].sum()), float(Cpe[ix].sum())
        sd_p, sd_e = float(np.sqrt(var_p)), float(np.sqrt(var_e))
        r_pe = cov_pe / (sd_p * sd_e)
        rows[name] = {
            "alpha_P": a_p, "alpha_E": a_e, "r_PE": r_pe, "sd_P": sd_p, "sd_E": sd_e,
            "reliability_gap": difference_score_reliability(a_p, a_e, sd_p, sd_e, r_pe),
            "alpha_gap_items": _alpha_from_cov(Cgg[ix])[0],
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "dimension"
    return out


# ----------------------------------------------------------------------------- EFA
def _extract(R: np.ndarray, nf: int, method: str) -> tuple[np.ndarray, bool]:
    """Unrotated minres (psych ``fm = "minres"``) or ML (``fm = "ml"``, ``factanal``) loadings of R and
    whether the fit converged: the uniquenesses minimising the criterion over [0.005, 1] by Newton's
    method with closed-form derivatives (:mod:`servmodels._factor_extraction`)."""
    from ._factor_extraction import fit_uniquenesses

    _, L, _, ok, _ = fit_uniquenesses(R[None], nf, method)
    return L[0], bool(ok[0])


def _fa_eigenvalues(R: np.ndarray) -> np.ndarray:
    """psych ``fa.parallel``'s "fa" eigenvalues of each matrix of a stack (B, p, p), descending: those
    of R with the communalities of its one-factor minres solution on the diagonal."""
    from ._factor_extraction import fit_uniquenesses

    _, L, _, _, _ = fit_uniquenesses(R, 1, "minres")
    reduced = R.copy()
    idx = np.arange(R.shape[-1])
    reduced[:, idx, idx] = (L * L).sum(axis=2)
    return np.linalg.eigvalsh(reduced)[:, ::-1]


def _random_correlations(gen: np.random.Generator, n: int, p: int, size: int) -> np.ndarray:
    """``size`` correlation matrices of n independent N(0, I_p) rows, drawn without drawing the rows.

    Their centred cross-product matrix is Wishart_p(n - 1, I) (Anderson 2003, sec. 3.3), which
    the Bartlett decomposition draws as T T' with T lower triangular, T_jj^2 ~ chi2(n - 1 - j)
    (j = 0, ..., p - 1) and T_jk ~ N(0, 1) below the diagonal (Bartlett 1933; Anderson 2003, sec. 7.2): the same
    distribution in O(p^3) operations instead of O(n p^2), whatever n.  The random numbers are drawn
    matrix by matrix (the stream of earlier versions), the products for all matrices at once.
    """
    if n - p < 1:  # pragma: no cover - fewer respondents than items is refused before (singular R)
        return np.stack([np.corrcoef(gen.standard_normal((n, p)), rowvar=False) for _ in range(size)])
    T = np.zeros((size, p, p))
    diag, low = np.diag_indices(p), np.tril_indices(p, -1)
    df = n - 1 - np.arange(p)
    m = p * (p - 1) // 2
    for b in range(size):
        T[b][diag] = np.sqrt(gen.chisquare(df))
        T[b][low] = gen.standard_normal(m)
    S = T @ T.transpose(0, 2, 1)
    d = np.sqrt(np.einsum("bii->bi", S))
    return S / (d[:, :, None] * d[:, None, :])


def _random_correlation(gen: np.random.Generator, n: int, p: int) -> np.ndarray:
    """One matrix of :func:`_random_correlations`."""
    return _random_correlations(gen, n, p, 1)[0]


def _tucker(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


@dataclass(frozen=True)
class EFAResult(Result):
    """Exploratory factor analysis (frozen).

    ``loadings`` (items x factors, factors ordered by explained variance, signs making
    column sums positive), ``uniquenesses``, ``phi`` (factor correlations; identity for
    orthogonal rotations), ``eigenvalues`` (``pc`` of R, ``fa`` of R with the one-factor
    minres communalities, and ``pc_random_95``/``fa_random_95``, the 95th percentiles of
    the random-data eigenvalues -- NaN when the number of factors was given and no
    parallel analysis was run), ``suggested_n_factors`` (None without parallel analysis),
    ``congruence`` (per intended dimension: best-matching factor and Tucker's phi), ``kmo``,
    ``bartlett``.
    """

    method: str
    rotation: str | None
    n_factors: int
    loadings: pd.DataFrame
    uniquenesses: pd.Series
    phi: pd.DataFrame
    eigenvalues: pd.DataFrame
    suggested_n_factors: int | None
    congruence: pd.DataFrame
    kmo: float
    bartlett: dict[str, float]
    n_respondents: int
    extra: dict[str, Any] = field(default_factory=dict)
    n_dropped: int = 0
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """Loadings with an ``item`` column and the items' ``uniqueness``."""
        out = self.loadings.reset_index(names="item")
        out["uniqueness"] = self.uniquenesses.to_numpy()
        return out

    def to_dict(self) -> dict[str, Any]:
        return jsonable({
            "method": self.method, "rotation": self.rotation, "n_factors": self.n_factors,
            "suggested_n_factors": self.suggested_n_factors, "n_respondents": self.n_respondents,
            "n_dropped": self.n_dropped, "warnings": list(self.warnings),
            "loadings": {c: self.loadings[c].to_dict() for c in self.loadings.columns},
            "uniquenesses": self.uniquenesses.to_dict(), "phi": self.phi.to_numpy().tolist(),
            "eigenvalues": self.eigenvalues.reset_index(names="index").to_dict(orient="records"),
            "congruence": self.congruence.reset_index().to_dict(orient="records"),
            "kmo": self.kmo, "bartlett": self.bartlett,
        })

    def summary(self, digits: int = 3) -> str:
        return "\n".join([
            f"EFA ({self.method}, rotation {self.rotation}) with {self.n_factors} factors; "
            + ("number of factors given (no parallel analysis)" if self.suggested_n_factors is None else
               f"parallel analysis suggests {self.suggested_n_factors}") + f"; KMO = {self.kmo:.3f}",
            "", text_table(self.loadings.reset_index(names="item"), digits),
            "", "Congruence with the intended dimensions (Tucker's phi)",
            text_table(self.congruence.reset_index(), digits),
        ])


@survey_input
def efa(data: SurveyData, *, scores: str | None = None, n_factors: int | None = None,
        method: Literal["minres", "ml"] = "minres", rotation: Literal["promax", "varimax", "oblimin"] | None = "promax",
        n_iter: int = 100, rng: int | np.random.Generator | None = 0, progress: bool = False) -> EFAResult:
    """Exploratory factor analysis of the items with parallel analysis and congruence check.

    ``n_factors=None`` uses the number suggested by parallel analysis (factor
    eigenvalues above the 95th percentile of those of ``n_iter`` random normal data
    sets of the same size; Horn 1965, as psych ``fa.parallel``).  The correlation matrix of
    each random data set is drawn directly from its Wishart distribution (Bartlett
    decomposition), so the cost does not grow with the number of respondents, and the
    one-factor fits of all random data sets are done together.  With ``n_factors`` given
    there is no parallel analysis (``n_iter`` and ``rng`` are not used, the
    ``pc_random_95``/``fa_random_95`` eigenvalue columns are NaN and
    ``suggested_n_factors`` is None).

    The fits (minres: psych ``fa(fm = "minres")``; ML: ``fa(fm = "ml")``, ``factanal``) solve
    for the uniquenesses by Newton's method with closed-form derivatives; the rotations
    follow ``stats::varimax``, psych's Kaiser-normalised ``Promax`` and ``GPArotation::oblimin``
    step for step.  Loadings match psych ``fa(fm=, rotate=)`` up to column order and sign.
    ``progress=True`` shows a progress bar of the parallel analysis on stderr; the results
    are the same without it.

    Examples
    --------
    >>> from servmodels import read_survey, load_example
    >>> res = efa(read_survey(load_example()), n_factors=5)
    >>> res.loadings.shape, res.suggested_n_factors
    ((25, 5), None)
    """
    from ._rotation import linear_sum_assignment_max, oblimin, promax, varimax

    method = check_choice("method", method, ("minres", "ml"))
    rotation = check_choice("rotation", rotation, ("promax", "varimax", "oblimin", None))
    n_iter = check_int("n_iter", n_iter, low=1)
    rng = check_rng(rng)
    progress = check_bool("progress", progress)
    data.require_complete("efa")
    x = data.item_scores(scores).astype(np.float64)
    cols = list(data.item_columns(scores))
    n, p = x.shape
    # Ledermann bound: at most this many factors leave non-negative degrees of freedom,
    # ((p - m)^2 - (p + m))/2 >= 0  <=>  m <= (2p + 1 - sqrt(8p + 1))/2
    m_max = max(1, int(np.floor((2 * p + 1 - np.sqrt(8 * p + 1)) / 2)))
    n_factors = check_int("n_factors", n_factors, low=1, high=m_max, allow_none=True)
    check_nonsingular(x, cols, "efa")
    R = np.corrcoef(x, rowvar=False)
    pc_vals = np.linalg.eigvalsh(R)[::-1]
    fa_vals = _fa_eigenvalues(R[None])[0]
    q_pc = q_fa = np.full(p, np.nan)
    suggested: int | None = None
    if n_factors is None:
        from threadpoolctl import threadpool_limits

        gen = as_generator(rng)
        # p x p problems: BLAS threads only add wake-up latency
        with progress_bar(n_iter, "parallel analysis", progress, unit="data sets") as bar, \
                threadpool_limits(limits=1, user_api="blas"):
            rand = _random_correlations(gen, n, p, n_iter)
            q_pc = np.quantile(np.linalg.eigvalsh(rand)[:, ::-1], 0.95, axis=0)
            q_fa = np.quantile(_fa_eigenvalues(rand), 0.95, axis=0)
            bar.update(n_iter)
        above = fa_vals > q_fa
        suggested = int(np.argmin(above)) if not above.all() else p
        suggested = min(max(suggested, 1), m_max)
    nf = int(n_factors or suggested)
    L, ok = _extract(R, nf, method)
    issued: list[str] = []
    if not ok:
        from ._exceptions import NonConvergenceWarning

        msg = f"the {method} factor extraction did not converge; loadings are not trustworthy"
        warnings.warn(msg, NonConvergenceWarning, stacklevel=3)
        issued.append(msg)
    phi = np.eye(nf)
    if rotation and nf > 1:
        if rotation == "varimax":
            L = varimax(L)[0]
        elif rotation == "promax":
            L, phi = promax(L)
        else:
            L, phi, rot_ok = oblimin(L)
            if not rot_ok:
                from ._exceptions import NonConvergenceWarning

                msg = "the oblimin rotation did not converge in 1000 iterations (as GPArotation would warn)"
                warnings.warn(msg, NonConvergenceWarning, stacklevel=3)
                issued.append(msg)
    # order by explained variance and make column sums positive (psych's presentation)
    ssl = np.diag(phi @ L.T @ L) if rotation in ("promax", "oblimin") else (L**2).sum(axis=0)
    order = np.argsort(ssl)[::-1]
    L, phi = L[:, order], phi[np.ix_(order, order)]
    sign = np.where(L.sum(axis=0) < 0, -1.0, 1.0)
    L, phi = L * sign, phi * np.outer(sign, sign)
    fac = [f"F{j + 1}" for j in range(nf)]
    # congruence with the intended pattern (Hungarian matching on |phi|)
    inst = data.instrument
    pos = {item: j for j, item in enumerate(inst.items)}
    target = np.zeros((p, len(inst.dimension_names)))
    for d_i, d in enumerate(inst.dimension_names):
        target[[pos[i] for i in inst.dimensions[d]], d_i] = 1.0
    C = np.array([[_tucker(target[:, d], L[:, f]) for f in range(nf)] for d in range(target.shape[1])])
    rows, cols_ = linear_sum_assignment_max(np.abs(C))
    cong = pd.DataFrame({"factor": [fac[c] for c in cols_], "tucker_phi": [C[r, c] for r, c in zip(rows, cols_)]},
                        index=pd.Index([inst.dimension_names[r] for r in rows], name="dimension"))
    cong["acceptable"] = cong["tucker_phi"].abs() >= 0.85  # Lorenzo-Seva & ten Berge (2006)
    eig = pd.DataFrame({"pc": pc_vals, "fa": fa_vals, "pc_random_95": q_pc, "fa_random_95": q_fa},
                       index=pd.RangeIndex(1, p + 1, name="factor"))
    k_overall, _ = kmo(x, cols)
    return EFAResult(method=method, rotation=rotation, n_factors=nf,
                     loadings=pd.DataFrame(L, index=cols, columns=fac),
                     uniquenesses=pd.Series(1 - (L @ phi * L).sum(axis=1), index=cols),
                     phi=pd.DataFrame(phi, index=fac, columns=fac), eigenvalues=eig,
                     suggested_n_factors=suggested, congruence=cong, kmo=k_overall, bartlett=bartlett(x),
                     n_respondents=n, n_dropped=data.n_dropped, warnings=data.warnings + tuple(issued))
