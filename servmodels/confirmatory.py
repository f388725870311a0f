"""Confirmatory factor analysis by maximum likelihood, with lavaan's conventions.

``cfa`` fits a model given in lavaan syntax, or built from the instrument
(correlated dimensions, one factor, or a second-order service-quality factor), to
raw data or to a covariance matrix and n.  Estimates, standard errors (expected
information), standardized solutions, fit indices, residuals and modification
indices reproduce ``lavaan::cfa`` (Rosseel 2012); see docs/cfa.md for the
formulas and tests/reference/R/lavaan_cfa.R for the reference values.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._cfa_engine import GroupMoments, evaluate, fisher_scoring
from ._cfa_model import Matrices, ModelSpec, build_spec
from ._distributions import bisect_root, chi2_sf, ncx2_cdf, norm_ppf, norm_sf
from ._exceptions import (
    HeywoodCaseWarning,
    ModelSpecificationError,
    NonConvergenceWarning,
    NonPositiveDefiniteWarning,
    Problem,
    ServmodelsError,
    ValidationError,
)
from ._results import jsonable, text_table
from .data import SurveyData
from .instrument import Instrument

__all__ = [
    "CFAResult",
    "InvarianceResult",
    "cfa",
    "instrument_model",
    "measurement_invariance",
    "ep_structure_test",
    "HeywoodCaseWarning",
    "NonConvergenceWarning",
    "NonPositiveDefiniteWarning",
]

Likelihood = Literal["normal", "wishart"]
Structure = Literal["correlated", "one_factor", "second_order"]


# ----------------------------------------------------------------------------- model text
def instrument_model(instrument: Instrument, *, scores: str = "P", structure: Structure = "correlated",
                     general_factor: str = "service_quality") -> str:
    """lavaan syntax of the instrument's measurement model.

    ``"correlated"``: one factor per dimension (named by the dimension), factors
    correlated; ``"one_factor"``: all items on ``general_factor``;
    ``"second_order"``: dimension factors loading on ``general_factor``.
    Indicators are the item columns (``P1`` ...) or gap items (``gap1`` ...).

    Examples
    --------
    >>> from servmodels import get_instrument
    >>> print(instrument_model(get_instrument("servqual22"), structure="second_order").splitlines()[-1])
    service_quality =~ tangibles + reliability + responsiveness + assurance + empathy
    """
    def col(item: str) -> str:
        return instrument.column(scores, item) if scores in ("E", "P", "M", "D") else f"{scores}{item}"

    if structure == "one_factor":
        return f"{general_factor} =~ " + " + ".join(col(i) for i in instrument.items)
    if structure not in ("correlated", "second_order"):
        raise ModelSpecificationError(f"structure must be 'correlated', 'one_factor' or 'second_order', got {structure!r}")
    lines = [f"{d} =~ " + " + ".join(col(i) for i in items) for d, items in instrument.dimensions.items()]
    if structure == "second_order":
        lines.append(f"{general_factor} =~ " + " + ".join(instrument.dimension_names))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- data
def _frame_from(data: SurveyData | pd.DataFrame, scores: str) -> tuple[pd.DataFrame, int, pd.DataFrame]:
    if isinstance(data, SurveyData):
        arr = data.item_scores(scores)
        frame = pd.DataFrame(arr.astype(np.float64), columns=list(data.item_columns(scores)))
        return frame, data.n_dropped, data.groups
    if isinstance(data, pd.DataFrame):
        return data, 0, data
    raise ServmodelsError(f"cfa needs SurveyData or a DataFrame, got {type(data).__name__}")


def _numeric_block(frame: pd.DataFrame, cols: Sequence[str], nan_policy: str) -> tuple[np.ndarray, np.ndarray]:
    """Numeric values of the model's observed variables; missing handled by nan_policy."""
    problems = []
    missing_cols = [c for c in cols if c not in frame.columns]
    if missing_cols:
        raise ModelSpecificationError(
            "unknown variable(s) in the model, not columns of the data: " + ", ".join(missing_cols)
        )
    if all(pd.api.types.is_numeric_dtype(frame[c].dtype) and not pd.api.types.is_bool_dtype(frame[c].dtype) for c in cols):
        out = frame[list(cols)].to_numpy(dtype=np.float64, na_value=np.nan)
        cols_to_convert: list[str] = []
    else:
        out = np.empty((len(frame), len(cols)))
        cols_to_convert = list(cols)
    for j, c in enumerate(cols):
        if c not in cols_to_convert:
            continue
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            out[:, j] = s.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            conv = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64)
            text = np.isnan(conv) & s.notna().to_numpy()
            if text.any():
                hit = np.flatnonzero(text)
                problems.append(Problem("non_numeric", c, "non-numeric values", tuple(int(h) + 1 for h in hit[:5]), int(hit.size)))
            out[:, j] = conv
    if problems:
        raise ValidationError(problems, "<cfa data>")
    miss = np.isnan(out)
    keep = ~miss.any(axis=1)
    if not keep.all() and nan_policy == "raise":
        probs = []
        for j, c in enumerate(cols):
            hit = np.flatnonzero(miss[:, j])
            if hit.size:
                probs.append(Problem("missing_value", c, "missing values (use nan_policy='omit')", tuple(int(h) + 1 for h in hit[:5]), int(hit.size)))
        raise ValidationError(probs, "<cfa data>")
    return out, keep


def _moments(x: np.ndarray, likelihood: str) -> GroupMoments:
    n = x.shape[0]
    if n < 2:
        raise ServmodelsError(f"a group has only {n} respondent(s)")
    mean = x.mean(axis=0)
    xc = x - mean
    cov = xc.T @ xc / (n if likelihood == "normal" else n - 1)
    mom = _moments_from_cov(cov, mean, n, likelihood, already=True)
    mom.data = x
    return mom


def _moments_from_cov(cov: np.ndarray, mean: np.ndarray | None, n: int, likelihood: str,
                      *, already: bool = False, names: Sequence[str] = ()) -> GroupMoments:
    cov = np.asarray(cov, dtype=np.float64)
    if not already and likelihood == "normal":
        # a user-supplied covariance matrix is unbiased (n - 1); lavaan rescales it by (n - 1)/n
        cov = cov * (n - 1) / n
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0:
        raise ServmodelsError(
            "the sample covariance matrix is not positive definite (constant or collinear variables, "
            f"or fewer respondents than variables){': ' + ', '.join(names) if names else ''}"
        )
    return GroupMoments(cov=cov, mean=np.zeros(cov.shape[0]) if mean is None else np.asarray(mean, float), n=int(n), logdet=float(logdet))


# ----------------------------------------------------------------------------- start values
def _start_values(spec: ModelSpec, moments: list[GroupMoments]) -> np.ndarray:
    sums = np.zeros(spec.n_free)
    counts = np.zeros(spec.n_free)
    li = {v: i for i, v in enumerate(spec.lv)}
    for g, mom in enumerate(moments):
        S = mom.cov
        rows = [r for r in spec.rows if r.group == g]
        sd = np.sqrt(np.diag(S))
        lam_std = {}
        scale = {}
        for f in spec.lv:
            ind = [r for r in rows if r.mat == "L" and r.c == li[f]]
            if not ind:
                continue
            idx = [r.r for r in ind]
            R = S[np.ix_(idx, idx)] / np.outer(sd[idx], sd[idx])
            vals, vecs = np.linalg.eigh(R)
            v = vecs[:, -1] * np.sqrt(max(vals[-1], 1e-6))
            marker = next((k for k, r in enumerate(ind) if r.value not in (None, 0.0)), None)
            ref = marker if marker is not None else 0
            v = v * (1 if v[ref] >= 0 else -1)
            v = np.clip(v, 0.05, 0.95) if len(idx) > 1 else np.array([0.7])
            lam = v * sd[idx]
            if marker is not None:
                fixed = ind[marker].value
                s = lam[marker] / fixed
                lam, scale[f] = lam / s, s * s
            else:
                scale[f] = 1.0
            for k, r in enumerate(ind):
                lam_std[(r.r, r.c)] = lam[k]
        for r in rows:
            if r.free == 0:
                continue
            if r.start is not None:
                val = r.start
            elif r.mat == "L":
                val = lam_std.get((r.r, r.c), 0.5)
            elif r.mat == "T":
                val = 0.5 * S[r.r, r.r] if r.r == r.c else 0.0
            elif r.mat == "P":
                name = spec.lv[r.r]
                if r.r != r.c:
                    val = 0.0
                elif name in spec.endogenous:
                    val = 0.5 * scale.get(name, 0.5)
                else:
                    val = scale.get(name, 0.05) if name not in spec.endogenous else 0.05
                    if not any(rr.mat == "L" and rr.c == r.r for rr in rows):
                        # a second-order factor: half the mean variance of the factors it explains
                        kids = [spec.lv[rr.r] for rr in rows if rr.mat == "B" and rr.c == r.r]
                        val = 0.5 * float(np.mean([scale.get(k, 0.5) for k in kids])) if kids else 0.05
            elif r.mat == "B":
                val = 1.0
            elif r.mat == "N":
                val = mom.mean[r.r]
            else:
                val = 0.0
            sums[r.free - 1] += val
            counts[r.free - 1] += 1
    return sums / np.maximum(counts, 1)


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class CFAResult:
    """A fitted confirmatory factor model (frozen).

    Attributes
    ----------
    model : str
        The lavaan syntax that was fitted.
    parameters : DataFrame
        One row per parameter: ``lhs, op, rhs, group, label, free, est, se, z,
        p_value, ci_low, ci_high, std_lv, std_all`` (lavaan's
        ``parameterEstimates(standardized = TRUE)``).
    fit : dict
        ``npar, fmin, chisq, df, pvalue, baseline_chisq, baseline_df, baseline_pvalue,
        cfi, tli, nfi, rmsea, rmsea_ci_low, rmsea_ci_high, rmsea_pvalue, srmr, aic,
        bic, sabic, loglik, unrestricted_loglik``.
    implied_cov, implied_mean : list of DataFrame / Series (one per group)
    r2 : DataFrame
        R² of indicators and of endogenous latents per group.
    residuals : dict
        ``raw``, ``normalized``, ``standardized`` and ``correlation`` residual
        matrices (lists per group).
    modification_indices : DataFrame
        ``lhs, op, rhs, group, mi, epc, sepc_all`` for fixed or absent parameters.
    vcov : DataFrame
        Covariance matrix of the free parameters.
    n_obs : list of int
        Respondents per group; ``n_respondents`` is their sum and ``n_dropped``
        counts listwise deletions.
    converged : bool
    iterations : int
    warnings : tuple of str
    """

    model: str
    parameters: pd.DataFrame
    fit: dict[str, float]
    implied_cov: list[pd.DataFrame]
    implied_mean: list[pd.Series]
    r2: pd.DataFrame
    vcov: pd.DataFrame
    n_obs: list[int]
    n_dropped: int
    groups: list[str]
    likelihood: str
    std_lv: bool
    converged: bool
    iterations: int
    warnings: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    _state: Any = field(default=None, repr=False, compare=False)

    # Residuals and modification indices are computed on first access (as lavaan does),
    # so a plain fit does not pay for hundreds of score tests.
    @cached_property
    def residuals(self) -> dict[str, list[pd.DataFrame]]:
        """``raw``, ``normalized``, ``standardized`` and ``correlation`` residual matrices per group."""
        if self._state is None:
            raise ServmodelsError(f"residuals are not available for estimator {self.extra.get('estimator')!r} yet")
        fitted, ev, vcov, _, _ = self._state
        return _residuals(fitted, ev)

    @cached_property
    def modification_indices(self) -> pd.DataFrame:
        """``lhs, op, rhs, group, mi, epc, sepc_all`` for fixed or absent parameters."""
        if self.extra.get("missing") == "fiml" or self._state is None:
            raise ServmodelsError("modification indices are not available with missing='fiml' or estimator='WLSMV' yet")
        fitted, ev, _, H, std = self._state
        return _modification_indices(fitted, ev, H, std)

    @property
    def n_respondents(self) -> int:
        return int(sum(self.n_obs))

    def to_frame(self) -> pd.DataFrame:
        return self.parameters.copy()

    def to_dict(self) -> dict[str, Any]:
        cols = ["lhs", "op", "rhs", "group", "label", "free", "est", "se", "z", "p_value", "ci_low", "ci_high", "std_lv", "std_all"]
        params = self.parameters[cols]
        if len(self.groups) == 1:
            params = params.drop(columns="group")
        return jsonable({
            "model": self.model,
            "n_respondents": self.n_respondents,
            "n_dropped": self.n_dropped,
            "n_obs": self.n_obs,
            "groups": self.groups if len(self.groups) > 1 else None,
            "likelihood": self.likelihood,
            "estimator": self.extra.get("estimator", "ML"),
            "converged": self.converged,
            "iterations": self.iterations,
            "fit": self.fit,
            "parameters": params,
            "r2": self.r2,
            "warnings": list(self.warnings),
        })

    def summary(self, digits: int = 3) -> str:
        f = self.fit
        lines = [
            f"CFA ({self.extra.get('estimator', 'ML')}, likelihood={self.likelihood}) — n = {self.n_respondents} used, {self.n_dropped} dropped"
            + (f"; groups: {', '.join(self.groups)}" if len(self.groups) > 1 else ""),
            f"converged: {self.converged} after {self.iterations} iterations",
            "",
            f"chi2({f['df']:.0f}) = {f['chisq']:.3f}, p = {f['pvalue']:.4g}; CFI = {f['cfi']:.3f}, TLI = {f['tli']:.3f}, "
            f"RMSEA = {f['rmsea']:.3f} [{f.get('rmsea_ci_low', np.nan):.3f}, {f.get('rmsea_ci_high', np.nan):.3f}], SRMR = {f['srmr']:.3f}",
        ]
        if "chisq_scaled" in f:
            lines.append(
                f"scaled chi2({f['df_scaled']:.0f}) = {f['chisq_scaled']:.3f}, p = {f['pvalue_scaled']:.4g} "
                f"(scaling factor {f['scaling_factor']:.3f}); CFI scaled = {f['cfi_scaled']:.3f}, "
                f"TLI scaled = {f['tli_scaled']:.3f}, RMSEA scaled = {f['rmsea_scaled']:.3f}"
            )
        if "loglik" in f:
            lines.append(f"AIC = {f['aic']:.2f}, BIC = {f['bic']:.2f}, log-likelihood = {f['loglik']:.3f}, parameters = {f['npar']:.0f}")
        lines += [
            "",
            text_table(self.parameters[["lhs", "op", "rhs", "group", "est", "se", "z", "p_value", "std_all"]], digits),
        ]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)


# ----------------------------------------------------------------------------- fitting core
@dataclass
class _Fitted:
    spec: ModelSpec
    groups: list[Matrices]
    moments: list[GroupMoments]
    x: np.ndarray
    iterations: int
    converged: bool
    message: str
    likelihood: str


def _fit_spec(spec: ModelSpec, moments: list[GroupMoments], likelihood: str) -> _Fitted:
    groups = [Matrices(spec, g) for g in range(spec.n_groups)]
    n_moments = sum(spec.p * (spec.p + 1) // 2 + (spec.p if spec.meanstructure else 0) for _ in moments)
    if spec.n_free > n_moments:
        raise ModelSpecificationError(
            f"the model is not identified: {spec.n_free} free parameters but only {n_moments} sample moments"
        )
    x0 = _start_values(spec, moments)
    x, it, ok, msg = fisher_scoring(spec, groups, moments, x0)
    if not ok:
        # fall back to a quasi-Newton search from the best point, then polish with scoring
        def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
            ev = evaluate(spec, groups, moments, z, info=False)
            if not np.isfinite(ev.F) or ev.grad is None:
                return 1e10, np.zeros_like(z)
            return ev.F, ev.grad

        from scipy import optimize  # rarely needed; slow to import

        res = optimize.minimize(fun, x, jac=True, method="L-BFGS-B", options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10})
        x2, it2, ok2, msg2 = fisher_scoring(spec, groups, moments, res.x)
        x, it, ok, msg = x2, it + res.nit + it2, ok2, msg2
    return _Fitted(spec, groups, moments, x, it, ok, msg, likelihood)


def _fit_fiml(spec: ModelSpec, blocks: list[np.ndarray], likelihood: str, robust: bool = False) -> tuple[_Fitted, dict[str, Any]]:
    from ._cfa_fiml import (
        baseline_trace,
        casewise_scores_missing,
        em_saturated,
        evaluate_fiml,
        loglik,
        make_group,
        numeric_hessian,
        saturated_information,
    )

    if likelihood != "normal":
        raise ServmodelsError("missing='fiml' uses the normal likelihood")
    mgroups = [make_group(b) for b in blocks]
    em = [em_saturated(mg) for mg in mgroups]
    moments = [_moments_from_cov(s, m, mg.n, "normal", already=True, names=spec.ov) for (m, s, _, _), mg in zip(em, mgroups)]
    groups = [Matrices(spec, g) for g in range(spec.n_groups)]
    n_moments = spec.n_groups * (spec.p * (spec.p + 1) // 2 + spec.p)
    if spec.n_free > n_moments:
        raise ModelSpecificationError(
            f"the model is not identified: {spec.n_free} free parameters but only {n_moments} sample moments"
        )

    def evaluator(z: np.ndarray, grad: bool = True, info: bool = True):
        return evaluate_fiml(spec, groups, mgroups, z, grad=grad, info=info)

    x0 = _start_values(spec, moments)
    x, it, ok, msg = fisher_scoring(spec, groups, moments, x0, evaluator=evaluator, max_iter=2000)
    ev = evaluator(x, grad=False, info=False)
    logl = 0.0
    logl_b = 0.0
    for mg, e in zip(mgroups, ev.per_group):
        logl += loglik(mg, e["mu"], e["sigma"])
        # independence model: each variable's mean and variance from its observed values (closed form)
        logl_b += loglik(mg, np.nanmean(mg.data, axis=0), np.diag(np.nanvar(mg.data, axis=0)))
    logl_h1 = float(sum(ll for _, _, ll, _ in em))
    N = sum(mg.n for mg in mgroups)
    # observed information (lavaan's default with missing = "fiml"): half the Hessian of F
    H = numeric_hessian(lambda z: evaluator(z, info=False).grad, x)
    try:
        vcov = 2.0 / N * np.linalg.inv(H)
    except np.linalg.LinAlgError:
        vcov = np.full((spec.n_free, spec.n_free), np.nan)
    core = {"chisq": 2 * (logl_h1 - logl), "baseline_chisq": 2 * (logl_h1 - logl_b), "loglik": logl,
            "unrestricted_loglik": logl_h1}
    out: dict[str, Any] = {"vcov": vcov, "core": core}
    if robust:
        # MLR with FIML: sandwich SEs from casewise scores of the observed-data likelihood and the
        # Yuan-Bentler (Mplus) trace with the saturated model's observed information at the EM
        # estimates (lavaan missing = "fiml", estimator = "MLR")
        E = 0.5 * H
        Einv = np.linalg.inv(E)
        tri = np.tril_indices(spec.p)
        B0 = np.zeros_like(E)
        trace = trace_b = 0.0
        full = sum(mg.n for mg in mgroups)
        for g, (mg, (mu_h1, sig_h1, _, _)) in enumerate(zip(mgroups, em)):
            f = mg.n / full
            mats = groups[g].build(x)
            sigma, mu, aux = groups[g].implied(mats)
            dS, dM = groups[g].derivatives(mats, aux, spec.n_free)
            D = np.vstack([dM.T, dS[:, tri[0], tri[1]].T])
            S = casewise_scores_missing(mg, mu, sigma) @ D
            B0g = S.T @ S / mg.n
            B0 += f * B0g
            A1, B1 = saturated_information(mg, mu_h1, sig_h1)
            t_h1 = float(np.trace(np.linalg.solve(A1, B1)))
            trace += t_h1 - f * float(np.sum(B0g * Einv.T))
            trace_b += t_h1 - baseline_trace(mg)
        out["vcov"] = Einv @ B0 @ Einv / full
        df = spec.n_groups * (spec.p * (spec.p + 1) // 2 + spec.p) - spec.n_free
        out["robust"] = {"scaling_factor": trace / df,
                         "baseline_scaling_factor": trace_b / (spec.n_groups * spec.p * (spec.p - 1) / 2)}
    return _Fitted(spec, groups, moments, x, it, ok, msg, likelihood), out


def _fit_wlsmv(spec: ModelSpec, values: np.ndarray, model_text: str, n_dropped: int, std_lv: bool) -> CFAResult:
    from ._cfa_wlsmv import dwls_statistics, fit_dwls, prepare_spec
    from .polychoric import polychoric

    spec = prepare_spec(spec)
    pc = polychoric(pd.DataFrame(values, columns=spec.ov))
    n = pc.n_obs
    R = pc.correlation.to_numpy()
    start_mom = GroupMoments(cov=R, mean=np.zeros(spec.p), n=n, logdet=float(np.linalg.slogdet(R)[1]))
    fit = fit_dwls(spec, pc, _start_values(spec, [start_mom]))
    st = dwls_statistics(spec, pc, fit)
    issued: list[str] = []
    if not fit["converged"]:
        msg = "the DWLS optimiser did not converge; estimates are not trustworthy"
        warnings.warn(msg, NonConvergenceWarning, stacklevel=3)
        issued.append(msg)
    n_th = fit["n_th"]
    vc = st["vcov_full"]
    se_model = np.sqrt(np.clip(np.diag(vc)[n_th:], 0, None))
    se_th = np.sqrt(np.clip(np.diag(vc)[:n_th], 0, None))
    x = fit["x"]
    sigma = fit["sigma"]
    resid_var = 1.0 - (np.diag(sigma) - np.diag(fit["mats"]["T"]))
    for r in spec.rows:
        if r.kind == "delta_residual":
            r.value = float(resid_var[r.r])
    mats = fit["M"].build(x)
    sigma, mu, aux = fit["M"].implied(mats)
    e = {"mats": mats, "sigma": sigma, "aux": aux}
    stdf = _std_factors(spec, e)
    zq = norm_ppf(0.975)
    recs = []
    for r in spec.rows:
        if r.mat in ("N", "A"):
            continue
        est = r.value if r.free == 0 else float(x[r.free - 1])
        se = 0.0 if r.free == 0 else float(se_model[r.free - 1])
        z = est / se if r.free and se > 0 else np.nan
        s_lv, s_all = _standardize(r, est, spec, stdf)
        recs.append({"lhs": r.lhs, "op": r.op, "rhs": r.rhs, "group": "1", "label": r.label or "", "free": bool(r.free),
                     "est": est, "se": se, "z": z, "p_value": 2 * norm_sf(abs(z)) if np.isfinite(z) else np.nan,
                     "ci_low": est - zq * se, "ci_high": est + zq * se, "std_lv": s_lv, "std_all": s_all})
    k = 0
    for v in spec.ov:
        for t_i, tau in enumerate(pc.thresholds[v]):
            se = float(se_th[k])
            recs.append({"lhs": v, "op": "|", "rhs": f"t{t_i + 1}", "group": "1", "label": "", "free": True,
                         "est": float(tau), "se": se, "z": tau / se, "p_value": 2 * norm_sf(abs(tau / se)),
                         "ci_low": tau - zq * se, "ci_high": tau + zq * se, "std_lv": float(tau), "std_all": float(tau)})
            k += 1
    chisq, df, a, b = st["chisq"], st["df"], st["a"], st["b"]
    chisq_s = a * chisq + b
    cb, dfb = st["chisq_b"], st["df_b"]
    cb_s = st["ab"] * cb + st["bb"]

    def cfi(x2: float, x2b: float) -> float:
        den = max(x2 - df, x2b - dfb, 0.0)
        return 1.0 - max(x2 - df, 0.0) / den if den > 0 else 1.0

    def tli(x2: float, x2b: float) -> float:
        return ((x2b / dfb) - (x2 / df)) / ((x2b / dfb) - 1.0) if df > 0 else 1.0

    n_test = n - 1  # lavaan: N - G for least-squares estimators

    def rmsea(x2: float) -> float:
        return float(np.sqrt(max(x2 / n_test / df - 1.0 / n_test, 0.0))) if df > 0 else 0.0

    resid = fit["r"] - fit["rho"]
    fit_d = {
        "npar": float(n_th + spec.n_free), "chisq": chisq, "df": df, "pvalue": chi2_sf(chisq, df),
        "chisq_scaled": chisq_s, "df_scaled": df, "pvalue_scaled": chi2_sf(chisq_s, df),
        "scaling_factor": 1.0 / a, "shift_parameter": b,
        "baseline_chisq": cb, "baseline_df": dfb, "baseline_chisq_scaled": cb_s,
        "baseline_scaling_factor": 1.0 / st["ab"],
        "cfi": cfi(chisq, cb), "tli": tli(chisq, cb), "cfi_scaled": cfi(chisq_s, cb_s), "tli_scaled": tli(chisq_s, cb_s),
        "rmsea": rmsea(chisq), "rmsea_ci_low": _rmsea_ci(chisq, df, n_test, 1)[0],
        "rmsea_ci_high": _rmsea_ci(chisq, df, n_test, 1)[1], "rmsea_scaled": rmsea(chisq_s),
        # SRMR on the correlation residuals; the unit diagonal counts in the denominator (lavaan)
        "srmr": float(np.sqrt((resid @ resid) / (spec.p * (spec.p + 1) / 2))),
    }
    r2 = pd.DataFrame([{"group": "1", "variable": v, "r2": 1.0 - resid_var[i]} for i, v in enumerate(spec.ov)])
    names = [f"{r.lhs}{r.op}{r.rhs}" for r in sorted({r.free: r for r in spec.rows if r.free}.values(), key=lambda r: r.free)]
    return CFAResult(
        model=model_text,
        parameters=pd.DataFrame(recs),
        fit=fit_d,
        implied_cov=[pd.DataFrame(sigma, index=spec.ov, columns=spec.ov)],
        implied_mean=[pd.Series(np.zeros(spec.p), index=spec.ov)],
        r2=r2,
        vcov=pd.DataFrame(vc[n_th:, n_th:], index=names, columns=names),
        n_obs=[n],
        n_dropped=n_dropped,
        groups=["1"],
        likelihood="none",
        std_lv=std_lv,
        converged=bool(fit["converged"]),
        iterations=int(fit["iterations"]),
        warnings=tuple(issued),
        extra={"N": n, "estimator": "WLSMV", "missing": "listwise", "polychoric": pc},
        _state=None,
    )


def _n_for_tests(fitted: _Fitted) -> float:
    n = sum(m.n for m in fitted.moments)
    return n if fitted.likelihood == "normal" else n - len(fitted.moments)


def _fit_measures(fitted: _Fitted, ev, override: dict[str, float] | None = None) -> dict[str, float]:
    """lavaan's fitMeasures.  ``override`` supplies chisq, baseline_chisq, loglik and
    unrestricted_loglik computed elsewhere (FIML)."""
    spec = fitted.spec
    p = spec.p
    G = spec.n_groups
    N = sum(m.n for m in fitted.moments)
    n_test = _n_for_tests(fitted)
    npar = spec.n_free
    n_mom = G * (p * (p + 1) // 2 + (p if spec.meanstructure else 0))
    df = n_mom - npar
    chisq = n_test * ev.F
    # independence baseline (diagonal Sigma, saturated means), closed form
    Fb = sum(m.n / N * (float(np.log(np.diag(m.cov)).sum()) - m.logdet) for m in fitted.moments)
    chisq_b = n_test * Fb
    df_b = G * p * (p - 1) // 2
    logl = 0.0
    logl_h1 = 0.0
    for m, e in zip(fitted.moments, ev.per_group):
        S = m.cov  # lavaan uses the likelihood's S (divisor n or n - 1) here
        _, ld_s = np.linalg.slogdet(S)
        sinv = e["sinv"]
        d = (m.mean - e["mu"]) if spec.meanstructure else np.zeros(p)
        _, ld = np.linalg.slogdet(e["sigma"])
        logl += -m.n / 2 * (p * np.log(2 * np.pi) + ld + float(np.sum(S * sinv)) + float(d @ sinv @ d))
        logl_h1 += -m.n / 2 * (p * np.log(2 * np.pi) + ld_s + p)
    if override is not None:
        chisq, chisq_b = override["chisq"], override["baseline_chisq"]
        logl, logl_h1 = override["loglik"], override["unrestricted_loglik"]
    pvalue = chi2_sf(chisq, df) if df > 0 else np.nan
    cfi_den = max(chisq - df, chisq_b - df_b, 0.0)
    cfi = 1.0 - max(chisq - df, 0.0) / cfi_den if cfi_den > 0 else 1.0
    tli = ((chisq_b / df_b) - (chisq / df)) / ((chisq_b / df_b) - 1.0) if df > 0 else 1.0
    nfi = (chisq_b - chisq) / chisq_b
    # RMSEA with G-group correction (Steiger 1998) and its 90% interval, as lavaan
    rmsea = float(np.sqrt(max(chisq / n_test / df - 1.0 / n_test, 0.0)) * np.sqrt(G)) if df > 0 else 0.0
    lo, hi = _rmsea_ci(chisq, df, n_test, G)
    p_close = 1.0 - ncx2_cdf(chisq, df, n_test * df * 0.05**2 / G) if df > 0 else np.nan
    srmr = _srmr(fitted, ev)
    return {
        "npar": float(npar), "fmin": ev.F / 2, "chisq": chisq, "df": float(df), "pvalue": pvalue,
        "baseline_chisq": chisq_b, "baseline_df": float(df_b), "baseline_pvalue": chi2_sf(chisq_b, df_b),
        "cfi": cfi, "tli": tli, "nfi": nfi,
        "rmsea": rmsea, "rmsea_ci_low": lo, "rmsea_ci_high": hi, "rmsea_pvalue": p_close,
        "srmr": srmr,
        "aic": -2 * logl + 2 * npar, "bic": -2 * logl + npar * np.log(N),
        "sabic": -2 * logl + npar * np.log((N + 2) / 24), "loglik": logl, "unrestricted_loglik": logl_h1,
    }


def _rmsea_ci(chisq: float, df: float, n: float, G: int, level: float = 0.90) -> tuple[float, float]:
    # invert the noncentral chi-square cdf in its noncentrality (lavaan lav_fit_rmsea_ci)
    if df < 1:
        return 0.0, 0.0
    upper_p, lower_p = 1 - (1 - level) / 2, (1 - level) / 2

    def cdf(lam: float) -> float:
        return ncx2_cdf(chisq, df, lam)

    if cdf(0.0) < upper_p:
        lo = 0.0
    else:
        lam = bisect_root(lambda v: cdf(v) - upper_p, 0.0, chisq)
        lo = float(np.sqrt(lam / (n * df)) * np.sqrt(G))
    top = max(n, 4 * chisq)
    if cdf(top) - lower_p > 0 or cdf(0.0) < lower_p:
        hi = 0.0
    else:
        lam = bisect_root(lambda v: cdf(v) - lower_p, 0.0, top)
        hi = float(np.sqrt(lam / (n * df)) * np.sqrt(G))
    return lo, hi


def _srmr(fitted: _Fitted, ev) -> float:
    """Bentler's SRMR (lavaan "srmr"): residuals standardized by sample SDs, means included
    when the model has a mean structure; groups weighted by n_g / N."""
    N = sum(m.n for m in fitted.moments)
    total = 0.0
    p = fitted.spec.p
    tri = np.tril_indices(p)
    for m, e in zip(fitted.moments, ev.per_group):
        S = m.cov  # lavaan uses the likelihood's S (divisor n or n - 1) here
        sd = np.sqrt(np.diag(S))
        res = (S - e["sigma"]) / np.outer(sd, sd)
        ss = float((res[tri] ** 2).sum())
        k = len(tri[0])
        if fitted.spec.meanstructure:
            ss += float((((m.mean - e["mu"]) / sd) ** 2).sum())
            k += p
        total += m.n / N * np.sqrt(ss / k)
    return float(total)


def _std_factors(spec: ModelSpec, e: dict) -> dict[str, np.ndarray]:
    phi = e["aux"]["Phi"]
    return {"lv_sd": np.sqrt(np.clip(np.diag(phi), 0, None)), "ov_sd": np.sqrt(np.clip(np.diag(e["sigma"]), 0, None)),
            "psi": e["mats"]["P"], "theta": e["mats"]["T"]}


def _standardize(row, est: float, spec: ModelSpec, f: dict[str, np.ndarray]) -> tuple[float, float]:
    """(std_lv, std_all) for one parameter, as lavaan's lav_standardize_lv / _all (cov.std = TRUE)."""
    lv_sd, ov_sd, psi, theta = f["lv_sd"], f["ov_sd"], f["psi"], f["theta"]
    i, j = row.r, row.c
    with np.errstate(divide="ignore", invalid="ignore"):
        if row.mat == "L":
            s_lv = est * lv_sd[j]
            return s_lv, s_lv / ov_sd[i]
        if row.mat == "B":
            s = est * lv_sd[j] / lv_sd[i]
            return s, s
        if row.mat == "T":
            if i == j:
                return est, est / ov_sd[i] ** 2
            return est, est / np.sqrt(theta[i, i] * theta[j, j])
        if row.mat == "P":
            if i == j:
                s = est / lv_sd[i] ** 2
                return s, s
            s = est / np.sqrt(psi[i, i] * psi[j, j])
            return s, s
        if row.mat == "N":
            return est, est / ov_sd[i]
        if row.mat == "A":
            s = est / lv_sd[i]
            return s, s
    raise AssertionError(row.mat)


def _candidates(spec: ModelSpec) -> list:
    """Parameters the modification indices test: cross-loadings, residual covariances, user-fixed values."""
    from ._cfa_model import Row

    out = []
    oi = {v: i for i, v in enumerate(spec.ov)}
    for g in range(spec.n_groups):
        rows = [r for r in spec.rows if r.group == g]
        present = {(r.mat, r.r, r.c) for r in rows}
        for r in rows:
            if r.free == 0 and r.user and not r.auto_marker and r.mat in ("L", "T", "P", "B"):
                out.append(r)
        for li_, f in enumerate(spec.lv):
            for v in spec.ov:
                if ("L", oi[v], li_) not in present:
                    out.append(Row(f, "=~", v, g, "L", oi[v], li_, value=0.0, user=False))
        for a in range(spec.p):
            for b in range(a + 1, spec.p):
                if ("T", b, a) not in present:
                    out.append(Row(spec.ov[a], "~~", spec.ov[b], g, "T", b, a, value=0.0, user=False))
    return out


def _derivative_of(row, e: dict, p: int) -> tuple[np.ndarray, np.ndarray]:
    LA, LPhi, Aal = e["aux"]["LA"], e["aux"]["LPhi"], e["aux"]["Aalpha"]
    dS = np.zeros((p, p))
    dM = np.zeros(p)
    i, j = row.r, row.c
    if row.mat == "L":
        dS[i, :] += LPhi[:, j]
        dS[:, i] += LPhi[:, j]
        dM[i] += Aal[j]
    elif row.mat == "T":
        dS[i, j] += 1.0
        if i != j:
            dS[j, i] += 1.0
    elif row.mat == "P":
        o = np.outer(LA[:, i], LA[:, j])
        dS += o if i == j else o + o.T
    elif row.mat == "B":
        o = np.outer(LA[:, i], LPhi[:, j])
        dS += o + o.T
        dM += LA[:, i] * Aal[j]
    return dS, dM


def _modification_indices(fitted: _Fitted, ev, H: np.ndarray, std: list[dict]) -> pd.DataFrame:
    """Score tests for fixed/absent parameters (lavaan ``modindices``, expected information).

    For candidate c with gradient g_c of F and information Schur complement
    V = H_cc - H_cf H_ff^-1 H_fc:  MI = N g_c^2 / (2 V)  and  EPC = -g_c / V.
    """
    spec = fitted.spec
    N = sum(m.n for m in fitted.moments)
    cols = ["lhs", "op", "rhs", "group", "mi", "epc", "sepc_all"]
    try:
        Hinv = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return pd.DataFrame(columns=cols)
    cands = _candidates(spec)
    out = []
    p = spec.p
    for g in range(spec.n_groups):
        rows = [r for r in cands if r.group == g]
        if not rows:
            continue
        e = ev.per_group[g]
        m = fitted.moments[g]
        w = m.n / N
        dS = np.zeros((len(rows), p, p))
        dM = np.zeros((len(rows), p))
        for k, row in enumerate(rows):
            dS[k], dM[k] = _derivative_of(row, e, p)
        sinv = e["sinv"]
        d = (m.mean - e["mu"]) if spec.meanstructure else np.zeros(p)
        Wm = sinv - sinv @ (m.cov + np.outer(d, d)) @ sinv
        grad = w * (np.einsum("cab,ab->c", dS, Wm) - 2.0 * dM @ (sinv @ d))
        Mc = np.matmul(sinv, dS)
        McT = Mc.transpose(0, 2, 1).reshape(len(rows), -1)
        h_cc = w * np.einsum("ca,ca->c", Mc.reshape(len(rows), -1), McT)
        Mk = np.matmul(sinv, e["dS"]).reshape(spec.n_free, -1)
        h_cf = w * (McT @ Mk.T)
        if spec.meanstructure:
            h_cc += w * 2.0 * np.einsum("ca,ab,cb->c", dM, sinv, dM)
            h_cf += w * 2.0 * dM @ sinv @ e["dM"].T
        V = h_cc - np.einsum("ck,kl,cl->c", h_cf, Hinv, h_cf)
        for k, row in enumerate(rows):
            if V[k] <= 1e-12:
                continue
            epc = -grad[k] / V[k]
            if row.mat in ("P", "T") and row.r == row.c:
                s_all = float(np.sign(epc))  # lavaan standardizes a variance EPC by itself
            else:
                s_all = _standardize(row, epc, spec, std[g])[1]
            out.append({"lhs": row.lhs, "op": row.op, "rhs": row.rhs, "group": spec.group_labels[g],
                        "mi": N * grad[k] ** 2 / (2.0 * V[k]), "epc": epc, "sepc_all": s_all})
    return pd.DataFrame(out, columns=cols)


def _vech_derivs(dS: np.ndarray, dM: np.ndarray, tri: tuple[np.ndarray, np.ndarray], means: bool) -> np.ndarray:
    d = dS[:, tri[0], tri[1]].T
    return np.vstack([dM.T, d]) if means else d


def _residuals(fitted: _Fitted, ev) -> dict[str, list[pd.DataFrame]]:
    """Raw, normalized, standardized and correlation residuals (lavaan ``residuals``).

    standardized: raw / sqrt(diag(Q G Q')/n) with G the normal-theory acov of the
    sample moments (from S), A1 the saturated-model information at the implied Sigma,
    Q = I - Delta (Delta' A1 Delta)^-1 Delta' A1 (lavaan ``lav_residuals_acov``,
    z.type = "standardized", h1.information = "structured").
    """
    spec = fitted.spec
    p = spec.p
    names = spec.ov
    N = sum(m.n for m in fitted.moments)
    out: dict[str, list[pd.DataFrame]] = {"raw": [], "normalized": [], "standardized": [], "correlation": []}
    tri = np.tril_indices(p)
    means = spec.meanstructure
    # joint information over groups (A0), needed for the projection
    A1s, Dels, Gams = [], [], []
    i, j = tri
    for m, e in zip(fitted.moments, ev.per_group):
        S = m.cov
        # normal-theory acov of (ybar, vech S) times n: S and s_ik s_jl + s_il s_jk
        gam = S[np.ix_(i, i)] * S[np.ix_(j, j)] + S[np.ix_(i, j)] * S[np.ix_(j, i)]
        if means:
            gam = linalg_block(S, gam)
        Gams.append(gam)
        # lavaan's default h1 information is "structured": evaluated at the implied Sigma
        sig = e["sigma"]
        gam_model = sig[np.ix_(i, i)] * sig[np.ix_(j, j)] + sig[np.ix_(i, j)] * sig[np.ix_(j, i)]
        if means:
            gam_model = linalg_block(sig, gam_model)
        A1s.append(np.linalg.inv(gam_model))
        Dels.append(_vech_derivs(e["dS"], e["dM"], tri, means))
    A0 = sum(m.n / N * D.T @ A @ D for m, D, A in zip(fitted.moments, Dels, A1s))
    try:
        A0inv = np.linalg.pinv(A0)
    except np.linalg.LinAlgError:
        A0inv = np.full_like(A0, np.nan)
    for g, (m, e) in enumerate(zip(fitted.moments, ev.per_group)):
        S = m.cov
        sig = e["sigma"]
        raw = S - sig
        n = m.n
        norm = raw / np.sqrt((np.outer(np.diag(S), np.diag(S)) + S**2) / n)
        gam = Gams[g]
        D = Dels[g]
        Q = np.eye(D.shape[0]) - (m.n / N) * D @ A0inv @ D.T @ A1s[g]
        acov = Q @ gam @ Q.T / n
        var = np.diag(acov)
        r_vec = raw[tri]
        if means:
            r_vec = np.concatenate([m.mean - e["mu"], r_vec])
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(var > 1e-14 * np.abs(np.diag(gam)).max() / n, r_vec / np.sqrt(np.abs(var)), 0.0)
        z_cov = z[p:] if means else z
        std = np.zeros((p, p))
        std[tri] = z_cov
        std = std + np.tril(std, -1).T
        sd_s, sd_f = np.sqrt(np.diag(S)), np.sqrt(np.diag(sig))
        corr = S / np.outer(sd_s, sd_s) - sig / np.outer(sd_f, sd_f)
        for key, mat in (("raw", raw), ("normalized", norm), ("standardized", std), ("correlation", corr)):
            out[key].append(pd.DataFrame(mat, index=names, columns=names))
    return out


def linalg_block(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] + b.shape[0], a.shape[1] + b.shape[1]))
    out[: a.shape[0], : a.shape[1]] = a
    out[a.shape[0] :, a.shape[1] :] = b
    return out


def _robust_fit_measures(fit: dict[str, float], robust: dict[str, Any], n_test: float, G: int) -> dict[str, float]:
    """Scaled and robust indices as lavaan's fitMeasures for MLR (Brosseau-Liard & Savalei 2014)."""
    c, cb = float(robust["scaling_factor"]), float(robust["baseline_scaling_factor"])
    X2, df, X2b, dfb = fit["chisq"], fit["df"], fit["baseline_chisq"], fit["baseline_df"]
    X2s, X2bs = X2 / c, X2b / cb

    def cfi(x: float, d: float, xb: float, db: float) -> float:
        t1, t2 = max(x - d, 0.0), max(x - d, xb - db, 0.0)
        return 1.0 if t2 == 0 else 1.0 - t1 / t2

    def tli(x: float, d: float, xb: float, db: float) -> float:
        t1, t2 = (x - d) * dfb, (xb - db) * df
        return 1.0 - t1 / t2 if df > 0 and t2 != 0 else 1.0

    def rmsea(x: float, chat: float) -> float:
        return float(np.sqrt(max(x / n_test / df - chat / n_test, 0.0)) * np.sqrt(G)) if df > 0 else 0.0

    return {
        "chisq_scaled": X2s, "df_scaled": df, "pvalue_scaled": chi2_sf(X2s, df), "scaling_factor": c,
        "baseline_chisq_scaled": X2bs, "baseline_scaling_factor": cb,
        "cfi_scaled": cfi(X2s, df, X2bs, dfb), "tli_scaled": tli(X2s, df, X2bs, dfb), "rmsea_scaled": rmsea(X2s, 1.0),
        "cfi_robust": cfi(X2, c * df, X2b, cb * dfb), "tli_robust": tli(X2, c * df, X2b, cb * dfb),
        "rmsea_robust": rmsea(X2, c),
    }


def _result(fitted: _Fitted, model_text: str, n_dropped: int, std_lv: bool, estimator: str = "ML",
            fiml: dict[str, Any] | None = None) -> CFAResult:
    spec = fitted.spec
    # with FIML, fitted.moments hold the EM (h1) moments: standardized solutions, SRMR and
    # residuals are computed against them, as lavaan does
    ev = evaluate(spec, fitted.groups, fitted.moments, fitted.x)
    N = sum(m.n for m in fitted.moments)
    n_test = _n_for_tests(fitted)
    H = ev.info
    assert H is not None
    issued: list[str] = []

    def warn(msg: str, cat: type[Warning]) -> None:
        warnings.warn(msg, cat, stacklevel=3)
        issued.append(msg)

    if not fitted.converged:
        warn(f"the ML optimiser did not converge ({fitted.message}); estimates are not trustworthy", NonConvergenceWarning)
    try:
        # lavaan: vcov = (1/N) * inverse of the unit expected information of logl, which is H/2
        vcov = 2.0 / n_test * np.linalg.inv(H)
        if not np.all(np.isfinite(vcov)) or np.linalg.cond(H) > 1e14:
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        vcov = np.full((spec.n_free, spec.n_free), np.nan)
        warn("the information matrix is singular: the model may not be identified; standard errors are undefined", NonConvergenceWarning)
    if fiml is not None:
        vcov = fiml["vcov"]
    robust = None
    if estimator == "MLR":
        from ._cfa_robust import mlr_statistics, observed_information

        n_mom = spec.n_groups * (spec.p * (spec.p + 1) // 2 + (spec.p if spec.meanstructure else 0))
        robust = mlr_statistics(fitted, ev, observed_information(fitted, ev), n_mom - spec.n_free)
        vcov = np.asarray(robust["vcov"])
    se_free = np.sqrt(np.clip(np.diag(vcov), 0, None))
    std = [_std_factors(spec, e) for e in ev.per_group]
    zq = norm_ppf(0.975)
    recs = []
    for r in spec.rows:
        est = r.value if r.free == 0 else float(fitted.x[r.free - 1])
        se = 0.0 if r.free == 0 else float(se_free[r.free - 1])
        z = est / se if r.free and se > 0 else np.nan
        s_lv, s_all = _standardize(r, est, spec, std[r.group])
        recs.append({
            "lhs": r.lhs, "op": r.op, "rhs": r.rhs, "group": spec.group_labels[r.group], "label": r.label if r.label and not r.label.startswith(".p") else "",
            "free": bool(r.free), "est": est, "se": se, "z": z,
            "p_value": 2 * norm_sf(abs(z)) if np.isfinite(z) else np.nan,
            "ci_low": est - zq * se, "ci_high": est + zq * se, "std_lv": s_lv, "std_all": s_all,
        })
    params = pd.DataFrame(recs)
    # warnings: Heywood cases, non-PD matrices
    for g, e in enumerate(ev.per_group):
        tag = f" in group {spec.group_labels[g]}" if spec.n_groups > 1 else ""
        th = np.diag(e["mats"]["T"])
        neg = [spec.ov[i] for i in np.flatnonzero(th < 0)]
        if neg:
            warn(f"Heywood case{tag}: negative residual variance of {', '.join(neg)}", HeywoodCaseWarning)
        ps = np.diag(e["mats"]["P"])
        negl = [spec.lv[i] for i in np.flatnonzero(ps < 0)]
        if negl:
            warn(f"Heywood case{tag}: negative (residual) variance of latent {', '.join(negl)}", HeywoodCaseWarning)
        for name, mat in (("latent covariance matrix (Psi)", e["mats"]["P"]), ("residual covariance matrix (Theta)", e["mats"]["T"])):
            if mat.size and np.linalg.eigvalsh(mat).min() < -1e-10 and not (neg or negl):
                warn(f"the {name}{tag} is not positive definite", NonPositiveDefiniteWarning)
    big = params[(params["op"] == "=~") & (params["std_all"].abs() > 1)]
    if len(big):
        warn("Heywood case: standardized loading above 1 for " + ", ".join(f"{a}=~{b}" for a, b in zip(big["lhs"], big["rhs"])), HeywoodCaseWarning)

    fit = _fit_measures(fitted, ev, fiml["core"] if fiml is not None else None)
    if robust is not None:
        fit.update(_robust_fit_measures(fit, robust, n_test, spec.n_groups))
    if fiml is not None and "robust" in fiml:
        rob = _robust_fit_measures(fit, fiml["robust"], n_test, spec.n_groups)
        # lavaan's robust CFI/TLI/RMSEA under FIML use a different correction (Zhang & Savalei);
        # they are not reported rather than reported wrongly
        fit.update({k: v for k, v in rob.items() if not k.endswith("_robust")})
        estimator = "MLR"
    r2_rows = []
    for g, e in enumerate(ev.per_group):
        sig = np.diag(e["sigma"])
        th = np.diag(e["mats"]["T"])
        for i, v in enumerate(spec.ov):
            r2_rows.append({"group": spec.group_labels[g], "variable": v, "r2": 1 - th[i] / sig[i]})
        phi = np.diag(e["aux"]["Phi"])
        ps = np.diag(e["mats"]["P"])
        for i, v in enumerate(spec.lv):
            if v in spec.endogenous:
                r2_rows.append({"group": spec.group_labels[g], "variable": v, "r2": 1 - ps[i] / phi[i]})
    names = [f"{r.lhs}{r.op}{r.rhs}" + (f".g{r.group + 1}" if spec.n_groups > 1 else "") for r in sorted({r.free: r for r in spec.rows if r.free}.values(), key=lambda r: r.free)]
    return CFAResult(
        model=model_text,
        parameters=params,
        fit=fit,
        implied_cov=[pd.DataFrame(e["sigma"], index=spec.ov, columns=spec.ov) for e in ev.per_group],
        implied_mean=[pd.Series(e["mu"], index=spec.ov) for e in ev.per_group],
        r2=pd.DataFrame(r2_rows),
        vcov=pd.DataFrame(vcov, index=names, columns=names),
        n_obs=[m.n for m in fitted.moments],
        n_dropped=n_dropped,
        groups=list(spec.group_labels),
        likelihood=fitted.likelihood,
        std_lv=std_lv,
        converged=fitted.converged,
        iterations=fitted.iterations,
        warnings=tuple(issued),
        extra={"N": N, "estimator": estimator, "missing": "fiml" if fiml is not None else "listwise"},
        _state=(fitted, ev, vcov, H, std),
    )


# ----------------------------------------------------------------------------- public API
def cfa(
    data: SurveyData | pd.DataFrame | None = None,
    model: str | None = None,
    *,
    scores: str = "P",
    structure: Structure = "correlated",
    group: str | None = None,
    group_equal: Sequence[str] = (),
    std_lv: bool = False,
    likelihood: Likelihood = "normal",
    estimator: Literal["ML", "MLR", "WLSMV"] = "ML",
    missing: Literal["listwise", "fiml"] = "listwise",
    meanstructure: bool | None = None,
    sample_cov: np.ndarray | pd.DataFrame | Sequence[np.ndarray | pd.DataFrame] | None = None,
    sample_mean: np.ndarray | Sequence[np.ndarray] | None = None,
    n_obs: int | Sequence[int] | None = None,
    nan_policy: Literal["raise", "omit"] = "raise",
) -> CFAResult:
    """Fit a confirmatory factor model by maximum likelihood (lavaan ``cfa`` equivalent).

    Parameters
    ----------
    data : SurveyData or DataFrame, optional
        Raw data.  With ``SurveyData`` and no ``model`` the instrument's model is
        fitted to ``scores``; with a DataFrame any numeric columns named in the
        model are used (no Likert checks).
    model : str, optional
        lavaan model syntax.
    scores : str
        ``"P"``, ``"E"`` or ``"gap"`` for instrument models.
    structure : {"correlated", "one_factor", "second_order"}
        Instrument model (see :func:`instrument_model`).
    group : str, optional
        Grouping column for a multi-group model.
    group_equal : sequence of str
        Equal across groups: any of ``loadings, intercepts, residuals,
        residual.covariances, lv.variances, lv.covariances, means, regressions``.
    std_lv : bool
        Identify by fixing latent variances to 1 instead of first loadings.
    likelihood : {"normal", "wishart"}
        Sample covariance divisor N (lavaan default) or N - 1.
    estimator : {"ML", "MLR", "WLSMV"}
        ``"MLR"``: ML estimates with Huber-White sandwich standard errors and the
        Yuan-Bentler (Mplus) scaled chi-square, with scaled and robust CFI/TLI/RMSEA
        (lavaan ``estimator = "MLR"``); needs raw data.  ``"WLSMV"``: all indicators
        treated as ordinal; DWLS on polychoric correlations with robust standard
        errors and the mean-and-variance adjusted chi-square (lavaan ``ordered =``,
        ``estimator = "WLSMV"``); single group, complete data.
    meanstructure : bool, optional
        Model means; default True for multi-group models, else False.
    sample_cov, sample_mean, n_obs :
        Covariance matrix (unbiased, divisor n - 1, as R's ``cov``) and n instead
        of raw data; lists for several groups.  ``sample_cov`` may be a DataFrame
        whose labels name the variables.
    missing : {"listwise", "fiml"}
        ``"fiml"``: full-information ML over missing-data patterns (lavaan
        ``missing = "fiml"``); every respondent with at least one answer is used, a
        mean structure is added, the test compares with the EM-estimated saturated
        model, and standard errors use the observed information.  Otherwise missing
        values follow ``nan_policy``.
    nan_policy : {"raise", "omit"}
        Missing values in a DataFrame: error, or listwise deletion (counted).

    Returns
    -------
    CFAResult

    Examples
    --------
    >>> from servmodels import read_survey, load_example
    >>> res = cfa(read_survey(load_example()), scores="P")
    >>> res.fit["df"]
    265.0
    >>> res.parameters.query("op == '=~'")["lhs"].unique().tolist()
    ['tangibles', 'reliability', 'responsiveness', 'assurance', 'empathy']
    """
    if likelihood not in ("normal", "wishart"):
        raise ServmodelsError(f"likelihood must be 'normal' or 'wishart', got {likelihood!r}")
    if data is None and sample_cov is None:
        raise ServmodelsError("give raw data or sample_cov with n_obs")
    estimator = estimator.upper()  # type: ignore[assignment]
    if estimator not in ("ML", "MLR", "WLSMV"):
        raise ServmodelsError(f"estimator must be 'ML', 'MLR' or 'WLSMV', got {estimator!r}")
    if estimator == "WLSMV" and (sample_cov is not None or missing == "fiml" or group is not None):
        raise ServmodelsError("estimator='WLSMV' needs raw, complete, single-group data (no sample_cov, fiml or group)")
    if estimator == "MLR" and sample_cov is not None:
        raise ServmodelsError("estimator='MLR' needs raw data (casewise scores), not a covariance matrix")
    if missing not in ("listwise", "fiml"):
        raise ServmodelsError(f"missing must be 'listwise' or 'fiml', got {missing!r}")
    if missing == "fiml" and sample_cov is not None:
        raise ServmodelsError("missing='fiml' needs raw data, not a covariance matrix")
    if model is None:
        if not isinstance(data, SurveyData):
            raise ModelSpecificationError("a model is required unless data is SurveyData (instrument model)")
        model = instrument_model(data.instrument, scores=scores, structure=structure)
    group_equal = tuple(group_equal)
    n_dropped = 0
    if sample_cov is not None:
        covs = list(sample_cov) if isinstance(sample_cov, (list, tuple)) else [sample_cov]
        ns = list(n_obs) if isinstance(n_obs, (list, tuple)) else ([n_obs] if n_obs is not None else [])
        if len(ns) != len(covs) or any(n is None for n in ns):
            raise ServmodelsError("n_obs must give the sample size of every covariance matrix")
        means = list(sample_mean) if isinstance(sample_mean, (list, tuple)) else [sample_mean] * len(covs)
        n_groups = len(covs)
        ms = bool(meanstructure) if meanstructure is not None else n_groups > 1
        spec = build_spec(model, n_groups=n_groups, std_lv=std_lv, meanstructure=ms, group_equal=group_equal)
        moments = []
        for c, mn, n in zip(covs, means, ns):
            if isinstance(c, pd.DataFrame):
                missing = [v for v in spec.ov if v not in c.columns]
                if missing:
                    raise ModelSpecificationError("unknown variable(s) in the model, not in sample_cov: " + ", ".join(missing))
                c = c.loc[spec.ov, spec.ov].to_numpy()
            c = np.asarray(c, float)
            if c.shape != (spec.p, spec.p):
                raise ServmodelsError(f"sample_cov must be {spec.p} x {spec.p} in the order {', '.join(spec.ov)}")
            if ms and mn is None:
                raise ServmodelsError("a mean structure needs sample_mean")
            mean_vec = None if mn is None else np.asarray(mn.loc[spec.ov] if isinstance(mn, pd.Series) else mn, float)
            moments.append(_moments_from_cov(c, mean_vec, int(n), likelihood, names=spec.ov))
        fitted = _fit_spec(spec, moments, likelihood)
        return _result(fitted, model, 0, std_lv)

    frame, n_dropped0, group_source = _frame_from(data, scores)
    n_dropped += n_dropped0
    if group is not None:
        if group not in group_source.columns:
            raise ModelSpecificationError(f"group column {group!r} not found")
        gvals = group_source[group].to_numpy()
        if pd.isna(gvals).any():
            hit = np.flatnonzero(pd.isna(gvals))
            raise ValidationError([Problem("missing_value", group, "missing group values", tuple(int(h) + 1 for h in hit[:5]), int(hit.size))], "<cfa data>")
        labels = list(pd.unique(gvals))
    else:
        gvals = None
        labels = ["1"]
    ms = bool(meanstructure) if meanstructure is not None else group is not None
    if missing == "fiml":
        ms = True
    spec = build_spec(model, n_groups=len(labels), group_labels=[str(v) for v in labels], std_lv=std_lv,
                      meanstructure=ms, group_equal=group_equal)
    if missing == "fiml":
        values, _ = _numeric_block(frame, spec.ov, "omit")
        keep = ~np.isnan(values).all(axis=1)  # a respondent with no answer at all carries no information
        n_dropped += int((~keep).sum())
        sels = [keep if gvals is None else keep & (gvals == lab) for lab in labels]
        fitted, fiml = _fit_fiml(spec, [values[sel] for sel in sels], likelihood, robust=estimator == "MLR")
        return _result(fitted, model, n_dropped, std_lv, "ML", fiml=fiml)
    if estimator == "WLSMV":
        values, keep = _numeric_block(frame, spec.ov, nan_policy)
        return _fit_wlsmv(spec, values[keep], model, n_dropped + int((~keep).sum()), std_lv)
    values, keep = _numeric_block(frame, spec.ov, nan_policy)
    n_dropped += int((~keep).sum())
    moments = []
    for lab in labels:
        sel = keep if gvals is None else keep & (gvals == lab)
        moments.append(_moments(values[sel], likelihood))
    fitted = _fit_spec(spec, moments, likelihood)
    return _result(fitted, model, n_dropped, std_lv, estimator)


@dataclass(frozen=True)
class InvarianceResult:
    """Configural/metric/scalar/strict invariance fits and their comparisons (frozen).

    ``table`` has one row per model: ``model, chisq, df, pvalue, cfi, tli, rmsea,
    srmr, aic, bic, chisq_diff, df_diff, p_diff, delta_cfi, delta_rmsea`` (each
    compared with the previous, less constrained model).
    """

    table: pd.DataFrame
    fits: dict[str, CFAResult]

    def to_dict(self) -> list[dict[str, Any]]:
        return jsonable(self.table)

    def summary(self, digits: int = 3) -> str:
        return "Measurement invariance\n" + text_table(self.table, digits)


_LEVELS = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}


def _compare(table: list[dict[str, Any]]) -> pd.DataFrame:
    out = pd.DataFrame(table)
    for col in ("chisq_diff", "df_diff", "p_diff", "delta_cfi", "delta_rmsea"):
        out[col] = np.nan
    for k in range(1, len(out)):
        dchi = out.loc[k, "chisq"] - out.loc[k - 1, "chisq"]
        ddf = out.loc[k, "df"] - out.loc[k - 1, "df"]
        out.loc[k, ["chisq_diff", "df_diff"]] = [dchi, ddf]
        out.loc[k, "p_diff"] = chi2_sf(dchi, ddf) if ddf > 0 else np.nan
        out.loc[k, "delta_cfi"] = out.loc[k, "cfi"] - out.loc[k - 1, "cfi"]
        out.loc[k, "delta_rmsea"] = out.loc[k, "rmsea"] - out.loc[k - 1, "rmsea"]
    return out


def measurement_invariance(
    data: SurveyData | pd.DataFrame,
    model: str | None = None,
    *,
    group: str,
    scores: str = "P",
    levels: Sequence[str] = ("configural", "metric", "scalar", "strict"),
    std_lv: bool = False,
    likelihood: Likelihood = "normal",
    nan_policy: Literal["raise", "omit"] = "raise",
) -> InvarianceResult:
    """Configural, metric, scalar and strict invariance across ``group`` in one call.

    Equivalent to lavaan's ``cfa(..., group=, group.equal=)`` with
    ``c()``, ``"loadings"``, ``c("loadings","intercepts")`` and
    ``c("loadings","intercepts","residuals")``, compared by chi-square difference
    tests (``anova``) and changes in CFI and RMSEA (Chen 2007: ΔCFI ≤ -0.01 flags
    non-invariance).
    """
    bad = [lv for lv in levels if lv not in _LEVELS]
    if bad:
        raise ServmodelsError(f"unknown invariance level(s) {bad}; choose from {', '.join(_LEVELS)}")
    fits = {}
    table = []
    for lv in levels:
        res = cfa(data, model, scores=scores, group=group, group_equal=_LEVELS[lv], std_lv=std_lv,
                  likelihood=likelihood, meanstructure=True, nan_policy=nan_policy)
        fits[lv] = res
        f = res.fit
        table.append({"model": lv, **{k: f[k] for k in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic")}})
    return InvarianceResult(table=_compare(table), fits=fits)


def ep_structure_test(data: SurveyData, *, likelihood: Likelihood = "normal") -> InvarianceResult:
    """Do expectation and perception items measure the same structure?

    Fits E and P dimension factors jointly (same respondents, two score sets) with
    correlated uniquenesses between matching E and P items, first with free
    loadings, then with each item's loading equal across E and P, and compares the
    two (chi-square difference, ΔCFI, ΔRMSEA) — the longitudinal-invariance design
    applied to the two columns of SERVQUAL.
    """
    data.require("E", "P")
    inst = data.instrument
    frame = pd.DataFrame(
        np.hstack([data.responses["E"], data.responses["P"]]).astype(float),
        columns=list(inst.columns("E")) + list(inst.columns("P")),
    )
    free_lines, equal_lines = [], []
    for d, items in inst.dimensions.items():
        for s in ("E", "P"):
            cols = [inst.column(s, i) for i in items]
            free_lines.append(f"{d}_{s} =~ " + " + ".join(cols))
            equal_lines.append(f"{d}_{s} =~ " + " + ".join(f"l{i}*{c}" for i, c in zip(items, cols)))
    cu = [f"{inst.column('E', i)} ~~ {inst.column('P', i)}" for i in inst.items]
    m_free = "\n".join(free_lines + cu)
    m_equal = "\n".join(equal_lines + cu)
    fits = {
        "free_loadings": cfa(frame, m_free, likelihood=likelihood),
        "equal_loadings": cfa(frame, m_equal, likelihood=likelihood),
    }
    table = [{"model": k, **{c: v.fit[c] for c in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic")}} for k, v in fits.items()]
    return InvarianceResult(table=_compare(table), fits=fits)

