"""Hierarchical omega: how much of a total score one general factor carries.

* :func:`omega_hierarchical` — the Schmid-Leiman route of psych ``omega`` (Revelle &
  Zinbarg 2009; Schmid & Leiman 1957): an exploratory factor analysis (minres,
  ``n_factors`` factors, varimax then oblimin from the varimax solution), a one-factor
  minres analysis of the factor correlations, and the Schmid-Leiman transformation
  into a general factor g and residualised group factors.  With R the item
  correlation matrix (items whose g loading is negative reversed first), g the general
  and s_k the group loadings, u2 the uniquenesses 1 - h2 (h2 the communalities):

  - omega_h = (sum g)^2 / 1'R1                         (McDonald 1999, eq. 6.21)
  - omega_total = (1'R1 - sum u2) / 1'R1
  - omega_limit = (sum g)^2 / (1'R1 - sum u2)           (psych ``omega.lim``)
  - per group factor k with items I_k (each item assigned to the group factor with
    its largest absolute loading): total (sum_{I_k} s_k)^2 + (sum_{I_k} g)^2, general
    (sum_{I_k} g)^2 and group (sum_{I_k} s_k)^2, each over 1'R_{I_k}1
    (psych ``omega.group``); for g itself total = omega_total, general = omega_h,
    group = sum_k (sum_{I_k} s_k)^2 / 1'R1.
  - alpha (standardized), Guttman's lambda 6 = (1'R1 + sum smc - p)/1'R1 and the
    explained common variance ECV = sum g^2 / (sum g^2 + sum_k sum s_k^2).

* :func:`omega_higher_order` — omega of a second-order CFA as semTools
  ``compRelSEM(fit, higher = "g")``: for the higher-order factor g with first-order
  factors F_k (loadings gamma_k on g) and their indicators,
  omega_h(g) = 1' Lambda gamma gamma' Lambda' 1 var(g) / 1'S1 (S the sample covariance
  of all those indicators); for each first-order factor, omega = (sum lambda)^2
  var(F_k) / 1'S_k1 with var(F_k) its total (implied) variance.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._exceptions import ModelSpecificationError, NumericalError, ParameterError, ServmodelsWarning
from ._inputs import survey_input
from ._params import check_choice, check_int, check_type
from ._results import Result, jsonable, text_table
from .data import SurveyData

__all__ = ["OmegaResult", "HigherOrderOmegaResult", "omega_hierarchical", "omega_higher_order",
           "schmid_leiman", "pairwise_correlation"]


# ----------------------------------------------------------------------------- building blocks
def pairwise_correlation(x: np.ndarray) -> np.ndarray:
    """Correlations from pairwise-complete rows, as R ``cor(x, use = "pairwise")``: each
    pair's means and standard deviations come from the rows where both are present.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 3.0]])
    >>> round(float(pairwise_correlation(x)[0, 1]), 6)   # R: cor(c(1, 3, 4), c(2, 5, 3)) = 0.5
    0.5
    """
    M = (~np.isnan(x)).astype(float)
    X = np.where(np.isnan(x), 0.0, x)
    n = M.T @ M  # pairs present
    Sx = X.T @ M  # [i, j]: sum of x_i over rows where j is present (and i)
    Sxx = (X * X).T @ M
    Sxy = X.T @ X
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = Sxy - Sx * Sx.T / n
        var_i = Sxx - Sx**2 / n  # variance of i on the rows of pair (i, j) (times n - 1)
        R = cov / np.sqrt(var_i * var_i.T)
    np.fill_diagonal(R, 1.0)
    return R


def _varimax(L: np.ndarray, *, eps: float = 1e-15, max_iter: int = 1000) -> np.ndarray:
    """Kaiser-normalised varimax by the SVD iteration of R ``stats::varimax`` (run to
    ``eps`` relative change of the criterion instead of R's 1e-5)."""
    sc = np.sqrt((L**2).sum(axis=1))
    x = L / sc[:, None]
    p, k = x.shape
    T = np.eye(k)
    d = 0.0
    for _ in range(max_iter):
        z = x @ T
        B = x.T @ (z**3 - z * (z**2).sum(axis=0) / p)
        u, s, vt = np.linalg.svd(B)
        T = u @ vt
        d_past, d = d, float(s.sum())
        if d < d_past * (1 + eps):
            break
    return (x @ T) * sc[:, None]


def _oblimin(A: np.ndarray, *, eps: float = 1e-10, max_iter: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """Quartimin (oblimin, gamma = 0) by gradient projection from the identity, the
    algorithm of GPArotation ``GPFoblq`` (Bernaards & Jennrich 2005), iterated until the
    projected gradient is below ``eps``.  Returns (pattern loadings, factor correlations)."""
    k = A.shape[1]
    off = 1.0 - np.eye(k)

    def vgq(L: np.ndarray) -> tuple[np.ndarray, float]:
        X = (L**2) @ off
        return L * X, float((L**2 * X).sum() / 4)

    T = np.eye(k)
    L = A.copy()
    Gq, f = vgq(L)
    G = -(L.T @ Gq @ np.linalg.inv(T)).T
    al = 1.0
    for _ in range(max_iter):
        Gp = G - T * (T * G).sum(axis=0)
        s = float(np.sqrt((Gp**2).sum()))
        if s < eps:
            break
        al *= 2.0
        for _ in range(11):
            X = T - al * Gp
            Tt = X / np.sqrt((X**2).sum(axis=0))
            Lt = A @ np.linalg.inv(Tt).T
            Gqt, ft = vgq(Lt)
            if f - ft > 0.5 * s**2 * al:
                break
            al /= 2.0
        else:
            if ft >= f:  # no descent left at machine precision: converged as far as it goes
                break
        T, L, Gq, f = Tt, Lt, Gqt, ft
        G = -(L.T @ Gq @ np.linalg.inv(T)).T
    return L, T.T @ T


def _minres_loadings(R: np.ndarray, n_factors: int) -> np.ndarray:
    from .validity import _extract  # psych fa(fm = "minres")

    L, _ = _extract(R, n_factors, "minres")
    return L


def schmid_leiman(R: np.ndarray, n_factors: int = 3) -> dict[str, np.ndarray]:
    """Schmid-Leiman solution of a correlation matrix as psych ``schmid`` (``fm =
    "minres"``, ``rotate = "oblimin"``).

    Returns ``g`` (general loadings), ``group`` (p x k residualised group loadings),
    ``h2``, ``u2``, ``oblique`` (oblimin pattern), ``phi`` (factor correlations),
    ``g_loadings`` (loadings of the group factors on g) and ``orthogonal`` (varimax).

    Examples
    --------
    >>> lam = np.kron(np.eye(3), np.full((3, 1), 0.6)) + 0.3      # three group factors plus a general one
    >>> R = lam @ lam.T; np.fill_diagonal(R, 1.0)
    >>> sl = schmid_leiman(R, 3)
    >>> sl["group"].shape, bool(np.all(sl["g"] > 0))
    ((9, 3), True)
    """
    k = n_factors
    L = _minres_loadings(R, k)
    L = L * np.where(L.sum(axis=0) < 0, -1.0, 1.0)  # psych fa: column sums positive
    L = _varimax(L)
    L = L * np.where(L.sum(axis=0) < 0, -1.0, 1.0)
    L = L[:, np.argsort(-(L**2).sum(axis=0), kind="stable")]  # by variance explained, as psych fa
    fload, phi = _oblimin(L)
    if k > 2:
        gl = _minres_loadings(phi, 1)[:, 0]
        gl = -gl if gl.sum() < 0 else gl
    else:  # psych option = "equal": both group factors load sqrt(|r|) on g
        r = phi[0, 1]
        gl = np.array([np.sqrt(abs(r)), np.sign(r) * np.sqrt(abs(r))])
    g = fload @ gl
    h2 = (L**2).sum(axis=1)
    u2 = np.diag(R) - h2
    uniq2 = np.clip(fload**2 - (fload * gl) ** 2, 0.0, None)  # fload^2 (1 - gl^2)
    group = np.sign(fload) * np.sqrt(uniq2)
    return {"g": g, "group": group, "h2": h2, "u2": u2, "oblique": fload, "phi": phi, "g_loadings": gl,
            "orthogonal": L}


def _smc(R: np.ndarray) -> np.ndarray:
    return 1.0 - 1.0 / np.diag(np.linalg.inv(R))


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class OmegaResult(Result):
    """Hierarchical omega by the Schmid-Leiman transformation (frozen; psych ``omega``).

    Attributes
    ----------
    omega_h, omega_total, omega_limit, alpha, g6, ecv : float
        psych's ``omega_h``, ``omega.tot``, ``omega.lim``, ``alpha``, ``G6``, ``ECV``.
    groups : DataFrame
        psych ``omega.group``: rows ``g``, ``F1*`` ...; columns ``total, general, group``.
    loadings : DataFrame
        psych ``schmid$sl``: items x ``g, F1*, ..., h2, u2, p2``.
    phi : DataFrame
        Correlations of the oblimin factors.
    flipped : tuple of str
        Items reversed because their g loading was negative (psych ``flip = TRUE``).
    """

    scores: str
    n_factors: int
    omega_h: float
    omega_total: float
    omega_limit: float
    alpha: float
    g6: float
    ecv: float
    groups: pd.DataFrame
    loadings: pd.DataFrame
    phi: pd.DataFrame
    flipped: tuple[str, ...]
    missing: str
    n_respondents: int
    n_dropped: int
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The ``omega.group`` table with a ``factor`` column."""
        return self.groups.reset_index(names="factor")

    def to_dict(self) -> dict[str, Any]:
        return jsonable({
            "method": "schmid_leiman", "scores": self.scores, "n_factors": self.n_factors,
            "omega_h": self.omega_h, "omega_total": self.omega_total, "omega_limit": self.omega_limit,
            "alpha": self.alpha, "g6": self.g6, "ecv": self.ecv,
            "groups": self.groups.reset_index(names="factor"), "loadings": self.loadings.reset_index(names="item"),
            "phi": self.phi.to_numpy(), "flipped": list(self.flipped), "missing": self.missing,
            "n_respondents": self.n_respondents, "n_dropped": self.n_dropped, "warnings": list(self.warnings),
        })

    def summary(self, digits: int = 3) -> str:
        head = (f"Hierarchical omega (Schmid-Leiman, {self.n_factors} group factors, minres + oblimin) of "
                f"{self.scores} items — n = {self.n_respondents} used, {self.n_dropped} dropped"
                + ("; pairwise correlations" if self.missing == "pairwise" else ""))
        lines = [head,
                 f"omega_h = {self.omega_h:.{digits}f}, omega_total = {self.omega_total:.{digits}f}, "
                 f"omega_h asymptotic = {self.omega_limit:.{digits}f}, alpha = {self.alpha:.{digits}f}, "
                 f"G6 = {self.g6:.{digits}f}, ECV = {self.ecv:.{digits}f}",
                 "", text_table(self.to_frame(), digits),
                 "", text_table(self.loadings.reset_index(names="item"), digits)]
        if self.flipped:
            lines.append(f"reversed (negative g loading): {', '.join(self.flipped)}")
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)


@survey_input
def omega_hierarchical(data: SurveyData, *, scores: str | None = None, n_factors: int = 3,
                       missing: Literal["pairwise", "listwise"] = "pairwise") -> OmegaResult:
    """Hierarchical omega by the Schmid-Leiman transformation (psych ``omega``).

    Parameters
    ----------
    data : SurveyData, DataFrame or path
        The items of ``scores`` are analysed together (all dimensions).
    scores : str, optional
        ``"P"``, ``"E"``, ``"gap"`` or a custom score set; default: the instrument's
        only set, else ``"P"``.
    n_factors : int
        Group factors of the exploratory solution (psych's default 3; 5 for the five
        SERVQUAL dimensions).  With 2, both load sqrt(|r|) on g (psych ``option =
        "equal"``) and a warning says that g is not identified by two factors.
    missing : {"pairwise", "listwise"}
        ``"pairwise"`` (as psych): each correlation from the respondents who answered
        both items (the data must have been read keeping incomplete respondents,
        ``nan_policy="fiml"``); ``"listwise"``: incomplete respondents dropped and
        counted.

    Returns
    -------
    OmegaResult

    Notes
    -----
    As psych ``omega(m, nfactors, fm = "minres", rotate = "oblimin")``: minres factors
    of the correlation matrix, varimax (Kaiser-normalised), oblimin (quartimin) from the
    varimax solution, a one-factor minres analysis of the factor correlations, the
    Schmid-Leiman transformation, and items with a negative g loading reversed.  The
    rotations run to convergence (R stops varimax at 1e-5 relative change and oblimin
    at a gradient of 1e-5), so results agree with psych to about 1e-5.

    Examples
    --------
    >>> from servmodels import read_survey, load_example
    >>> res = omega_hierarchical(read_survey(load_example()), scores="P", n_factors=5)
    >>> list(res.groups.index)
    ['g', 'F1*', 'F2*', 'F3*', 'F4*', 'F5*']
    >>> 0 < res.omega_h < res.omega_total < 1
    True
    """
    n_factors = check_int("n_factors", n_factors, low=2)
    missing = check_choice("missing", missing, ("pairwise", "listwise"))
    assert n_factors is not None
    x = data.item_scores(scores).astype(np.float64)
    cols = list(data.item_columns(scores))
    n_dropped = data.n_dropped
    answered = ~np.isnan(x).all(axis=1)
    keep = answered if missing == "pairwise" else ~np.isnan(x).any(axis=1)
    n_dropped += int((~keep).sum())
    x = x[keep]
    p = x.shape[1]
    if n_factors > p // 2:
        raise ParameterError(f"n_factors must be at most {p // 2} for {p} items (at least two items per factor); "
                             f"got {n_factors}")
    if len(x) < 3:
        raise ParameterError(f"omega_hierarchical needs respondents; {len(x)} usable")
    issued: list[str] = list(data.warnings)
    if missing == "pairwise" and np.isnan(x).any():
        R = pairwise_correlation(x)
        if not np.all(np.isfinite(R)):
            bad = sorted({cols[i] for i in np.argwhere(~np.isfinite(R)).ravel()})
            raise NumericalError("pairwise correlations undefined (no variance or no respondents in common) for "
                                 + ", ".join(bad))
    else:
        from ._numerics import check_nonsingular

        check_nonsingular(x, cols, "omega_hierarchical")
        R = np.corrcoef(x, rowvar=False)
    if np.linalg.eigvalsh(R).min() <= 1e-12:
        raise NumericalError("the correlation matrix is not positive definite (pairwise deletion can produce this); "
                             "use missing='listwise'")
    if n_factors == 2:
        msg = ("two group factors do not identify the general factor: both are set to load sqrt(|r|) on g "
               "(psych option = 'equal'); prefer three or more")
        warnings.warn(msg, ServmodelsWarning, stacklevel=3)
        issued.append(msg)
    from threadpoolctl import threadpool_limits

    # p x p problems: BLAS threads only add wake-up latency (L-BFGS-B's Fortran calls slow down several-fold)
    with threadpool_limits(limits=1, user_api="blas"):
        sl = schmid_leiman(R, n_factors)
    g, group = sl["g"], sl["group"]
    # psych flip = TRUE: reverse the items whose g loading is negative
    key = np.where(g < 0, -1.0, 1.0)
    Rf = R * np.outer(key, key)
    g, group = g * key, group * key[:, None]
    Vt = float(Rf.sum())
    u2 = sl["u2"]
    gsq = float(g.sum()) ** 2
    omega_h = gsq / Vt
    omega_total = (Vt - float(u2.sum())) / Vt
    omega_limit = gsq / (Vt - float(u2.sum()))
    alpha = (Vt - p) / Vt * p / (p - 1)
    g6 = (Vt + float(_smc(Rf).sum()) - p) / Vt
    ev = np.concatenate([[float((g**2).sum())], (group**2).sum(axis=0)])
    ecv = float(ev[0] / ev.sum())
    names = [f"F{k + 1}*" for k in range(n_factors)]
    assign = np.argmax(np.abs(group), axis=1)
    rows = {"g": {"total": omega_total, "general": omega_h, "group": np.nan}}
    grs = 0.0
    for k, name in enumerate(names):
        idx = np.flatnonzero(assign == k)
        if idx.size == 0:
            rows[name] = {"total": np.nan, "general": np.nan, "group": np.nan}
            continue
        Vgr = float(Rf[np.ix_(idx, idx)].sum())
        gr = float(group[idx, k].sum())
        gg = float(g[idx].sum())
        grs += gr**2
        rows[name] = {"total": (gr**2 + gg**2) / Vgr, "general": gg**2 / Vgr, "group": gr**2 / Vgr}
    rows["g"]["group"] = grs / Vt
    groups = pd.DataFrame.from_dict(rows, orient="index")[["total", "general", "group"]]
    shown = [c + ("-" if s < 0 else "") for c, s in zip(cols, key)]
    loadings = pd.DataFrame(np.column_stack([g, group, sl["h2"], u2, g**2 / sl["h2"]]), index=shown,
                            columns=["g", *names, "h2", "u2", "p2"])
    fac = [f"F{k + 1}" for k in range(n_factors)]
    return OmegaResult(scores=str(scores), n_factors=n_factors, omega_h=omega_h, omega_total=omega_total,
                       omega_limit=omega_limit, alpha=alpha, g6=g6, ecv=ecv, groups=groups, loadings=loadings,
                       phi=pd.DataFrame(sl["phi"], index=fac, columns=fac),
                       flipped=tuple(c for c, s in zip(cols, key) if s < 0), missing=missing,
                       n_respondents=int(len(x)), n_dropped=n_dropped, warnings=tuple(issued))


# ----------------------------------------------------------------------------- second-order CFA
@dataclass(frozen=True)
class HigherOrderOmegaResult(Result):
    """Omega of a second-order CFA as semTools ``compRelSEM(fit, higher = )`` (frozen).

    Attributes
    ----------
    table : DataFrame
        One row per factor (first-order factors, then the higher-order ones):
        ``factor, order, omega`` — for a first-order factor its omega, for a
        higher-order factor omega hierarchical (the share of the total-score variance
        of all its indicators due to it).
    fit : CFAResult
        The second-order CFA.
    """

    table: pd.DataFrame
    fit: Any
    n_respondents: int
    n_dropped: int
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        f = self.fit.fit
        return jsonable({"method": "second_order_cfa", "factors": self.table,
                         "omega_h": {r.factor: r.omega for r in self.table.itertuples() if r.order == 2},
                         "options": self.fit.options.to_dict(), "model": self.fit.model,
                         "fit": {k: f[k] for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr") if k in f},
                         "n_respondents": self.n_respondents, "n_dropped": self.n_dropped,
                         "warnings": list(self.warnings)})

    def summary(self, digits: int = 3) -> str:
        f = self.fit.fit
        lines = [f"Omega of a second-order CFA ({self.fit.options.label}) — n = {self.n_respondents} used, "
                 f"{self.n_dropped} dropped; chi2({f['df']:.0f}) = {f['chisq']:.3f}, CFI = {f['cfi']:.3f}, "
                 f"RMSEA = {f['rmsea']:.3f}",
                 text_table(self.table, digits)]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)


def _matrices(params: pd.DataFrame, lv: list[str], ov: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lambda, B and the implied latent covariance A Psi A' from a one-group parameter table."""
    li = {v: i for i, v in enumerate(lv)}
    oi = {v: i for i, v in enumerate(ov)}
    L = np.zeros((len(ov), len(lv)))
    B = np.zeros((len(lv), len(lv)))
    Psi = np.zeros((len(lv), len(lv)))
    for r in params.itertuples():
        if r.op == "=~":
            if r.rhs in li:
                B[li[r.rhs], li[r.lhs]] = r.estimate
            else:
                L[oi[r.rhs], li[r.lhs]] = r.estimate
        elif r.op == "~" and r.lhs in li:
            B[li[r.lhs], li[r.rhs]] = r.estimate
        elif r.op == "~~" and r.lhs in li and r.rhs in li:
            Psi[li[r.lhs], li[r.rhs]] = Psi[li[r.rhs], li[r.lhs]] = r.estimate
    A = np.linalg.inv(np.eye(len(lv)) - B)
    return L, B, A @ Psi @ A.T


def higher_order_omegas(fit: Any, higher: list[str] | None = None) -> pd.DataFrame:
    """semTools ``compRelSEM(fit, higher = higher)`` from a fitted one-group CFA.

    First-order factors (two or more indicators): (sum lambda)^2 var(F) / 1'S1; each
    higher-order factor h with first-order factors K: 1' Lambda_K B_{K,h} B_{K,h}'
    Lambda_K' 1 var(h) / 1'S1 over all indicators of K (S: the h1 covariance matrix,
    semTools' ``obs.var = TRUE``).
    """
    if len(fit.groups) > 1:
        raise ParameterError("omega of a higher-order factor is implemented for one group; fit each group separately")
    if fit.options.estimator == "WLSMV":
        raise ParameterError("omega_higher_order with estimator='WLSMV' (ordinal items) is not implemented")
    params = fit.parameters
    ov = list(fit.sample_cov[0].index)
    loads = params[params["op"] == "=~"]
    lv = list(dict.fromkeys(loads["lhs"]))
    second = [f for f in lv if loads.loc[loads["lhs"] == f, "rhs"].isin(lv).any()]
    if higher is None:
        higher = second
    missing = [h for h in higher if h not in second]
    if missing:
        raise ModelSpecificationError(f"{', '.join(map(repr, missing))}: not a higher-order factor of the model "
                                      f"(a factor measured by other factors: {', '.join(second) or 'none'})")
    if not higher:
        raise ModelSpecificationError("the model has no higher-order factor (write e.g. 'g =~ F1 + F2 + F3')")
    L, B, Phi = _matrices(params, lv, ov)
    S = fit.sample_cov[0].to_numpy()
    li = {v: i for i, v in enumerate(lv)}
    rows = []
    for f in lv:
        j = li[f]
        ind = np.flatnonzero(L[:, j] != 0)
        if ind.size < 2:
            continue
        lam = L[ind, j]
        rows.append({"factor": f, "order": 1, "omega": float(lam.sum() ** 2 * Phi[j, j] / S[np.ix_(ind, ind)].sum())})
    for h in higher:
        j = li[h]
        kids = np.flatnonzero(B[:, j] != 0)
        ind = np.flatnonzero((L[:, [j, *kids]] != 0).any(axis=1))
        lam_g = L[ind][:, kids] @ B[kids, j] + L[ind, j]  # indicators' loadings on h through the first-order factors
        common = float(lam_g.sum() ** 2 * Phi[j, j])
        rows.append({"factor": h, "order": 2, "omega": common / float(S[np.ix_(ind, ind)].sum())})
    return pd.DataFrame(rows)


def omega_higher_order(data: Any = None, model: str | None = None, *, fit: Any = None, higher: str | list[str] | None = None,
                       scores: str | None = None, general_factor: str = "service_quality", options: Any = None,
                       **read: Any) -> HigherOrderOmegaResult:
    """Omega of the higher-order factor of a second-order CFA (semTools
    ``compRelSEM(fit, higher = )``).

    Parameters
    ----------
    data : SurveyData, DataFrame or path, optional
        Fitted with ``model``, or with the instrument's second-order model
        (dimensions loading on ``general_factor``) when ``model`` is None.
    model : str, optional
        lavaan syntax with a higher-order factor (``g =~ F1 + F2 + F3``).
    fit : CFAResult, optional
        An already fitted second-order CFA instead of ``data``.
    higher : str or list of str, optional
        The higher-order factors to report; default every factor measured by factors.
    scores, options, **read :
        As :func:`servmodels.sem.cfa` (score set, :class:`SEMOptions`, reading options).

    Returns
    -------
    HigherOrderOmegaResult
        ``table``: ``factor, order, omega``; the higher-order row is omega
        hierarchical (semTools' omega for ``higher``).

    Examples
    --------
    >>> from servmodels import read_survey, load_example
    >>> res = omega_higher_order(read_survey(load_example()), scores="P")
    >>> res.table.query("order == 2")["factor"].tolist()
    ['service_quality']
    """
    from .sem import cfa
    from .sem.result import CFAResult

    if fit is None:
        if data is None:
            raise ParameterError("give data (with a model, or SurveyData for the instrument's second-order model) or fit=")
        if model is None and not isinstance(data, SurveyData) and not read:
            raise ModelSpecificationError("a model is required unless data is SurveyData (instrument model) or "
                                          "reading options (instrument=, scale=) are given")
        fit = cfa(data, model, scores=scores, structure="second_order", options=options, **read)
        fit_warnings = fit.warnings
    else:
        if data is not None or model is not None or read:
            raise ParameterError("fit= is an already fitted model: give data and model, or fit, not both")
        check_type("fit", fit, CFAResult, "a CFAResult (from cfa)")
        fit_warnings = ()
    if isinstance(higher, str):
        higher = [higher]
    table = higher_order_omegas(fit, None if higher is None else list(higher))
    return HigherOrderOmegaResult(table=table, fit=fit, n_respondents=fit.n_respondents, n_dropped=fit.n_dropped,
                                  warnings=tuple(fit_warnings))
