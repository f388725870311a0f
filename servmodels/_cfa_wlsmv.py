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

import numpy as np

from ._cfa_model import Matrices, ModelSpec
from ._exceptions import ServmodelsError
from .polychoric import PolychoricResult


def prepare_spec(spec: ModelSpec) -> ModelSpec:
    """Residual variances of the latent responses become derived (not free)."""
    if spec.n_groups != 1:
        raise ServmodelsError("estimator='WLSMV' supports single-group models only (for now)")
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
    for it in range(1, max_iter + 1):
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
