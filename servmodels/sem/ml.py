"""Normal-theory maximum likelihood (estimator "ML"): objective, gradient, expected
information, Fisher scoring with Newton polishing, the test statistic (lavaan conventions).

F_ML per group (Joreskog 1969; lavaan's fmin is F/2):
    F_g = log|Sigma| + tr(S Sigma^-1) - log|S| - p + (ybar - mu)' Sigma^-1 (ybar - mu)
and F = sum_g (n_g / N) F_g; the test statistic is chi2 = N F (likelihood "normal",
S with divisor n_g) or (N - G) F (likelihood "wishart", S with divisor n_g - 1).
The gradient is tr(W dSigma_k) - 2 (ybar - mu)' Sigma^-1 dmu_k with
W = Sigma^-1 - Sigma^-1 (S + d d') Sigma^-1, and the expected information of F is
H_kl = tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l) + 2 dmu_k' Sigma^-1 dmu_l.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .estimator import Estimator, SampleData, register
from .fit_measures import TestStatistic
from .moments import GroupMoments, diagnose_singular, moments_from_cov, sample_moments  # noqa: F401 (re-exported)
from .specification import Matrices, ModelSpec


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
            # dSigma of each free row is a b' + b a' (Matrices.rank_two), so the traces below are
            # products of (p x rows) matrices: tr(W dSigma_r) = 2 b_r' W a_r and
            # tr(S dSigma_r S dSigma_s) = 2 [(a_r'S a_s)(b_r'S b_s) + (a_r'S b_s)(a_s'S b_r)], S = Sigma^-1
            a, b, idx = M.rank_two(aux)
            if grad:
                Wm = sinv - sinv @ (mom.cov + np.outer(d, d)) @ sinv
                g_rows = 2.0 * np.einsum("pr,pr->r", b, Wm @ a)
                g += w * (np.bincount(idx, weights=g_rows, minlength=q) - 2.0 * dM @ sd)
            if info:
                Sa, Sb = sinv @ a, sinv @ b
                ab = a.T @ Sb
                Hr = 2.0 * ((a.T @ Sa) * (b.T @ Sb) + ab * ab.T)
                Hg = _collapse(Hr, idx, q)
                if spec.meanstructure:
                    Hg += 2.0 * dM @ sinv @ dM.T
                H += w * Hg
        per_group.append(entry)
    return Evaluation(F, g, H, per_group)


def _collapse(Hr: np.ndarray, idx: np.ndarray, q: int) -> np.ndarray:
    """Row-level matrix -> free-parameter matrix: rows sharing a parameter (shared labels) are summed."""
    out = np.zeros((q, q))
    if len(np.unique(idx)) == len(idx):
        out[np.ix_(idx, idx)] = Hr
    else:
        P = np.zeros((len(idx), q))
        P[np.arange(len(idx)), idx] = 1.0
        out += P.T @ Hr @ P
    return out


def observed_hessian(spec: ModelSpec, groups: list[Matrices], moments: list[GroupMoments], ev: Evaluation) -> np.ndarray | None:
    """Exact Hessian of F for Lambda Psi Lambda' + Theta and mu = nu + Lambda alpha; None for models with B.

    d2F/dk dl = tr(W Sigma_kl) - tr(M_l M_k) + 2 tr(M_l Sigma^-1 S_d M_k), M_k = Sigma^-1 Sigma_k,
    W = Sigma^-1 - Sigma^-1 S_d Sigma^-1; Sigma_kl is non-zero only for (loading, loading)
    and (loading, Psi) pairs.  With a mean structure (d = ybar - mu, a = Sigma^-1 d) S_d = S + d d'
    and the mean part adds 2 mu_k' Sigma^-1 mu_l + 2 (mu_k' M_l a + mu_l' M_k a) - 2 mu_kl' a, where
    mu_kl = e_i only for the pair (lambda_ij, alpha_j).  The mean residual does not vanish when
    intercepts are constrained (scalar invariance), so these terms matter for quadratic convergence.
    """
    if any(r.mat == "B" and r.free for r in spec.rows):
        return None  # second-order terms through B are not implemented: keep scoring
    q = spec.n_free
    n_total = sum(m.n for m in moments)
    H = np.zeros((q, q))
    for M, mom, e in zip(groups, moments, ev.per_group):
        sinv = e["sinv"]
        w = mom.n / n_total
        if spec.meanstructure:
            d = mom.mean - e["mu"]
            a = sinv @ d
            Sd = mom.cov + np.outer(d, d)
        else:
            Sd = mom.cov
        # row-level traces with dSigma_r = u_r v_r' + v_r u_r' (Matrices.rank_two), X = Sigma^-1,
        # Y = Sigma^-1 S_d Sigma^-1:  tr(X dSigma_r X dSigma_s) = 2[(u'Xu)(v'Xv) + (u'Xv)(u'Xv)'] and
        # tr(X dSigma_r Y dSigma_s) = (u_s'Y v_r)(u_r'X v_s) + (v_r'Y v_s)(u_r'X u_s)
        #                             + (u_r'Y u_s)(v_r'X v_s) + (u_r'Y v_s)(u_s'X v_r)
        u, v, idx = M.rank_two(e["aux"])
        Y = sinv @ Sd @ sinv
        Xu, Xv, Yu, Yv = sinv @ u, sinv @ v, Y @ u, Y @ v
        uXu, uXv, vXv = u.T @ Xu, u.T @ Xv, v.T @ Xv
        uYu, uYv, vYv = u.T @ Yu, u.T @ Yv, v.T @ Yv
        tr_xx = 2.0 * (uXu * vXv + uXv * uXv.T)
        tr_xy = uYv.T * uXv + vYv * uXu + uYu * vXv + uYv * uXv.T
        Hg = _collapse(-tr_xx + 2.0 * tr_xy, idx, q)
        if spec.meanstructure:
            dM = e["dM"]
            Hg += 2.0 * dM @ sinv @ dM.T
            # mu_k' Sigma^-1 dSigma_l a with dSigma_l a = u_l (v_l'a) + v_l (u_l'a), rows collapsed to parameters
            rows_l = dM @ (Xu * (v.T @ a) + Xv * (u.T @ a))
            P = np.zeros((len(idx), q))
            P[np.arange(len(idx)), idx] = 1.0
            cross = rows_l @ P
            Hg += 2.0 * (cross + cross.T)
            lam = [r for r in M.rows if r.free and r.mat == "L"]
            alph = [r for r in M.rows if r.free and r.mat == "A"]
            for rl in lam:
                for ra in alph:
                    if ra.r == rl.c:  # d2 mu / d lambda_ij d alpha_j = e_i
                        Hg[rl.free - 1, ra.free - 1] -= 2.0 * a[rl.r]
                        Hg[ra.free - 1, rl.free - 1] -= 2.0 * a[rl.r]
        W = sinv - sinv @ Sd @ sinv
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


def halving_search(evaluate_at: Callable[[np.ndarray], Evaluation], x: np.ndarray, step: np.ndarray, ev: Evaluation,
                   gmax: float, flat_tol: float) -> tuple[np.ndarray, Evaluation, float] | None:
    """Step halving along ``-step`` from ``x`` (F and gradient ``ev`` there): the first t = 1, 1/2, ...
    whose point lowers F, or leaves F flat (within ``flat_tol`` relative) with a smaller largest
    gradient; ``(x_new, its evaluation, t)``, or None once t would drop below 1e-10."""
    t = 1.0
    while t >= 1e-10:
        xn = x - t * step
        evn = evaluate_at(xn)
        if np.isfinite(evn.F):
            flat = abs(evn.F - ev.F) <= flat_tol * max(1.0, abs(ev.F))
            assert evn.grad is not None
            if evn.F < ev.F or (flat and float(np.max(np.abs(evn.grad))) < gmax):
                return xn, evn, t
        t /= 2.0
    return None


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
            Hobs = observed_hessian(spec, groups, moments, ev)
            if Hobs is not None and np.all(np.isfinite(Hobs)):
                eig = np.linalg.eigvalsh(Hobs)
                if eig.min() > 1e-10 * eig.max():
                    H = Hobs
        step = _solve(H, ev.grad)
        found = halving_search(evaluator, x, step, ev, gmax, 1e-13)
        if found is None:
            ok = gmax < 1e-8
            return x, it, ok, "converged" if ok else "line search failed"
        xn, evn, _ = found
        dx = float(np.max(np.abs(xn - x) / np.maximum(1.0, np.abs(x))))
        x, ev = xn, evn
        if dx < tol:
            return x, it, True, "converged"
    return x, max_iter, False, f"no convergence after {max_iter} iterations"


def plain_per_group(groups: list[Matrices], x: np.ndarray) -> list[dict]:
    """Implied moments per group without inverses (when Sigma is not positive definite)."""
    out = []
    for M in groups:
        mats = M.build(x)
        sigma, mu, aux = M.implied(mats)
        out.append({"mats": mats, "sigma": sigma, "mu": mu, "aux": aux})
    return out


def srmr(spec: ModelSpec, moments: list[GroupMoments], per_group: list[dict]) -> float:
    """Bentler's SRMR (lavaan "srmr"): residuals standardized by sample SDs, means included
    when the model has a mean structure; groups weighted by n_g / N."""
    N = sum(m.n for m in moments)
    total = 0.0
    p = spec.p
    tri = np.tril_indices(p)
    for m, e in zip(moments, per_group):
        S = m.cov  # lavaan uses the likelihood's S (divisor n or n - 1) here
        sd = np.sqrt(np.diag(S))
        res = (S - e["sigma"]) / np.outer(sd, sd)
        ss = float((res[tri] ** 2).sum())
        k = len(tri[0])
        if spec.meanstructure:
            ss += float((((m.mean - e["mu"]) / sd) ** 2).sum())
            k += p
        total += m.n / N * np.sqrt(ss / k)
    return float(total)


def ml_loglik(spec: ModelSpec, moments: list[GroupMoments], per_group: list[dict]) -> tuple[float, float]:
    """Log-likelihood of the model and of the saturated model (lavaan ``logl``, ``unrestricted.logl``)."""
    p = spec.p
    logl = logl_h1 = 0.0
    for m, e in zip(moments, per_group):
        S = m.cov
        sinv = e["sinv"]
        d = (m.mean - e["mu"]) if spec.meanstructure else np.zeros(p)
        _, ld = np.linalg.slogdet(e["sigma"])
        logl += -m.n / 2 * (p * np.log(2 * np.pi) + ld + float(np.sum(S * sinv)) + float(d @ sinv @ d))
        logl_h1 += -m.n / 2 * (p * np.log(2 * np.pi) + m.logdet + p)
    return float(logl), float(logl_h1)


def independence_chisq(moments: list[GroupMoments], n_test: float) -> float:
    """Baseline (independence) chi-square in closed form: diagonal Sigma, saturated means."""
    N = sum(m.n for m in moments)
    Fb = sum(m.n / N * (float(np.log(np.diag(m.cov)).sum()) - m.logdet) for m in moments)
    return n_test * Fb


# ----------------------------------------------------------------------------- the estimator


@register("ML", "listwise")
class ML(Estimator):
    """Maximum likelihood with expected-information standard errors (lavaan ``estimator = "ML"``)."""

    diagnostics = True

    def prepare(self, spec: ModelSpec, sample: SampleData) -> None:
        self.spec = spec
        self.groups = [Matrices(spec, g) for g in range(spec.n_groups)]
        if sample.moments is not None:
            self.moments = sample.moments
        else:
            assert sample.blocks is not None
            self.moments = [sample_moments(b, self.likelihood, spec.ov, spec.group_labels[g] if spec.n_groups > 1 else "")
                            for g, b in enumerate(sample.blocks)]

    def evaluate(self, x: np.ndarray, *, grad: bool = True, info: bool = True) -> Evaluation:
        return evaluate(self.spec, self.groups, self.moments, x, grad=grad, info=info)

    def optimize(self, x0: np.ndarray) -> tuple[np.ndarray, int, bool, str]:
        spec, groups, moments = self.spec, self.groups, self.moments
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
        return x, it, ok, msg

    def n_test(self) -> float:
        n = sum(m.n for m in self.moments)
        return n if self.likelihood == "normal" else n - len(self.moments)

    def vcov(self, ev: Evaluation) -> tuple[np.ndarray, bool]:
        # lavaan: vcov = (1/N) * inverse of the unit expected information of logl, which is H/2
        return invert_information(ev.info, 2.0 / self.n_test(), self.spec.n_free)

    def test(self, ev: Evaluation) -> tuple[TestStatistic, dict[str, float | None]]:
        spec = self.spec
        n_test = self.n_test()
        p, G = spec.p, spec.n_groups
        t = TestStatistic(chisq=n_test * ev.F, df=float(self.n_moments() - spec.n_free),
                          baseline_chisq=independence_chisq(self.moments, n_test), baseline_df=float(G * p * (p - 1) // 2),
                          n_test=n_test, n_groups=G)
        logl, logl_h1 = ml_loglik(spec, self.moments, ev.per_group)
        return t, {"loglik": logl, "unrestricted_loglik": logl_h1}


def invert_information(H: np.ndarray | None, scale: float, q: int) -> tuple[np.ndarray, bool]:
    """scale * H^-1, or NaNs and False when H is singular or ill-conditioned (unidentified model)."""
    if H is None:
        return np.full((q, q), np.nan), False
    try:
        if not np.all(np.isfinite(H)) or np.linalg.cond(H) > 1e14:
            raise np.linalg.LinAlgError
        vcov = scale * np.linalg.inv(H)
        if not np.all(np.isfinite(vcov)):
            raise np.linalg.LinAlgError
        return vcov, True
    except np.linalg.LinAlgError:
        return np.full((q, q), np.nan), False
