"""Proportional-odds (cumulative) logit by Newton's method with closed-form derivatives.

The model of ``MASS::polr(method = "logistic")`` (McCullagh 1980): for an outcome with
ordered levels 1..K, cut-points zeta_1 < ... < zeta_{K-1} and linear predictor
eta_i = x_i' beta,

    P(Y_i <= k) = F(zeta_k - eta_i),     F(t) = 1 / (1 + exp(-t)),

so respondent i in level k contributes log p_i with p_i = F(a_i) - F(b_i), a_i = zeta_k - eta_i,
b_i = zeta_{k-1} - eta_i (zeta_0 = -inf, zeta_K = +inf).  With f = F' = F (1 - F) and
f' = f (1 - 2F), and writing g_a = f(a)/p, g_b = f(b)/p, h_a = f'(a)/p, h_b = f'(b)/p, the
score and Hessian of the log-likelihood are (Agresti 2010, *Analysis of Ordinal Categorical
Data*, 2nd ed., sec. 3.4.1 gives the score; the second derivatives follow by the quotient rule):

    dl/dbeta            = -sum_i x_i (g_a - g_b)
    dl/dzeta_k          =  sum_{y_i = k} g_a - sum_{y_i = k+1} g_b
    d2l/dbeta dbeta'    =  sum_i x_i x_i' [(h_a - h_b) - (g_a - g_b)^2]
    d2l/dbeta dzeta_k   = -sum_{y_i = k} x_i [h_a - (g_a - g_b) g_a]
                          -sum_{y_i = k+1} x_i [-h_b + (g_a - g_b) g_b]
    d2l/dzeta_k^2       =  sum_{y_i = k} (h_a - g_a^2) - sum_{y_i = k+1} (h_b + g_b^2)
    d2l/dzeta_k dzeta_{k-1} = sum_{y_i = k} g_a g_b

The log-likelihood is concave in (beta, zeta) because F is log-concave (Pratt 1981, JASA 76,
103-106), so Newton's method with step halving (which also keeps the cut-points ordered)
converges from the null model's estimates (beta = 0, zeta_k = logit of the cumulative
proportion of level k, the maximum of the model without predictors).  The covariance of the
estimates is the inverse of the observed information -H at the maximum, in the (beta, zeta)
parametrisation that ``vcov(polr)`` reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Newton stops when no parameter moves by more than this (relative to max(1, |value|))
STEP_TOL = 1e-10
MAX_ITER = 100


@dataclass(frozen=True)
class OrdinalLogitFit:
    """Estimates of :func:`fit_ordinal_logit`: ``beta`` (p), ``zeta`` (K - 1 cut-points),
    ``cov`` ((p + K - 1) square, beta first), ``loglik``, ``iterations``, ``converged``."""

    beta: np.ndarray
    zeta: np.ndarray
    cov: np.ndarray
    loglik: float
    iterations: int
    converged: bool


def _logistic(t: np.ndarray) -> np.ndarray:
    """F(t) = 1 / (1 + exp(-t)) for t in [-inf, inf], without overflow warnings."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-t))


def _loglik_terms(X: np.ndarray, level: np.ndarray, beta: np.ndarray, zeta: np.ndarray):
    """a, b, p and log-likelihood at (beta, zeta); ``level`` holds 0-based level codes."""
    eta = X @ beta
    cuts = np.concatenate(([-np.inf], zeta, [np.inf]))
    a = cuts[level + 1] - eta
    b = cuts[level] - eta
    # p = F(a) - F(b) from the tail where both are small: no cancellation when a, b >> 0
    upper = b > 0
    p = np.where(upper, _logistic(-b) - _logistic(-a), _logistic(a) - _logistic(b))
    with np.errstate(divide="ignore"):
        ll = float(np.sum(np.log(p))) if np.all(p > 0) else -np.inf
    return a, b, p, ll


def _score_hessian(X: np.ndarray, level: np.ndarray, n_levels: int, a: np.ndarray, b: np.ndarray,
                   p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score and Hessian of the log-likelihood (the closed forms of the module docstring)."""
    Fa, Fb = _logistic(a), _logistic(b)
    Fma, Fmb = _logistic(-a), _logistic(-b)
    fa, fb = Fa * Fma, Fb * Fmb  # logistic density F (1 - F); 0 at +-inf
    ga, gb = fa / p, fb / p
    ha, hb = fa * (Fma - Fa) / p, fb * (Fmb - Fb) / p  # f' = f (1 - 2F)
    dg = ga - gb
    q = n_levels - 1
    k = X.shape[1]
    grad = np.empty(k + q)
    H = np.empty((k + q, k + q))
    grad[:k] = -(X.T @ dg)
    H[:k, :k] = (X.T * ((ha - hb) - dg * dg)) @ X
    # cut j (0-based) is the upper cut of level j and the lower cut of level j + 1
    up_w = np.bincount(level, weights=ga, minlength=n_levels)
    lo_w = np.bincount(level, weights=gb, minlength=n_levels)
    grad[k:] = up_w[:q] - lo_w[1:]
    c_up = -(ha - dg * ga)          # d2l / dbeta dzeta_upper, per respondent (times x_i)
    c_lo = -(-hb + dg * gb)         # d2l / dbeta dzeta_lower
    onehot = np.zeros((len(level), n_levels))
    onehot[np.arange(len(level)), level] = 1.0
    XU = X.T @ (onehot * c_up[:, None])  # k x K: sums over respondents of each level
    XL = X.T @ (onehot * c_lo[:, None])
    H[:k, k:] = XU[:, :q] + XL[:, 1:]
    H[k:, :k] = H[:k, k:].T
    d_up = np.bincount(level, weights=ha - ga * ga, minlength=n_levels)
    d_lo = np.bincount(level, weights=-hb - gb * gb, minlength=n_levels)
    Hz = np.diag(d_up[:q] + d_lo[1:])
    off = np.bincount(level, weights=ga * gb, minlength=n_levels)[1:q]  # levels with two finite cuts
    idx = np.arange(1, q)
    Hz[idx, idx - 1] = off
    Hz[idx - 1, idx] = off
    H[k:, k:] = Hz
    return grad, H


def _newton_direction(grad: np.ndarray, H: np.ndarray) -> np.ndarray:
    """Solve -H d = grad; -H is positive definite for a concave log-likelihood, else its
    eigenvalues are floored (a descent direction in any case)."""
    try:
        c = np.linalg.cholesky(-H)
        return np.linalg.solve(c.T, np.linalg.solve(c, grad))
    except np.linalg.LinAlgError:
        w, V = np.linalg.eigh(-H)
        w = np.maximum(w, 1e-8 * max(1.0, float(np.abs(w).max())))
        return V @ ((V.T @ grad) / w)


def fit_ordinal_logit(X: np.ndarray, level: np.ndarray, n_levels: int) -> OrdinalLogitFit:
    """Maximum-likelihood proportional-odds logit (as ``MASS::polr(method = "logistic")``).

    Parameters
    ----------
    X : ndarray, shape (n, p)
        Predictors, without an intercept (the cut-points take its place).
    level : ndarray of int, shape (n,)
        Outcome level codes 0..n_levels - 1, every level observed.
    n_levels : int
        K >= 2.

    Returns
    -------
    OrdinalLogitFit

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(500, 1))
    >>> y = np.digitize(x[:, 0] + rng.logistic(size=500), [-1.0, 0.5])
    >>> fit = fit_ordinal_logit(x, y, 3)
    >>> fit.converged, fit.beta.round(1).tolist()
    (True, [1.0])
    """
    X = np.asarray(X, dtype=np.float64)
    level = np.asarray(level, dtype=np.intp)
    n, k = X.shape
    q = n_levels - 1
    counts = np.bincount(level, minlength=n_levels)
    cum = np.cumsum(counts)[:q] / n
    theta = np.concatenate([np.zeros(k), np.log(cum / (1 - cum))])  # the null model's maximum
    a, b, p, ll = _loglik_terms(X, level, theta[:k], theta[k:])
    converged = False
    it = 0
    while it < MAX_ITER:
        it += 1
        grad, H = _score_hessian(X, level, n_levels, a, b, p)
        step = _newton_direction(grad, H)
        t = 1.0
        for _ in range(60):  # step halving: stay where the cut-points are ordered and l does not fall
            new = theta + t * step
            z = new[k:]
            if np.all(np.diff(z) > 0):
                a2, b2, p2, ll2 = _loglik_terms(X, level, new[:k], z)
                if ll2 >= ll - 1e-10 * abs(ll):
                    break
            t *= 0.5
        else:
            break
        moved = np.max(np.abs(new - theta) / np.maximum(1.0, np.abs(theta)))
        theta, a, b, p, ll = new, a2, b2, p2, ll2
        if moved < STEP_TOL:
            converged = True
            break
    grad, H = _score_hessian(X, level, n_levels, a, b, p)
    try:
        cov = np.linalg.inv(-H)
    except np.linalg.LinAlgError:
        cov = np.full_like(H, np.nan)
        converged = False
    return OrdinalLogitFit(theta[:k].copy(), theta[k:].copy(), cov, ll, it, converged)
