"""Full-information maximum likelihood for incomplete data (lavaan missing = "ml").

Cases are grouped by missing-data pattern once; pattern k with observed variables O,
n_k cases, mean ybar_k and covariance S_k (divisor n_k) contributes
    -n_k/2 [p_O log 2 pi + log|Sigma_OO| + tr(Sigma_OO^-1 C_k)],  C_k = S_k + d_k d_k',  d_k = ybar_k - mu_O
to the log-likelihood (Arbuckle 1996).  The objective minimised is
F = sum_k (n_k/N) F_k with F_k = log|Sigma_OO| + tr(K_k C_k), K_k = Sigma_OO^-1, i.e.
-2 logl / N without constants.  Patterns with the same number of observed variables
are stacked, so each evaluation is a few batched factorisations, not a loop over cases.

Derivatives (all analytic; X, Y symmetric perturbations of Sigma, restricted to O):
    dF_k   = tr(W_k X) - 2 u_k' dmu,        W_k = K_k - P_k,  P_k = K_k C_k K_k,  u_k = K_k d_k
    d2F_k  = -tr(K X K Y) + tr(K X P Y) + tr(P X K Y)        (Sigma, Sigma)
             + 2 dmu' K X u                                    (mu, Sigma)
             + 2 dmu' K dmu                                    (mu, mu)
and the expected information replaces P by K and u by 0 (lavaan
``lav_mvnorm_missing_information_expected``).  Summed over patterns these are p x p
and p^2 x p^2 arrays (two matrix products over the stacked patterns), so the model's
information is Delta' H Delta plus the second-derivative terms of Sigma(theta) and
mu(theta) weighted by the gradient (the observed information, lavaan's default with
missing = "ml").

The saturated (h1) model is fitted by EM (Dempster, Laird & Rubin 1977) on the
patterns' sufficient statistics, then polished by Newton steps on the same analytic
Hessian; the test statistic is 2 (logl_h1 - logl_h0).  The model fit starts from the
complete-data ML fit to the EM moments (close to the FIML optimum) and takes Newton
steps on the observed information.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .._exceptions import ParameterError
from .estimator import Estimator, SampleData, register
from .fit_measures import TestStatistic
from .ml import Evaluation, fisher_scoring, halving_search, invert_information, moments_from_cov
from .specification import Matrices, ModelSpec

LOG2PI = float(np.log(2 * np.pi))
_BLAS: list[Any] = []


def one_blas_thread() -> contextlib.AbstractContextManager:
    """Run with one BLAS thread.  FIML's matrices are small (p^2 x p^2 at most, a few hundred
    rows): OpenBLAS threads save little on them, and on a busy machine their hand-offs made
    a fit ten times slower (measured: 6.2 s against 0.6 s on bfi with load 14 on 2 cores)."""
    try:
        if not _BLAS:
            from threadpoolctl import ThreadpoolController

            _BLAS.append(ThreadpoolController())
        return _BLAS[0].limit(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()


@dataclass
class Pattern:
    obs: np.ndarray  # observed variable indices
    n: int
    mean: np.ndarray
    cov: np.ndarray  # divisor n
    rows: np.ndarray  # row indices into the group's data


@dataclass
class Batch:
    """Patterns with the same number ``s`` of observed variables, stacked."""

    obs: np.ndarray  # (k, s) observed variables
    mis: np.ndarray  # (k, p - s) missing variables
    n: np.ndarray  # (k,) cases
    mean: np.ndarray  # (k, s)
    cov: np.ndarray  # (k, s, s), divisor n_k
    flat: np.ndarray  # (k, s*s) positions o_a * p + o_b in a flattened p x p matrix
    first: int  # index of the batch's first pattern in the group's stacked arrays


@dataclass
class MissingGroup:
    data: np.ndarray  # n x p with NaN
    patterns: list[Pattern]
    batches: list[Batch]

    @property
    def n(self) -> int:
        return int(self.data.shape[0])

    @property
    def p(self) -> int:
        return int(self.data.shape[1])

    @property
    def n_patterns(self) -> int:
        return len(self.patterns)


def make_group(data: np.ndarray) -> MissingGroup:
    """Rows grouped by missing-data pattern (rows with no answer at all are left out)."""
    n, p = data.shape
    obs = ~np.isnan(data)
    keys, inverse = np.unique(obs, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(keys) + 1))
    patterns = []
    for k, key in enumerate(keys):
        o = np.flatnonzero(key)
        if o.size == 0:
            continue
        rows = order[bounds[k]:bounds[k + 1]]
        y = data[np.ix_(rows, o)]
        mean = y.mean(axis=0)
        yc = y - mean
        patterns.append(Pattern(o, len(rows), mean, yc.T @ yc / len(rows), rows))
    # stack patterns of equal size (most observed first: the complete cases lead)
    patterns.sort(key=lambda pt: (-len(pt.obs), tuple(pt.obs)))
    batches = []
    start = 0
    while start < len(patterns):
        s = len(patterns[start].obs)
        stop = start
        while stop < len(patterns) and len(patterns[stop].obs) == s:
            stop += 1
        chunk = patterns[start:stop]
        obs_ = np.array([pt.obs for pt in chunk])
        allv = np.arange(p)
        mis_ = np.array([np.setdiff1d(allv, pt.obs) for pt in chunk]).reshape(len(chunk), p - s)
        batches.append(Batch(obs_, mis_, np.array([pt.n for pt in chunk], float), np.array([pt.mean for pt in chunk]),
                             np.array([pt.cov for pt in chunk]),
                             (obs_[:, :, None] * p + obs_[:, None, :]).reshape(len(chunk), -1), start))
        start = stop
    return MissingGroup(data, patterns, batches)


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


# ----------------------------------------------------------------------------- per-pattern terms
@dataclass
class Terms:
    """Sums over one group's patterns at (mu, Sigma); weights w_k = n_k / n."""

    F: float  # sum_k w_k F_k
    G: np.ndarray | None = None  # p x p, dF/dSigma entrywise (sum_k w_k W_k embedded)
    gmu: np.ndarray | None = None  # p, dF/dmu
    w: np.ndarray | None = None  # (n_patterns,)
    K: np.ndarray | None = None  # (n_patterns, p*p) embedded Sigma_OO^-1
    P: np.ndarray | None = None  # (n_patterns, p*p) embedded K C K
    u: np.ndarray | None = None  # (n_patterns, p) embedded K d


def pattern_terms(mg: MissingGroup, mu: np.ndarray, sigma: np.ndarray, level: int = 1) -> Terms | None:
    """F (level 0), its gradient (1), the pieces of the expected (2) or observed (3)
    information; None when some Sigma_OO is not positive definite."""
    p = mg.p
    n = float(mg.n)
    F = 0.0
    G = np.zeros(p * p) if level >= 1 else None
    gmu = np.zeros(p) if level >= 1 else None
    npat = mg.n_patterns
    Kf = np.zeros((npat, p * p)) if level >= 2 else None
    Pf = np.zeros((npat, p * p)) if level >= 3 else None
    Uf = np.zeros((npat, p)) if level >= 3 else None
    w_all = np.empty(npat)
    for b in mg.batches:
        k, s = b.obs.shape
        So = sigma[b.obs[:, :, None], b.obs[:, None, :]]
        try:
            L = np.linalg.cholesky(So)
        except np.linalg.LinAlgError:
            return None
        logdet = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
        Li = np.linalg.inv(L)
        K = np.matmul(Li.transpose(0, 2, 1), Li)
        d = b.mean - mu[b.obs]
        C = b.cov + d[:, :, None] * d[:, None, :]
        w = b.n / n
        w_all[b.first:b.first + k] = w
        F += float(w @ (logdet + np.einsum("kab,kab->k", K, C)))
        if level >= 1:
            KC = np.matmul(K, C)
            Pk = np.matmul(KC, K)
            u = np.einsum("kab,kb->ka", K, d)
            G += np.bincount(b.flat.ravel(), weights=(w[:, None, None] * (K - Pk)).ravel(), minlength=p * p)
            gmu += np.bincount(b.obs.ravel(), weights=(-2.0 * w[:, None] * u).ravel(), minlength=p)
        if level >= 2:
            rows = np.arange(b.first, b.first + k)[:, None]
            Kf[rows, b.flat] = K.reshape(k, -1)
            if level >= 3:
                Pf[rows, b.flat] = Pk.reshape(k, -1)
                Uf[rows, b.obs] = u
    return Terms(F, None if G is None else G.reshape(p, p), gmu, w_all, Kf, Pf, Uf)


def saturated_hessian(t: Terms, p: int, observed: bool) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Hessian of F in (mu, vec Sigma): blocks (mu mu) p x p, (mu Sigma) p x p^2 (None for the
    expected information, where it vanishes) and (Sigma Sigma) p^2 x p^2, as bilinear forms
    on symmetric perturbations (see the module docstring)."""
    assert t.K is not None and t.w is not None
    wK = t.w[:, None] * t.K
    if observed:
        assert t.P is not None and t.u is not None
        # R[(d,a),(b,c)] = sum_k w_k [K_da (P - K)_bc + P_da K_bc]
        R = wK.T @ (t.P - t.K) + (t.w[:, None] * t.P).T @ t.K
    else:
        R = wK.T @ t.K
    # coefficient of X_ab Y_cd is R[(d,a),(b,c)]
    Hss = R.reshape(p, p, p, p).transpose(1, 2, 3, 0).reshape(p * p, p * p)
    Hmm = 2.0 * wK.sum(axis=0).reshape(p, p)
    Hms = None
    if observed:
        # 2 sum_k w_k K_ia u_b
        Hms = 2.0 * (wK.reshape(-1, p, p).transpose(1, 2, 0).reshape(p * p, -1) @ t.u).reshape(p, p * p)
    return Hmm, Hms, Hss


@lru_cache(maxsize=8)
def _vech_index(p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions a*p+b and b*p+a of vech (a >= b, row-major lower triangle) and the weight
    1/2 on the diagonal, to fold a full-coordinate form into vech coordinates."""
    a, b = np.tril_indices(p)
    half = np.where(a == b, 0.5, 1.0)
    return a * p + b, b * p + a, half


def to_vech(Hmm: np.ndarray, Hms: np.ndarray | None, Hss: np.ndarray) -> np.ndarray:
    """(mu, vech Sigma) form D' H D of a full-coordinate Hessian (D the duplication matrix)."""
    p = Hmm.shape[0]
    i1, i2, half = _vech_index(p)
    rows = (Hss[i1] + Hss[i2]) * half[:, None]
    Hv = (rows[:, i1] + rows[:, i2]) * half[None, :]
    out = np.zeros((p + len(i1),) * 2)
    out[:p, :p] = Hmm
    out[p:, p:] = Hv
    if Hms is not None:
        cross = (Hms[:, i1] + Hms[:, i2]) * half[None, :]
        out[:p, p:] = cross
        out[p:, :p] = cross.T
    return out


def vech_gradient(t: Terms) -> np.ndarray:
    """Gradient of F in (mu, vech Sigma)."""
    assert t.G is not None and t.gmu is not None
    p = len(t.gmu)
    i1, i2, half = _vech_index(p)
    Gf = t.G.ravel()
    return np.concatenate([t.gmu, (Gf[i1] + Gf[i2]) * half])


def loglik(group: MissingGroup, mu: np.ndarray, sigma: np.ndarray) -> float:
    """Observed-data log-likelihood of one group at (mu, Sigma); -inf if not positive definite."""
    t = pattern_terms(group, mu, sigma, level=0)
    if t is None:
        return -np.inf
    const = sum(pt.n * len(pt.obs) for pt in group.patterns) * LOG2PI
    return -0.5 * (group.n * t.F + const)


# ----------------------------------------------------------------------------- saturated model
def _em_step(group: MissingGroup, mu: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One EM step on the patterns' sufficient statistics (no loop over cases).

    For a pattern with observed O and missing M, E(y_M | y_O) = c + beta y_O with
    beta = Sigma_MO Sigma_OO^-1 and c = mu_M - beta mu_O, and the conditional covariance
    Sigma_MM - beta Sigma_OM is added to the M block (Dempster, Laird & Rubin 1977)."""
    p = group.p
    n = float(group.n)
    T1 = np.zeros(p)
    T2 = np.zeros(p * p)
    for b in group.batches:
        k, s = b.obs.shape
        Q = b.cov + b.mean[:, :, None] * b.mean[:, None, :]  # raw second moments / n_k
        wn = b.n
        T1 += np.bincount(b.obs.ravel(), weights=(wn[:, None] * b.mean).ravel(), minlength=p)
        T2 += np.bincount(b.flat.ravel(), weights=(wn[:, None, None] * Q).ravel(), minlength=p * p)
        r = p - s
        if r == 0:
            continue
        So = sigma[b.obs[:, :, None], b.obs[:, None, :]]
        Som = sigma[b.obs[:, :, None], b.mis[:, None, :]]  # (k, s, r)
        beta = np.linalg.solve(So, Som).transpose(0, 2, 1)  # (k, r, s)
        c = mu[b.mis] - np.einsum("krs,ks->kr", beta, mu[b.obs])
        bm = np.einsum("krs,ks->kr", beta, b.mean)
        ym = c + bm  # pattern mean of the imputed y_M
        T1 += np.bincount(b.mis.ravel(), weights=(wn[:, None] * ym).ravel(), minlength=p)
        Tmo = c[:, :, None] * b.mean[:, None, :] + np.matmul(beta, Q)  # (k, r, s)
        cond = sigma[b.mis[:, :, None], b.mis[:, None, :]] - np.matmul(beta, Som)
        Tmm = (c[:, :, None] * c[:, None, :] + c[:, :, None] * bm[:, None, :] + bm[:, :, None] * c[:, None, :]
               + np.matmul(np.matmul(beta, Q), beta.transpose(0, 2, 1)) + cond)
        mo = (b.mis[:, :, None] * p + b.obs[:, None, :]).ravel()
        om = (b.obs[:, None, :] * p + b.mis[:, :, None]).ravel()
        mm = (b.mis[:, :, None] * p + b.mis[:, None, :]).ravel()
        wmo = (wn[:, None, None] * Tmo).ravel()
        T2 += np.bincount(mo, weights=wmo, minlength=p * p) + np.bincount(om, weights=wmo, minlength=p * p)
        T2 += np.bincount(mm, weights=(wn[:, None, None] * Tmm).ravel(), minlength=p * p)
    mu_new = T1 / n
    sig = T2.reshape(p, p) / n - np.outer(mu_new, mu_new)
    return mu_new, 0.5 * (sig + sig.T)


def _unvech(theta: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    tri = np.tril_indices(p)
    S = np.zeros((p, p))
    S[tri] = theta[p:]
    return theta[:p].copy(), S + np.tril(S, -1).T


def em_saturated(group: MissingGroup, *, tol: float = 1e-13, max_iter: int = 20000) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Unrestricted mean and covariance; returns (mu, sigma, loglik, iterations).

    EM on the patterns' sufficient statistics from lavaan's start (observed means and
    variances).  EM converges linearly at the rate of the fraction of missing information:
    it stops when the distance to the limit, estimated from the last two steps, is below
    1e-12; when it is slower than that (much missing information), Newton steps on the
    observed-data likelihood with the analytic Hessian finish the job (quadratically).
    """
    data = group.data
    p = group.p
    mu = np.nanmean(data, axis=0)
    sigma = np.diag(np.nanvar(data, axis=0))
    it = 0
    prev = np.inf
    done = False
    for it in range(1, 201):
        mu_new, sig_new = _em_step(group, mu, sigma)
        delta = max(float(np.abs(mu_new - mu).max()), float(np.abs(sig_new - sigma).max()))
        mu, sigma = mu_new, sig_new
        rate = min(delta / prev, 0.999) if prev > 0 else 0.0
        prev = delta
        if delta == 0.0 or (it > 2 and delta * rate / (1.0 - rate) < 1e-12 * max(1.0, float(np.abs(sigma).max()))):
            done = True
            break
        if it > 2 and delta < 1e-6 and rate > 0.05:
            break  # slow: Newton from here
    if not done:
        tri = np.tril_indices(p)
        theta = np.concatenate([mu, sigma[tri]])
        t = pattern_terms(group, mu, sigma, level=3)
        for _ in range(50):
            if t is None:
                break
            g = vech_gradient(t)
            if float(np.abs(g).max()) < 1e-15:
                done = True
                break
            H = to_vech(*saturated_hessian(t, p, observed=True))
            try:
                step = np.linalg.solve(H, g)
            except np.linalg.LinAlgError:
                break
            s = 1.0
            while s > 1e-6:
                cand = theta - s * step
                tn = pattern_terms(group, *_unvech(cand, p), level=3)
                if tn is not None and tn.F <= t.F + 1e-15 * abs(t.F):
                    break
                s /= 2.0
            else:
                break
            it += 1
            theta, t = cand, tn
            # quadratic convergence: after a step this small the error is ~ its square
            if s == 1.0 and float(np.abs(step).max()) < 1e-7 * max(1.0, float(np.abs(theta).max())):
                done = True
                break
        if done:
            mu, sigma = _unvech(theta, p)
    ll = loglik(group, mu, sigma)
    if not done or not np.isfinite(ll):  # Newton failed: plain EM to the tolerance
        ll_old = -np.inf
        for _ in range(max_iter):
            mu, sigma = _em_step(group, mu, sigma)
            it += 1
            ll = loglik(group, mu, sigma)
            if abs(ll - ll_old) < tol * max(1.0, abs(ll)):
                break
            ll_old = ll
    return mu, sigma, ll, it


# ----------------------------------------------------------------------------- the model
def _jacobian(M: Matrices, mats: dict, aux: dict, q: int) -> tuple[np.ndarray, np.ndarray]:
    dS, dM = M.derivatives(mats, aux, q)
    p = dM.shape[1]
    return dS.reshape(q, p * p), dM


def structure_hessian(M: Matrices, mats: dict, G: np.ndarray, gmu: np.ndarray, q: int) -> np.ndarray | None:
    """sum_ab G_ab d2Sigma_ab/dtheta2 + sum_a gmu_a d2mu_a/dtheta2 for Sigma = L Psi L' + Theta,
    mu = nu + L alpha; None for models with a B matrix (second-order factors, regressions).

    d2Sigma/dl_ij dl_kl = psi_jl (e_i e_k' + e_k e_i')  -> 2 psi_jl G_ik;
    d2Sigma/dl_ij dpsi_ab = e_i v' + v e_i', v = L_b [j = a] + L_a [j = b, a != b];
    d2mu/dl_ij dalpha_a = e_i [j = a]."""
    rows = M.rows
    if np.any(mats["B"] != 0) or any(r.mat == "B" and r.free for r in rows):
        return None
    H = np.zeros((q, q))
    psi = mats["P"]
    GL = G @ mats["L"]
    loads = [r for r in rows if r.free and r.mat == "L"]
    if not loads:
        return H
    fi = np.array([r.free - 1 for r in loads])
    ri = np.array([r.r for r in loads])
    ci = np.array([r.c for r in loads])
    np.add.at(H, (fi[:, None], fi[None, :]), 2.0 * psi[np.ix_(ci, ci)] * G[np.ix_(ri, ri)])
    psis = [r for r in rows if r.free and r.mat == "P"]
    if psis:
        fp = np.array([r.free - 1 for r in psis])
        pr = np.array([r.r for r in psis])
        pc = np.array([r.c for r in psis])
        val = 2.0 * (GL[np.ix_(ri, pc)] * (ci[:, None] == pr[None, :])
                     + GL[np.ix_(ri, pr)] * ((ci[:, None] == pc[None, :]) & (pr != pc)[None, :]))
        np.add.at(H, (fi[:, None], fp[None, :]), val)
        np.add.at(H, (fp[:, None], fi[None, :]), val.T)
    alphas = [r for r in rows if r.free and r.mat == "A"]
    if alphas:
        fa = np.array([r.free - 1 for r in alphas])
        ar = np.array([r.r for r in alphas])
        val = gmu[ri][:, None] * (ci[:, None] == ar[None, :])
        np.add.at(H, (fi[:, None], fa[None, :]), val)
        np.add.at(H, (fa[:, None], fi[None, :]), val.T)
    return H


def evaluate_fiml(spec: ModelSpec, groups: list[Matrices], mgroups: list[MissingGroup], x: np.ndarray,
                  *, grad: bool = True, info: bool | str = True) -> Evaluation:
    """F, gradient and information over all groups.

    ``info``: False, ``True``/``"expected"`` (missing-data expected information) or
    ``"observed"`` (exact Hessian of F; None in ``Evaluation.info`` for models with B,
    where callers fall back to differences of the gradient)."""
    q = spec.n_free
    N = sum(g.n for g in mgroups)
    kind = "expected" if info is True else (info or None)
    level = 3 if kind == "observed" else 2 if kind == "expected" else 1 if grad else 0
    F = 0.0
    g_out = np.zeros(q) if grad or kind else None
    H: np.ndarray | None = np.zeros((q, q)) if kind else None
    per_group = []
    p = spec.p
    for M, mg in zip(groups, mgroups):
        mats = M.build(x)
        sigma, mu, aux = M.implied(mats)
        t = pattern_terms(mg, mu, sigma, level)
        if t is None:
            return Evaluation(np.inf, None, None, [])
        wg = mg.n / N
        F += wg * t.F
        if level >= 1:
            dSf, dM = _jacobian(M, mats, aux, q)
            assert g_out is not None and t.G is not None and t.gmu is not None
            g_out += wg * (dSf @ t.G.ravel() + dM @ t.gmu)
            if kind and H is not None:
                Hmm, Hms, Hss = saturated_hessian(t, p, observed=kind == "observed")
                Hg = dSf @ Hss @ dSf.T + dM @ Hmm @ dM.T
                if Hms is not None:
                    C = dM @ Hms @ dSf.T
                    Hg += C + C.T
                if kind == "observed":
                    extra = structure_hessian(M, mats, t.G, t.gmu, q)
                    if extra is None:
                        H = None
                    else:
                        Hg += extra
                if H is not None:
                    H += wg * Hg
        per_group.append({"mats": mats, "sigma": sigma, "mu": mu, "aux": aux})
    return Evaluation(F, g_out if grad or kind else None, H, per_group)


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


def newton_fiml(evaluator, x0: np.ndarray, *, max_iter: int = 500) -> tuple[np.ndarray, int, bool, str]:
    """Minimise F by Newton steps on the observed information (Fisher scoring where the
    observed information is not positive definite or not available), with a halving
    line search; converged when the gradient vanishes to ~1e-12 or the step is ~1e-12."""
    x = x0.copy()
    ev = evaluator(x, grad=True, info="observed")
    if not np.isfinite(ev.F):
        return x, 0, False, "starting values give a non-positive-definite implied covariance matrix"
    for it in range(1, max_iter + 1):
        g = ev.grad
        assert g is not None
        gmax = float(np.max(np.abs(g)))
        if gmax < 1e-12:
            return x, it - 1, True, "converged"
        H = ev.info
        step = None
        newton = False
        if H is not None and np.all(np.isfinite(H)):
            try:
                np.linalg.cholesky(H)
                step = np.linalg.solve(H, g)
                newton = True
            except np.linalg.LinAlgError:
                step = None
        if step is None:
            He = evaluator(x, grad=False, info="expected").info
            assert He is not None
            try:
                step = np.linalg.solve(He, g)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(He, g, rcond=None)[0]
        found = halving_search(lambda z: evaluator(z, grad=True, info=False), x, step, ev, gmax, 1e-14)
        if found is None:
            ok = gmax < 1e-8
            return x, it, ok, "converged" if ok else "line search failed"
        xn, _, t = found
        dx = float(np.max(np.abs(xn - x) / np.maximum(1.0, np.abs(x))))
        x = xn
        # a full Newton step this small leaves an error of about its square
        if dx < 1e-12 or (t == 1.0 and newton and dx < 1e-7):
            return x, it, True, "converged"
        ev = evaluator(x, grad=True, info="observed")
    return x, max_iter, False, f"no convergence after {max_iter} iterations"


# ----------------------------------------------------------------------------- casewise pieces
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


def saturated_information(group: MissingGroup, mu: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A1, B1) of the saturated model under missing data, per case (unit) at (mu, sigma):
    A1 the observed information (analytic: half the Hessian of F in (mu, vech Sigma),
    lavaan ``lav_mvnorm_missing_information_observed_samplestats``), B1 the mean outer
    product of casewise scores (``lav_mvnorm_missing_information_firstorder``)."""
    t = pattern_terms(group, mu, sigma, level=3)
    assert t is not None
    A1 = 0.5 * to_vech(*saturated_hessian(t, group.p, observed=True))
    sc = casewise_scores_missing(group, mu, sigma)
    return A1, sc.T @ sc / group.n


def complete_information(mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Unit information of the saturated model for complete data at (mu, Sigma), in (mu,
    vech Sigma): blockdiag(Sigma^-1, D'(Sigma^-1 x Sigma^-1)D / 2)."""
    p = len(mu)
    K = np.linalg.inv(sigma)
    Hss = np.einsum("ad,bc->abcd", K, K).reshape(p * p, p * p)
    return 0.5 * to_vech(2.0 * K, None, Hss)


def _baseline_start(group: MissingGroup) -> tuple[np.ndarray, np.ndarray]:
    """Independence model under FIML: each variable's mean and variance of its observed values."""
    return np.nanmean(group.data, axis=0), np.nanvar(group.data, axis=0)


def _baseline_columns(p: int) -> np.ndarray:
    tri = np.tril_indices(p)
    return np.concatenate([np.arange(p), p + np.flatnonzero(tri[0] == tri[1])])


def baseline_trace(group: MissingGroup, sc: np.ndarray | None = None, A1: np.ndarray | None = None) -> float:
    """tr(E_b^-1 B0_b) of the independence model (means and variances) under missing data."""
    p = group.p
    mu, var = _baseline_start(group)
    cols = _baseline_columns(p)
    if sc is None:
        sc = casewise_scores_missing(group, mu, np.diag(var))
    sc = sc[:, cols]
    B0 = sc.T @ sc / group.n
    if A1 is None:
        t = pattern_terms(group, mu, np.diag(var), level=3)
        assert t is not None
        A1 = 0.5 * to_vech(*saturated_hessian(t, p, observed=True))
    E = A1[np.ix_(cols, cols)]
    return float(np.trace(np.linalg.solve(E, B0)))


def vech_jacobian(M: Matrices, mats: dict, aux: dict, q: int) -> np.ndarray:
    """Delta: (p + p*) x q derivatives of (mu, vech Sigma) with respect to the free parameters."""
    dS, dM = M.derivatives(mats, aux, q)
    tri = np.tril_indices(M.spec.p)
    return np.vstack([dM.T, dS[:, tri[0], tri[1]].T])


# ----------------------------------------------------------------------------- the estimator
@register("ML", "fiml")
class FIML(Estimator):
    """Full-information ML over missing-data patterns (lavaan ``missing = "ml"``), observed-
    information standard errors; the test compares with the EM saturated model."""

    needs_raw = True
    needs_meanstructure = True
    robust = False
    diagnostics = True  # modification indices and residuals as lavaan's under missing = "ml"

    def fit(self, spec: ModelSpec, sample: SampleData) -> Any:
        with one_blas_thread():
            return super().fit(spec, sample)

    def prepare(self, spec: ModelSpec, sample: SampleData) -> None:
        with one_blas_thread():
            self._prepare(spec, sample)

    def _prepare(self, spec: ModelSpec, sample: SampleData) -> None:
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

    def evaluate(self, x: np.ndarray, *, grad: bool = True, info: bool | str = True) -> Evaluation:
        return evaluate_fiml(self.spec, self.groups, self.mgroups, x, grad=grad, info=info)

    def optimize(self, x0: np.ndarray) -> tuple[np.ndarray, int, bool, str]:
        with one_blas_thread():
            return self._optimize(x0)

    def _optimize(self, x0: np.ndarray) -> tuple[np.ndarray, int, bool, str]:
        # warm start: the complete-data ML fit to the EM moments, cheap and close to the optimum
        xw, it0, ok, _ = fisher_scoring(self.spec, self.groups, self.moments, x0, max_iter=200, tol=1e-6)
        start = xw if ok and np.isfinite(self.evaluate(xw, grad=False, info=False).F) else x0
        x, it, ok, msg = newton_fiml(self.evaluate, start)
        if not ok:  # Fisher scoring on the expected information, the robust fallback
            x2, it2, ok2, msg2 = fisher_scoring(self.spec, self.groups, self.moments, x, evaluator=self.evaluate,
                                                max_iter=500)
            if ok2:
                x, it, ok, msg = x2, it + it2, ok2, msg2
        return x, it0 + it, ok, msg

    def _hessian(self) -> np.ndarray:
        if getattr(self, "_H_at", None) is not self.x:
            # observed information (lavaan's default with missing = "ml"): the Hessian of F
            H = self.evaluate(self.x, grad=True, info="observed").info
            if H is None:  # models with B: central differences of the analytic gradient
                H = numeric_hessian(lambda z: self.evaluate(z, info=False).grad, self.x)
            self._H, self._H_at = H, self.x
        return self._H

    def vcov(self, ev: Evaluation) -> tuple[np.ndarray, bool]:
        N = sum(mg.n for mg in self.mgroups)
        return invert_information(self._hessian(), 2.0 / N, self.spec.n_free)

    # -- diagnostics: modification indices and residuals (lavaan's definitions under missing = "ml")
    def mi_pieces(self) -> tuple[np.ndarray, list[dict[str, np.ndarray]]]:
        """The expected information of F for the free parameters and, per group, the gradient of
        F in (mu, Sigma) and the blocks of its expected Hessian at the estimates: what the score
        tests of lavaan's ``modindices`` use (expected information under missing data,
        ``lav_mvnorm_missing_information_expected`` at the implied moments)."""
        with one_blas_thread():
            H = self.evaluate(self.x, grad=False, info="expected").info
            assert H is not None
            out = []
            for M, mg in zip(self.groups, self.mgroups):
                sigma, mu, _ = M.implied(M.build(self.x))
                t = pattern_terms(mg, mu, sigma, level=2)
                assert t is not None and t.G is not None
                Hmm, _, Hss = saturated_hessian(t, mg.p, observed=False)
                out.append({"G": t.G, "gmu": t.gmu, "Hmm": Hmm, "Hss": Hss})
        return H, out

    def score_test_terms(self, ev: Evaluation, H: np.ndarray | None) -> tuple[np.ndarray, Any]:
        from .modification import pattern_score_terms

        H, pieces = self.mi_pieces()
        return pattern_score_terms(pieces, H, [mg.n for mg in self.mgroups])

    def residual_matrices(self, ev: Evaluation) -> dict[str, list[Any]]:
        from .residuals import acov_residuals

        return acov_residuals(self, ev, self.residual_pieces())

    def residual_pieces(self) -> list[dict[str, np.ndarray]]:
        """Per group, in (mu, vech Sigma): ``acov`` the asymptotic covariance of the EM moments
        (inverse observed information of the saturated model at the EM estimates over n_g,
        sandwiched with the first-order information for MLR: lavaan ``lav_model_h1_acov``,
        h1.information = "unstructured"), ``A1`` the observed information at the implied moments
        (h1.information = "structured") and ``Delta``; lavaan ``lav_residuals_acov``."""
        with one_blas_thread():
            out = []
            q = self.spec.n_free
            for g, (M, mg) in enumerate(zip(self.groups, self.mgroups)):
                h1 = self._h1_pieces(g, first_order=self.robust)
                A1i = np.linalg.inv(h1["A1"])
                acov = A1i @ h1["B1"] @ A1i if self.robust else A1i
                mats = M.build(self.x)
                sigma, mu, aux = M.implied(mats)
                t = pattern_terms(mg, mu, sigma, level=3)
                assert t is not None
                A1s = 0.5 * to_vech(*saturated_hessian(t, mg.p, observed=True))
                out.append({"acov": acov / mg.n, "A1": A1s, "Delta": vech_jacobian(M, mats, aux, q)})
        return out

    def _logliks(self) -> tuple[float, float, float]:
        logl = logl_b = 0.0
        for M, mg in zip(self.groups, self.mgroups):
            sigma, mu, _ = M.implied(M.build(self.x))
            logl += loglik(mg, mu, sigma)
            # independence model: each variable's mean and variance from its observed values (closed form)
            mb, vb = _baseline_start(mg)
            logl_b += loglik(mg, mb, np.diag(vb))
        logl_h1 = float(sum(ll for _, _, ll, _ in self.em))
        return logl, logl_b, logl_h1

    # -- saturated-model pieces, computed once and shared by the robust test and FIML-C
    def _h1_pieces(self, g: int, first_order: bool) -> dict:
        cache = self.__dict__.setdefault("_h1_cache", {})
        entry = cache.setdefault(g, {})
        mg = self.mgroups[g]
        mu_h1, sig_h1 = self.em[g][0], self.em[g][1]
        if "A1" not in entry:
            t = pattern_terms(mg, mu_h1, sig_h1, level=3)
            assert t is not None
            entry["A1"] = 0.5 * to_vech(*saturated_hessian(t, mg.p, observed=True))
        if first_order and "B1" not in entry:
            sc = casewise_scores_missing(mg, mu_h1, sig_h1)
            entry["B1"] = sc.T @ sc / mg.n
        return entry

    def fiml_corrected(self, robust_vcov: bool) -> dict[str, float] | None:
        """lavaan's FIML-corrected statistic for the robust CFI/TLI/RMSEA (Zhang & Savalei 2022;
        lavaan ``lav_fit_fiml_corrected``): version V3 with MLR, V6 with ML.

        XX3 = sum_g n_g F_ML(theta_hat; EM moments) is the complete-data ML statistic at the
        FIML estimates, and c3 = k / df with, over the stacked groups,
        U = Wm - Wm Delta (Delta' Wm Delta)^-1 Delta' Wm,
        V3: k = tr(U Wm^-1 Wc Wm^-1 U Gamma),  Gamma = Wm^-1 Jm Wm^-1,
        V6: k = tr(Wc Wm^-1 U Wm^-1),
        where Wm is the observed and Jm the first-order information of the saturated model at
        the EM estimates, Wc the complete-data information at the EM moments (group blocks
        weighted n_g/N, their inverses N/n_g); the baseline uses the same formulas with the
        independence model's Delta (means and variances).
        """
        from .ml import evaluate as ml_evaluate

        spec = self.spec
        q = spec.n_free
        G = spec.n_groups
        N = sum(mg.n for mg in self.mgroups)
        P = spec.p + spec.p * (spec.p + 1) // 2
        f = np.array([mg.n / N for mg in self.mgroups])
        Wm = np.zeros((G * P, G * P))
        Wmi = np.zeros_like(Wm)
        Wc = np.zeros_like(Wm)
        Gam = np.zeros_like(Wm)
        Delta = np.zeros((G * P, q))
        cols = _baseline_columns(spec.p)
        DeltaB = np.zeros((G * P, G * len(cols)))
        xx3_null = 0.0
        try:
            for g, (M, mg) in enumerate(zip(self.groups, self.mgroups)):
                sl = slice(g * P, (g + 1) * P)
                h1 = self._h1_pieces(g, first_order=robust_vcov)
                A1 = h1["A1"]
                A1i = np.linalg.inv(A1)
                Wm[sl, sl] = f[g] * A1
                Wmi[sl, sl] = A1i / f[g]
                Wc[sl, sl] = f[g] * complete_information(self.em[g][0], self.em[g][1])
                if robust_vcov:
                    Gam[sl, sl] = A1i @ h1["B1"] @ A1i / f[g]
                mats = M.build(self.x)
                _, _, aux = M.implied(mats)
                Delta[sl] = vech_jacobian(M, mats, aux, q)
                DeltaB[g * P + cols, g * len(cols) + np.arange(len(cols))] = 1.0
                # complete-data ML statistic of the independence model at the EM moments
                mb, vb = _baseline_start(mg)
                S, m = self.moments[g].cov, self.moments[g].mean
                Fb = (np.log(vb).sum() + float(np.sum(np.diag(S) / vb)) - self.moments[g].logdet - spec.p
                      + float(np.sum((m - mb) ** 2 / vb)))
                xx3_null += mg.n * Fb
            ev = ml_evaluate(spec, self.groups, self.moments, self.x, grad=False, info=False)
            xx3 = N * ev.F

            # with Wm Wm^-1 = I: Wm^-1 U Wm^-1 = Wm^-1 - D E^-1 D' and U Wm^-1 = I - Wm D E^-1 D', so
            # V6: k = tr(Wc Wm^-1) - tr(D'Wc D E^-1);  V3: k = tr(A Wc A' Gamma), A = I - Wm D E^-1 D'
            WcWmi = float(np.sum(Wc * Wmi))  # tr(Wc Wm^-1), both symmetric
            WcGam = float(np.sum(Wc * Gam)) if robust_vcov else 0.0

            def k_of(D: np.ndarray) -> float:
                WD = Wm @ D
                Einv = np.linalg.inv(D.T @ WD)
                X = Wc @ D
                if not robust_vcov:
                    return WcWmi - float(np.sum((D.T @ X) * Einv))
                Y = Gam @ WD
                return (WcGam - 2.0 * float(np.sum(Einv * (X.T @ Y)))
                        + float(np.sum((Einv @ (WD.T @ Y) @ Einv) * (D.T @ X))))

            k = k_of(Delta)
            kb = k_of(DeltaB)
        except np.linalg.LinAlgError:
            return None
        df = self.n_moments() - q
        df_b = G * spec.p * (spec.p - 1) / 2
        if df <= 0:
            return None
        return {"chisq": float(xx3), "scaling_factor": k / df, "baseline_chisq": float(xx3_null),
                "baseline_scaling_factor": kb / df_b}

    def _robust_fields(self) -> dict[str, float]:
        fc = self.fiml_corrected(self.robust)
        if fc is None:
            return {}
        return {"robust_chisq": fc["chisq"], "robust_scaling_factor": fc["scaling_factor"],
                "robust_baseline_chisq": fc["baseline_chisq"],
                "robust_baseline_scaling_factor": fc["baseline_scaling_factor"]}

    def test(self, ev: Evaluation) -> tuple[TestStatistic, dict[str, float | None]]:
        spec = self.spec
        logl, logl_b, logl_h1 = self._logliks()
        N = sum(mg.n for mg in self.mgroups)
        p, G = spec.p, spec.n_groups
        t = TestStatistic(chisq=2 * (logl_h1 - logl), df=float(self.n_moments() - spec.n_free),
                          baseline_chisq=2 * (logl_h1 - logl_b), baseline_df=float(G * p * (p - 1) // 2),
                          n_test=N, n_groups=G, **(self._robust_fields() if not self.robust else {}))
        return t, {"loglik": logl, "unrestricted_loglik": logl_h1}

    def fmin(self, ev: Evaluation, test: TestStatistic) -> float | None:
        # lavaan's FIML objective includes the saturated model's log-likelihood: fmin = chi2 / (2N)
        return test.chisq / (2.0 * test.n_test)

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
        B0 = np.zeros_like(E)
        trace = trace_b = 0.0
        full = sum(mg.n for mg in self.mgroups)
        for g, mg in enumerate(self.mgroups):
            f = mg.n / full
            M = self.groups[g]
            mats = M.build(self.x)
            sigma, mu, aux = M.implied(mats)
            D = vech_jacobian(M, mats, aux, q)
            S = casewise_scores_missing(mg, mu, sigma) @ D
            B0g = S.T @ S / mg.n
            B0 += f * B0g
            h1 = self._h1_pieces(g, first_order=True)
            t_h1 = float(np.trace(np.linalg.solve(h1["A1"], h1["B1"])))
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
        return TestStatistic(t.chisq, t.df, t.baseline_chisq, t.baseline_df, t.n_test, t.n_groups, kind="yuan_bentler",
                             scaling_factor=c, baseline_scaling_factor=cb, **self._robust_fields()), lik
