"""Modification indices (lavaan ``modindices``, expected information): score tests for
cross-loadings, residual covariances and user-fixed parameters, with expected parameter
changes (EPC) and their standardized versions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .specification import ModelSpec
from .standardize import standardize

__all__ = ["modification_indices"]


def _candidates(spec: ModelSpec) -> list:
    """Parameters the modification indices test: cross-loadings, residual covariances and the
    model's fixed parameters (lavaan ``lav_partable_full`` with the fixed rows freed)."""
    from .specification import Row

    out = []
    oi = {v: i for i, v in enumerate(spec.ov)}
    for g in range(spec.n_groups):
        rows = [r for r in spec.rows if r.group == g]
        present = {(r.mat, r.r, r.c) for r in rows}
        for r in rows:
            # every fixed parameter of the model, as lavaan's (markers and fixed intercepts too: where
            # freeing one is not identified its information Schur complement V is zero and the test
            # is dropped, as lavaan drops it); the derived residual variances of ordinal items are not
            if r.free == 0 and r.kind != "delta_residual" and (r.user or r.auto_marker or r.mat in ("N", "A")):
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
    elif row.mat == "N":
        dM[i] += 1.0
    elif row.mat == "A":
        dM += LA[:, i]
    return dS, dM


def modification_indices(fitted, ev, H: np.ndarray | None, std: list[dict]) -> pd.DataFrame:
    """Score tests for fixed/absent parameters (lavaan ``modindices``, expected information).

    For candidate c with gradient g_c of F (the discrepancy without the factor 1/2) and information
    Schur complement V = H_cc - H_cf H_ff^-1 H_fc over all free parameters:
    MI = N g_c^2 / (2 V) and EPC = -g_c / V (lavaan: N score^2 / V and -score / V with the score
    and information of F/2).  The estimator supplies g, H_cc and H_cf (``score_test_terms``): ML
    from the h1 moments, FIML from the missing-data patterns, WLSMV from the thresholds and
    polychoric correlations.
    """
    spec = fitted.spec
    N = sum(m.n for m in fitted.moments)
    cols = ["lhs", "op", "rhs", "group", "mi", "epc", "sepc_all"]
    H, terms = fitted.score_test_terms(ev, H)
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
        dS = np.zeros((len(rows), p, p))
        dM = np.zeros((len(rows), p))
        for k, row in enumerate(rows):
            dS[k], dM[k] = _derivative_of(row, e, p)
        grad, h_cc, h_cf = terms(g, dS, dM, e)
        V = h_cc - np.einsum("ck,kl,cl->c", h_cf, Hinv, h_cf)
        for k, row in enumerate(rows):
            # lavaan: V below eps^(1/3) (relative to its own scale, here of F without 1/2) is NA
            if V[k] <= 2.0 * np.finfo(float).eps ** (1 / 3):
                continue
            epc = -grad[k] / V[k]
            if row.mat in ("P", "T") and row.r == row.c:
                s_all = float(np.sign(epc))  # lavaan standardizes a variance EPC by itself
            else:
                s_all = standardize(row, epc, spec, std[g])[1]
            out.append({"lhs": row.lhs, "op": row.op, "rhs": row.rhs, "group": spec.group_labels[g],
                        "mi": N * grad[k] ** 2 / (2.0 * V[k]), "epc": epc, "sepc_all": s_all})
    return pd.DataFrame(out, columns=cols)


def ml_score_terms(fitted, ev, H: np.ndarray | None):
    """ML on the h1 moments (S, ybar): gradient W = Sigma^-1 - Sigma^-1 (S + d d') Sigma^-1 in Sigma
    and -2 Sigma^-1 d in mu (d = ybar - mu), expected information tr(Sigma^-1 dS_a Sigma^-1 dS_b)
    + 2 dM_a' Sigma^-1 dM_b; groups weighted n_g / N."""
    from .._exceptions import ParameterError

    if H is None or any("sinv" not in e for e in ev.per_group):
        raise ParameterError("modification indices need a positive definite implied covariance matrix")
    spec = fitted.spec
    N = sum(m.n for m in fitted.moments)
    p = spec.p

    def terms(g: int, dS: np.ndarray, dM: np.ndarray, e: dict):
        m = fitted.moments[g]
        w = m.n / N
        nc = len(dS)
        sinv = e["sinv"]
        d = (m.mean - e["mu"]) if spec.meanstructure else np.zeros(p)
        Wm = sinv - sinv @ (m.cov + np.outer(d, d)) @ sinv
        grad = w * (np.einsum("cab,ab->c", dS, Wm) - 2.0 * dM @ (sinv @ d))
        Mc = np.matmul(sinv, dS)
        McT = Mc.transpose(0, 2, 1).reshape(nc, -1)
        h_cc = w * np.einsum("ca,ca->c", Mc.reshape(nc, -1), McT)
        Mk = np.matmul(sinv, e["dS"]).reshape(spec.n_free, -1)
        h_cf = w * (McT @ Mk.T)
        if spec.meanstructure:
            h_cc += w * 2.0 * np.einsum("ca,ab,cb->c", dM, sinv, dM)
            h_cf += w * 2.0 * dM @ sinv @ e["dM"].T
        return grad, h_cc, h_cf

    return H, terms


def pattern_score_terms(pieces: list[dict], H: np.ndarray, ns: list[int]):
    """FIML: the same terms from the missing-data patterns' pieces of each group (``FIML.mi_pieces``):
    the gradient of F in Sigma (G) and mu (gmu) and the blocks of its expected Hessian (Hss, Hmm)."""

    def terms(g: int, dS: np.ndarray, dM: np.ndarray, e: dict):
        pc, w = pieces[g], ns[g] / sum(ns)
        nc, p = dM.shape
        dSc = dS.reshape(nc, p * p)
        dSf = e["dS"].reshape(e["dS"].shape[0], p * p)
        grad = w * (dSc @ pc["G"].ravel() + dM @ pc["gmu"])
        SH = dSc @ pc["Hss"]
        MH = dM @ pc["Hmm"]
        h_cc = w * (np.einsum("ca,ca->c", SH, dSc) + np.einsum("ca,ca->c", MH, dM))
        h_cf = w * (SH @ dSf.T + MH @ e["dM"].T)
        return grad, h_cc, h_cf

    return H, terms
