"""Translate singular correlation/design matrices into :class:`NumericalError` with a cause.

numpy raises ``LinAlgError`` (or silently returns NaN/inf) when a correlation matrix
is singular.  A user can act on the *cause*, so these helpers name it: a constant
item, two identical (perfectly correlated) items, a set of collinear items, or fewer
respondents than items.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._exceptions import NumericalError

#: smallest eigenvalue of a correlation matrix treated as zero
_EIG_TOL = 1e-10


def _names(cols: Sequence[str], idx: np.ndarray, limit: int = 8) -> str:
    shown = [str(cols[j]) for j in idx[:limit]]
    return ", ".join(shown) + (f" and {len(idx) - limit} more" if len(idx) > limit else "")


def singular_cause(x: np.ndarray, columns: Sequence[str], *, kind: str = "item") -> str | None:
    """Why the correlation matrix of the columns of ``x`` is singular, or None when it is not."""
    n, p = x.shape
    with np.errstate(invalid="ignore"):
        sd = x.std(axis=0)
    const = np.flatnonzero(~(sd > 0))
    if len(const):
        return f"constant {kind}{'s' if len(const) > 1 else ''} {_names(columns, const)} (zero variance)"
    if n <= p:
        return f"fewer respondents ({n}) than {kind}s ({p})"
    R = np.corrcoef(x, rowvar=False)
    off = np.abs(R - np.eye(p))
    i, j = np.unravel_index(int(np.argmax(off)), off.shape)
    if off[i, j] > 1 - 1e-12:
        return f"{kind}s {columns[min(i, j)]} and {columns[max(i, j)]} are identical or perfectly correlated"
    vals, vecs = np.linalg.eigh(R)
    if vals[0] < _EIG_TOL:
        involved = np.flatnonzero(np.abs(vecs[:, 0]) > 1e-6)
        return f"{kind}s {_names(columns, involved)} are collinear (one is a linear combination of the others)"
    return None


def check_nonsingular(x: np.ndarray, columns: Sequence[str], what: str, *, kind: str = "item") -> None:
    """Raise :class:`NumericalError` naming the cause when ``corr(x)`` is singular."""
    cause = singular_cause(np.asarray(x, dtype=np.float64), list(columns), kind=kind)
    if cause is not None:
        raise NumericalError(f"{what}: the correlation matrix is singular: {cause}")
