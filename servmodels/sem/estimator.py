"""The estimator interface and its registry.

An estimator is one class in one module (``ml``, ``mlr``, ``fiml``, ``wlsmv``)
registered under an ``(estimator, missing)`` pair.  ``cfa`` looks the pair up with
:func:`get_estimator` and calls :meth:`Estimator.fit`, which runs the same four
steps for every estimator:

1. ``prepare``: sample statistics from the data (moments, missing-data patterns
   and the EM saturated model, polychoric correlations);
2. ``evaluate`` / ``optimize``: the objective, its gradient and information, and
   the minimisation (Fisher scoring with Newton polishing unless overridden);
3. ``vcov``: the covariance matrix of the free parameters;
4. ``test``: the test statistic as a :class:`TestStatistic`, from which one
   function, :func:`fit_measures`, computes every fit index.

A new estimator is a new module with a subclass and a ``@register`` line; a built-in one is
also named in ``_BUILTIN``, so that it is imported when first asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .._exceptions import ModelSpecificationError, ParameterError
from .fit_measures import TestStatistic
from .options import SEMOptions
from .specification import Matrices, ModelSpec

if TYPE_CHECKING:
    from .ml import Evaluation, GroupMoments

__all__ = ["Estimator", "SampleData", "Fit", "register", "get_estimator", "registered"]


@dataclass
class SampleData:
    """Input of an estimator: per group either raw rows (``blocks``, NaN allowed for
    FIML) or moments (``moments``: covariance input); ``clusters``: per group the
    cluster of each row as codes 0 .. C_g - 1 (``cluster=``)."""

    blocks: list[np.ndarray] | None = None
    moments: list[GroupMoments] | None = None
    clusters: list[np.ndarray] | None = None


@dataclass
class Fit:
    """Everything the result builder needs from an estimator."""

    spec: ModelSpec
    x: np.ndarray
    iterations: int
    converged: bool
    message: str
    groups: list[Matrices]
    moments: list[GroupMoments]  # h1 sample statistics (sample, EM or polychoric)
    per_group: list[dict[str, Any]]  # mats, sigma, mu, aux (and sinv, dS, dM when available)
    vcov: np.ndarray
    vcov_ok: bool
    test: TestStatistic
    srmr: float
    npar: int
    fmin: float | None = None
    loglik: float | None = None
    unrestricted_loglik: float | None = None
    extra_rows: list[dict[str, Any]] = field(default_factory=list)
    diagnostics: Any = None  # (estimator, Evaluation, information) for residuals and modification indices
    notes: dict[str, Any] = field(default_factory=dict)


class Estimator:
    """Base class: subclasses implement ``prepare``, ``evaluate``, ``vcov`` and ``test``."""

    name: ClassVar[str] = ""
    missing: ClassVar[str] = "listwise"
    #: needs casewise data (robust statistics, FIML): no covariance-matrix input
    needs_raw: ClassVar[bool] = False
    #: several groups (invariance) supported
    multigroup: ClassVar[bool] = True
    #: residuals and modification indices available
    diagnostics: ClassVar[bool] = False
    #: a mean structure is always modelled
    needs_meanstructure: ClassVar[bool] = False

    def __init__(self, options: SEMOptions) -> None:
        self.options = options
        self.likelihood = options.likelihood
        self.spec: ModelSpec
        self.groups: list[Matrices]
        self.moments: list[GroupMoments]
        self.x: np.ndarray

    # -- the four steps -----------------------------------------------------------------
    def prepare(self, spec: ModelSpec, sample: SampleData) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def evaluate(self, x: np.ndarray, *, grad: bool = True, info: bool = True) -> Evaluation:  # pragma: no cover
        raise NotImplementedError

    def optimize(self, x0: np.ndarray) -> tuple[np.ndarray, int, bool, str]:
        from .ml import fisher_scoring

        return fisher_scoring(self.spec, self.groups, self.moments, x0, evaluator=self.evaluate, max_iter=500)

    def vcov(self, ev: Evaluation) -> tuple[np.ndarray, bool]:  # pragma: no cover
        raise NotImplementedError

    def test(self, ev: Evaluation) -> tuple[TestStatistic, dict[str, float | None]]:  # pragma: no cover
        raise NotImplementedError

    # -- shared pieces --------------------------------------------------------------------
    def n_moments(self) -> int:
        p = self.spec.p
        return self.spec.n_groups * (p * (p + 1) // 2 + (p if self.spec.meanstructure else 0))

    def check_identified(self) -> None:
        n_mom = self.n_moments()
        if self.spec.n_free > n_mom:
            raise ModelSpecificationError(
                f"the model is not identified: {self.spec.n_free} free parameters but only {n_mom} sample moments"
            )

    def start(self) -> np.ndarray:
        from .start import start_values

        return start_values(self.spec, self.moments)

    def model_evaluation(self) -> Evaluation:
        """ML evaluation at the h1 moments: implied moments and derivatives for the result."""
        from .ml import evaluate

        return evaluate(self.spec, self.groups, self.moments, self.x)

    def srmr(self, ev: Evaluation) -> float:
        from .ml import srmr

        return srmr(self.spec, self.moments, ev.per_group)

    def extra_rows(self) -> list[dict[str, Any]]:
        return []

    def fit(self, spec: ModelSpec, sample: SampleData) -> Fit:
        self.prepare(spec, sample)
        self.check_identified()
        x, it, ok, msg = self.optimize(self.start())
        self.x = x
        ev = self.model_evaluation()
        if not ev.per_group:
            from .ml import plain_per_group

            per_group = plain_per_group(self.groups, x)
        else:
            per_group = ev.per_group
        vcov, vcov_ok = self.vcov(ev)
        test, lik = self.test(ev)
        return Fit(
            spec=spec, x=x, iterations=it, converged=ok, message=msg, groups=self.groups, moments=self.moments,
            per_group=per_group, vcov=vcov, vcov_ok=vcov_ok, test=test,
            srmr=self.srmr(ev) if ev.per_group else float("nan"), npar=spec.n_free + self.n_extra(),
            fmin=self.fmin(ev, test),
            loglik=lik.get("loglik"), unrestricted_loglik=lik.get("unrestricted_loglik"),
            extra_rows=self.extra_rows(),
            diagnostics=(self, ev, ev.info) if self.diagnostics else None,
            notes=self.notes(),
        )

    # -- diagnostics (when ``diagnostics`` is True): what residuals and modification indices need
    def score_test_terms(self, ev: Evaluation, H: np.ndarray | None) -> tuple[np.ndarray, Callable[..., Any]]:
        """The information of F over all free parameters, and per group a function
        ``terms(g, dS, dM, e) -> (grad, h_cc, h_cf)``: for candidate parameters with derivatives dS
        (of Sigma) and dM (of mu), the gradient of F, the diagonal of their information and their
        information with the free parameters.  F is the discrepancy without the factor 1/2
        (MI = N grad^2 / (2 V), EPC = -grad / V; ``sem/modification.py``).  This default is ML
        on the h1 moments (expected information); FIML and WLSMV supply their own."""
        from .modification import ml_score_terms

        return ml_score_terms(self, ev, H)

    def residual_matrices(self, ev: Evaluation) -> dict[str, list[Any]]:
        """Raw, normalized, standardized and correlation residuals per group (lavaan ``residuals``);
        this default is ML on the h1 moments (``sem/residuals.py``)."""
        from .residuals import ml_residuals

        return ml_residuals(self, ev)

    def n_extra(self) -> int:
        """Free parameters outside the model matrices (thresholds)."""
        return 0

    def fmin(self, ev: Evaluation, test: TestStatistic) -> float | None:
        """lavaan's ``fmin``: half the minimised discrepancy (None where lavaan reports none)."""
        return ev.F / 2 if np.isfinite(ev.F) else None

    def notes(self) -> dict[str, Any]:
        return {}


_REGISTRY: dict[tuple[str, str], type[Estimator]] = {}
#: the estimators used when ``cluster=`` is given (cluster-robust SEs and test), by (estimator, missing)
_CLUSTERED: dict[tuple[str, str], type[Estimator]] = {}

#: the module of each built-in estimator, imported on its first look-up: an ML fit does not
#: load FIML or WLSMV (whose polychoric correlations import scipy.special, 0.15 s of start-up).
#: A built-in estimator module registers its class with ``@register`` and is named here.
_BUILTIN: dict[tuple[str, str], str] = {
    ("ML", "listwise"): "ml",
    ("MLR", "listwise"): "mlr",
    ("ML", "fiml"): "fiml",
    ("MLR", "fiml"): "fiml",
    ("WLSMV", "listwise"): "wlsmv",
}


def register(estimator: str, missing: str = "listwise", *, cluster: bool = False) -> Callable[[type[Estimator]], type[Estimator]]:
    """Class decorator: make an estimator available to ``cfa`` under (estimator, missing);
    ``cluster=True``: the variant used when the options name a cluster column."""
    def deco(cls: type[Estimator]) -> type[Estimator]:
        (_CLUSTERED if cluster else _REGISTRY)[(estimator, missing)] = cls
        cls.name, cls.missing = estimator, missing
        return cls

    return deco


def _lookup(key: tuple[str, str]) -> type[Estimator] | None:
    if key not in _REGISTRY and key in _BUILTIN:
        import importlib

        importlib.import_module(f".{_BUILTIN[key]}", __package__)  # registers the class
    return _REGISTRY.get(key)


def registered() -> tuple[tuple[str, str], ...]:
    """The (estimator, missing) pairs that are implemented."""
    return tuple(dict.fromkeys([*_BUILTIN, *_REGISTRY]))


def get_estimator(options: SEMOptions, *, n_groups: int = 1, raw: bool = True) -> type[Estimator]:
    """The estimator class for these options, or a ParameterError naming the combination."""
    key = (options.estimator, options.missing)
    cls = _lookup(key)
    if cls is None:
        done = ", ".join(f"{e}/{m}" for e, m in registered())
        raise ParameterError(f"estimator={options.estimator!r} with missing={options.missing!r} is not implemented; "
                             f"implemented: {done}")
    if n_groups > 1 and not cls.multigroup:
        raise ParameterError(f"estimator={options.estimator!r} with several groups (a group column, measurement "
                             "invariance) is not implemented yet; use estimator='ML' or estimator='MLR'")
    if options.cluster is not None:
        if not raw:
            raise ParameterError(f"cluster={options.cluster!r} needs raw data (the cluster of every respondent), "
                                 "not a covariance matrix")
        import importlib

        importlib.import_module(".cluster", __package__)  # registers the clustered variants
        cluster_cls = _CLUSTERED.get(key)
        if cluster_cls is None:
            raise ParameterError(f"cluster= with estimator={options.estimator!r} and missing={options.missing!r} "
                                 "is not implemented; use estimator='MLR' with complete data")
        return cluster_cls
    if not raw and cls.needs_raw:
        what = "missing='fiml'" if options.missing == "fiml" else f"estimator={options.estimator!r}"
        raise ParameterError(f"{what} needs raw data (casewise information), not a covariance matrix")
    return cls
