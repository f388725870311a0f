"""Robust ML (lavaan estimator = "MLR"): Huber-White sandwich standard errors and the
Yuan-Bentler scaled test statistic in its Mplus variant (test = "yuan.bentler.mplus").

Notation (per group, unit = per observation, vech parameters with off-diagonals once):
* E   observed information of the model, 1/2 the Hessian of F at the estimate;
* B1  first-order information of the saturated model, mean of s_i s_i', with casewise
      scores s_i = (Sigma^-1 e_i, vech*(Sigma^-1 e_i e_i' Sigma^-1 - Sigma^-1)) where the
      diagonal of the covariance part is halved and e_i = y_i - mu;
* A1  information of the saturated model at the sample moments ("unstructured");
* B0  = Delta' B1(structured) Delta, the first-order information of the model.
Then vcov = E^-1 B0 E^-1 / N (Huber 1967; White 1982) and the scaling factor is
c = [sum_g tr(A1_g^-1 B1_g) - f_g tr(E^-1 B0_g)] / df (Yuan & Bentler 2000; lavaan
lav_test_yuan_bentler_mplus_trace), chi2_scaled = chi2 / c.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .estimator import register
from .fit_measures import TestStatistic
from .ml import ML, Evaluation, evaluate, invert_information, observed_hessian

__all__ = ["MLR", "observed_information", "mlr_statistics", "cluster_sums"]


def _gamma(M: np.ndarray, tri: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    i, j = tri
    return M[np.ix_(i, i)] * M[np.ix_(j, j)] + M[np.ix_(i, j)] * M[np.ix_(j, i)]


def casewise_scores(Y: np.ndarray, mu: np.ndarray, sigma: np.ndarray, means: bool) -> np.ndarray:
    """n x (p + p*) (or n x p*) scores of the normal log-likelihood in (mu, vech Sigma)."""
    p = sigma.shape[0]
    tri = np.tril_indices(p)
    sinv = np.linalg.inv(sigma)
    Z = (Y - mu) @ sinv
    i, j = tri
    cov = Z[:, i] * Z[:, j] - sinv[i, j]
    cov[:, i == j] *= 0.5
    return np.hstack([Z, cov]) if means else cov


def _saturated_information(M: np.ndarray, means: bool) -> np.ndarray:
    """Inverse of blockdiag(M, Gamma(M)): the saturated-model information at moments M."""
    p = M.shape[0]
    g_inv = np.linalg.inv(_gamma(M, np.tril_indices(p)))
    if not means:
        return g_inv
    out = np.zeros((p + g_inv.shape[0],) * 2)
    out[:p, :p] = np.linalg.inv(M)
    out[p:, p:] = g_inv
    return out


def observed_information(fitted, ev) -> np.ndarray:
    """Observed information of the model (unit): 1/2 the Hessian of F.

    Exact analytic Hessian where available (no B matrix and zero mean residuals),
    otherwise central differences of the analytic gradient.
    """
    spec = fitted.spec
    mean_resid = max((float(np.abs(m.mean - e["mu"]).max()) for m, e in zip(fitted.moments, ev.per_group)), default=0.0)
    H = None
    if not spec.meanstructure or mean_resid < 1e-8:
        H = observed_hessian(spec, fitted.groups, fitted.moments, ev)
    if H is None:
        from .fiml import numeric_hessian

        H = numeric_hessian(lambda z: evaluate(spec, fitted.groups, fitted.moments, z, info=False).grad, fitted.x)
    return 0.5 * H


def cluster_sums(scores: np.ndarray, codes: np.ndarray | None, *, small_sample: bool) -> np.ndarray:
    """Casewise scores summed within clusters (``codes`` 0 .. C - 1); the rows unchanged
    without clusters.  ``small_sample``: times sqrt(C / (C - 1)), so that the meat
    B = sum_c s_c s_c' / n carries lavaan's factor C / (C - 1)
    (lav_mvnorm_information_firstorder with cluster.idx)."""
    if codes is None:
        return scores
    n_clusters = int(codes.max()) + 1
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0])
    out = np.add.reduceat(scores[order], starts, axis=0)
    return out * np.sqrt(n_clusters / (n_clusters - 1)) if small_sample else out


def _trace_h1(Y: np.ndarray, means: bool, codes: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """tr(A1^-1 B1) at the sample moments, and B1 there; with clusters B1 from the
    cluster sums with the factor C / (C - 1) (lavaan lav_samplestats_Gamma with
    cluster.idx)."""
    mean = Y.mean(axis=0)
    S = (Y - mean).T @ (Y - mean) / len(Y)
    sc = cluster_sums(casewise_scores(Y, mean, S, means), codes, small_sample=True)
    B1 = sc.T @ sc / len(Y)
    A1 = _saturated_information(S, means)
    return float(np.sum(np.linalg.solve(A1, B1).diagonal())), B1


def mlr_statistics(fitted, ev, E: np.ndarray, df: float, baseline: bool = True, *,
                   clusters: list[np.ndarray] | None = None, E_test: np.ndarray | None = None) -> dict[str, object]:
    """Sandwich covariance of the estimates and the Yuan-Bentler (Mplus) scaling factors.

    ``clusters`` (codes per group): scores summed within clusters before the meat is
    formed (lavaan ``cluster =``); ``E_test``: the information used in the trace of the
    test instead of ``E`` (lavaan's ``observed.information = "h1"``).
    """
    spec = fitted.spec
    N = sum(m.n for m in fitted.moments)
    means = spec.meanstructure
    tri = np.tril_indices(spec.p)
    Einv = np.linalg.inv(E)  # callers check that E is invertible
    Etinv = Einv if E_test is None else np.linalg.inv(E_test)
    B0 = np.zeros_like(E)
    trace = 0.0
    trace_b = 0.0
    for g, (m, e) in enumerate(zip(fitted.moments, ev.per_group)):
        Y = m.data
        f = m.n / N
        codes = None if clusters is None else clusters[g]
        sc = casewise_scores(Y, e["mu"] if means else Y.mean(axis=0), e["sigma"], means)
        D = e["dS"][:, tri[0], tri[1]].T
        if means:
            D = np.vstack([e["dM"].T, D])
        G = cluster_sums(sc, codes, small_sample=True) @ D  # (cluster-summed) casewise scores of the parameters
        B0g = G.T @ G / m.n
        B0 += f * B0g
        t_h1, _ = _trace_h1(Y, means, codes)
        trace += t_h1 - f * float(np.sum(B0g * Etinv.T))
        if baseline:
            trace_b += t_h1 - _baseline_trace_h0(Y, means, codes)
    out: dict[str, object] = {"vcov": Einv @ B0 @ Einv / N, "scaling_factor": trace / df if df > 0 else np.nan}
    if baseline:
        df_b = spec.n_groups * spec.p * (spec.p - 1) / 2
        out["baseline_scaling_factor"] = trace_b / df_b
    return out


def _baseline_trace_h0(Y: np.ndarray, means: bool, codes: np.ndarray | None = None) -> float:
    """tr(E_b^-1 B0_b) for the independence model of one group (its own information)."""
    n, p = Y.shape
    mean = Y.mean(axis=0)
    S = (Y - mean).T @ (Y - mean) / n
    sig = np.diag(np.diag(S))
    sc = casewise_scores(Y, mean, sig, means)
    tri = np.tril_indices(p)
    diag_pos = np.flatnonzero(tri[0] == tri[1])
    # parameters: the p variances (and the p means when modelled)
    cols = list(range(p)) + [p + k for k in diag_pos] if means else list(diag_pos)
    G = cluster_sums(sc[:, cols], codes, small_sample=True)
    B0 = G.T @ G / n
    s = np.diag(S)
    # observed information of the independence model at its MLE: 1/(2 s_k^2) for variances,
    # 1/s_k for means (the Hessian is diagonal there)
    E = np.diag(np.concatenate([1.0 / s, 0.5 / s**2]) if means else 0.5 / s**2)
    return float(np.trace(np.linalg.solve(E, B0)))


@register("MLR", "listwise")
class MLR(ML):
    """ML estimates with Huber-White standard errors and the Yuan-Bentler (Mplus) scaled
    test (lavaan ``estimator = "MLR"``)."""

    needs_raw = True

    def vcov(self, ev: Evaluation) -> tuple[np.ndarray, bool]:
        self._robust = None
        E = observed_information(self, ev)
        q = self.spec.n_free
        _, ok = invert_information(E, 1.0, q)
        if not ok:
            return np.full((q, q), np.nan), False
        self._robust = mlr_statistics(self, ev, E, self.n_moments() - q)
        return np.asarray(self._robust["vcov"]), True

    def residual_matrices(self, ev: Evaluation) -> dict[str, list[Any]]:
        """Residuals as lavaan's for MLR (``lav_residuals_acov``): the sample moments' acov is the
        sandwich A1^-1 B1 A1^-1 / n at the sample moments (h1.acov = "unstructured"), and the
        projection uses the observed h1 information at the implied moments (information =
        "observed"); mean parts dropped without a mean structure."""
        from .fiml import casewise_scores_missing, make_group, pattern_terms, saturated_hessian, to_vech, vech_jacobian
        from .residuals import acov_residuals

        spec = self.spec
        p, q = spec.p, spec.n_free
        sl = slice(0, None) if spec.meanstructure else slice(p, None)
        pieces = []
        for M, m in zip(self.groups, self.moments):
            mg = make_group(np.asarray(m.data, dtype=float))

            def info(mu: np.ndarray, sigma: np.ndarray, mg: Any = mg) -> np.ndarray:
                t = pattern_terms(mg, mu, sigma, level=3)
                assert t is not None
                return (0.5 * to_vech(*saturated_hessian(t, p, observed=True)))[sl, sl]

            mats = M.build(self.x)
            sigma, mu, aux = M.implied(mats)
            A1i = np.linalg.inv(info(m.mean, m.cov))
            sc = casewise_scores_missing(mg, m.mean, m.cov)[:, sl]
            pieces.append({"acov": A1i @ (sc.T @ sc / m.n) @ A1i / m.n,
                           "A1": info(mu if spec.meanstructure else m.mean, sigma),
                           "Delta": vech_jacobian(M, mats, aux, q)[sl]})
        return acov_residuals(self, ev, pieces)

    def test(self, ev: Evaluation) -> tuple[TestStatistic, dict[str, float | None]]:
        t, lik = super().test(ev)
        rob = self._robust
        if rob is None:  # singular information: no scaling factor
            return t, lik
        t = TestStatistic(t.chisq, t.df, t.baseline_chisq, t.baseline_df, t.n_test, t.n_groups, kind="yuan_bentler",
                          scaling_factor=float(rob["scaling_factor"]),  # type: ignore[arg-type]
                          baseline_scaling_factor=float(rob["baseline_scaling_factor"]))  # type: ignore[arg-type]
        return t, lik
