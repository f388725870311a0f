"""Normal-theory maximum likelihood for factor models: objective, gradient,
expected information, Fisher scoring, fit statistics (lavaan conventions).

F_ML per group (Joreskog 1969; lavaan's fmin is F/2):
    F_g = log|Sigma| + tr(S Sigma^-1) - log|S| - p + (ybar - mu)' Sigma^-1 (ybar - mu)
and F = sum_g (n_g / N) F_g; the test statistic is chi2 = N F (likelihood "normal",
S with divisor n_g) or (N - G) F (likelihood "wishart", S with divisor n_g - 1).
The gradient is tr(W dSigma_k) - 2 (ybar - mu)' Sigma^-1 dmu_k with
W = Sigma^-1 - Sigma^-1 (S + d d') Sigma^-1, and the expected information of F is
H_kl = tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l) + 2 dmu_k' Sigma^-1 dmu_l.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._cfa_model import Matrices, ModelSpec


@dataclass
class GroupMoments:
    cov: np.ndarray  # divisor n (normal) or n - 1 (wishart)
    mean: np.ndarray
    n: int
    logdet: float
    data: np.ndarray | None = None  # raw rows, kept for robust (casewise) statistics


@dataclass
class Evaluation:
    F: float
    grad: np.ndarray | None
    info: np.ndarray | None
    per_group: list[dict]


def _chol_inv(sigma: np.ndarray) -> tuple[np.ndarray, float] | None:
    try:
        c = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return None
    ci = np.linalg.inv(c)
    return ci.T @ ci, 2.0 * float(np.log(np.diag(c)).sum())


def evaluate(spec: ModelSpec, groups: list[Matrices], moments: list[GroupMoments], x: np.ndarray,
             *, grad: bool = True, info: bool = True) -> Evaluation:
    q = spec.n_free
    n_total = sum(m.n for m in moments)
    F = 0.0
    g = np.zeros(q) if grad else None
    H = np.zeros((q, q)) if info else None
    per_group = []
    p = spec.p
    for M, mom in zip(groups, moments):
        mats = M.build(x)
        sigma, mu, aux = M.implied(mats)
        ci = _chol_inv(sigma)
        if ci is None:
            return Evaluation(np.inf, None, None, [])
        sinv, logdet = ci
        d = (mom.mean - mu) if spec.meanstructure else np.zeros(p)
        sd = sinv @ d
        Fg = logdet + float(np.sum(mom.cov * sinv)) - mom.logdet - p + float(d @ sd)
        w = mom.n / n_total
        F += w * Fg
        entry = {"mats": mats, "sigma": sigma, "mu": mu, "aux": aux, "sinv": sinv, "F": Fg}
        if grad or info:
            dS, dM = M.derivatives(mats, aux, q)
            entry["dS"], entry["dM"] = dS, dM
            if grad:
                Wm = sinv - sinv @ (mom.cov + np.outer(d, d)) @ sinv
                g += w * (np.einsum("kab,ab->k", dS, Wm) - 2.0 * dM @ sd)
            if info:
                Mk = np.matmul(sinv, dS)  # Sigma^-1 dSigma_k
                flat = Mk.reshape(q, -1)
                flatT = Mk.transpose(0, 2, 1).reshape(q, -1)
                Hg = flat @ flatT.T
                if spec.meanstructure:
                    Hg += 2.0 * dM @ sinv @ dM.T
                H += w * Hg
        per_group.append(entry)
    return Evaluation(F, g, H, per_group)


def _observed_hessian(spec: ModelSpec, groups: list[Matrices], moments: list[GroupMoments], ev: Evaluation) -> np.ndarray | None:
    """Hessian of F for Lambda Psi Lambda' + Theta (+ means); None for models with B.

    d2F/dk dl = tr(W Sigma_kl) - tr(M_l M_k) + 2 tr(M_l Sigma^-1 S M_k), M_k = Sigma^-1 Sigma_k,
    W = Sigma^-1 - Sigma^-1 S Sigma^-1; Sigma_kl is non-zero only for (loading, loading)
    and (loading, Psi) pairs.  Mean terms that vanish with the mean residual are left
    out, so with a mean structure the Newton steps are near-exact close to the optimum.
    """
    if any(r.mat == "B" and r.free for r in spec.rows):
        return None  # second-order terms through B are not implemented: keep scoring
    q = spec.n_free
    n_total = sum(m.n for m in moments)
    H = np.zeros((q, q))
    for M, mom, e in zip(groups, moments, ev.per_group):
        sinv, dS = e["sinv"], e["dS"]
        w = mom.n / n_total
        Mk = np.matmul(sinv, dS)
        SS = sinv @ mom.cov
        Qk = np.matmul(SS, Mk)
        flatT = Mk.transpose(0, 2, 1).reshape(q, -1)
        Hg = -(Mk.reshape(q, -1) @ flatT.T) + 2.0 * (Qk.reshape(q, -1) @ flatT.T)
        if spec.meanstructure:
            Hg += 2.0 * e["dM"] @ sinv @ e["dM"].T
        W = sinv - sinv @ mom.cov @ sinv
        psi = e["mats"]["P"]
        WL = W @ e["mats"]["L"]
        loads = [r for r in M.rows if r.free and r.mat == "L"]
        psis = [r for r in M.rows if r.free and r.mat == "P"]
        if loads:
            fi = np.array([r.free - 1 for r in loads])
            ri = np.array([r.r for r in loads])
            ci = np.array([r.c for r in loads])
            # d2 Sigma / d lambda_ij d lambda_kl = psi_jl (e_i e_k' + e_k e_i')  ->  2 psi_jl W_ik
            np.add.at(Hg, (fi[:, None], fi[None, :]), 2.0 * psi[np.ix_(ci, ci)] * W[np.ix_(ri, ri)])
            if psis:
                fp = np.array([r.free - 1 for r in psis])
                pr = np.array([r.r for r in psis])
                pc = np.array([r.c for r in psis])
                # d2 Sigma / d lambda_ij d psi_ab = e_i u' + u e_i', u = L_a [j = b] + L_b [j = a, a != b]
                val = 2.0 * (WL[np.ix_(ri, pc)] * (ci[:, None] == pr[None, :])
                             + WL[np.ix_(ri, pr)] * ((ci[:, None] == pc[None, :]) & (pr != pc)[None, :]))
                np.add.at(Hg, (fi[:, None], fp[None, :]), val)
                np.add.at(Hg, (fp[:, None], fi[None, :]), val.T)
        H += w * Hg
    return H


def _solve(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """H^-1 g; a least-squares solution when H is singular (unidentified directions)."""
    try:
        step = np.linalg.solve(H, g)
        if np.all(np.isfinite(step)):
            return step
    except np.linalg.LinAlgError:
        pass
    return np.linalg.lstsq(H, g, rcond=None)[0]


def fisher_scoring(spec: ModelSpec, groups: list[Matrices], moments: list[GroupMoments], x0: np.ndarray,
                   *, max_iter: int = 500, tol: float = 1e-12, evaluator=None) -> tuple[np.ndarray, int, bool, str]:
    """Minimise F: Fisher scoring, then Newton steps on the exact Hessian near the optimum.

    Scoring (expected information) is robust far from the solution but converges only
    linearly when the model misfits; the exact Hessian (when available and positive
    definite) gives quadratic convergence, so the optimum is reached to machine precision.
    """
    if evaluator is None:
        def evaluator(z: np.ndarray, grad: bool = True, info: bool = True) -> Evaluation:
            return evaluate(spec, groups, moments, z, grad=grad, info=info)
        newton = True
    else:
        newton = False  # the exact Hessian below is for complete data only
    x = x0.copy()
    ev = evaluator(x)
    if not np.isfinite(ev.F):
        return x, 0, False, "starting values give a non-positive-definite implied covariance matrix"
    for it in range(1, max_iter + 1):
        assert ev.grad is not None and ev.info is not None
        gmax = float(np.max(np.abs(ev.grad)))
        if gmax < 1e-13:
            return x, it - 1, True, "converged"
        H = ev.info
        if newton and gmax < 1e-3:
            Hobs = _observed_hessian(spec, groups, moments, ev)
            if Hobs is not None and np.all(np.isfinite(Hobs)):
                eig = np.linalg.eigvalsh(Hobs)
                if eig.min() > 1e-10 * eig.max():
                    H = Hobs
        step = _solve(H, ev.grad)
        t = 1.0
        while True:
            xn = x - t * step
            evn = evaluator(xn)
            if np.isfinite(evn.F):
                flat = abs(evn.F - ev.F) <= 1e-13 * max(1.0, abs(ev.F))
                assert evn.grad is not None
                if evn.F < ev.F or (flat and float(np.max(np.abs(evn.grad))) < gmax):
                    break
            t /= 2.0
            if t < 1e-10:
                ok = gmax < 1e-8
                return x, it, ok, "converged" if ok else "line search failed"
        dx = float(np.max(np.abs(xn - x) / np.maximum(1.0, np.abs(x))))
        x, ev = xn, evn
        if dx < tol:
            return x, it, True, "converged"
    return x, max_iter, False, f"no convergence after {max_iter} iterations"
