"""Name the cause of a singular covariance or correlation matrix.

numpy raises ``LinAlgError`` (or silently returns NaN/inf) when a covariance matrix
is singular, and an estimator can only say "not positive definite".  A user can act
on the *cause*, so one diagnosis serves every place that needs one (validation
warnings, SEM sample moments, KMO/Bartlett/EFA, regression on dimension scores):

* a constant item (zero variance);
* fewer respondents than items, or as many (a sample covariance matrix of ``p``
  variables from ``n <= p`` respondents has rank at most ``n - 1``);
* two or more identical items (exact duplicates), or a pair with ``|r| = 1`` (one is
  an affine function of the other, e.g. a reverse-keyed copy ``6 - x``);
* a perfectly collinear set (one item is a linear combination of others), named as
  a minimal dependent set: the item plus the items of an independent basis that it
  is a combination of (a greedy basis in column order, i.e. Cholesky with pivoting
  skipped for dependent columns; the representation in an independent basis is
  unique, so the set has no dependent proper subset).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ._exceptions import NumericalError

__all__ = ["Finding", "diagnose", "singular_cause", "check_nonsingular", "describe_singular", "item_diagnostics"]

#: smallest eigenvalue of a correlation matrix treated as zero
_EIG_TOL = 1e-10
#: 1 - R^2 of an item on the items before it below which the item is a linear combination of them
_RESID_TOL = 1e-9
#: |r| above which a pair counts as perfectly correlated
_PAIR_TOL = 1e-10
#: rows per block when accumulating cross-products (bounded memory for large files)
_BLOCK_ROWS = 65_536
#: at most this many names in one list, and this many findings of one kind, in a message
_MAX_NAMES = 8
_MAX_FINDINGS = 3
#: what a singular item covariance matrix means for the user, at the end of each warning
_CONSEQUENCE = "the covariance matrix of the {code} items is singular, so cfa, efa and reliability on them will fail"


@dataclass(frozen=True)
class Finding:
    """One reason a covariance matrix is singular.

    Attributes
    ----------
    kind : str
        ``"constant"``, ``"too_few"`` (``n <= p``), ``"identical"`` (exact duplicates),
        ``"perfect"`` (``|r| = 1`` but not identical, or unknown without raw data) or
        ``"collinear"`` (a minimal linearly dependent set of three or more).
    columns : tuple of str
        The items involved (for ``"too_few"``: none).
    n, p : int
        Respondents and items of the matrix diagnosed.
    r : float or None
        The correlation of a ``"perfect"`` pair (+1 or -1).
    """

    kind: str
    columns: tuple[str, ...] = ()
    n: int = 0
    p: int = 0
    r: float | None = None

    def describe(self, kind: str = "item") -> str:
        """The finding in words, ``kind`` naming what the columns are (item, variable, ...)."""
        names = _names(self.columns)
        many = len(self.columns) > 1
        if self.kind == "constant":
            return f"constant {kind}{'s' if many else ''} {names} (zero variance)"
        if self.kind == "too_few":
            if self.n < self.p:
                head = f"fewer respondents than {kind}s"
            else:
                head = f"as many respondents as {kind}s"
            return f"{head}: {self.n} respondents for {self.p} variables (at least {self.p + 1} needed)"
        if self.kind == "identical":
            return f"{kind}s {names} are identical (the same answer from every respondent)"
        if self.kind == "perfect":
            if self.r is None:
                return f"{kind}s {names} are identical or perfectly correlated"
            sign = "-" if self.r < 0 else ""
            return f"{kind}s {names} are perfectly correlated (r = {sign}1)"
        return f"{kind}s {names} are perfectly collinear (one is a linear combination of the others)"


def _names(cols: Sequence[str], limit: int = _MAX_NAMES) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``, ``"a, b, ... and 7 more"``."""
    cols = [str(c) for c in cols]
    if len(cols) > limit:
        return ", ".join(cols[:limit]) + f" and {len(cols) - limit} more"
    if len(cols) <= 2:
        return " and ".join(cols)
    return ", ".join(cols[:-1]) + " and " + cols[-1]


def _cross_products(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and centred cross-product matrix of the rows of ``x``, in blocks of rows.

    Shifted by the first row before summing, so integer answers stay exact in float64.
    """
    n, p = x.shape
    shift = np.asarray(x[0], dtype=np.float64)
    s = np.zeros(p)
    c = np.zeros((p, p))
    for start in range(0, n, _BLOCK_ROWS):
        block = np.asarray(x[start:start + _BLOCK_ROWS], dtype=np.float64) - shift
        s += block.sum(axis=0)
        c += block.T @ block
    return shift + s / n, c - np.outer(s, s) / n


def _dependent_sets(R: np.ndarray) -> list[tuple[int, ...]]:
    """Minimal dependent sets of a correlation matrix, found with a greedy basis in column order."""
    basis: list[int] = []
    sets: list[tuple[int, ...]] = []
    for j in range(R.shape[0]):
        if basis:
            rbb = R[np.ix_(basis, basis)]
            rbj = R[basis, j]
            coef = np.linalg.solve(rbb, rbj)
            resid = R[j, j] - rbj @ coef
        else:
            coef, resid = np.zeros(0), R[j, j]
        if resid < _RESID_TOL:
            scale = np.abs(coef).max(initial=0.0)
            involved = [b for b, c in zip(basis, coef) if abs(c) > 1e-8 * max(scale, 1.0)]
            sets.append((*involved, j))
        else:
            basis.append(j)
    return sets


def diagnose(
    x: np.ndarray | None,
    columns: Sequence[str],
    *,
    cov: np.ndarray | None = None,
    n: int | None = None,
) -> list[Finding]:
    """Every reason the covariance matrix of the columns of ``x`` (or ``cov``) is singular.

    Parameters
    ----------
    x : ndarray of shape (n, p), optional
        Raw answers without missing values.  With raw data, identical columns are told
        apart from merely perfectly correlated ones, and ``n <= p`` is checked.
    columns : sequence of str
        Names of the ``p`` columns, used in the findings.
    cov : ndarray of shape (p, p), optional
        A covariance (or correlation) matrix, when raw data are not available.
    n : int, optional
        Sample size behind ``cov`` (checked against ``p``).

    Returns
    -------
    list of Finding
        Empty when the matrix is non-singular.  Constant items come first; when there
        are too few respondents, no pair or set is diagnosed (any would follow from it).
    """
    columns = [str(c) for c in columns]
    if x is not None:
        x = np.asarray(x)
        n, p = x.shape
        if n == 0 or p == 0:
            return []
        _, cross = _cross_products(x)
        const = np.flatnonzero(x.max(axis=0) == x.min(axis=0)) if n > 0 else np.arange(p)
        cov = cross / max(n - 1, 1)
    else:
        if cov is None:
            raise ValueError("diagnose needs raw data x or a covariance matrix cov")
        cov = np.asarray(cov, dtype=np.float64)
        p = cov.shape[0]
        var = np.diag(cov)
        const = np.flatnonzero(~(var > 1e-14 * max(1.0, float(np.nanmax(np.abs(var), initial=0.0)))))
    if len(columns) != p:
        columns = [f"column {j + 1}" for j in range(p)]
    out: list[Finding] = []
    if len(const):
        out.append(Finding("constant", tuple(columns[j] for j in const), n or 0, p))
    if n is not None and n <= p:
        out.append(Finding("too_few", (), n, p))
        return out
    keep = np.setdiff1d(np.arange(p), const)
    if len(keep) < 2:
        return out
    sd = np.sqrt(np.diag(cov)[keep])
    R = cov[np.ix_(keep, keep)] / np.outer(sd, sd)
    if not np.all(np.isfinite(R)):
        return out
    np.fill_diagonal(R, 1.0)

    # pairs with |r| = 1, grouped (union-find) so three copies are one finding
    parent = list(range(len(keep)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    ii, jj = np.nonzero(np.triu(np.abs(R) > 1 - _PAIR_TOL, k=1))
    for i, j in zip(ii.tolist(), jj.tolist()):
        parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(keep)):
        groups.setdefault(root(i), []).append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        first = members[0]
        if x is None:
            out.append(Finding("perfect", tuple(columns[keep[m]] for m in members), n or 0, p))
            continue
        same = [m for m in members if np.array_equal(x[:, keep[m]], x[:, keep[first]])]
        if len(same) > 1:
            out.append(Finding("identical", tuple(columns[keep[m]] for m in same), n or 0, p))
        for m in members:
            if m not in same:
                out.append(Finding("perfect", (columns[keep[first]], columns[keep[m]]), n or 0, p,
                                   r=float(np.sign(R[first, m]))))

    # collinear sets among one representative of each group
    reps = sorted(members[0] for members in groups.values())
    Rr = R[np.ix_(reps, reps)]
    if float(np.linalg.eigvalsh(Rr)[0]) < _EIG_TOL:
        sets = _dependent_sets(Rr)
        if not sets:  # the greedy basis disagrees at the margin: name the items of the null vector
            w, v = np.linalg.eigh(Rr)
            sets = [tuple(np.flatnonzero(np.abs(v[:, 0]) > 1e-6).tolist())]
        for s in sets:
            out.append(Finding("collinear", tuple(columns[keep[reps[k]]] for k in s), n or 0, p))
    return out


def _join(findings: Sequence[Finding], kind: str) -> str:
    shown = [f.describe(kind) for f in findings[:_MAX_FINDINGS]]
    extra = len(findings) - len(shown)
    return "; ".join(shown) + (f"; and {extra} more such finding{'s' if extra > 1 else ''}" if extra > 0 else "")


def singular_cause(x: np.ndarray, columns: Sequence[str], *, kind: str = "item") -> str | None:
    """Why the correlation matrix of the columns of ``x`` is singular, or None when it is not."""
    found = diagnose(np.asarray(x, dtype=np.float64), list(columns))
    return _join(found, kind) if found else None


def check_nonsingular(x: np.ndarray, columns: Sequence[str], what: str, *, kind: str = "item") -> None:
    """Raise :class:`NumericalError` naming the cause when ``corr(x)`` is singular."""
    cause = singular_cause(np.asarray(x, dtype=np.float64), list(columns), kind=kind)
    if cause is not None:
        raise NumericalError(f"{what}: the correlation matrix is singular: {cause}")


def describe_singular(
    x: np.ndarray | None,
    columns: Sequence[str],
    *,
    cov: np.ndarray | None = None,
    n: int | None = None,
    kind: str = "item",
) -> str:
    """The cause of a singular matrix in words; a generic sentence when none is found.

    Used after a factorisation has already failed, where the matrix may be only
    numerically singular (nearly collinear items).
    """
    found = diagnose(x, columns, cov=cov, n=n)
    if found:
        return _join(found, kind)
    return (f"no constant, identical or exactly collinear {kind}s were found, so some {kind}s are nearly "
            "collinear (an item almost a linear combination of others)")


def item_diagnostics(
    arrays: Mapping[str, np.ndarray],
    columns: Mapping[str, Sequence[str]],
    *,
    constant: bool = False,
) -> list[str]:
    """Warnings about item sets whose sample covariance matrix is singular.

    Run at validation, before any model is fitted: every factor model, EFA, KMO and
    Bartlett's test of a score set with such items fails.

    Parameters
    ----------
    arrays : mapping of str to ndarray
        Score set code (``"E"``, ``"P"``, ...) -> answers, shape ``(n, p)``; missing
        answers as NaN (with ``nan_policy="fiml"``).
    columns : mapping of str to sequence of str
        Score set code -> the ``p`` column names, in the array's order.
    constant : bool
        Also report constant items (``validate_survey`` warns about them already with
        :class:`~servmodels.ConstantItemWarning`, so the default is False).

    Returns
    -------
    list of str
        One message per finding: identical items (exact duplicates, all named),
        perfectly correlated pairs, perfectly collinear sets (a minimal dependent
        set), and score sets with no more respondents than items (from three
        respondents on: fewer is :class:`~servmodels.SmallSampleWarning`'s case).
        Empty when every set's covariance matrix is non-singular.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 2, 1], [2, 3, 2], [4, 1, 4], [3, 3, 3], [2, 2, 2]])
    >>> for message in item_diagnostics({"P": x}, {"P": ["P1", "P2", "P3"]}):
    ...     print(message)
    score set P: items P1 and P3 are identical (the same answer from every respondent); the covariance
    matrix of the P items is singular, so cfa, efa and reliability on them will fail
    """
    messages: list[str] = []
    for code, x in arrays.items():
        x = np.asarray(x)
        cols = list(columns[code])
        n_all = x.shape[0]
        note = ""
        if x.dtype.kind == "f" and np.isnan(x).any():
            complete = ~np.isnan(x).any(axis=1)
            if 3 <= n_all <= x.shape[1]:
                messages.append(f"score set {code}: {Finding('too_few', (), n_all, x.shape[1]).describe()}; {_CONSEQUENCE.format(code=code)}")
                continue
            x = x[complete]
            if n_all <= x.shape[1] or x.shape[0] <= x.shape[1]:
                continue  # too few complete rows to tell collinear items from chance
            note = f" among the {x.shape[0]} respondents who answered every item"
        for f in diagnose(x, cols):
            if (f.kind == "constant" and not constant) or (f.kind == "too_few" and f.n < 3):
                continue
            messages.append(f"score set {code}: {f.describe()}{note}; {_CONSEQUENCE.format(code=code)}")
    return messages
