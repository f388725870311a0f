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

from .._exceptions import ParameterError
from .estimator import Estimator, SampleData, register
from .fit_measures import TestStatistic
from .ml import Evaluation, fisher_scoring, invert_information, moments_from_cov
from .specification import Matrices, ModelSpec

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


def check_coverage(data: np.ndarray, names: list[str], label: str = "") -> None:
    """The saturated model needs every variable observed with some spread and every pair of
    variables observed together (lavaan's coverage check); otherwise EM has no solution."""
    from .._exceptions import NumericalError

    where = f" in group {label}" if label else ""
    if data.shape[0] <= data.shape[1]:
        raise NumericalError(f"missing='fiml'{where}: {data.shape[0]} respondents for {data.shape[1]} variables; "
                             "the saturated model needs more respondents than variables")
    obs = ~np.isnan(data)
    count = obs.sum(axis=0)
    none = [names[j] for j in np.flatnonzero(count < 2)]
    if none:
        raise NumericalError(f"missing='fiml': variable(s) {', '.join(none)}{where} have fewer than 2 observed answers")
    with np.errstate(invalid="ignore"):
        spread = np.nanmax(data, axis=0) - np.nanmin(data, axis=0)
    const = [names[j] for j in np.flatnonzero(spread == 0)]
    if const:
        raise NumericalError(f"missing='fiml': constant item(s){where} (zero variance): {', '.join(const)}")
    joint = obs.T.astype(np.int64) @ obs.astype(np.int64)
    bad = np.argwhere(np.triu(joint < 2, 1))
    if len(bad):
        pairs = ", ".join(f"{names[i]} and {names[j]}" for i, j in bad[:5])
        raise NumericalError(f"missing='fiml': variables never (or once) answered together{where}: {pairs} "
                             f"({len(bad)} pair(s)); their covariance cannot be estimated")


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
    """Central differences of an analytic gradient, symmetrised.

    NaN where the gradient is undefined next to ``x`` (implied covariance matrix not
    positive definite there): the caller then reports the information as singular."""
    q = len(x)
    H = np.zeros((q, q))
    for k in range(q):
        h = 1e-5 * max(1.0, abs(x[k]))
        xp, xm = x.copy(), x.copy()
        xp[k] += h
        xm[k] -= h
        gp, gm = fun(xp), fun(xm)
        if gp is None or gm is None:
            return np.full((q, q), np.nan)
        H[:, k] = (gp - gm) / (2 * h)
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


@register("ML", "fiml")
class FIML(Estimator):
    """Full-information ML over missing-data patterns (lavaan ``missing = "ml"``), observed-
    information standard errors; the test compares with the EM saturated model."""

    needs_raw = True
    needs_meanstructure = True
    robust = False

    def prepare(self, spec: ModelSpec, sample: SampleData) -> None:
        if self.likelihood != "normal":
            raise ParameterError("missing='fiml' uses the normal likelihood; drop likelihood='wishart'")
        assert sample.blocks is not None
        self.spec = spec
        for g, block in enumerate(sample.blocks):
            check_coverage(block, spec.ov, spec.group_labels[g] if spec.n_groups > 1 else "")
        self.mgroups = [make_group(b) for b in sample.blocks]
        self.em = [em_saturated(mg) for mg in self.mgroups]
        self.moments = [moments_from_cov(s, m, mg.n, "normal", unbiased=False, names=spec.ov)
                        for (m, s, _, _), mg in zip(self.em, self.mgroups)]
        self.groups = [Matrices(spec, g) for g in range(spec.n_groups)]

    def evaluate(self, x: np.ndarray, *, grad: bool = True, info: bool = True) -> Evaluation:
        return evaluate_fiml(self.spec, self.groups, self.mgroups, x, grad=grad, info=info)

    def optimize(self, x0: np.ndarray) -> tuple[np.ndarray, int, bool, str]:
        return fisher_scoring(self.spec, self.groups, self.moments, x0, evaluator=self.evaluate, max_iter=500)

    def _hessian(self) -> np.ndarray:
        if not hasattr(self, "_H"):
            # observed information (lavaan's default with missing = "ml"): half the Hessian of F
            self._H = numeric_hessian(lambda z: self.evaluate(z, info=False).grad, self.x)
        return self._H

    def vcov(self, ev: Evaluation) -> tuple[np.ndarray, bool]:
        N = sum(mg.n for mg in self.mgroups)
        return invert_information(self._hessian(), 2.0 / N, self.spec.n_free)

    def _logliks(self) -> tuple[float, float, float]:
        evx = self.evaluate(self.x, grad=False, info=False)
        logl = logl_b = 0.0
        for mg, e in zip(self.mgroups, evx.per_group):
            logl += loglik(mg, e["mu"], e["sigma"])
            # independence model: each variable's mean and variance from its observed values (closed form)
            logl_b += loglik(mg, np.nanmean(mg.data, axis=0), np.diag(np.nanvar(mg.data, axis=0)))
        logl_h1 = float(sum(ll for _, _, ll, _ in self.em))
        return logl, logl_b, logl_h1

    def test(self, ev: Evaluation) -> tuple[TestStatistic, dict[str, float | None]]:
        spec = self.spec
        logl, logl_b, logl_h1 = self._logliks()
        N = sum(mg.n for mg in self.mgroups)
        p, G = spec.p, spec.n_groups
        t = TestStatistic(chisq=2 * (logl_h1 - logl), df=float(self.n_moments() - spec.n_free),
                          baseline_chisq=2 * (logl_h1 - logl_b), baseline_df=float(G * p * (p - 1) // 2),
                          n_test=N, n_groups=G)
        return t, {"loglik": logl, "unrestricted_loglik": logl_h1}

    def notes(self) -> dict:
        return {"em_iterations": [it for *_, it in self.em]}


@register("MLR", "fiml")
class FIMLRobust(FIML):
    """FIML with sandwich standard errors from casewise scores of the observed-data
    likelihood and the Yuan-Bentler (Mplus) scaled test with the saturated model's observed
    information at the EM estimates (lavaan ``missing = "ml", estimator = "MLR"``)."""

    robust = True

    def vcov(self, ev: Evaluation) -> tuple[np.ndarray, bool]:
        spec = self.spec
        q = spec.n_free
        H = self._hessian()
        E = 0.5 * H
        _, ok = invert_information(E, 1.0, q)
        self._scaling = None
        if not ok:
            return np.full((q, q), np.nan), False
        Einv = np.linalg.inv(E)
        tri = np.tril_indices(spec.p)
        B0 = np.zeros_like(E)
        trace = trace_b = 0.0
        full = sum(mg.n for mg in self.mgroups)
        for g, (mg, (mu_h1, sig_h1, _, _)) in enumerate(zip(self.mgroups, self.em)):
            f = mg.n / full
            mats = self.groups[g].build(self.x)
            sigma, mu, aux = self.groups[g].implied(mats)
            dS, dM = self.groups[g].derivatives(mats, aux, q)
            D = np.vstack([dM.T, dS[:, tri[0], tri[1]].T])
            S = casewise_scores_missing(mg, mu, sigma) @ D
            B0g = S.T @ S / mg.n
            B0 += f * B0g
            A1, B1 = saturated_information(mg, mu_h1, sig_h1)
            t_h1 = float(np.trace(np.linalg.solve(A1, B1)))
            trace += t_h1 - f * float(np.sum(B0g * Einv.T))
            trace_b += t_h1 - baseline_trace(mg)
        df = self.n_moments() - q
        self._scaling = (trace / df, trace_b / (spec.n_groups * spec.p * (spec.p - 1) / 2))
        return Einv @ B0 @ Einv / full, True

    def test(self, ev: Evaluation) -> tuple[TestStatistic, dict[str, float | None]]:
        t, lik = super().test(ev)
        if self._scaling is None:
            return t, lik
        c, cb = self._scaling
        # lavaan's robust CFI/TLI/RMSEA under FIML use another correction (Savalei); they are
        # not reported rather than reported wrongly
        return TestStatistic(t.chisq, t.df, t.baseline_chisq, t.baseline_df, t.n_test, t.n_groups, kind="yuan_bentler",
                             scaling_factor=c, baseline_scaling_factor=cb, robust_indices=False), lik
