"""Standardized solutions (lavaan ``lav_standardize_lv`` and ``lav_standardize_all``,
``cov.std = TRUE``): ``std_lv`` scales latent variables to unit variance, ``std_all``
also the observed variables; residual covariances are divided by the square roots of
the residual variances."""

from __future__ import annotations

import numpy as np

from .specification import ModelSpec

__all__ = ["std_factors", "standardize"]


def std_factors(spec: ModelSpec, e: dict) -> dict[str, np.ndarray]:
    phi = e["aux"]["Phi"]
    return {"lv_sd": np.sqrt(np.clip(np.diag(phi), 0, None)), "ov_sd": np.sqrt(np.clip(np.diag(e["sigma"]), 0, None)),
            "psi": e["mats"]["P"], "theta": e["mats"]["T"]}


def standardize(row, est: float, spec: ModelSpec, f: dict[str, np.ndarray]) -> tuple[float, float]:
    """(std_lv, std_all) for one parameter, as lavaan's lav_standardize_lv / _all (cov.std = TRUE)."""
    lv_sd, ov_sd, psi, theta = f["lv_sd"], f["ov_sd"], f["psi"], f["theta"]
    i, j = row.r, row.c
    with np.errstate(divide="ignore", invalid="ignore"):
        if row.mat == "L":
            s_lv = est * lv_sd[j]
            return s_lv, s_lv / ov_sd[i]
        if row.mat == "B":
            s = est * lv_sd[j] / lv_sd[i]
            return s, s
        if row.mat == "T":
            if i == j:
                return est, est / ov_sd[i] ** 2
            return est, est / np.sqrt(theta[i, i] * theta[j, j])
        if row.mat == "P":
            if i == j:
                s = est / lv_sd[i] ** 2
                return s, s
            s = est / np.sqrt(psi[i, i] * psi[j, j])
            return s, s
        if row.mat == "N":
            return est, est / ov_sd[i]
        if row.mat == "A":
            s = est / lv_sd[i]
            return s, s
    raise AssertionError(row.mat)
