"""Sample moments the estimators fit to: means and covariance matrices (divisor n for the
normal likelihood, n - 1 for Wishart, as lavaan's ``lav_samplestats``), from raw rows or a
given covariance matrix, with the cause of a singular matrix named for the user."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._exceptions import NumericalError
from .._numerics import describe_singular

__all__ = ["GroupMoments", "sample_moments", "moments_from_cov", "diagnose_singular"]


@dataclass
class GroupMoments:
    cov: np.ndarray  # divisor n (normal) or n - 1 (wishart)
    mean: np.ndarray
    n: int
    logdet: float
    data: np.ndarray | None = None  # raw rows, kept for robust (casewise) statistics



def diagnose_singular(x: np.ndarray | None, names: list[str] | tuple[str, ...], cov: np.ndarray | None = None,
                      n: int | None = None) -> str:
    """Why a covariance matrix is singular, in words a user can act on (see ``servmodels._numerics``)."""
    return describe_singular(x, list(names), cov=cov, n=n)


def sample_moments(x: np.ndarray, likelihood: str, names: list[str] | tuple[str, ...] = (), label: str = "") -> GroupMoments:
    """Mean and covariance (divisor n for the normal likelihood, n - 1 for Wishart) of raw rows."""
    n, p = x.shape
    mean = x.mean(axis=0)
    xc = x - mean
    cov = xc.T @ xc / (n if likelihood == "normal" else n - 1)
    sign, logdet = np.linalg.slogdet(cov)
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        r_min = float(np.linalg.eigvalsh(cov / np.outer(sd, sd)).min()) if np.all(sd > 0) else 0.0
    if n <= p or sign <= 0 or not np.isfinite(logdet) or not r_min > 1e-12:
        where = f" in group {label}" if label else ""
        raise NumericalError(f"the sample covariance matrix{where} is singular: {diagnose_singular(x, list(names))}")
    return GroupMoments(cov=cov, mean=mean, n=int(n), logdet=float(logdet), data=x)


def moments_from_cov(cov: np.ndarray, mean: np.ndarray | None, n: int, likelihood: str, *, unbiased: bool = True,
                     names: list[str] | tuple[str, ...] = ()) -> GroupMoments:
    """Moments from a covariance matrix; an unbiased (n - 1) matrix is rescaled to divisor n
    for the normal likelihood, as lavaan does with ``sample.cov``."""
    cov = np.asarray(cov, dtype=np.float64)
    if unbiased and likelihood == "normal":
        cov = cov * (n - 1) / n
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0 or not np.isfinite(logdet):
        raise NumericalError(f"the sample covariance matrix is not positive definite: {diagnose_singular(None, list(names), cov, n)}")
    p = cov.shape[0]
    return GroupMoments(cov=cov, mean=np.zeros(p) if mean is None else np.asarray(mean, float), n=int(n), logdet=float(logdet))
