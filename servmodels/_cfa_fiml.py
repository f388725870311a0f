"""Full-information maximum likelihood for incomplete data (lavaan missing = "fiml").

Cases are grouped by missing-data pattern; pattern k with observed variables O,
n_k cases, mean ybar_k and covariance S_k (divisor n_k) contributes
    -n_k/2 [p_O log 2 pi + log|Sigma_OO| + tr(Sigma_OO^-1 (S_k + d_k d_k'))],  d_k = ybar_k - mu_O
to the log-likelihood (Arbuckle 1996).  The objective minimised is
F = sum_k (n_k/N) [log|Sigma_OO| + tr(Sigma_OO^-1 C_k)], i.e. -2 logl / N without constants.
The saturated (h1) model is fitted by EM (Dempster, Laird & Rubin 1977) and the test
statistic is 2 (logl_h1 - logl_h0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._cfa_engine import Evaluation
from ._cfa_model import Matrices, ModelSpec

LOG2PI = float(np.log(2 * np.pi))


@dataclass
class Pattern:
    obs: np.ndarray  # observed variable indices
    n: int
    mean: np.ndarray
    cov: np.ndarray  # divisor n
    rows: np.ndarray  # row indices into the group's data


@dataclass
class MissingGroup:
    data: np.ndarray  # n x p with NaN
    patterns: list[Pattern]

    @property
    def n(self) -> int:
        return int(self.data.shape[0])


def make_group(data: np.ndarray) -> MissingGroup:
    obs = ~np.isnan(data)
    keys, inverse = np.unique(obs, axis=0, return_inverse=True)
    patterns = []
    for k, key in enumerate(keys):
        rows = np.flatnonzero(inverse.ravel() == k)
        o = np.flatnonzero(key)
        if o.size == 0:
            continue
        y = data[np.ix_(rows, o)]
        mean = y.mean(axis=0)
        cov = (y - mean).T @ (y - mean) / len(rows)
        patterns.append(Pattern(o, len(rows), mean, cov, rows))
    return MissingGroup(data, patterns)


def loglik(group: MissingGroup, mu: np.ndarray, sigma: np.ndarray) -> float:
    total = 0.0
    for pt in group.patterns:
        o = pt.obs
        so = sigma[np.ix_(o, o)]
        sign, ld = np.linalg.slogdet(so)
        if sign <= 0:
            return -np.inf
        d = pt.mean - mu[o]
        c = pt.cov + np.outer(d, d)
        total += -pt.n / 2 * (len(o) * LOG2PI + ld + float(np.sum(np.linalg.solve(so, c).diagonal())))
    return total


def em_saturated(group: MissingGroup, *, tol: float = 1e-13, max_iter: int = 20000) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Unrestricted mean and covariance by EM; returns (mu, sigma, loglik, iterations)."""
    data = group.data
    n, p = data.shape
    mu = np.nanmean(data, axis=0)
    sigma = np.diag(np.nanvar(data, axis=0))
    ll_old = -np.inf
    for it in range(1, max_iter + 1):
        T1 = np.zeros(p)
        T2 = np.zeros((p, p))
        for pt in group.patterns:
            o = pt.obs
            m = np.setdiff1d(np.arange(p), o)
            y = data[np.ix_(pt.rows, o)]
            if m.size == 0:
                T1 += y.sum(axis=0)
                T2 += y.T @ y
                continue
            soo = sigma[np.ix_(o, o)]
            smo = sigma[np.ix_(m, o)]
            beta = np.linalg.solve(soo, smo.T).T  # regression of missing on observed
            yhat = mu[m] + (y - mu[o]) @ beta.T
            full = np.empty((len(pt.rows), p))
            full[:, o] = y
            full[:, m] = yhat
            T1 += full.sum(axis=0)
            T2 += full.T @ full
            cond = sigma[np.ix_(m, m)] - beta @ smo.T
            T2[np.ix_(m, m)] += len(pt.rows) * cond
        mu = T1 / n
        sigma = T2 / n - np.outer(mu, mu)
        ll = loglik(group, mu, sigma)
        if abs(ll - ll_old) < tol * max(1.0, abs(ll)):
            return mu, sigma, ll, it
        ll_old = ll
    return mu, sigma, ll_old, max_iter


def evaluate_fiml(spec: ModelSpec, groups: list[Matrices], mgroups: list[MissingGroup], x: np.ndarray,
                  *, grad: bool = True, info: bool = True) -> Evaluation:
    q = spec.n_free
    N = sum(g.n for g in mgroups)
    F = 0.0
    g_out = np.zeros(q) if grad else None
    H = np.zeros((q, q)) if info else None
    per_group = []
    for M, mg in zip(groups, mgroups):
        mats = M.build(x)
        sigma, mu, aux = M.implied(mats)
        if grad or info:
            dS, dM = M.derivatives(mats, aux, q)
        for pt in mg.patterns:
            o = pt.obs
            so = sigma[np.ix_(o, o)]
            try:
                c = np.linalg.cholesky(so)
            except np.linalg.LinAlgError:
                return Evaluation(np.inf, None, None, [])
            ci = np.linalg.inv(c)
            sinv = ci.T @ ci
            ld = 2.0 * float(np.log(np.diag(c)).sum())
            d = pt.mean - mu[o]
            C = pt.cov + np.outer(d, d)
            w = pt.n / N
            F += w * (ld + float(np.sum(sinv * C)))
            if grad or info:
                dSo = dS[:, o][:, :, o]
                dMo = dM[:, o]
                if grad:
                    W = sinv - sinv @ C @ sinv
                    g_out += w * (np.einsum("kab,ab->k", dSo, W) - 2.0 * dMo @ (sinv @ d))
                if info:
                    Mk = np.matmul(sinv, dSo)
                    H += w * (Mk.reshape(q, -1) @ Mk.transpose(0, 2, 1).reshape(q, -1).T + 2.0 * dMo @ sinv @ dMo.T)
        per_group.append({"mats": mats, "sigma": sigma, "mu": mu, "aux": aux})
    return Evaluation(F, g_out, H, per_group)


def numeric_hessian(fun, x: np.ndarray) -> np.ndarray:
    """Central differences of an analytic gradient, symmetrised."""
    q = len(x)
    H = np.zeros((q, q))
    for k in range(q):
        h = 1e-5 * max(1.0, abs(x[k]))
        xp, xm = x.copy(), x.copy()
        xp[k] += h
        xm[k] -= h
        H[:, k] = (fun(xp) - fun(xm)) / (2 * h)
    return 0.5 * (H + H.T)


def casewise_scores_missing(group: MissingGroup, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """n x (p + p*) scores of each case's observed-data log-likelihood in (mu, vech Sigma).

    For a case with observed set O and z = Sigma_OO^-1 (y_O - mu_O): d/d mu_O = z and
    d/d Sigma_OO = (z z' - Sigma_OO^-1) / 2, written in vech coordinates (an off-diagonal
    element counts both of its positions); missing coordinates have zero score.
    """
    n, p = group.data.shape
    tri = np.tril_indices(p)
    pos = np.full((p, p), -1)
    pos[tri] = np.arange(len(tri[0]))
    pos = np.maximum(pos, pos.T)
    out = np.zeros((n, p + len(tri[0])))
    for pt in group.patterns:
        o = pt.obs
        so_inv = np.linalg.inv(sigma[np.ix_(o, o)])
        y = group.data[np.ix_(pt.rows, o)]
        Z = (y - mu[o]) @ so_inv
        out[np.ix_(pt.rows, o)] = Z
        a, b = np.tril_indices(len(o))
        G = Z[:, a] * Z[:, b] - so_inv[a, b]
        G[:, a == b] *= 0.5
        out[np.ix_(pt.rows, p + pos[o[a], o[b]])] = G
    return out


def _unpack(theta: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    tri = np.tril_indices(p)
    mu = theta[:p]
    S = np.zeros((p, p))
    S[tri] = theta[p:]
    return mu, S + np.tril(S, -1).T


def saturated_information(group: MissingGroup, mu: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A1, B1) of the saturated model under missing data, per case (unit) at (mu, sigma):
    A1 the observed information (numeric Hessian of the analytic score), B1 the mean
    outer product of casewise scores."""
    p = len(mu)
    tri = np.tril_indices(p)
    theta = np.concatenate([mu, sigma[tri]])
    n = group.n
    sc = casewise_scores_missing(group, mu, sigma)
    B1 = sc.T @ sc / n
    A1 = -numeric_hessian(lambda t: casewise_scores_missing(group, *_unpack(t, p)).sum(axis=0) / n, theta)
    return A1, B1


def baseline_trace(group: MissingGroup) -> float:
    """tr(E_b^-1 B0_b) of the independence model (means and variances) under missing data."""
    p = group.data.shape[1]
    tri = np.tril_indices(p)
    diag_pos = p + np.flatnonzero(tri[0] == tri[1])
    cols = np.concatenate([np.arange(p), diag_pos])
    mu = np.nanmean(group.data, axis=0)
    var = np.nanvar(group.data, axis=0)
    n = group.n
    sc = casewise_scores_missing(group, mu, np.diag(var))[:, cols]
    B0 = sc.T @ sc / n

    def grad(t: np.ndarray) -> np.ndarray:
        return casewise_scores_missing(group, t[:p], np.diag(t[p:]))[:, cols].sum(axis=0) / n

    E = -numeric_hessian(grad, np.concatenate([mu, var]))
    return float(np.trace(np.linalg.solve(E, B0)))
