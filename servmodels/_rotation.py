"""Factor rotations as ``psych::fa`` performs them, and a small assignment solver.

Each rotation follows the R code that ``psych::fa`` (2.2.9) calls, step for step and with
the same stopping rules, so the rotated loadings agree with psych's to rounding rather than
to the optimisers' tolerances:

* ``varimax``: ``stats::varimax(x, normalize = TRUE, eps = 1e-5)`` (Kaiser 1958), the SVD
  iteration stopped when the criterion grows by less than a factor 1 + eps;
* ``promax``: ``psych::kaiser(x, rotate = "Promax")`` -- rows scaled to unit length, then
  ``psych::Promax(m = 4)`` (varimax, target x |x|^3, least-squares transformation rescaled so
  the factor variances are 1; Hendrickson & White 1964), rows scaled back;
* ``oblimin``: ``GPArotation::oblimin(x, gam = 0)`` = ``GPFoblq`` (Jennrich 2002, gradient
  projection, eps = 1e-5, at most 1000 iterations, step doubling and halving as there).

Returned: rotated loadings and the factor correlations Phi (identity for varimax).
"""

from __future__ import annotations

import numpy as np


def varimax(x: np.ndarray, *, normalize: bool = True, eps: float = 1e-5,
            max_iter: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """``stats::varimax``: rotated loadings and the rotation matrix TT (loadings = x @ TT).

    Examples
    --------
    >>> L = np.array([[0.8, 0.3], [0.7, 0.4], [0.3, 0.8], [0.2, 0.7]])
    >>> z, T = varimax(L)
    >>> bool(np.allclose(T @ T.T, np.eye(2))), bool(np.allclose(z, L @ T))
    (True, True)
    """
    nc = x.shape[1]
    if nc < 2:
        return x.copy(), np.eye(nc)
    sc = np.sqrt((x * x).sum(axis=1)) if normalize else np.ones(len(x))
    xs = x / sc[:, None]
    p = xs.shape[0]
    TT = np.eye(nc)
    d = 0.0
    for _ in range(max_iter):
        z = xs @ TT
        B = xs.T @ (z**3 - z * ((z * z).sum(axis=0) / p))
        u, sv, vt = np.linalg.svd(B)
        TT = u @ vt
        dpast, d = d, float(sv.sum())
        if d < dpast * (1 + eps):
            break
    return (xs @ TT) * sc[:, None], TT


def promax(x: np.ndarray, *, m: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """psych's ``promax``: ``kaiser(x, rotate = "Promax")``; returns loadings and Phi."""
    if x.shape[1] < 2:
        return x.copy(), np.eye(x.shape[1])
    h = np.sqrt((x * x).sum(axis=1))
    w = x / h[:, None]
    v, TT = varimax(w)
    Q = v * np.abs(v) ** (m - 1)
    U = np.linalg.lstsq(v, Q, rcond=None)[0]  # lm.fit(x, Q)$coefficients
    U = U * np.sqrt(np.diag(np.linalg.inv(U.T @ U)))
    z = v @ U
    U = TT @ U
    ui = np.linalg.inv(U)
    return z * h[:, None], ui @ ui.T


def _oblimin_criterion(L: np.ndarray) -> tuple[float, np.ndarray]:
    """``GPArotation:::vgQ.oblimin(L, gam = 0)``: f = sum(L^2 * X) / 4 and its gradient L * X,
    X = L^2 with each column replaced by the sum of the other columns."""
    L2 = L * L
    X = L2.sum(axis=1, keepdims=True) - L2
    return float((L2 * X).sum() / 4), L * X


def oblimin(A: np.ndarray, *, eps: float = 1e-5, max_iter: int = 1000) -> tuple[np.ndarray, np.ndarray, bool]:
    """``GPArotation::oblimin`` (quartimin, gam = 0) by ``GPFoblq``; returns loadings, Phi and
    whether the projected gradient fell below eps."""
    k = A.shape[1]
    if k < 2:
        return A.copy(), np.eye(k), True
    al = 1.0
    Tm = np.eye(k)
    L = A @ np.linalg.inv(Tm).T
    f, Gq = _oblimin_criterion(L)
    G = -(L.T @ Gq @ np.linalg.inv(Tm)).T
    converged = False
    for _ in range(max_iter + 1):
        Gp = G - Tm * (Tm * G).sum(axis=0)
        s = float(np.sqrt((Gp * Gp).sum()))
        if s < eps:
            converged = True
            break
        al *= 2
        for _ in range(11):
            X = Tm - al * Gp
            Tmt = X / np.sqrt((X * X).sum(axis=0))
            Tinv = np.linalg.inv(Tmt)
            L = A @ Tinv.T
            ft, Gqt = _oblimin_criterion(L)
            if f - ft > 0.5 * s * s * al:
                break
            al /= 2
        Tm, f = Tmt, ft
        G = -(L.T @ Gqt @ Tinv).T
    return L, Tm.T @ Tm, converged


def linear_sum_assignment_max(C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the assignment maximising the sum of C (rows <= columns or not), as
    ``scipy.optimize.linear_sum_assignment(-C)`` -- without importing scipy.optimize (0.3 s).

    The shortest augmenting path form of the Hungarian method (Jonker & Volgenant 1987;
    Crouse 2016, IEEE TAES 52, 1679-1696), O(n^3).

    Examples
    --------
    >>> r, c = linear_sum_assignment_max(np.array([[1.0, 5.0, 2.0], [4.0, 3.0, 1.0]]))
    >>> r.tolist(), c.tolist()
    ([0, 1], [1, 0])
    """
    C = np.asarray(C, dtype=np.float64)
    transposed = C.shape[0] > C.shape[1]
    cost = (C.T if transposed else C) * -1.0  # minimise, rows <= columns
    n, m = cost.shape
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    way = np.zeros(m + 1, dtype=int)
    match = np.zeros(m + 1, dtype=int)  # match[j] = row (1-based) assigned to column j; column 0 is virtual
    for i in range(1, n + 1):
        match[0] = i
        j0 = 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, bool)
        while True:
            used[j0] = True
            i0 = match[j0]
            free = ~used[1:]
            cur = cost[i0 - 1] - u[i0] - v[1:]
            better = free & (cur < minv[1:])
            minv[1:][better] = cur[better]
            way[1:][better] = j0
            cand = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(cand)) + 1
            delta = cand[j1 - 1]
            u[match[used]] += delta
            v[used] -= delta
            minv[1:][free] -= delta
            j0 = j1
            if match[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            match[j0] = match[j1]
            j0 = j1
    cols = np.flatnonzero(match[1:])
    rows = match[1:][cols] - 1
    if transposed:  # rows of the transposed problem are the columns of C
        rows, cols = cols, rows
    order = np.argsort(rows)
    return rows[order], cols[order]
