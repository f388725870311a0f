"""Residuals of a fitted model (lavaan ``residuals`` / ``lavResiduals``): raw, normalized,
standardized (lavaan's projection formula) and correlation residuals."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["residuals"]


def _vech_derivs(dS: np.ndarray, dM: np.ndarray, tri: tuple[np.ndarray, np.ndarray], means: bool) -> np.ndarray:
    d = dS[:, tri[0], tri[1]].T
    return np.vstack([dM.T, d]) if means else d


def residuals(fitted, ev) -> dict[str, list[pd.DataFrame]]:
    """Raw, normalized, standardized and correlation residuals (lavaan ``residuals``): the
    estimator's own (``Estimator.residual_matrices``; ML on the h1 moments by default)."""
    return fitted.residual_matrices(ev)


def ml_residuals(fitted, ev) -> dict[str, list[pd.DataFrame]]:
    """Raw, normalized, standardized and correlation residuals of ML on the h1 moments.

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
        norm = standardized_ratio(raw, (np.outer(np.diag(S), np.diag(S)) + S**2) / n)
        gam = Gams[g]
        D = Dels[g]
        Q = np.eye(D.shape[0]) - (m.n / N) * D @ A0inv @ D.T @ A1s[g]
        acov = Q @ gam @ Q.T / n
        var = np.diag(acov)
        r_vec = raw[tri]
        if means:
            r_vec = np.concatenate([m.mean - e["mu"], r_vec])
        z = standardized_ratio(r_vec, var)
        z_cov = z[p:] if means else z
        std = np.zeros((p, p))
        std[tri] = z_cov
        std = std + np.tril(std, -1).T
        sd_s, sd_f = np.sqrt(np.diag(S)), np.sqrt(np.diag(sig))
        corr = S / np.outer(sd_s, sd_s) - sig / np.outer(sd_f, sd_f)
        for key, mat in (("raw", raw), ("normalized", norm), ("standardized", std), ("correlation", corr)):
            out[key].append(pd.DataFrame(mat, index=names, columns=names))
    return out


def standardized_ratio(raw: np.ndarray, var: np.ndarray) -> np.ndarray:
    """raw / sqrt(var) as lavaan's ``lav_residuals``: a residual below 1e-5 in absolute value is
    divided by 1 (the ratio of two vanishing quantities is noise), a negative variance gives NaN."""
    with np.errstate(invalid="ignore"):
        se = np.where(var >= 0, np.sqrt(np.abs(var)), np.nan)
    return raw / np.where(np.abs(raw) < 1e-5, 1.0, se)


def linalg_block(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] + b.shape[0], a.shape[1] + b.shape[1]))
    out[: a.shape[0], : a.shape[1]] = a
    out[a.shape[0] :, a.shape[1] :] = b
    return out


def acov_residuals(fitted, ev, pieces: list[dict]) -> dict[str, list[pd.DataFrame]]:
    """Residuals of an estimator that supplies the asymptotic covariance of its h1 moments
    (FIML: EM moments; MLR: the sandwich of the sample moments; lavaan ``lav_residuals``,
    ``lav_residuals_acov``), in (mu, vech Sigma) or, without a mean structure, vech Sigma.

    raw = S_h1 - Sigma_hat; normalized = raw / se(S_h1); standardized = raw / se(raw) with
    acov(raw) = Q acov(S_h1) Q', Q = I - f_g Delta_g A0^+ Delta_g' A1_g, A0 = sum_g f_g Delta_g'
    A1_g Delta_g.  As lavaan, a residual below 1e-5 in absolute value is divided by 1 (the
    ratio of two vanishing quantities is noise) and a negative variance gives NaN.  With a mean
    structure, ``mean`` holds the mean residuals per group (columns raw, normalized, standardized).
    """
    spec = fitted.spec
    p = spec.p
    names = spec.ov
    N = sum(m.n for m in fitted.moments)
    A0 = sum(m.n / N * pc["Delta"].T @ pc["A1"] @ pc["Delta"] for m, pc in zip(fitted.moments, pieces))
    A0inv = np.linalg.pinv(A0)
    tri = np.tril_indices(p)
    out: dict[str, list[pd.DataFrame]] = {"raw": [], "normalized": [], "standardized": [], "correlation": []}

    off = pieces[0]["acov"].shape[0] - len(tri[0])  # p with a mean structure (mu, vech Sigma), else 0

    def ratio(raw: np.ndarray, var: np.ndarray) -> np.ndarray:
        z = np.zeros((p, p))
        z[tri] = standardized_ratio(raw[tri], var[off:])  # the covariance part
        return z + np.tril(z, -1).T

    for m, e, pc in zip(fitted.moments, ev.per_group, pieces):
        S, sig = m.cov, e["sigma"]
        raw = S - sig
        D = pc["Delta"]
        Q = np.eye(D.shape[0]) - (m.n / N) * D @ A0inv @ D.T @ pc["A1"]
        acov_res = Q @ pc["acov"] @ Q.T
        sd_s, sd_f = np.sqrt(np.diag(S)), np.sqrt(np.diag(sig))
        corr = S / np.outer(sd_s, sd_s) - sig / np.outer(sd_f, sd_f)
        for key, mat in (("raw", raw), ("normalized", ratio(raw, np.diag(pc["acov"]))),
                         ("standardized", ratio(raw, np.diag(acov_res))), ("correlation", corr)):
            out[key].append(pd.DataFrame(mat, index=names, columns=names))
        if off:  # mean residuals (lavaan residuals(fit)$mean): not zero under FIML
            rm = m.mean - e["mu"]
            out.setdefault("mean", []).append(pd.DataFrame(
                {"raw": rm, "normalized": standardized_ratio(rm, np.diag(pc["acov"])[:p]),
                 "standardized": standardized_ratio(rm, np.diag(acov_res)[:p])}, index=names))
    return out
