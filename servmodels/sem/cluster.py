"""Cluster-robust ML (lavaan ``cfa(..., cluster = "village")`` without ``level:`` blocks).

Respondents of one cluster (village) are not independent.  The estimates are the ML
estimates; what changes is the meat of the sandwich and of the scaled test
(lavaan 0.6 ``lav_options_set``: ``se = "robust.cluster"``, ``test =
"yuan.bentler.mplus"``, ``meanstructure = TRUE``):

* standard errors: vcov = E^-1 B0 E^-1 / N with E the observed information
  (1/2 the Hessian of F) and, per group, B0_g = Delta' B1_g Delta with
  B1_g = C_g/(C_g - 1) (1/n_g) sum_c s_c s_c', s_c = sum_{i in c} s_i the casewise
  scores of the normal log-likelihood in (mu, vech Sigma) at the implied moments,
  summed within cluster c (lavaan ``lav_mvnorm_information_firstorder`` with
  ``cluster.idx``; Huber 1967, White 1982, Liang & Zeger 1986);
* scaled test: c = [sum_g tr(A1_g^-1 B1_g^h1) - f_g tr(E_t^-1 B0_g)] / df where
  B1_g^h1 = C_g/(C_g - 1) (1/n_g) sum_c s_c s_c' with the scores at the sample
  moments (``lav_samplestats_Gamma`` with ``cluster.idx``), and E_t = E for
  ``estimator = "MLR"``; for ``estimator = "ML"`` lavaan switches the test's
  information to ``observed.information = "h1"``: E_t = sum_g f_g Delta' H1_g Delta
  with H1_g the observed information of the saturated model at the implied moments
  (``lav_mvnorm_information_observed_samplestats``).  The baseline model is treated
  the same way, so CFI/TLI/RMSEA scaled and robust follow from one
  :class:`TestStatistic`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .estimator import SampleData, register
from .ml import Evaluation, invert_information
from .mlr import MLR, mlr_statistics, observed_information
from .specification import ModelSpec

__all__ = ["ClusteredMLR", "ClusteredML", "h1_observed_information"]


def _duplication(p: int) -> np.ndarray:
    """p^2 x p* matrix D with vec(M) = D vech(M) for symmetric M, vech in ``np.tril_indices``
    order (the order of the casewise scores) and vec column-major."""
    i, j = np.tril_indices(p)
    D = np.zeros((p * p, len(i)))
    k = np.arange(len(i))
    D[j * p + i, k] = 1.0
    D[i * p + j, k] = 1.0
    return D


def h1_observed_information(mean: np.ndarray, cov: np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                            means: bool) -> np.ndarray:
    """Observed information (unit) of the saturated normal model in (mu, vech Sigma),
    evaluated at the implied moments (mu, Sigma) with sample moments (mean, cov):

    I_mumu = Sigma^-1,  I_sigma,mu = D' ((Sigma^-1 d) (x) Sigma^-1),
    I_sigma,sigma = 1/2 D' (Sigma^-1 (x) Sigma^-1 (2 W - Sigma) Sigma^-1) D,
    d = mean - mu, W = cov + d d' (lavaan ``lav_mvnorm_information_observed_samplestats``).
    """
    p = sigma.shape[0]
    sinv = np.linalg.inv(sigma)
    d = mean - mu
    W = cov + np.outer(d, d)
    D = _duplication(p)
    inner = sinv @ (2.0 * W - sigma) @ sinv
    I22 = 0.5 * D.T @ np.kron(sinv, inner) @ D
    if not means:
        return I22
    I21 = D.T @ np.kron((sinv @ d)[:, None], sinv)
    return np.block([[sinv, I21.T], [I21, I22]])


def _delta(spec: ModelSpec, e: dict[str, Any]) -> np.ndarray:
    tri = np.tril_indices(spec.p)
    D = e["dS"][:, tri[0], tri[1]].T
    return np.vstack([e["dM"].T, D]) if spec.meanstructure else D


@register("MLR", "listwise", cluster=True)
class ClusteredMLR(MLR):
    """MLR with cluster-robust standard errors and scaled test (lavaan ``estimator = "MLR",
    cluster = ``)."""

    needs_meanstructure = True
    diagnostics = False  # residuals and modification indices under clustering: not checked against lavaan

    def prepare(self, spec: ModelSpec, sample: SampleData) -> None:
        super().prepare(spec, sample)
        assert sample.clusters is not None, "cluster codes are required"
        self.clusters = [np.asarray(c, dtype=np.intp) for c in sample.clusters]

    def test_information(self, ev: Evaluation, E: np.ndarray) -> np.ndarray:
        """The information in the trace of the scaled test: the observed one, as for the SEs."""
        return E

    def vcov(self, ev: Evaluation) -> tuple[np.ndarray, bool]:
        self._robust = None
        E = observed_information(self, ev)
        q = self.spec.n_free
        _, ok = invert_information(E, 1.0, q)
        if not ok:
            return np.full((q, q), np.nan), False
        self._robust = mlr_statistics(self, ev, E, self.n_moments() - q, clusters=self.clusters,
                                      E_test=self.test_information(ev, E))
        return np.asarray(self._robust["vcov"]), True

    def notes(self) -> dict[str, Any]:
        return {"cluster": self.options.cluster, "n_clusters": [int(c.max()) + 1 for c in self.clusters]}


@register("ML", "listwise", cluster=True)
class ClusteredML(ClusteredMLR):
    """ML with a cluster column, as lavaan ``estimator = "ML", cluster = ``: the same
    cluster-robust standard errors as MLR; the scaled test uses the h1 observed
    information (lavaan sets ``observed.information = c("hessian", "h1")``)."""

    def test_information(self, ev: Evaluation, E: np.ndarray) -> np.ndarray:
        N = sum(m.n for m in self.moments)
        out = np.zeros_like(E)
        for m, e in zip(self.moments, ev.per_group):
            D = _delta(self.spec, e)
            H1 = h1_observed_information(m.mean, m.cov, e["mu"], e["sigma"], self.spec.meanstructure)
            out += m.n / N * (D.T @ H1 @ D)
        return out
