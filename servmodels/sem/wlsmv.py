"""Ordinal CFA by diagonally weighted least squares with the mean-and-variance adjusted
test (lavaan estimator = "WLSMV", parameterization = "delta").

Sample statistics s = (thresholds, polychoric correlations) with asymptotic covariance
Gamma (N x acov, from ``polychoric``); W = diag(Gamma)^-1.  The latent-response
correlation matrix is Sigma* = Lambda Phi Lambda' + Theta with unit diagonal (residual
variances are 1 - diag(Lambda Phi Lambda'), not parameters), thresholds are free, so
F = sum_r w_r (r - rho_r(theta))^2 is minimised by Gauss-Newton.
Robust covariance: (D'WD)^-1 D'W Gamma W D (D'WD)^-1 / (N - 1); chi2 = (N - 1) F, as lavaan.  Test: U = W - WD(D'WD)^-1D'W,
a = sqrt(df / tr((U Gamma)^2)), b = df - a tr(U Gamma), chi2_scaled = a chi2 + b
(Asparouhov & Muthen 2010, "scaled and shifted"; lavaan scaled.shifted).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._exceptions import ParameterError
from ..polychoric import PolychoricResult
from .estimator import Estimator, SampleData, register
from .fit_measures import TestStatistic
from .ml import Evaluation, GroupMoments, plain_per_group
from .specification import Matrices, ModelSpec


def prepare_spec(spec: ModelSpec) -> ModelSpec:
    """Residual variances of the latent responses become derived (not free)."""
    if spec.n_groups != 1:
        raise ParameterError("estimator='WLSMV' supports single-group models only (for now)")
    index: dict[int, int] = {}
    for r in spec.rows:
        if r.mat == "T" and r.r == r.c:
            r.free = 0
            r.value = 0.0  # placeholder; filled with 1 - diag(Lambda Phi Lambda') after fitting
            r.kind = "delta_residual"
        elif r.mat in ("N", "A"):
            r.free = 0
        elif r.free:
            index.setdefault(r.free, len(index) + 1)
            r.free = index[r.free]
    spec.n_free = len(index)
    return spec


def _implied(M: Matrices, x: np.ndarray, pairs_i: np.ndarray, pairs_j: np.ndarray, q: int):
    mats = M.build(x)
    sigma, _, aux = M.implied(mats)
    dS, _ = M.derivatives(mats, aux, q)
    return sigma[pairs_i, pairs_j], dS[:, pairs_i, pairs_j].T, sigma, mats, aux


def fit_dwls(spec: ModelSpec, pc: PolychoricResult, x0: np.ndarray, *, max_iter: int = 500, tol: float = 1e-12):
    M = Matrices(spec, 0)
    p = spec.p
    pairs = [(i, j) for j in range(p) for i in range(j + 1, p)]
    pi = np.array([i for i, _ in pairs])
    pj = np.array([j for _, j in pairs])
    R = pc.correlation.loc[spec.ov, spec.ov].to_numpy()
    r = R[pi, pj]
    n_th = sum(len(pc.thresholds[v]) for v in spec.ov)
    w = 1.0 / np.diag(pc.nacov)[n_th:]
    x = x0.copy()
    q = spec.n_free
    it = 0
    ok = False
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported after the loop
        rho, J, *_ = _implied(M, x, pi, pj, q)
        resid = r - rho
        F = float(w @ resid**2)
        JW = J.T * w
        step = np.linalg.lstsq(JW @ J, JW @ resid, rcond=None)[0]
        t = 1.0
        while t > 1e-10:
            xn = x + t * step
            rn = _implied(M, xn, pi, pj, q)[0]
            if float(w @ (r - rn) ** 2) <= F * (1 + 1e-15):
                break
            t /= 2
        dx = float(np.max(np.abs(xn - x) / np.maximum(1.0, np.abs(x))))
        x = xn
        if dx < tol:
            ok = True
            break
    rho, J, sigma, mats, aux = _implied(M, x, pi, pj, q)
    return {"x": x, "iterations": it, "converged": ok, "pairs": (pi, pj), "r": r, "rho": rho, "J": J, "w": w,
            "n_th": n_th, "sigma": sigma, "mats": mats, "aux": aux, "M": M}


def dwls_statistics(spec: ModelSpec, pc: PolychoricResult, fit: dict) -> dict:
    # lavaan scales least-squares statistics and standard errors by N - G (here N - 1),
    # like its Wishart likelihood (lav_utils_get_ntotal)
    n = pc.n_obs - 1
    n_th, J, w = fit["n_th"], fit["J"], fit["w"]
    P = len(w)
    q = spec.n_free
    Gamma = pc.nacov  # order: all thresholds (items in spec.ov order), then correlations
    # full Delta over (thresholds, correlations) x (thresholds, model parameters)
    D = np.zeros((n_th + P, n_th + q))
    D[:n_th, :n_th] = np.eye(n_th)
    D[n_th:, n_th:] = J
    Wfull = np.concatenate([1.0 / np.diag(Gamma)[:n_th], w])
    DW = D.T * Wfull
    bread = np.linalg.inv(DW @ D)
    vcov = bread @ (DW @ Gamma @ DW.T) @ bread / n
    chisq = n * float(w @ (fit["r"] - fit["rho"]) ** 2)
    df = P - q
    U = np.diag(Wfull) - DW.T @ bread @ DW
    UG = U @ Gamma
    tr1, tr2 = float(np.trace(UG)), float(np.sum(UG * UG.T))
    a = np.sqrt(df / tr2)
    b = df - a * tr1
    # independence baseline: all correlations zero, thresholds free
    chisq_b = n * float(w @ fit["r"] ** 2)
    Gr = Gamma[n_th:, n_th:]
    UGb = w[:, None] * Gr
    tr1b, tr2b = float(np.trace(UGb)), float(np.sum(UGb * UGb.T))
    ab = np.sqrt(P / tr2b)
    bb = P - ab * tr1b
    return {"vcov_full": vcov, "chisq": chisq, "df": float(df), "a": a, "b": b,
            "chisq_b": chisq_b, "df_b": float(P), "ab": ab, "bb": bb}


@register("WLSMV", "listwise")
class WLSMV(Estimator):
    """DWLS on polychoric correlations, robust SEs, scaled-and-shifted test (lavaan
    ``ordered = TRUE, estimator = "WLSMV"``, delta parameterization)."""

    needs_raw = True
    multigroup = False

    def prepare(self, spec: ModelSpec, sample: SampleData) -> None:
        import pandas as pd

        from ..polychoric import polychoric

        assert sample.blocks is not None
        self.spec = prepare_spec(spec)
        self.pc = polychoric(pd.DataFrame(sample.blocks[0], columns=spec.ov))
        R = self.pc.correlation.loc[spec.ov, spec.ov].to_numpy()
        sign, logdet = np.linalg.slogdet(R)
        self.moments = [GroupMoments(cov=R, mean=np.zeros(spec.p), n=self.pc.n_obs, logdet=float(logdet))]
        self.groups = [Matrices(self.spec, 0)]

    def n_moments(self) -> int:
        p = self.spec.p
        return p * (p - 1) // 2

    def optimize(self, x0: np.ndarray) -> tuple[np.ndarray, int, bool, str]:
        self._fit = fit_dwls(self.spec, self.pc, x0)
        ok = bool(self._fit["converged"])
        return self._fit["x"], int(self._fit["iterations"]), ok, "converged" if ok else "no convergence"

    def model_evaluation(self) -> Evaluation:
        fit = self._fit
        resid_var = 1.0 - (np.diag(fit["sigma"]) - np.diag(fit["mats"]["T"]))
        for r in self.spec.rows:
            if r.kind == "delta_residual":
                r.value = float(resid_var[r.r])
        self._stats = dwls_statistics(self.spec, self.pc, fit)
        F = float(fit["w"] @ (fit["r"] - fit["rho"]) ** 2)
        return Evaluation(F, None, None, plain_per_group(self.groups, self.x))

    def vcov(self, ev: Evaluation) -> tuple[np.ndarray, bool]:
        vc = self._stats["vcov_full"]
        n_th = self._fit["n_th"]
        return vc[n_th:, n_th:], bool(np.all(np.isfinite(vc)))

    def test(self, ev: Evaluation) -> tuple[TestStatistic, dict[str, float | None]]:
        st = self._stats
        t = TestStatistic(chisq=st["chisq"], df=st["df"], baseline_chisq=st["chisq_b"], baseline_df=st["df_b"],
                          n_test=self.pc.n_obs - 1,  # lavaan: N - G for least-squares estimators
                          n_groups=1, kind="scaled_shifted", scaling_factor=1.0 / st["a"], shift=st["b"],
                          baseline_scaling_factor=1.0 / st["ab"], baseline_shift=st["bb"])
        return t, {}

    def srmr(self, ev: Evaluation) -> float:
        # SRMR on the correlation residuals; the unit diagonal counts in the denominator (lavaan)
        resid = self._fit["r"] - self._fit["rho"]
        p = self.spec.p
        return float(np.sqrt((resid @ resid) / (p * (p + 1) / 2)))

    def n_extra(self) -> int:
        return int(self._fit["n_th"])

    def reports_fmin(self) -> bool:
        return False

    def extra_rows(self) -> list[dict[str, Any]]:
        """Thresholds with their robust standard errors."""
        se_th = np.sqrt(np.clip(np.diag(self._stats["vcov_full"])[: self._fit["n_th"]], 0, None))
        out, k = [], 0
        for v in self.spec.ov:
            for t_i, tau in enumerate(self.pc.thresholds[v]):
                out.append({"lhs": v, "op": "|", "rhs": f"t{t_i + 1}", "estimate": float(tau), "se": float(se_th[k]),
                            "std_lv": float(tau), "std_all": float(tau)})
                k += 1
        return out

    def notes(self) -> dict[str, Any]:
        return {"polychoric": self.pc}
