"""Score (Lagrange multiplier) tests for releasing equality constraints (lavaan ``lavTestScore``).

Equality constraints in servmodels come from shared labels (``a*x2 + a*x3``) and from
``group_equal`` (implicit labels ``.pN.``).  Each label carried by k free parameters is
k - 1 constraints ``theta_first - theta_other = 0``.  The test works in the
*unconstrained* parameterization (every labelled parameter its own entry, as lavaan 0.6
with ``ceq.simple = FALSE``): with the gradient ``s`` of the per-respondent
log-likelihood and its expected information ``J`` at the constrained estimates, and
``R`` the Jacobian of the constraints,

* total test (every constraint released):  ``X2 = N s' J^+ s`` on ``nrow(R)`` df;
* univariate test of constraint r:  ``X2_r = N s' Z_r s`` on 1 df, where ``Z_r`` is the
  top-left block of the (generalized) inverse of the bordered matrix
  ``[[J, R_(-r)'], [R_(-r), 0]]`` (the information of the model keeping every other
  constraint; Bentler 1990, Satorra 1989; lavaan ``lav_test_score.R``).

For ML, ``s = -g/2`` and ``J = H/2`` with g and H the gradient and expected information of
the fit function F used by :mod:`servmodels.sem.ml` (lavaan's objective is F/2).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._distributions import chi2_sf
from .._exceptions import ModelSpecificationError, ParameterError
from .._results import Result, jsonable, text_table

if TYPE_CHECKING:
    from .result import CFAResult

__all__ = ["ScoreTestResult", "score_tests"]

#: MASS::ginv's tolerance: singular values below sqrt(machine epsilon) times the largest are zero
_GINV_TOL = float(np.sqrt(np.finfo(float).eps))


@dataclass(frozen=True)
class ScoreTestResult(Result):
    """Score tests of the equality constraints of a fitted model (frozen).

    Attributes
    ----------
    total : dict
        ``{"chisq", "df", "p_value"}``: every constraint released at once.
    univariate : DataFrame
        One row per constraint: ``label`` (the shared label, ``.pN.`` for
        ``group_equal``), ``lhs, op, rhs, group`` of the parameter whose equality with
        ``equal_to`` (``"lhs op rhs"`` of the first parameter with that label, and its
        group) is tested, ``kind`` (loadings, intercepts, ...), ``chisq``, ``df`` (1)
        and ``p_value``.
    n_respondents : int
    """

    total: dict[str, float]
    univariate: pd.DataFrame
    n_respondents: int
    n_dropped: int = 0
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.univariate.copy()

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"total": self.total, "univariate": self.univariate, "n_respondents": self.n_respondents,
                         "n_dropped": self.n_dropped, "warnings": list(self.warnings)})

    def summary(self, digits: int = 3) -> str:
        t = self.total
        head = (f"Score tests of equality constraints — n = {self.n_respondents}; all released: "
                f"chi2({t['df']:.0f}) = {t['chisq']:.3f}, p = {t['p_value']:.4g}\n")
        cols = ["label", "lhs", "op", "rhs", "group", "equal_to", "chisq", "df", "p_value"]
        return head + text_table(self.univariate[cols], digits)


def _ginv_block(Z: np.ndarray, q: int) -> np.ndarray:
    """Top-left q x q block of Z^+ (MASS::ginv: an SVD pseudo-inverse, tolerance sqrt(eps))."""
    return np.linalg.pinv(Z, rcond=_GINV_TOL, hermitian=True)[:q, :q]


def _univariate(info: np.ndarray, R: np.ndarray, score: np.ndarray, N: float) -> np.ndarray:
    """``N s' Z_r s`` for every constraint r (Z_r: top-left block of the bordered inverse without row r).

    When the bordered matrix with every constraint, [[J, R'], [R, 0]], is invertible with
    inverse [[P, Q'], [Q, S]], removing constraint r is a rank-one downdate of that inverse
    (partitioned inverse): Z_r = P - q_r q_r' / S_rr, q_r the r-th row of Q; so one
    inversion serves all constraints.  Otherwise (redundant constraints) each bordered
    matrix is pseudo-inverted as lavaan does.
    """
    k, c = info.shape[0], R.shape[0]
    Z = np.block([[info, R.T], [R, np.zeros((c, c))]])
    try:
        if np.linalg.cond(Z) > 1e12:
            raise np.linalg.LinAlgError
        Zi = np.linalg.inv(Z)
        P, Q, S = Zi[:k, :k], Zi[k:, :k], np.diag(Zi[k:, k:])
        if np.any(S >= 0):  # S = -(R J^-1 R')^-1 has a negative diagonal when all is well
            raise np.linalg.LinAlgError
        base = float(score @ P @ score)
        return N * (base - (Q @ score) ** 2 / S)
    except np.linalg.LinAlgError:
        out = np.empty(c)
        for i in range(c):
            R1 = np.delete(R, i, axis=0)
            Z1 = np.block([[info, R1.T], [R1, np.zeros((c - 1, c - 1))]])
            out[i] = N * float(score @ _ginv_block(Z1, k) @ score)
        return out


def score_tests(result: CFAResult) -> ScoreTestResult:
    """Score tests for releasing each equality constraint of a fitted model (lavaan ``lavTestScore``).

    Parameters
    ----------
    result : CFAResult
        An ML or MLR fit with complete data (the tests use the expected information of
        the normal likelihood; for MLR they are the ordinary, not the robust, tests, as
        lavaan warns).  Equality constraints are shared labels and ``group_equal``.

    Returns
    -------
    ScoreTestResult

    Raises
    ------
    ModelSpecificationError
        When the model has no equality constraint.
    ParameterError
        For FIML and WLSMV fits.

    Examples
    --------
    >>> import servmodels as sm
    >>> df = sm.simulate_servqual(300, rng=3)
    >>> res = sm.cfa(df, "f =~ P1 + a*P2 + a*P3 + P4")
    >>> st = score_tests(res)
    >>> st.univariate[["lhs", "op", "rhs", "equal_to"]].values.tolist()
    [['f', '=~', 'P3', 'f =~ P2']]
    >>> bool(st.total["df"] == 1)
    True
    """
    from .ml import evaluate
    from .specification import Matrices

    fitted, _, _ = result._require_diagnostics("score tests")
    spec = fitted.spec
    x = np.asarray(result.extra["x"], dtype=float)
    # the unconstrained parameterization: every free row its own parameter
    spec_u = copy.deepcopy(spec)
    theta, first_of, pairs = [], {}, []
    k = 0
    for r_u, r in zip(spec_u.rows, spec.rows):
        if r.free == 0:
            continue
        k += 1
        r_u.free = k
        theta.append(x[r.free - 1])
        if r.label is not None:
            if r.label in first_of:
                pairs.append((first_of[r.label], k, r))
            else:
                first_of[r.label] = (k, r)
    spec_u.n_free = k
    if not pairs:
        raise ModelSpecificationError("the model has no equality constraints (shared labels or group_equal) to test")
    theta_u = np.asarray(theta)
    groups_u = [Matrices(spec_u, g) for g in range(spec_u.n_groups)]
    ev = evaluate(spec_u, groups_u, fitted.moments, theta_u)
    if ev.grad is None or ev.info is None or not np.isfinite(ev.F):
        raise ParameterError("score tests: the implied covariance matrix is not positive definite at the estimates")
    score = -ev.grad / 2.0  # gradient of the per-respondent log-likelihood (lavaan "gradient.logl")
    info = ev.info / 2.0  # its expected information (lavaan "information.expected")
    N = float(sum(m.n for m in fitted.moments))
    c = len(pairs)
    R = np.zeros((c, k))
    for i, ((a, _), b, _) in enumerate(pairs):
        R[i, a - 1], R[i, b - 1] = 1.0, -1.0

    total = N * float(score @ _ginv_block(info, k) @ score)
    stats = _univariate(info, R, score, N)
    rows = []
    for i, ((_, first), _, r) in enumerate(pairs):
        stat = stats[i]
        same_group = first.group == r.group
        desc = f"{first.lhs} {first.op} {first.rhs}".strip()
        if not same_group or spec.n_groups > 1:
            desc += f" (group {spec.group_labels[first.group]})"
        rows.append({"label": r.label, "lhs": r.lhs, "op": r.op, "rhs": r.rhs, "group": spec.group_labels[r.group],
                     "equal_to": desc, "kind": r.kind, "chisq": stat, "df": 1, "p_value": chi2_sf(max(stat, 0.0), 1)})
    return ScoreTestResult(
        total={"chisq": total, "df": float(c), "p_value": chi2_sf(max(total, 0.0), c)},
        univariate=pd.DataFrame(rows, columns=["label", "lhs", "op", "rhs", "group", "equal_to", "kind", "chisq", "df",
                                               "p_value"]),
        n_respondents=result.n_respondents, n_dropped=result.n_dropped,
    )
