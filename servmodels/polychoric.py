"""Thresholds, polychoric correlations and their asymptotic covariance (two-step ML).

Step 1: thresholds of each ordinal item from its marginal proportions,
``tau_k = Phi^-1(P(y <= k))``.  Step 2: for each pair, the correlation of the bivariate
normal that maximises ``sum n_ab log pi_ab(rho)`` with the thresholds fixed (Olsson 1979),
by Fisher scoring on all pairs at once.  Bivariate normal probabilities use the
Drezner-Wesolowsky integral ``Phi2(h, k; r) = Phi(h) Phi(k) + (1/2 pi) int_0^asin r
exp(-(h^2 + k^2 - 2 h k sin t) / (2 cos^2 t)) dt`` with Gauss-Legendre quadrature,
vectorised over every cell of every table.

The asymptotic covariance (``nacov``, N times the covariance of the estimates) is the
sandwich of the casewise scores of the two steps (Muthen 1984), built exactly as
lavaan's ``muthen1984``: A11 and A22 from outer products of threshold and correlation
scores, A21 from the cross-products of correlation scores with the bivariate threshold
scores, nacov = N B^-1 (S'S) B^-T with B = [[A11, 0], [A21, A22]].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ._exceptions import NumericalError, ParameterError, Problem, ValidationError
from ._params import check_bool, check_float, check_int, check_str_list
from ._results import Result, jsonable, text_table
from .data import SurveyData

__all__ = ["PolychoricResult", "polychoric", "bivariate_normal_cdf"]

_BIG = 1e3  # stands in for +-infinity in thresholds (Phi(1e3) == 1 exactly)
_GL_X, _GL_W = np.polynomial.legendre.leggauss(30)
_GL_X_HI, _GL_W_HI = np.polynomial.legendre.leggauss(120)


def _phi(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


def _Phi(x: np.ndarray) -> np.ndarray:
    return special.ndtr(x)


def bivariate_normal_cdf(h: np.ndarray, k: np.ndarray, r: np.ndarray) -> np.ndarray:
    """P(X <= h, Y <= k) for standard bivariate normal (X, Y) with correlation r (vectorised).

    Examples
    --------
    >>> float(bivariate_normal_cdf(np.array(0.0), np.array(0.0), np.array(0.5)))  # 1/4 + asin(.5)/(2 pi)
    0.3333333333333333
    """
    h, k, r = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float), np.asarray(r, float))
    shape = h.shape
    h, k, r = (np.atleast_1d(v).ravel() for v in (h, k, r))
    h = np.clip(h, -_BIG, _BIG)
    k = np.clip(k, -_BIG, _BIG)
    out = _Phi(h) * _Phi(k)
    a = np.arcsin(np.clip(r, -1.0, 1.0))
    hi = np.abs(r) > 0.925
    for mask, (x, w) in ((~hi, (_GL_X, _GL_W)), (hi, (_GL_X_HI, _GL_W_HI))):
        if not mask.any():
            continue
        hm, km, am = h[mask], k[mask], a[mask]
        t = 0.5 * am[..., None] * (x + 1.0)  # nodes on [0, asin r]
        st = np.sin(t)
        c2 = np.cos(t) ** 2
        hh = hm[..., None]
        kk = km[..., None]
        with np.errstate(over="ignore", under="ignore"):
            f = np.exp(-(hh * hh + kk * kk - 2.0 * hh * kk * st) / (2.0 * c2))
        out[mask] += 0.5 * am * (f * w).sum(axis=-1) / (2 * np.pi)
    return np.clip(out, 0.0, 1.0).reshape(shape)


def _bvn_density(h: np.ndarray, k: np.ndarray, r: np.ndarray) -> np.ndarray:
    s = 1.0 - r * r
    with np.errstate(over="ignore", under="ignore"):
        return np.exp(-(h * h - 2 * r * h * k + k * k) / (2 * s)) / (2 * np.pi * np.sqrt(s))


@dataclass(frozen=True)
class PolychoricResult(Result):
    """Polychoric correlations (frozen).

    Attributes
    ----------
    correlation : DataFrame
        Polychoric correlation matrix.
    thresholds : dict of str to ndarray
        Thresholds of each item (one fewer than its observed categories).
    nacov : ndarray
        N times the asymptotic covariance of (all thresholds, correlations in
        lower-triangle column-major order), as lavaan's ``NACOV``.
    n_obs : int
        Respondents used (also :attr:`n_respondents`).
    n_dropped : int
        Respondents dropped before (by ``nan_policy="omit"`` when a SurveyData was given).
    warnings : tuple of str
    """

    correlation: pd.DataFrame
    thresholds: dict[str, np.ndarray]
    nacov: np.ndarray
    n_obs: int
    categories: dict[str, np.ndarray]
    n_dropped: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def n_respondents(self) -> int:
        return self.n_obs

    def to_frame(self) -> pd.DataFrame:
        """The correlation matrix with an ``item`` column."""
        return self.correlation.reset_index(names="item")

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"n_obs": self.n_obs, "n_respondents": self.n_obs, "n_dropped": self.n_dropped,
                         "correlation": self.correlation.to_numpy(),
                         "items": list(self.correlation.columns), "thresholds": {k: v for k, v in self.thresholds.items()},
                         "warnings": list(self.warnings)})

    def summary(self, digits: int = 3) -> str:
        return (f"Polychoric correlations of {self.correlation.shape[0]} items — n = {self.n_obs} used, "
                f"{self.n_dropped} dropped\n" + text_table(self.to_frame(), digits))


def _codes(data: np.ndarray, cols: list[str] | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """Category codes 0..K_j-1 per column (sorted observed values) and the values."""
    codes = np.empty(data.shape, dtype=np.intp)
    levels = []
    for j in range(data.shape[1]):
        vals, inv = np.unique(data[:, j], return_inverse=True)
        if len(vals) < 2:
            name = repr(cols[j]) if cols is not None else str(j + 1)
            raise NumericalError(f"ordinal item {name} is constant (a single observed category, {vals[0]:g}); "
                                 "its polychoric correlations are undefined")
        codes[:, j] = inv.ravel()
        levels.append(vals)
    return codes, levels


def _bounds(taus: list[np.ndarray], kmax: int) -> np.ndarray:
    """(p, kmax + 1) threshold grid per item: -BIG, thresholds, then +BIG padding."""
    out = np.full((len(taus), kmax + 1), _BIG)
    out[:, 0] = -_BIG
    for j, t in enumerate(taus):
        out[j, 1 : len(t) + 1] = t
    return out


def _table_quantities(A: np.ndarray, B: np.ndarray, r: np.ndarray, derivs: bool = False) -> dict[str, np.ndarray]:
    """Cell probabilities (and derivatives) of P tables from their threshold grids.

    A, B: (P, K+1) bounds of the two items; r: (P,).  Phi2 is evaluated once per grid
    point and differenced, instead of four times per cell.
    """
    a = A[:, :, None]
    b = B[:, None, :]
    rr = r[:, None, None]
    G = bivariate_normal_cdf(a, b, rr)
    D = _bvn_density(np.clip(a, -_BIG, _BIG), np.clip(b, -_BIG, _BIG), rr)

    def cells(M: np.ndarray) -> np.ndarray:
        return M[:, 1:, 1:] - M[:, :-1, 1:] - M[:, 1:, :-1] + M[:, :-1, :-1]

    out = {"pi": cells(G), "dpi_drho": cells(D)}
    if derivs:
        s = np.sqrt(1 - rr * rr)
        Qa = _phi(a) * _Phi((b - rr * a) / s)  # d Phi2(a, b) / d a on the grid
        Qb = _phi(b) * _Phi((a - rr * b) / s)  # d Phi2(a, b) / d b
        out["d_up_a"] = Qa[:, 1:, 1:] - Qa[:, 1:, :-1]
        out["d_lo_a"] = Qa[:, :-1, 1:] - Qa[:, :-1, :-1]
        out["d_up_b"] = Qb[:, 1:, 1:] - Qb[:, :-1, 1:]
        out["d_lo_b"] = Qb[:, 1:, :-1] - Qb[:, :-1, :-1]
    return out


def polychoric(data: pd.DataFrame | np.ndarray | SurveyData, *, columns: list[str] | None = None, nacov: bool = True,
               max_iter: int = 100, tol: float = 1e-12, scores: str = "P") -> PolychoricResult:
    """Polychoric correlation matrix of ordinal items (lavaan ``lavCor(..., ordered=)``).

    Parameters
    ----------
    data : DataFrame, array of shape (n, p), or SurveyData
        Ordinal answers (any sortable codes); complete rows only.  A SurveyData gives the
        items of score set ``scores``, and the result records its dropped rows.
    columns : list of str, optional
        Columns to use (default: all).
    nacov : bool
        Also compute the asymptotic covariance of thresholds and correlations.
    scores : str
        Score set code, used only when ``data`` is a SurveyData.

    Returns
    -------
    PolychoricResult

    Examples
    --------
    >>> from servmodels import load_example
    >>> pc = polychoric(load_example()[["P1", "P2", "P3"]])
    >>> pc.correlation.shape
    (3, 3)
    """
    nacov = check_bool("nacov", nacov)
    max_iter = check_int("max_iter", max_iter, low=1)
    tol = check_float("tol", tol, low=0.0, low_closed=False)
    col_arg = check_str_list("columns", columns)
    n_dropped, issued = 0, ()
    if isinstance(data, SurveyData):
        data.require_complete("polychoric")
        cols = list(data.item_columns(scores))
        arr = data.item_scores(scores).astype(float)
        n_dropped, issued = data.n_dropped, data.warnings
        if col_arg is not None:
            unknown = [c for c in col_arg if c not in cols]
            if unknown:
                raise ParameterError(f"columns must be items of score set {scores!r}; unknown: {', '.join(unknown)}")
            arr = arr[:, [cols.index(c) for c in col_arg]]
            cols = list(col_arg)
    elif isinstance(data, pd.DataFrame):
        cols = list(col_arg or data.columns)
        missing = [c for c in cols if c not in data.columns]
        if missing:
            raise ParameterError(f"columns: not in the data: {', '.join(map(str, missing))}")
        try:
            arr = data[cols].to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise ParameterError("data must hold numeric ordinal codes") from None
    else:
        arr = np.asarray(data, dtype=float)
        if arr.ndim != 2:
            raise ParameterError(f"data must be 2-D (respondents x items), got shape {arr.shape}")
        cols = list(col_arg or [f"y{j + 1}" for j in range(arr.shape[1])])
    if np.isnan(arr).any():
        bad = np.flatnonzero(np.isnan(arr).any(axis=1)) + 1
        raise ValidationError([Problem("missing_value", None, "polychoric correlations need complete answers "
                                       "(no missing values)", tuple(int(r) for r in bad[:5]), len(bad))], "<polychoric data>")
    n, p = arr.shape
    codes, levels = _codes(arr, cols)
    # step 1: thresholds
    taus = []
    for j in range(p):
        counts = np.bincount(codes[:, j], minlength=len(levels[j]))
        taus.append(special.ndtri(np.cumsum(counts)[:-1] / n))
    # step 2: correlations, Fisher scoring for all pairs at once
    pairs = [(i, j) for j in range(p) for i in range(j + 1, p)]  # lower triangle, column-major (lavaan order)
    kmax = max(len(lv) for lv in levels)
    P = len(pairs)
    bounds = _bounds(taus, kmax)
    ii = np.array([i for i, _ in pairs], dtype=np.intp)
    jj = np.array([j for _, j in pairs], dtype=np.intp)
    A, B = bounds[ii], bounds[jj]
    N = np.zeros((P, kmax, kmax))
    for t, (i, j) in enumerate(pairs):
        np.add.at(N[t], (codes[:, i], codes[:, j]), 1.0)
    valid = (A[:, 1:] > A[:, :-1])[:, :, None] & (B[:, 1:] > B[:, :-1])[:, None, :]
    rho = np.array([np.corrcoef(arr[:, i], arr[:, j])[0, 1] for i, j in pairs])
    rho = np.clip(np.nan_to_num(rho), -0.95, 0.95)
    for _ in range(max_iter):
        tq = _table_quantities(A, B, rho)
        pi = np.where(valid, np.maximum(tq["pi"], 1e-300), 1.0)
        dpi = np.where(valid, tq["dpi_drho"], 0.0)
        score = (N * dpi / pi).sum(axis=(1, 2))
        info = n * (dpi * dpi / pi).sum(axis=(1, 2))
        new = np.clip(rho + score / info, -0.9999, 0.9999)
        done = np.max(np.abs(new - rho)) < tol
        rho = new
        if done:
            break
    R = np.eye(p)
    for t, (i, j) in enumerate(pairs):
        R[i, j] = R[j, i] = rho[t]
    acov = _nacov(codes, taus, pairs, rho, n, A, B, N, valid) if nacov else np.empty((0, 0))
    return PolychoricResult(
        correlation=pd.DataFrame(R, index=cols, columns=cols),
        thresholds={c: t for c, t in zip(cols, taus)},
        nacov=acov,
        n_obs=n,
        categories={c: lv for c, lv in zip(cols, levels)},
        n_dropped=n_dropped,
        warnings=tuple(issued),
    )


def _nacov(codes, taus, pairs, rho, n, A, B, N, valid) -> np.ndarray:
    p = codes.shape[1]
    th_start = np.cumsum([0] + [len(t) for t in taus])
    n_th = int(th_start[-1])
    P = len(pairs)
    SC = np.zeros((n, n_th + P))
    # threshold scores: d log(Phi(tau_c) - Phi(tau_{c-1})) / d tau_k
    for j in range(p):
        t = np.concatenate([[-_BIG], taus[j], [_BIG]])
        c = codes[:, j]
        up, lo = t[c + 1], t[c]
        prob = _Phi(up) - _Phi(lo)
        for k in range(len(taus[j])):
            SC[:, th_start[j] + k] = (np.where(c == k, _phi(up), 0.0) - np.where(c == k + 1, _phi(lo), 0.0)) / prob
    tq = _table_quantities(A, B, rho, derivs=True)
    pi = np.where(valid, np.maximum(tq["pi"], 1e-300), 1.0)
    score_rho = np.where(valid, tq["dpi_drho"], 0.0) / pi
    w = N * score_rho / pi  # counts x correlation score / pi, per cell
    A21 = np.zeros((P, n_th))
    for q, (i, j) in enumerate(pairs):
        SC[:, n_th + q] = score_rho[q][codes[:, i], codes[:, j]]
        wq = w[q]
        # cross-products of the correlation score with the bivariate threshold scores
        for k in range(len(taus[i])):
            A21[q, th_start[i] + k] = float(wq[k] @ tq["d_up_a"][q, k] - wq[k + 1] @ tq["d_lo_a"][q, k + 1])
        for k in range(len(taus[j])):
            A21[q, th_start[j] + k] = float(wq[:, k] @ tq["d_up_b"][q, :, k] - wq[:, k + 1] @ tq["d_lo_b"][q, :, k + 1])
    inner = SC.T @ SC
    A11 = np.zeros((n_th, n_th))
    for j in range(p):
        sl = slice(th_start[j], th_start[j + 1])
        A11[sl, sl] = inner[sl, sl]
    A22inv = np.diag(1.0 / np.diag(inner)[n_th:])
    A11inv = np.linalg.inv(A11)
    Binv = np.zeros((n_th + P, n_th + P))
    Binv[:n_th, :n_th] = A11inv
    Binv[n_th:, n_th:] = A22inv
    Binv[n_th:, :n_th] = -A22inv @ A21 @ A11inv
    return n * (Binv @ inner @ Binv.T)
