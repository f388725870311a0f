"""One options object for every place a factor model is fitted.

``SEMOptions`` travels from the CLI or the Python API to the main ``cfa`` fit, each
step of ``measurement_invariance``, ``ep_structure_test``, the CFA-based omega/CR/AVE
of ``validity``, the CFA comparison in ``compare_servqual_servperf`` and the report.
An option that cannot apply to an analysis raises :class:`ParameterError` naming the
combination; it is never dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from .._exceptions import ParameterError
from .._params import check_bool, check_choice, check_confidence_level

__all__ = ["SEMOptions", "resolve_options", "ESTIMATOR_CHOICES", "MISSING_CHOICES"]

ESTIMATOR_CHOICES = ("ML", "MLR", "WLSMV")
MISSING_CHOICES = ("listwise", "fiml")
LIKELIHOOD_CHOICES = ("normal", "wishart")


@dataclass(frozen=True)
class SEMOptions:
    """Estimation options shared by every factor-model fit (lavaan's names in brackets).

    Parameters
    ----------
    estimator : {"ML", "MLR", "WLSMV"}
        ``"ML"`` [``estimator = "ML"``]; ``"MLR"``: ML estimates with sandwich
        standard errors and the Yuan-Bentler scaled test [``"MLR"``]; ``"WLSMV"``:
        items ordinal, DWLS on polychoric correlations [``ordered = TRUE,
        estimator = "WLSMV"``].
    missing : {"listwise", "fiml"}
        ``"listwise"`` drops respondents with any missing answer on the model's
        variables and counts them [``missing = "listwise"``]; ``"fiml"`` uses every
        answer [``missing = "ml"``].
    likelihood : {"normal", "wishart"}
        Covariance divisor N or N - 1 [``likelihood``].
    std_lv : bool
        Identify factors by unit variances instead of first loadings [``std.lv``].
    confidence_level : float
        Level of the Wald intervals ``ci_low``, ``ci_high`` [``level``].
    strict : bool
        Raise :class:`ConvergenceError` instead of warning when a fit cannot be
        trusted (no convergence, singular information matrix).
    cluster : str, optional
        Column of cluster ids (e.g. ``"village"``) [``cluster =``]: respondents of
        one cluster are not independent.  Standard errors become cluster-robust
        (sandwich with cluster-summed casewise scores) and the test the Yuan-Bentler
        (Mplus) scaled test with the same cluster-based meat, as lavaan's
        ``cfa(..., cluster = )`` does for ``estimator = "MLR"`` (and for ``"ML"``,
        whose scaled test lavaan computes with the h1 observed information).  The
        estimates do not change; a mean structure is always modelled.  Complete
        data (listwise) only; not with ``estimator="WLSMV"``.
    ordered : bool, optional
        Items ordinal; ``True`` requires (and ``estimator="WLSMV"`` implies) it.
        Declaring only some items ordinal is not implemented.

    Examples
    --------
    >>> SEMOptions(estimator="mlr").estimator
    'MLR'
    >>> SEMOptions(estimator="MLR", missing="fiml").label
    'MLR, missing=fiml'
    >>> SEMOptions(estimator="MLR", cluster="village").label
    'MLR, cluster=village'
    """

    estimator: Literal["ML", "MLR", "WLSMV"] = "ML"
    missing: Literal["listwise", "fiml"] = "listwise"
    likelihood: Literal["normal", "wishart"] = "normal"
    std_lv: bool = False
    confidence_level: float = 0.95
    strict: bool = False
    cluster: str | None = None
    ordered: bool | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "estimator", check_choice("estimator", self.estimator, ESTIMATOR_CHOICES, case_insensitive=True))
        set_(self, "missing", check_choice("missing", self.missing, MISSING_CHOICES, case_insensitive=True))
        set_(self, "likelihood", check_choice("likelihood", self.likelihood, LIKELIHOOD_CHOICES, case_insensitive=True))
        set_(self, "std_lv", check_bool("std_lv", self.std_lv))
        set_(self, "strict", check_bool("strict", self.strict))
        set_(self, "confidence_level", check_confidence_level(self.confidence_level))
        if self.cluster is not None:
            if not isinstance(self.cluster, str) or not self.cluster.strip():
                raise ParameterError(f"cluster must be a column name (str); got {self.cluster!r}")
            if self.estimator == "WLSMV":
                raise ParameterError("cluster= with estimator='WLSMV' is not implemented (lavaan uses "
                                     "robust.cluster.sem standard errors there); use estimator='MLR'")
            if self.missing == "fiml":
                raise ParameterError("cluster= with missing='fiml' is not implemented; use missing='listwise' "
                                     "(incomplete respondents dropped and counted)")
            if self.likelihood != "normal":
                raise ParameterError("cluster= with likelihood='wishart' is not implemented; use likelihood='normal'")
        if self.ordered is not None:
            set_(self, "ordered", check_bool("ordered", self.ordered))
            if self.ordered and self.estimator != "WLSMV":
                raise ParameterError(f"ordered=True needs estimator='WLSMV', not {self.estimator!r}")
            if not self.ordered and self.estimator == "WLSMV":
                raise ParameterError("estimator='WLSMV' treats every item as ordinal; ordered=False contradicts it")
        if self.estimator == "WLSMV" and self.missing == "fiml":
            raise ParameterError("estimator='WLSMV' with missing='fiml' is not implemented (lavaan uses pairwise "
                                 "deletion for WLSMV); use missing='listwise', or missing='fiml' with estimator='ML' "
                                 "or estimator='MLR'")
        if self.estimator == "WLSMV" and self.likelihood != "normal":
            raise ParameterError("likelihood='wishart' applies to ML estimators, not to estimator='WLSMV'")

    @property
    def label(self) -> str:
        """Short description for tables and reports, e.g. ``"MLR, missing=fiml"``."""
        parts = [self.estimator]
        if self.missing != "listwise":
            parts.append(f"missing={self.missing}")
        if self.likelihood != "normal":
            parts.append(f"likelihood={self.likelihood}")
        if self.std_lv:
            parts.append("std_lv")
        if self.cluster is not None:
            parts.append(f"cluster={self.cluster}")
        return ", ".join(parts)

    def replace(self, **changes: Any) -> SEMOptions:
        """A copy with some options changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_NAMES = tuple(f.name for f in fields(SEMOptions))


def resolve_options(options: SEMOptions | Mapping[str, Any] | None = None, **given: Any) -> SEMOptions:
    """Merge an options object with keyword arguments given directly.

    Keywords left at ``None`` take the value of ``options``; a keyword that
    contradicts ``options`` is an error rather than a silent override.

    >>> resolve_options(SEMOptions(estimator="MLR"), std_lv=True).label
    'MLR, std_lv'
    """
    if options is None:
        base = SEMOptions()
    elif isinstance(options, SEMOptions):
        base = options
    elif isinstance(options, Mapping):
        unknown = [k for k in options if k not in _NAMES]
        if unknown:
            raise ParameterError(f"unknown option(s) {', '.join(map(str, unknown))}; known: {', '.join(_NAMES)}")
        base = SEMOptions(**dict(options))
    else:
        raise ParameterError(f"options must be SEMOptions, a dict or None; got {type(options).__name__}")
    changes = {}
    for key, value in given.items():
        if key not in _NAMES:
            raise ParameterError(f"unknown option {key!r}")
        if value is None:
            continue
        current = getattr(base, key)
        if options is not None and key in _explicit(options) and _norm(value) != _norm(current):
            raise ParameterError(f"{key}={value!r} contradicts options.{key}={current!r}; give it in one place")
        changes[key] = value
    return base.replace(**changes) if changes else base


def _norm(v: Any) -> Any:
    return v.upper() if isinstance(v, str) else v


def _explicit(options: SEMOptions | Mapping[str, Any]) -> set[str]:
    """Options that differ from the defaults (a default in ``options`` may be overridden)."""
    if isinstance(options, Mapping):
        return set(options)
    default = SEMOptions()
    return {k for k in _NAMES if getattr(options, k) != getattr(default, k)}
