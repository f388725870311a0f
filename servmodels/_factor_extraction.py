"""Minres (ULS) and maximum-likelihood factor extraction by Newton's method, batched.

Both fits minimise a function of the uniquenesses psi alone (the loadings follow from an
eigen-decomposition), over psi in [0.005, 1] as ``psych::fa``:

* minres / ULS (``fm = "minres"``; Harman & Jones 1966): A = R - diag(psi) = V diag(e) V'
  (e ascending), loadings V_top diag(e_top)^1/2 from the m largest eigenvalues and
  F = 1/2 sum_{j <= p - m} e_j^2, the squared residual R - psi - LL';
* ML (``fm = "ml"``, ``factanal``; Joreskog 1967): A = psi^-1/2 R psi^-1/2, loadings
  psi^1/2 V_top diag(e_top - 1)^1/2 and F = sum_{j <= p - m} (e_j - log e_j - 1).

F is a spectral function sum_j phi_j(e_j) of A(psi), so its gradient and Hessian are
closed forms in the eigen-decomposition (Daleckii-Krein; Lewis 1996, *J. Convex
Analysis* 3, 17-35; Jennrich & Robinson 1969, *Psychometrika* 34, 111-123, for ML):
with B_a = V' (dA/dpsi_a) V and h_j = phi_j'(e_j),

    dF/dpsi_a        = sum_j h_j (B_a)_jj
    d2F/dpsi_a dpsi_b = sum_{j,k} D_jk (B_a)_jk (B_b)_jk + sum_j h_j v_j' (d2A/dpsi_a dpsi_b) v_j

where D_jk is the divided difference (h_j - h_k)/(e_j - e_k) (phi_j'' when j = k), so
D_jk = 1 (ULS) or 1/(e_j e_k) (ML) for two discarded eigenvalues, h_j/(e_j - e_k) between a
discarded j and a retained k, and 0 between retained ones.  ULS: (B_a)_jk = -v_aj v_ak and
d2A = 0; ML: (B_a)_jk = -v_aj v_ak (e_j + e_k)/(2 psi_a) and
v_j' d2A v_j = (delta_ab e_j v_aj^2 + A_ab v_aj v_bj)/(2 psi_a psi_b) + delta_ab e_j v_aj^2/psi_a^2.

The projected Newton iteration (Bertsekas 1982: Newton on the free uniquenesses, those at a
bound with the gradient pushing outwards held fixed; Armijo step halving) works on a stack of
correlation matrices at once, which is what parallel analysis needs (one one-factor fit per
random data set) -- numpy's batched ``eigh`` and ``matmul`` do the work.
"""

from __future__ import annotations

import numpy as np

PSI_LOW, PSI_HIGH = 0.005, 1.0  # psych::fa's bounds (optim L-BFGS-B lower = .005, upper = 1)
GRAD_TOL = 1e-10
STEP_TOL = 1e-9
MAX_ITER = 100


def _objective(R: np.ndarray, psi: np.ndarray, nf: int, ml: bool):
    """F, eigenvalues (ascending) and eigenvectors of A(psi), and A itself, for a stack."""
    if ml:
        sc = 1.0 / np.sqrt(psi)
        A = R * sc[:, :, None] * sc[:, None, :]
    else:
        A = R.copy()
        idx = np.arange(R.shape[-1])
        A[:, idx, idx] -= psi
    e, V = np.linalg.eigh(A)
    d = e[:, : R.shape[-1] - nf]
    F = (d - np.log(d) - 1).sum(axis=1) if ml else 0.5 * (d * d).sum(axis=1)
    return F, e, V, A


def _values(R: np.ndarray, psi: np.ndarray, nf: int, ml: bool) -> np.ndarray:
    p = R.shape[-1]
    if ml:
        sc = 1.0 / np.sqrt(psi)
        e = np.linalg.eigvalsh(R * sc[:, :, None] * sc[:, None, :])
        d = e[:, : p - nf]
        with np.errstate(invalid="ignore", divide="ignore"):
            F = (d - np.log(d) - 1).sum(axis=1)
        return np.where(np.all(d > 0, axis=1), F, np.inf)
    A = R.copy()
    idx = np.arange(p)
    A[:, idx, idx] -= psi
    d = np.linalg.eigvalsh(A)[:, : p - nf]
    return 0.5 * (d * d).sum(axis=1)


def gradient_hessian(e: np.ndarray, V: np.ndarray, A: np.ndarray, psi: np.ndarray, nf: int,
                     ml: bool) -> tuple[np.ndarray, np.ndarray]:
    """Gradient (B, p) and Hessian (B, p, p) of F at psi (the closed forms of the module docstring).

    The double sum over eigenvalue pairs is regrouped into O(m p^3) matrix products: with
    P_r = V_S diag(e_S^r) V_S' over the discarded eigenvalues,
    ULS: H = P_0 o P_0 + 2 sum_{k retained} (V_S diag(c_k) V_S') o (v_k v_k'),
    ML:  H = [2 P_1 o P_-1 + 2 P_0 o P_0 + 2 sum_k (V_S diag(c_k (e_S + e_k)^2) V_S') o (v_k v_k')]
             / (4 psi psi') + A o (V diag(h) V') / (2 psi psi') + diag(3/2 sum_j h_j e_j v_aj^2 / psi_a^2),
    where (c_k)_j = h_j / (e_j - e_k) and o is the elementwise product.
    """
    p = psi.shape[1]
    s = p - nf  # discarded eigenvalues: e[:, :s] (ascending order)
    eS, VS = e[:, :s], V[:, :, :s]
    VSt = VS.transpose(0, 2, 1)
    hS = (1.0 - 1.0 / eS) if ml else eS
    P0 = VS @ VSt
    H = 2.0 * P0 * P0
    if ml:
        H += 2.0 * ((VS * eS[:, None, :]) @ VSt) * ((VS / eS[:, None, :]) @ VSt)
    else:
        H *= 0.5
    for k in range(s, p):
        ek = e[:, k : k + 1]
        c = hS / (eS - ek)
        if ml:
            c = c * (eS + ek) ** 2
        vk = V[:, :, k]
        H += 2.0 * ((VS * c[:, None, :]) @ VSt) * (vk[:, :, None] * vk[:, None, :])
    jj = np.arange(p)
    if ml:
        grad = -np.einsum("bj,baj->ba", hS * eS, VS * VS) / psi
        pp = psi[:, :, None] * psi[:, None, :]
        H /= 4.0 * pp
        H += A * ((VS * hS[:, None, :]) @ VSt) / (2.0 * pp)
        H[:, jj, jj] += 1.5 * np.einsum("bj,baj->ba", hS * eS, VS * VS) / psi**2
    else:
        grad = -np.einsum("bj,baj->ba", hS, VS * VS)
    return grad, 0.5 * (H + H.transpose(0, 2, 1))


def _newton_steps(grad: np.ndarray, H: np.ndarray, free: np.ndarray) -> np.ndarray:
    """-H_ff^-1 g_f on the free coordinates (0 elsewhere); H shifted to be positive definite."""
    B_, p = grad.shape
    Hm = np.where(free[:, :, None] & free[:, None, :], H, 0.0)
    jj = np.arange(p)
    Hm[:, jj, jj] = np.where(free, H[:, jj, jj], 1.0)
    g = np.where(free, grad, 0.0)
    low = np.linalg.eigvalsh(Hm)[:, 0]
    scale = np.maximum(np.abs(Hm[:, jj, jj]).max(axis=1), 1e-12)
    shift = np.where(low < 1e-8 * scale, 1e-8 * scale - low, 0.0)
    Hm[:, jj, jj] += shift[:, None]
    return -np.linalg.solve(Hm, g[:, :, None])[:, :, 0]


def fit_uniquenesses(R: np.ndarray, nf: int, method: str, psi0: np.ndarray | None = None,
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Minres or ML uniquenesses of a stack of correlation matrices.

    Parameters
    ----------
    R : ndarray, shape (B, p, p)
        Correlation matrices (positive definite for ML).
    nf : int
        Number of factors.
    method : {"minres", "ml"}
    psi0 : ndarray, shape (B, p), optional
        Start; default 1 - SMC (psych's start).

    Returns
    -------
    psi : (B, p) uniquenesses at the minimum
    loadings : (B, p, nf) unrotated loadings, factors by decreasing eigenvalue
    F : (B,) the minimum
    converged : (B,) bool
    iterations : (B,) int

    Examples
    --------
    >>> R = np.array([[1.0, 0.5, 0.4], [0.5, 1.0, 0.3], [0.4, 0.3, 1.0]])
    >>> psi, L, F, ok, _ = fit_uniquenesses(R[None], 1, "minres")
    >>> bool(ok[0]), np.round(L[0, :, 0] ** 2 + psi[0], 10).tolist()  # loadings^2 + psi = 1: exact fit
    (True, [1.0, 1.0, 1.0])
    """
    ml = method == "ml"
    R = np.asarray(R, dtype=np.float64)
    B_, p, _ = R.shape
    if psi0 is None:
        psi0 = 1.0 / np.diagonal(np.linalg.inv(R), axis1=1, axis2=2)  # 1 - SMC
    psi = np.clip(np.asarray(psi0, dtype=np.float64).copy(), PSI_LOW, PSI_HIGH)
    F, e, V, A = _objective(R, psi, nf, ml)
    done = np.zeros(B_, bool)
    iters = np.zeros(B_, int)
    for _ in range(MAX_ITER):
        act = ~done
        if not act.any():
            break
        ia = np.flatnonzero(act)
        grad, H = gradient_hessian(e[ia], V[ia], A[ia], psi[ia], nf, ml)
        ps = psi[ia]
        at_low = (ps <= PSI_LOW) & (grad > 0)
        at_high = (ps >= PSI_HIGH) & (grad < 0)
        free = ~(at_low | at_high)
        pg = np.where(free, grad, 0.0)
        conv = np.abs(pg).max(axis=1) < GRAD_TOL
        done[ia[conv]] = True
        keep = ~conv
        if not keep.any():
            break
        ia, ps, grad, H, free = ia[keep], ps[keep], grad[keep], H[keep], free[keep]
        iters[ia] += 1
        step = _newton_steps(grad, H, free)
        # a step below STEP_TOL is taken whole and ends the iteration (Newton: the error is now ~ its square)
        tiny = np.abs(step).max(axis=1) < STEP_TOL
        if tiny.any():
            psi[ia[tiny]] = np.clip(ps[tiny] + step[tiny], PSI_LOW, PSI_HIGH)
            done[ia[tiny]] = True
            Fn, en, Vn, An = _objective(R[ia[tiny]], psi[ia[tiny]], nf, ml)
            F[ia[tiny]], e[ia[tiny]], V[ia[tiny]], A[ia[tiny]] = Fn, en, Vn, An
        ia, ps, grad, step = ia[~tiny], ps[~tiny], grad[~tiny], step[~tiny]
        if not len(ia):
            break
        t = np.ones(len(ia))
        new = ps.copy()
        pending = np.arange(len(ia))
        for _ in range(30):  # Armijo step halving along the projected path, for the members still pending
            cand = np.clip(ps[pending] + t[pending, None] * step[pending], PSI_LOW, PSI_HIGH)
            F0 = F[ia[pending]]
            Fc = _values(R[ia[pending]], cand, nf, ml)
            ok = Fc <= F0 + 1e-4 * np.einsum("bi,bi->b", grad[pending], cand - ps[pending]) + 1e-15 * np.abs(F0)
            new[pending[ok]] = cand[ok]
            pending = pending[~ok]
            if not len(pending):
                break
            t[pending] *= 0.5
        moved = np.ones(len(ia), bool)
        moved[pending] = False
        done[ia[pending]] = True  # no decrease along the Newton direction: at the minimum to rounding
        ia = ia[moved]
        psi[ia] = new[moved]
        Fn, en, Vn, An = _objective(R[ia], psi[ia], nf, ml)
        F[ia], e[ia], V[ia], A[ia] = Fn, en, Vn, An
    # the convergence test of the last iterate
    grad, _ = gradient_hessian(e, V, A, psi, nf, ml)
    free = ~(((psi <= PSI_LOW) & (grad > 0)) | ((psi >= PSI_HIGH) & (grad < 0)))
    converged = np.abs(np.where(free, grad, 0.0)).max(axis=1) < 1e-6
    top = e[:, ::-1][:, :nf]
    vec = V[:, :, ::-1][:, :, :nf]
    if ml:
        L = np.sqrt(psi)[:, :, None] * vec * np.sqrt(np.maximum(top - 1.0, 0.0))[:, None, :]
    else:
        L = vec * np.sqrt(np.maximum(top, 0.0))[:, None, :]
    return psi, L, F, converged, iters
