"""Ordinal CFA by diagonally weighted least squares with the mean-and-variance adjusted
test (lavaan estimator = "WLSMV", parameterization = "delta"), in one or several groups.

Sample statistics per group g: s_g = (thresholds, polychoric correlations) with
asymptotic covariance Gamma_g (N_g x acov, from ``polychoric``); W_g = diag(Gamma_g)^-1.
The latent responses y* have covariance Sigma*_g = Lambda Phi Lambda' + Theta and mean
mu*_g = nu + Lambda alpha; with scale factors Delta_g (delta parameterization, Muthen &
Asparouhov 2002) the model implies

    correlations   rho_ij  = Delta_i Delta_j Sigma*_ij            (i != j)
    thresholds     tau*_jk = Delta_j (tau_jk - mu*_j)

and the residual variances are not parameters: Theta_jj = 1 / Delta_j^2 - (Lambda Phi Lambda')_jj.
In every group nu = 0; in the first group alpha = 0 and Delta = 1.  As lavaan's
``group.equal``: without ``"thresholds"`` each group has its own thresholds (then
Delta = 1 and alpha = 0 in every group and the thresholds are saturated); with
``"thresholds"`` the thresholds are shared and the scale factors and factor means of
groups 2.. are free.  ``"intercepts"`` adds nothing for ordinal items (nu is fixed at 0),
so lavaan's ``c("thresholds", "loadings", "intercepts")`` model equals the metric one.

Fit function F = sum_g w_g (s_g - sigma_g)' W_g (s_g - sigma_g) with w_g = (N_g - 1) / (N - G),
minimised by Gauss-Newton; chi2 = (N - G) F = sum_g (N_g - 1) F_g (lavaan 0.6's
``0.5 (N_g - 1) / N_g`` factor of least-squares fit functions, groups averaged with weights
N_g).  Below f_g = N_g / N.  Robust covariance (sandwich): I^-1 (sum_g f_g D_g' W_g Gamma_g W_g D_g)
I^-1 / (N - G) with I = sum_g f_g D_g' W_g D_g.  Test: with V = blockdiag(f_g W_g),
Gamma* = blockdiag(Gamma_g / f_g) and U = V - V D I^-1 D' V, a = sqrt(df / tr((U Gamma*)^2)),
b = df - a tr(U Gamma*), chi2_scaled = a chi2 + b (Asparouhov & Muthen 2010,
"scaled and shifted"; lavaan ``test = "scaled.shifted"``).  Nested models are compared by
:func:`satorra2000_difference` (lavaan ``lavTestLRT``, ``method = "satorra.2000"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._exceptions import ParameterError
from ..polychoric import PolychoricResult
from .estimator import Estimator, SampleData, register
from .fit_measures import TestStatistic
from .ml import Evaluation, GroupMoments, plain_per_group
from .specification import Matrices, ModelSpec

__all__ = ["WLSMV", "prepare_spec", "satorra2000_difference", "OrdinalMoments"]


def prepare_spec(spec: ModelSpec) -> ModelSpec:
    """The ordinal model's free parameters (delta parameterization, lavaan's defaults).

    Residual variances of the latent responses become derived (not free), intercepts are
    fixed at 0, factor means are fixed at 0 in the first group and, when the thresholds
    are equal across groups, free in the others.
    """
    equal_thresholds = "thresholds" in spec.group_equal
    for r in spec.rows:
        if r.mat == "T" and r.r == r.c:
            r.free = 0
            r.value = 0.0  # placeholder; filled with 1/Delta^2 - diag(Lambda Phi Lambda') after fitting
            r.kind = "delta_residual"
        elif r.mat == "N":
            r.free, r.value = 0, 0.0
        elif r.mat == "A" and not (r.user and r.value is None):  # a mean the user freed stays free
            if r.group > 0 and equal_thresholds:
                r.value, r.free = None, -1
            else:
                r.value, r.free = (0.0 if r.value is None else r.value), 0
    # renumber: parameters sharing an index (labels, group_equal) keep sharing one
    index: dict[Any, int] = {}
    for r in spec.rows:
        if r.free == 0:
            continue
        key = ("new", id(r)) if r.free == -1 else ("old", r.free)
        index.setdefault(key, len(index) + 1)
        r.free = index[key]
    spec.n_free = len(index)
    return spec


@dataclass
class OrdinalMoments:
    """What a difference test needs from one fitted ordinal model."""

    D: list[np.ndarray]  # per group: d(thresholds, correlations) / d(all free parameters)
    W: list[np.ndarray]  # per group: the diagonal weights (vectors)
    Gamma: list[np.ndarray]  # per group: N_g x asymptotic covariance of (thresholds, correlations)
    f: np.ndarray  # N_g / N
    chisq: float
    df: float
    information: np.ndarray  # sum_g f_g D_g' W_g D_g


class _Layout:
    """Where each group's thresholds and scale factors sit in the full parameter vector."""

    def __init__(self, spec: ModelSpec, pcs: list[PolychoricResult]):
        p, G, q = spec.p, spec.n_groups, spec.n_free
        self.equal = "thresholds" in spec.group_equal
        self.n_th = [[len(pc.thresholds[v]) for v in spec.ov] for pc in pcs]
        if self.equal and any(n != self.n_th[0] for n in self.n_th[1:]):
            bad = [v for j, v in enumerate(spec.ov) if len({n[j] for n in self.n_th}) > 1]
            raise ParameterError(
                "equal thresholds across groups need the same answer categories in every group; "
                f"{', '.join(bad[:5])} {'has' if len(bad) == 1 else 'have'} categories nobody chose in some group "
                f"(groups: {', '.join(spec.group_labels)})")
        self.item = [np.repeat(np.arange(p), n) for n in self.n_th]  # item of each threshold, per group
        self.th_pos: list[np.ndarray] = []
        k = q
        for g in range(G):
            n = int(sum(self.n_th[g]))
            if self.equal and g > 0:
                self.th_pos.append(self.th_pos[0])
            else:
                self.th_pos.append(np.arange(k, k + n))
                k += n
        self.n_thresholds = k - q
        self.delta_pos: list[np.ndarray | None] = [None]
        for _g in range(1, G):
            if self.equal:
                self.delta_pos.append(np.arange(k, k + p))
                k += p
            else:
                self.delta_pos.append(None)
        self.n_total = k
        self.q = q


def _group_moments(M: Matrices, lay: _Layout, g: int, x: np.ndarray, pairs: tuple[np.ndarray, np.ndarray],
                   jac: bool = True) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any]]:
    """Implied (thresholds, correlations) of group g and their Jacobian over the full vector."""
    q = lay.q
    pi, pj = pairs
    mats = M.build(x[:q])
    sigma, mu, aux = M.implied(mats)
    dpos = lay.delta_pos[g]
    delta = np.ones(M.spec.p) if dpos is None else x[dpos]
    item = lay.item[g]
    tau = x[lay.th_pos[g]]
    th = delta[item] * (tau - mu[item])
    rho = delta[pi] * delta[pj] * sigma[pi, pj]
    info = {"mats": mats, "sigma": sigma, "mu": mu, "aux": aux, "delta": delta}
    if not jac:
        return np.concatenate([th, rho]), None, info
    n_th = len(th)
    J = np.zeros((n_th + len(rho), lay.n_total))
    dS, dM = M.derivatives(mats, aux, q)
    J[:n_th, :q] = -(delta[item][:, None] * dM[:, item].T)
    J[n_th:, :q] = (delta[pi] * delta[pj])[:, None] * dS[:, pi, pj].T
    J[np.arange(n_th), lay.th_pos[g]] += delta[item]
    if dpos is not None:
        J[np.arange(n_th), dpos[item]] += tau - mu[item]
        rows = n_th + np.arange(len(rho))
        J[rows, dpos[pi]] += delta[pj] * sigma[pi, pj]
        J[rows, dpos[pj]] += delta[pi] * sigma[pi, pj]
    return np.concatenate([th, rho]), J, info


@register("WLSMV", "listwise")
class WLSMV(Estimator):
    """DWLS on polychoric correlations and thresholds, robust SEs, scaled-and-shifted test
    (lavaan ``ordered = TRUE, estimator = "WLSMV"``, delta parameterization), one or
    several groups."""

    needs_raw = True
    multigroup = True
    diagnostics = True  # modification indices and residuals as lavaan's for ordered items

    def prepare(self, spec: ModelSpec, sample: SampleData) -> None:
        import pandas as pd

        from ..polychoric import polychoric

        assert sample.blocks is not None
        self.spec = prepare_spec(spec)
        self.pcs = [polychoric(pd.DataFrame(b, columns=spec.ov)) for b in sample.blocks]
        p = spec.p
        self.pairs = (np.array([i for j in range(p) for i in range(j + 1, p)], dtype=np.intp),
                      np.array([j for j in range(p) for _ in range(j + 1, p)], dtype=np.intp))
        self.lay = _Layout(self.spec, self.pcs)
        self.groups = [Matrices(self.spec, g) for g in range(spec.n_groups)]
        self.moments = []
        self.s, self.W = [], []
        for pc in self.pcs:
            R = pc.correlation.loc[spec.ov, spec.ov].to_numpy()
            self.moments.append(GroupMoments(cov=R, mean=np.zeros(p), n=pc.n_obs,
                                             logdet=float(np.linalg.slogdet(R)[1])))
            th = np.concatenate([np.asarray(pc.thresholds[v], dtype=float) for v in spec.ov])
            self.s.append(np.concatenate([th, R[self.pairs]]))
            self.W.append(1.0 / np.diag(pc.nacov))
        n = np.array([pc.n_obs for pc in self.pcs], dtype=float)
        self.f = n / n.sum()
        # the fit function weighs group g by (N_g - 1) (lavaan: F_g (N_g - 1) / N_g, averaged with weights N_g)
        self.fw = (n - 1) / (n.sum() - len(n))

    def n_moments(self) -> int:
        p = self.spec.p
        return int(sum(sum(n) for n in self.lay.n_th)) + self.spec.n_groups * p * (p - 1) // 2

    def check_identified(self) -> None:
        from .._exceptions import ModelSpecificationError

        if self.lay.n_total > self.n_moments():
            raise ModelSpecificationError(f"the model is not identified: {self.lay.n_total} free parameters but only "
                                          f"{self.n_moments()} sample statistics (thresholds and correlations)")

    def start(self) -> np.ndarray:
        from .start import start_values

        x = np.zeros(self.lay.n_total)
        x[: self.lay.q] = start_values(self.spec, self.moments)
        for g in range(self.spec.n_groups):
            n_th = len(self.lay.item[g])
            if self.lay.equal and g > 0:
                continue
            if self.lay.equal:  # shared thresholds: start at the respondent-weighted average of the groups'
                x[self.lay.th_pos[0]] = sum(f * s[:n_th] for f, s in zip(self.f, self.s))
            else:
                x[self.lay.th_pos[g]] = self.s[g][:n_th]
        for pos in self.lay.delta_pos:
            if pos is not None:
                x[pos] = 1.0
        return x

    def _evaluate(self, x: np.ndarray, jac: bool = True):
        F, out = 0.0, []
        for g, M in enumerate(self.groups):
            sig, J, info = _group_moments(M, self.lay, g, x, self.pairs, jac)
            e = self.s[g] - sig
            F += self.fw[g] * float(self.W[g] @ e**2)
            out.append((e, J, info))
        return F, out

    def optimize(self, x0: np.ndarray) -> tuple[np.ndarray, int, bool, str]:
        x = x0.copy()
        ok, it = False, 0
        for it in range(1, 501):  # noqa: B007 - the count is reported after the loop
            F, parts = self._evaluate(x)
            H = sum(self.fw[g] * (J.T * self.W[g]) @ J for g, (_, J, _) in enumerate(parts))
            grad = sum(self.fw[g] * (J.T * self.W[g]) @ e for g, (e, J, _) in enumerate(parts))
            step = np.linalg.lstsq(H, grad, rcond=None)[0]
            t = 1.0
            while t > 1e-10:
                xn = x + t * step
                if self._evaluate(xn, jac=False)[0] <= F * (1 + 1e-15):
                    break
                t /= 2
            dx = float(np.max(np.abs(xn - x) / np.maximum(1.0, np.abs(x))))
            x = xn
            if dx < 1e-12:
                ok = True
                break
        self.x_full = x
        return x[: self.lay.q], it, ok, "converged" if ok else "no convergence"

    def model_evaluation(self) -> Evaluation:
        x = self.x_full
        F, parts = self._evaluate(x)
        self._parts = parts
        for g, (_, _, info) in enumerate(parts):
            lam_phi_lam = np.diag(info["sigma"]) - np.diag(info["mats"]["T"])
            resid = 1.0 / info["delta"] ** 2 - lam_phi_lam
            for r in self.spec.rows:
                if r.kind == "delta_residual" and r.group == g:
                    r.value = float(resid[r.r])
        self._stats = self._statistics(F, parts)
        return Evaluation(F, None, None, plain_per_group(self.groups, self.x))

    def _statistics(self, F: float, parts: list) -> dict[str, Any]:
        G = self.spec.n_groups
        N = sum(pc.n_obs for pc in self.pcs)
        n = N - G  # lavaan: N - G for least-squares estimators (lav_utils_get_ntotal)
        D = [J for _, J, _ in parts]
        Gam = [pc.nacov for pc in self.pcs]
        info = sum(self.f[g] * (D[g].T * self.W[g]) @ D[g] for g in range(G))
        bread = np.linalg.inv(info)
        meat = sum(self.f[g] * (D[g].T * self.W[g]) @ Gam[g] @ (self.W[g][:, None] * D[g]) for g in range(G))
        vcov = bread @ meat @ bread / n
        chisq = n * F
        df = self.n_moments() - self.lay.n_total
        # U Gamma* with V = blockdiag(f_g W_g), Gamma* = blockdiag(Gamma_g / f_g)
        V = np.concatenate([self.f[g] * self.W[g] for g in range(G)])
        Dall = np.vstack(D)
        VD = V[:, None] * Dall
        U = np.diag(V) - VD @ bread @ VD.T
        Gstar = _block_diag([Gam[g] / self.f[g] for g in range(G)])
        UG = U @ Gstar
        tr1, tr2 = float(np.trace(UG)), float(np.sum(UG * UG.T))
        a = np.sqrt(df / tr2) if df > 0 else 1.0
        b = df - a * tr1 if df > 0 else 0.0
        # independence baseline: every correlation zero, thresholds free in each group
        chisq_b, tr1b, tr2b, df_b = 0.0, 0.0, 0.0, 0
        for g, pc in enumerate(self.pcs):
            k = len(self.lay.item[g])
            r, w = self.s[g][k:], self.W[g][k:]
            chisq_b += (pc.n_obs - 1) * float(w @ r**2)
            UGb = w[:, None] * Gam[g][k:, k:]
            tr1b += float(np.trace(UGb))
            tr2b += float(np.sum(UGb * UGb.T))
            df_b += len(r)
        ab = np.sqrt(df_b / tr2b)
        bb = df_b - ab * tr1b
        self.ordinal_moments = OrdinalMoments(D=D, W=self.W, Gamma=Gam, f=self.f, chisq=chisq, df=float(df),
                                              information=info)
        return {"vcov_full": vcov, "chisq": chisq, "df": float(df), "a": a, "b": b,
                "chisq_b": chisq_b, "df_b": float(df_b), "ab": ab, "bb": bb}

    def vcov(self, ev: Evaluation) -> tuple[np.ndarray, bool]:
        vc = self._stats["vcov_full"]
        q = self.lay.q
        return vc[:q, :q], bool(np.all(np.isfinite(vc)))

    def test(self, ev: Evaluation) -> tuple[TestStatistic, dict[str, float | None]]:
        st = self._stats
        G = self.spec.n_groups
        t = TestStatistic(chisq=st["chisq"], df=st["df"], baseline_chisq=st["chisq_b"], baseline_df=st["df_b"],
                          n_test=sum(pc.n_obs for pc in self.pcs) - G,  # lavaan: N - G for least squares
                          n_groups=G, kind="scaled_shifted", scaling_factor=1.0 / st["a"], shift=st["b"],
                          baseline_scaling_factor=1.0 / st["ab"], baseline_shift=st["bb"])
        return t, {}

    def srmr(self, ev: Evaluation) -> float:
        # SRMR on the correlation residuals (the unit diagonal counts in the denominator), groups weighted
        # by N_g / N (lavaan)
        p = self.spec.p
        total = 0.0
        for g, (e, _, _) in enumerate(self._parts):
            resid = e[len(self.lay.item[g]):]
            total += self.f[g] * float(np.sqrt((resid @ resid) / (p * (p + 1) / 2)))
        return total

    def n_extra(self) -> int:
        return self.lay.n_total - self.lay.q

    def fmin(self, ev: Evaluation, test: TestStatistic) -> float | None:
        return None  # WLSMV reports no fmin (as before this hook)

    def extra_rows(self) -> list[dict[str, Any]]:
        """Thresholds (and the scale factors of groups 2.. when thresholds are equal) with robust SEs."""
        se = np.sqrt(np.clip(np.diag(self._stats["vcov_full"]), 0, None))
        x = self.x_full
        out = []
        labels = self.spec.group_labels
        for g in range(self.spec.n_groups):
            k = 0
            for j, v in enumerate(self.spec.ov):
                for t_i in range(self.lay.n_th[g][j]):
                    pos = int(self.lay.th_pos[g][k])
                    out.append({"lhs": v, "op": "|", "rhs": f"t{t_i + 1}", "group": labels[g],
                                "label": "",
                                "estimate": float(x[pos]), "se": float(se[pos]),
                                "std_lv": float(x[pos]), "std_all": float(x[pos])})
                    k += 1
        for g in range(1, self.spec.n_groups):
            pos_g = self.lay.delta_pos[g]
            if pos_g is None:
                continue
            for j, v in enumerate(self.spec.ov):
                pos = int(pos_g[j])
                out.append({"lhs": v, "op": "~*~", "rhs": v, "group": labels[g], "label": "",
                            "estimate": float(x[pos]), "se": float(se[pos]), "std_lv": float(x[pos]),
                            "std_all": float(x[pos])})
        return out

    def notes(self) -> dict[str, Any]:
        return {"polychoric": self.pcs[0] if len(self.pcs) == 1 else self.pcs, "ordinal": self.ordinal_moments}

    # -- diagnostics: lavaan's modindices and residuals for ordered items
    def _candidate_jacobian(self, g: int, dS: np.ndarray, dM: np.ndarray) -> np.ndarray:
        """d(thresholds, correlations) / d(candidates) from the candidates' dSigma and dmu."""
        delta = self._parts[g][2]["delta"]
        item = self.lay.item[g]
        pi, pj = self.pairs
        return np.vstack([-(delta[item][:, None] * dM[:, item].T),
                          (delta[pi] * delta[pj])[:, None] * dS[:, pi, pj].T])

    def score_test_terms(self, ev: Evaluation, H: np.ndarray | None) -> tuple[np.ndarray, Any]:
        """DWLS on (thresholds, polychoric correlations), as lavaan's ``modindices`` for ordered
        items: the gradient of lavaan's fit function, sum_g (N_g - 1) / N e_g' W_g e_g, is
        -2 (N_g - 1) / N J' W e, and the expected information 2 sum_g f_g J' W J (f_g = N_g / N)
        over all free parameters, thresholds included (Delta' W Delta)."""
        H = 2.0 * sum(self.f[g] * (J.T * self.W[g]) @ J for g, (_, J, _) in enumerate(self._parts))
        N = sum(pc.n_obs for pc in self.pcs)

        def terms(g: int, dS: np.ndarray, dM: np.ndarray, e: dict):
            res, J, _ = self._parts[g]
            Jc = self._candidate_jacobian(g, dS, dM)
            WJc = self.W[g][:, None] * Jc
            f = self.f[g]
            grad = -2.0 * (self.pcs[g].n_obs - 1) / N * (WJc.T @ res)
            return grad, 2.0 * f * np.einsum("kc,kc->c", Jc, WJc), 2.0 * f * (WJc.T @ J)

        return H, terms

    def residual_matrices(self, ev: Evaluation) -> dict[str, list[Any]]:
        """Residuals of the polychoric correlations and thresholds (lavaan ``residuals`` for ordered
        items): raw = sample - implied; normalized = raw / sqrt(diag(Gamma_g) / N); standardized =
        raw / sqrt(diag(Q Gamma_g Q') / N) with Q = I - f_g J_g A0^+ J_g' W_g, A0 = sum_g f_g J_g' W_g J_g
        (lavaan ``lav_residuals_acov``: NACOV over the total N, the h1 information diag(W)).  As
        lavaan, a residual below 1e-5 in absolute value is divided by 1, a negative variance gives
        NaN.  ``correlation`` equals ``raw``; ``thresholds`` holds the threshold residuals."""
        import pandas as pd

        from .residuals import standardized_ratio as ratio

        N = sum(pc.n_obs for pc in self.pcs)
        p = self.spec.p
        names = self.spec.ov
        pi, pj = self.pairs
        A0 = sum(self.f[g] * (J.T * self.W[g]) @ J for g, (_, J, _) in enumerate(self._parts))
        A0inv = np.linalg.pinv(A0)
        out: dict[str, list[Any]] = {"raw": [], "normalized": [], "standardized": [], "correlation": [],
                                     "thresholds": []}

        for g, (res, J, _) in enumerate(self._parts):
            acov = self.pcs[g].nacov / N
            Q = np.eye(len(res)) - self.f[g] * (J @ A0inv @ J.T) * self.W[g][None, :]
            vecs = {"raw": res, "normalized": ratio(res, np.diag(acov)),
                    "standardized": ratio(res, np.einsum("ij,jk,ik->i", Q, acov, Q))}
            k = len(self.lay.item[g])
            for key, v in vecs.items():
                m = np.zeros((p, p))
                m[pi, pj] = m[pj, pi] = v[k:]
                out[key].append(pd.DataFrame(m, index=names, columns=names))
            out["correlation"].append(out["raw"][-1].copy())
            labels = [f"{v}|t{t + 1}" for j, v in enumerate(names) for t in range(self.lay.n_th[g][j])]
            out["thresholds"].append(pd.DataFrame({key: v[:k] for key, v in vecs.items()}, index=labels))
        return out


def _block_diag(blocks: list[np.ndarray]) -> np.ndarray:
    n = sum(b.shape[0] for b in blocks)
    out = np.zeros((n, n))
    k = 0
    for b in blocks:
        m = b.shape[0]
        out[k:k + m, k:k + m] = b
        k += m
    return out


def satorra2000_difference(h0: OrdinalMoments, h1: OrdinalMoments) -> dict[str, float]:
    """Scaled-and-shifted chi-square difference of two nested ordinal models (Satorra 2000).

    ``h0`` is the more restricted model, ``h1`` the less restricted one, fitted to the same
    groups and items.  As lavaan's ``lavTestLRT`` for WLSMV (``method = "satorra.2000"``,
    ``A.method = "delta"``): the constraints are A, the orthogonal complement of
    H = D1^+ D0 (D the Jacobians of the moments over the free parameters); with
    P = I1^-1, M = P A' (A P A')^+ A P and U = V D1 M D1' V (V = blockdiag(W_g)),
    Gamma_f = blockdiag(f_g Gamma_g), m = df0 - df1:

        a = sqrt(m / tr((U Gamma_f)^2)),  b = m - a sum_g f_g tr(W_g Gamma_g W_g D1_g M D1_g'),
        T_d = a (T0 - T1) + b,  p = P(chi2_m > T_d).

    Returns ``{"chisq_diff", "df_diff", "p_value", "a", "b"}``; with m = 0 (lavaan's
    thresholds+loadings+intercepts model of ordinal items equals the thresholds+loadings one)
    ``chisq_diff`` is T0 - T1 and the p-value NaN.
    """
    from scipy.linalg import null_space

    from .._distributions import chi2_sf

    m = int(round(h0.df - h1.df))
    if m == 0:
        return {"chisq_diff": h0.chisq - h1.chisq, "df_diff": 0.0, "p_value": float("nan"), "a": float("nan"),
                "b": float("nan")}
    D1, D0 = np.vstack(h1.D), np.vstack(h0.D)
    H = np.linalg.pinv(D1) @ D0
    A = null_space(H.T).T
    P = np.linalg.inv(h1.information)
    APA = A @ P @ A.T
    tiny = np.sqrt(np.finfo(float).eps)
    keep = ~((np.abs(APA.sum(axis=0)) < tiny) & (np.abs(APA.sum(axis=1)) < tiny))
    A = A[keep]
    M = P @ A.T @ np.linalg.pinv(A @ P @ A.T) @ A @ P
    tr1 = 0.0
    for g in range(len(h1.D)):
        Wg, Dg = h1.W[g], h1.D[g]
        tr1 += h1.f[g] * float(np.sum((Wg[:, None] * h1.Gamma[g] * Wg[None, :]) * (Dg @ M @ Dg.T)))
    V = np.concatenate(h1.W)
    U = (V[:, None] * D1) @ M @ (D1.T * V[None, :])
    UG = U @ _block_diag([h1.f[g] * h1.Gamma[g] for g in range(len(h1.D))])
    tr2 = float(np.sum(UG * UG.T))
    a = np.sqrt(m / tr2)
    b = m - a * tr1
    T = (h0.chisq - h1.chisq) * a + b
    return {"chisq_diff": float(T), "df_diff": float(m), "p_value": chi2_sf(max(T, 0.0), m), "a": float(a),
            "b": float(b)}
