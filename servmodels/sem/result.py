"""The one result type of every factor-model fit, built the same way for every estimator."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .._distributions import norm_ppf, norm_sf
from .._exceptions import (
    ConvergenceError,
    HeywoodCaseWarning,
    NonConvergenceWarning,
    NonPositiveDefiniteWarning,
    ParameterError,
)
from .._results import Result, jsonable, text_table
from .estimator import Fit
from .fit_measures import fit_measures
from .options import SEMOptions
from .standardize import standardize, std_factors

__all__ = ["CFAResult", "build_result", "PARAMETER_COLUMNS"]

PARAMETER_COLUMNS = ["lhs", "op", "rhs", "group", "label", "free", "estimate", "se", "z", "p_value", "ci_low",
                     "ci_high", "std_lv", "std_all"]


@dataclass(frozen=True)
class CFAResult(Result):
    """A fitted confirmatory factor model (frozen).

    Attributes
    ----------
    model : str
        The lavaan syntax that was fitted.
    parameters : DataFrame
        One row per parameter: ``lhs, op, rhs, group, label, free, estimate, se, z,
        p_value, ci_low, ci_high, std_lv, std_all`` (lavaan's
        ``parameterEstimates(standardized = TRUE)``; the interval has
        ``options.confidence_level``).
    fit : dict
        Fit measures (see :func:`servmodels.sem.fit_measures`).
    implied_cov, implied_mean : list of DataFrame / Series (one per group)
    sample_cov : list of DataFrame
        The h1 covariance matrices the model was fitted to (sample, EM or polychoric).
    r2 : DataFrame
        R² of indicators and of endogenous latents per group.
    vcov : DataFrame
        Covariance matrix of the free parameters.
    n_obs : list of int
        Respondents per group; ``n_respondents`` is their sum.
    n_dropped, dropped_rows :
        Respondents left out (listwise deletion, or no answer at all with FIML) and
        their 1-based row numbers in the input.
    options : SEMOptions
        Estimator, missing-data method and the other options used.
    converged : bool
    iterations : int
    warnings : tuple of str
    """

    model: str
    parameters: pd.DataFrame
    fit: dict[str, float]
    implied_cov: list[pd.DataFrame]
    implied_mean: list[pd.Series]
    sample_cov: list[pd.DataFrame]
    r2: pd.DataFrame
    vcov: pd.DataFrame
    n_obs: list[int]
    n_dropped: int
    groups: list[str]
    options: SEMOptions
    converged: bool
    iterations: int
    dropped_rows: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    _diagnostics: Any = field(default=None, repr=False, compare=False)

    # lavaan-style aliases kept for code written against the first releases
    @property
    def likelihood(self) -> str:
        return self.options.likelihood if self.options.estimator != "WLSMV" else "none"

    @property
    def std_lv(self) -> bool:
        return self.options.std_lv

    @property
    def estimator(self) -> str:
        return self.options.estimator

    @property
    def n_respondents(self) -> int:
        return int(sum(self.n_obs))

    @property
    def n_clusters(self) -> int | None:
        """Clusters used (``cluster=``; summed over groups), else None."""
        per_group = self.extra.get("n_clusters")
        return int(sum(per_group)) if per_group else None

    # Residuals and modification indices are computed on first access (as lavaan does),
    # so a plain fit does not pay for hundreds of score tests.
    @cached_property
    def residuals(self) -> dict[str, list[pd.DataFrame]]:
        """``raw``, ``normalized``, ``standardized`` and ``correlation`` residual matrices per group."""
        from .residuals import residuals

        fitted, ev, _ = self._require_diagnostics("residuals")
        return residuals(fitted, ev)

    @cached_property
    def modification_indices(self) -> pd.DataFrame:
        """``lhs, op, rhs, group, mi, epc, sepc_all`` for fixed or absent parameters."""
        from .modification import modification_indices

        fitted, ev, H = self._require_diagnostics("modification indices")
        std = [std_factors(fitted.spec, e) for e in ev.per_group]
        return modification_indices(fitted, ev, H, std)

    def _require_diagnostics(self, what: str) -> Any:
        if self._diagnostics is None:
            raise ParameterError(f"{what} are not implemented for {self.options.label} yet "
                                 "(available for ML and MLR with complete data or missing='fiml', and for WLSMV)")
        return self._diagnostics

    def to_frame(self) -> pd.DataFrame:
        """The parameter table."""
        return self.parameters.copy()

    def to_dict(self) -> dict[str, Any]:
        params = self.parameters[PARAMETER_COLUMNS]
        if len(self.groups) == 1:
            params = params.drop(columns="group")
        return jsonable({
            "model": self.model,
            "n_respondents": self.n_respondents,
            "n_dropped": self.n_dropped,
            "dropped_rows": list(self.dropped_rows),
            "n_obs": self.n_obs,
            "groups": self.groups if len(self.groups) > 1 else None,
            "likelihood": self.likelihood,
            "estimator": self.options.estimator,
            "missing": self.options.missing,
            "options": self.options.to_dict(),
            **({"cluster": self.options.cluster, "n_clusters": self.n_clusters} if self.n_clusters else {}),
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
            f"CFA ({self.options.label}) — n = {self.n_respondents} used, {self.n_dropped} dropped"
            + (f"; groups: {', '.join(self.groups)}" if len(self.groups) > 1 else "")
            + (f"; {self.n_clusters} clusters ({self.options.cluster}), cluster-robust SEs" if self.n_clusters else ""),
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
        if "cfi_robust" in f:
            lines.append(f"robust CFI = {f['cfi_robust']:.3f}, TLI = {f['tli_robust']:.3f}, RMSEA = {f['rmsea_robust']:.3f}")
        if "loglik" in f:
            lines.append(f"AIC = {f['aic']:.2f}, BIC = {f['bic']:.2f}, log-likelihood = {f['loglik']:.3f}, parameters = {f['npar']:.0f}")
        lines += [
            "",
            text_table(self.parameters[["lhs", "op", "rhs", "group", "estimate", "se", "z", "p_value", "std_all"]], digits),
        ]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)


def _warn(issued: list[str], msg: str, cat: type[Warning]) -> None:
    warnings.warn(msg, cat, stacklevel=4)
    issued.append(msg)


def build_result(fit: Fit, *, model: str, options: SEMOptions, n_dropped: int = 0,
                 dropped_rows: tuple[int, ...] = ()) -> CFAResult:
    """Parameter table, fit measures, R², warnings: the same for every estimator."""
    spec = fit.spec
    issued: list[str] = []
    what = f"the optimiser ({options.label})"
    if not fit.converged:
        reason = "" if fit.message.startswith("no convergence") else f" ({fit.message})"
        msg = f"{what} did not converge after {fit.iterations} iterations{reason}; estimates are not trustworthy"
        if options.strict:
            raise ConvergenceError(msg)
        _warn(issued, msg, NonConvergenceWarning)
    if not fit.vcov_ok:
        msg = "the information matrix is singular: the model may not be identified; standard errors are undefined"
        if options.strict:
            raise ConvergenceError(msg)
        _warn(issued, msg, NonConvergenceWarning)
    se_free = np.sqrt(np.clip(np.diag(fit.vcov), 0, None))
    std = [std_factors(spec, e) for e in fit.per_group]
    zq = norm_ppf(0.5 + options.confidence_level / 2)
    recs = []
    for r in spec.rows:
        if options.estimator == "WLSMV" and r.mat in ("N", "A") and r.free == 0:
            continue  # ordinal items: intercepts 0, and factor means 0 unless free in groups 2.. (equal thresholds)
        est = r.value if r.free == 0 else float(fit.x[r.free - 1])
        se = 0.0 if r.free == 0 else float(se_free[r.free - 1])
        recs.append({
            "lhs": r.lhs, "op": r.op, "rhs": r.rhs, "group": spec.group_labels[r.group],
            "label": r.label if r.label and not r.label.startswith(".p") else "",
            "free": bool(r.free), "estimate": est, "se": se, **dict(zip(("std_lv", "std_all"), standardize(r, est, spec, std[r.group]))),
        })
    for extra in fit.extra_rows:
        recs.append({"group": spec.group_labels[0], "label": "", "free": True, **extra})
    params = pd.DataFrame(recs)
    free = params["free"].to_numpy(bool) & (params["se"].to_numpy() > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(free, params["estimate"] / params["se"], np.nan)
    params["z"] = z
    params["p_value"] = [2 * norm_sf(abs(v)) if np.isfinite(v) else np.nan for v in z]
    params["ci_low"] = params["estimate"] - zq * params["se"]
    params["ci_high"] = params["estimate"] + zq * params["se"]
    params = params[PARAMETER_COLUMNS]
    _heywood(fit, params, issued)

    fm = fit_measures(fit.test, npar=fit.npar, srmr=fit.srmr, n_total=sum(m.n for m in fit.moments), fmin=fit.fmin,
                      loglik=fit.loglik, unrestricted_loglik=fit.unrestricted_loglik)
    r2_rows = []
    for g, e in enumerate(fit.per_group):
        sig = np.diag(e["sigma"])
        th = np.diag(e["mats"]["T"])
        for i, v in enumerate(spec.ov):
            r2_rows.append({"group": spec.group_labels[g], "variable": v, "r2": 1 - th[i] / sig[i]})
        phi = np.diag(e["aux"]["Phi"])
        ps = np.diag(e["mats"]["P"])
        for i, v in enumerate(spec.lv):
            if v in spec.endogenous:
                r2_rows.append({"group": spec.group_labels[g], "variable": v, "r2": 1 - ps[i] / phi[i]})
    multi = spec.n_groups > 1
    names = [f"{r.lhs}{r.op}{r.rhs}" + (f".g{r.group + 1}" if multi else "")
             for r in sorted({r.free: r for r in spec.rows if r.free}.values(), key=lambda r: r.free)]
    means = [e["mu"] if spec.meanstructure else np.zeros(spec.p) for e in fit.per_group]
    return CFAResult(
        model=model,
        parameters=params,
        fit=fm,
        implied_cov=[pd.DataFrame(e["sigma"], index=spec.ov, columns=spec.ov) for e in fit.per_group],
        implied_mean=[pd.Series(m, index=spec.ov) for m in means],
        sample_cov=[pd.DataFrame(m.cov, index=spec.ov, columns=spec.ov) for m in fit.moments],
        r2=pd.DataFrame(r2_rows),
        vcov=pd.DataFrame(fit.vcov, index=names, columns=names),
        n_obs=[m.n for m in fit.moments],
        n_dropped=int(n_dropped),
        dropped_rows=tuple(int(r) for r in dropped_rows),
        groups=list(spec.group_labels),
        options=options,
        converged=fit.converged,
        iterations=fit.iterations,
        warnings=tuple(issued),
        extra={"N": sum(m.n for m in fit.moments), "estimator": options.estimator, "missing": options.missing,
               "x": fit.x, **fit.notes},
        _diagnostics=fit.diagnostics,
    )


def _heywood(fit: Fit, params: pd.DataFrame, issued: list[str]) -> None:
    """Heywood cases and non-positive-definite latent/residual matrices (lavaan's post-fit checks)."""
    spec = fit.spec
    for g, e in enumerate(fit.per_group):
        tag = f" in group {spec.group_labels[g]}" if spec.n_groups > 1 else ""
        th = np.diag(e["mats"]["T"])
        neg = [spec.ov[i] for i in np.flatnonzero(th < 0)]
        if neg:
            _warn(issued, f"Heywood case{tag}: negative residual variance of {', '.join(neg)}", HeywoodCaseWarning)
        ps = np.diag(e["mats"]["P"])
        negl = [spec.lv[i] for i in np.flatnonzero(ps < 0)]
        if negl:
            _warn(issued, f"Heywood case{tag}: negative (residual) variance of latent {', '.join(negl)}", HeywoodCaseWarning)
        for name, mat in (("latent covariance matrix (Psi)", e["mats"]["P"]), ("residual covariance matrix (Theta)", e["mats"]["T"])):
            if mat.size and np.all(np.isfinite(mat)) and np.linalg.eigvalsh(mat).min() < -1e-10 and not (neg or negl):
                _warn(issued, f"the {name}{tag} is not positive definite", NonPositiveDefiniteWarning)
    big = params[(params["op"] == "=~") & (params["std_all"].abs() > 1)]
    if len(big):
        _warn(issued, "Heywood case: standardized loading above 1 for " + ", ".join(f"{a}=~{b}" for a, b in zip(big["lhs"], big["rhs"])),
              HeywoodCaseWarning)
