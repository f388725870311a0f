"""Study planning: how many respondents a SERVQUAL study needs (issue 18).

Three kinds of answer, each a frozen result with ``summary()``, ``to_dict()``, ``plot()`` and a
methods paragraph in English and Indonesian (``methods_text(lang)``):

1. **Power of the RMSEA test** of a factor model (:func:`plan_rmsea`; MacCallum, Browne &
   Sugawara 1996) and of the difference between two nested models (:func:`plan_rmsea_nested`;
   MacCallum, Browne & Cai 2006), as ``semTools::findRMSEApower`` / ``findRMSEAsamplesize`` /
   ``findRMSEApowernested`` / ``findRMSEAsamplesizenested``.  With ``N`` respondents in ``G``
   groups, ``df`` degrees of freedom and RMSEA ``e``, the test statistic is noncentral chi-square
   with noncentrality ``lambda = (N - 1) df e^2 / G`` (eq. 4 of MacCallum et al. 1996; the division
   by ``G`` is semTools' multiple-group convention).  Close fit (``e0 < ea``): reject when
   ``X2 > chi2_{1-alpha}(df, lambda0)``, power ``P(X2 > c | lambda_a)``; not-close fit
   (``e0 > ea``): reject when ``X2 < chi2_alpha(df, lambda0)``, power ``P(X2 < c | lambda_a)``.
   Nested models A (more restricted) and B: the chi-square difference has ``df_A - df_B`` degrees of
   freedom and noncentrality ``(N - 1)(df_A e_A^2 - df_B e_B^2) / G`` under the null (``e0``) and
   the alternative (``e1``) values (MacCallum et al. 2006, eqs. 5-8).  The sample size is the
   smallest ``N`` whose power *exceeds* the target, as semTools' search (``which(pow > power)[1]``).
2. **Precision of gaps** (:func:`plan_gap`): the smallest ``n`` with
   ``t_{1-(1-level)/2, n-1} * SD / sqrt(n) <= half_width`` (the paired-t interval of a mean gap),
   then for cluster sampling the design effect ``deff = 1 + (m - 1) ICC`` (Kish 1965):
   ``n = ceil(n_srs * deff)``, where the product is first rounded to 9 decimals so that
   floating-point noise (``1.45 * 140 = 203.00000000000003``) never adds a respondent.  With a fixed
   number of clusters ``k`` the cluster size is the smallest ``m`` with ``k m >= ceil(n_srs deff(m))``.
3. **Monte Carlo planning** (:func:`plan_simulate`) with :func:`~servmodels.simulate_servqual`:
   for a grid of ``n``, the share of replications whose CFA converges to a proper solution, the
   power of the test of "gap = 0" per dimension, the coverage of the gap intervals and the power of
   the SERVQUAL-versus-SERVPERF comparison.  Replication ``r`` draws from child ``r`` of one
   ``numpy.random.SeedSequence`` (the same child for every ``n``), so a seed gives the same numbers
   whatever the number of worker processes.  The model can be estimated from a pilot file
   (:func:`estimate_pilot`).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._exceptions import ConvergenceError, NumericalError, ParameterError, ServmodelsWarning
from ._params import check_bool, check_choice, check_confidence_level, check_float, check_int, check_rng
from ._progress import progress as progress_bar
from ._results import Result, jsonable, text_table
from .data import SurveyData
from .instrument import Instrument, get_instrument

__all__ = [
    "RMSEAPlanResult", "GapPlanResult", "PilotEstimates", "SimulationPlanResult",
    "plan_rmsea", "plan_rmsea_nested", "plan_gap", "plan_simulate", "estimate_pilot", "model_df",
]

Lang = Literal["en", "id"]

#: largest sample size the searches consider (beyond it the target is called unreachable)
MAX_N = 10**7
#: largest degrees of freedom accepted (noncentral chi-square tails stay accurate below it)
MAX_DF = 10**5


# ============================================================================ small helpers
def _num(x: float, digits: int, lang: str) -> str:
    """A number with fixed decimals; Indonesian uses the decimal comma."""
    s = f"{x:.{digits}f}"
    return s.replace(".", ",") if lang == "id" else s


def _g(x: float, lang: str) -> str:
    """A short number as given (0.05, 0.1, 265), decimal comma in Indonesian."""
    s = f"{x:g}"
    return s.replace(".", ",") if lang == "id" else s


def _check_lang(lang: str) -> str:
    return check_choice("lang", lang, ("en", "id"))


def _text(key: str, lang: str, **fields: Any) -> str:
    from .render.catalogue import planning_text

    return planning_text(key, lang, **fields)


def _figure() -> tuple[Any, Any]:
    """A new matplotlib Figure without pyplot (no backend is touched, nothing to close); matplotlib is
    imported only here, when a plot is asked for."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    return fig, fig.subplots()


def _save(fig: Any, path: str | os.PathLike | None) -> Any:
    """Write the figure to ``path`` (format from the extension: .png, .pdf, .svg) when given; return it."""
    if path is not None:
        from ._exceptions import DataFileError

        try:
            fig.savefig(path, dpi=150)
        except (OSError, ValueError) as exc:
            raise DataFileError(f"cannot write the plot {str(path)!r}: {getattr(exc, 'strerror', None) or exc}") from None
    return fig


# ============================================================================ degrees of freedom of a model
def model_df(instrument: Instrument | str = "servqual25", *, structure: str = "correlated", scores: str = "P",
             model: str | None = None) -> int:
    """Degrees of freedom of an instrument's factor model (or of lavaan syntax): ``p(p+1)/2 - q``.

    ``p`` observed items, ``q`` free parameters with lavaan's defaults (no mean structure).

    Examples
    --------
    >>> model_df("servqual25"), model_df("servqual25", structure="one_factor")
    (265, 275)
    >>> model_df(model="f =~ a + b + c + d")
    2
    """
    from .sem.api import instrument_model
    from .sem.specification import build_spec

    if model is None:
        model = instrument_model(get_instrument(instrument), scores=scores, structure=structure)  # type: ignore[arg-type]
    spec = build_spec(model)
    df = spec.p * (spec.p + 1) // 2 - spec.n_free
    if df < 1:
        raise ParameterError(f"model: the model has {df} degrees of freedom; the RMSEA test needs at least 1")
    return int(df)


# ============================================================================ 1. RMSEA power
def _chisq(fn: str, x: Any, df: float, ncp: np.ndarray) -> np.ndarray:
    """scipy's ``chi2.<fn>`` where ncp = 0 and ``ncx2.<fn>`` elsewhere (sf, cdf or isf), vectorised over
    x and ncp (the noncentral distribution is not defined at ncp = 0)."""
    from scipy import stats

    x, ncp = np.broadcast_arrays(np.asarray(x, float), np.asarray(ncp, float))
    out = np.empty(x.shape)
    zero = ncp <= 0
    if zero.any():
        out[zero] = getattr(stats.chi2, fn)(x[zero], df)
    if (~zero).any():
        out[~zero] = getattr(stats.ncx2, fn)(x[~zero], df, ncp[~zero])
    return out


def _finite(power: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Power functions: scipy's noncentral chi-square warnings silenced, a non-finite power an error."""
    import functools

    @functools.wraps(power)
    def wrapper(*args: Any, **kwargs: Any) -> np.ndarray:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            out = power(*args, **kwargs)
        if not np.all(np.isfinite(out)):
            raise NumericalError("the power cannot be computed accurately for these values (noncentrality "
                                 "too large); use a smaller n or df")
        return np.clip(out, 0.0, 1.0)

    return wrapper


@_finite
def rmsea_power(n: Any, *, df: float, rmsea0: float, rmsea_a: float, alpha: float = 0.05,
                n_groups: int = 1) -> np.ndarray:
    """Power of the RMSEA test for total sample sizes ``n`` (array), as ``semTools::findRMSEApower``.

    Examples
    --------
    >>> float(rmsea_power(100, df=265, rmsea0=0.05, rmsea_a=0.08))  # doctest: +ELLIPSIS
    0.94736249553...
    """
    n = np.asarray(n, float)
    # noncentrality (N - 1) df e^2 / G (MacCallum, Browne & Sugawara 1996, eq. 4; semTools' group convention)
    ncp0 = (n - 1) * df * rmsea0**2 / n_groups
    ncpa = (n - 1) * df * rmsea_a**2 / n_groups
    if rmsea0 < rmsea_a:  # close (or exact) fit: reject for large chi-square
        crit = _chisq("isf", alpha, df, ncp0)
        return _chisq("sf", crit, df, ncpa)
    crit = _chisq("isf", 1 - alpha, df, ncp0)  # not-close fit: reject for small chi-square
    return _chisq("cdf", crit, df, ncpa)


@_finite
def nested_power(n: Any, *, df_a: float, df_b: float, rmsea0_a: float, rmsea0_b: float, rmsea1_a: float,
                 rmsea1_b: float, alpha: float = 0.05, n_groups: int = 1) -> np.ndarray:
    """Power of the chi-square difference test of nested models, as ``semTools::findRMSEApowernested``.

    Examples
    --------
    >>> round(float(nested_power(200, df_a=22, df_b=20, rmsea0_a=0, rmsea0_b=0, rmsea1_a=0.06, rmsea1_b=0.05)), 6)
    0.5695
    """
    n = np.asarray(n, float)
    # MacCallum, Browne & Cai (2006), eqs. 5-8: F* = df e^2 per model, delta = F*_A - F*_B
    delta0 = (df_a * rmsea0_a**2 - df_b * rmsea0_b**2) / n_groups
    delta1 = (df_a * rmsea1_a**2 - df_b * rmsea1_b**2) / n_groups
    crit = _chisq("isf", alpha, df_a - df_b, (n - 1) * delta0)
    return _chisq("sf", crit, df_a - df_b, (n - 1) * delta1)


def _smallest_n(power: Callable[[np.ndarray], np.ndarray], target: float, n_min: int = 2) -> int:
    """Smallest integer N >= n_min with power(N) > target (power increasing in N): doubling, then bisection."""
    if float(power(np.array([n_min]))[0]) > target:
        return n_min
    lo, hi = n_min, 2 * n_min
    while float(power(np.array([hi]))[0]) <= target:
        lo, hi = hi, 2 * hi
        if hi > MAX_N:
            raise ParameterError(f"power: a power above {target:g} needs more than {MAX_N:,} respondents")
    while hi - lo > 1:  # power(lo) <= target < power(hi)
        mid = (lo + hi) // 2
        if float(power(np.array([mid]))[0]) > target:
            hi = mid
        else:
            lo = mid
    return hi


def _curve(power: Callable[[np.ndarray], np.ndarray], n_focus: int) -> pd.DataFrame:
    n_max = max(2 * n_focus, 20)
    grid = np.unique(np.round(np.linspace(2, n_max, 200)).astype(int))
    return pd.DataFrame({"n": grid, "power": power(grid)})


@dataclass(frozen=True)
class RMSEAPlanResult(Result):
    """Power or sample size of an RMSEA test (frozen).

    Attributes
    ----------
    analysis : str
        ``"rmsea"`` (one model) or ``"rmsea_nested"`` (two nested models).
    test : str
        ``"close fit"``, ``"not-close fit"``, ``"exact fit"`` or ``"nested"``.
    n : int
        The sample size given, or the smallest total sample size whose power exceeds
        ``target_power``.
    n_per_group : float
        ``n / n_groups`` (what semTools' sample-size functions return).
    power : float
        Power at ``n``.
    target_power : float or None
        The power asked for (None when ``n`` was given).
    parameters : dict
        df, RMSEA values, alpha, number of groups and where df came from.
    curve : DataFrame
        ``n, power`` over a grid of sample sizes (for :meth:`plot`).
    """

    analysis: str
    test: str
    n: int
    n_per_group: float
    power: float
    target_power: float | None
    parameters: dict[str, Any]
    curve: pd.DataFrame
    n_respondents: int = 0
    n_dropped: int = 0
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The power curve: ``n, power``."""
        return self.curve.copy()

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"analysis": self.analysis, "test": self.test, **self.parameters, "n": self.n,
                         "n_per_group": self.n_per_group, "power": self.power, "target_power": self.target_power,
                         "curve": self.curve, "methods": {lang: self.methods_text(lang) for lang in ("en", "id")},
                         "n_respondents": self.n_respondents, "n_dropped": self.n_dropped,
                         "warnings": list(self.warnings)})

    def summary(self, digits: int = 4) -> str:
        p = self.parameters
        if self.analysis == "rmsea":
            head = (f"RMSEA test of {self.test}: H0 RMSEA = {p['rmsea0']:g} vs {p['rmsea_a']:g}, df = {p['df']}"
                    f"{' (' + p['df_source'] + ')' if p.get('df_source') else ''}, alpha = {p['alpha']:g}")
        else:
            head = (f"Nested models (MacCallum, Browne & Cai 2006): df_a = {p['df_a']}, df_b = {p['df_b']}; "
                    f"H0 RMSEA_A = {p['rmsea0_a']:g}, RMSEA_B = {p['rmsea0_b']:g}; H1 RMSEA_A = {p['rmsea1_a']:g}, "
                    f"RMSEA_B = {p['rmsea1_b']:g}; alpha = {p['alpha']:g}")
        if p.get("n_groups", 1) > 1:
            head += f", {p['n_groups']} groups"
        if self.target_power is None:
            line = f"n = {self.n}: power = {self.power:.{digits}f}"
        else:
            line = f"n = {self.n} for power > {self.target_power:g} (power at n: {self.power:.{digits}f})"
            if p.get("n_groups", 1) > 1:
                line += f"; n per group = {self.n_per_group:g}"
        return "\n".join([head, line, "", self.methods_text("en")])

    def methods_text(self, lang: Lang = "en") -> str:
        """A paragraph for a thesis's methods chapter, with the assumptions stated (``"en"`` or ``"id"``)."""
        lang = _check_lang(lang)
        p = self.parameters
        if self.target_power is None:
            result = _text("rmsea_power", lang, n=self.n, power=_num(self.power, 2, lang))
        else:
            result = _text("rmsea_n", lang, n=self.n, target=_g(self.target_power, lang), power=_num(self.power, 3, lang))
        if p.get("n_groups", 1) > 1:
            result += _text("rmsea_groups", lang, groups=p["n_groups"], per_group=_g(round(self.n_per_group, 1), lang))
        if self.analysis == "rmsea_nested":
            return _text("nested_methods", lang, df_a=p["df_a"], df_b=p["df_b"], rmsea0_a=_g(p["rmsea0_a"], lang),
                         rmsea0_b=_g(p["rmsea0_b"], lang), rmsea1_a=_g(p["rmsea1_a"], lang),
                         rmsea1_b=_g(p["rmsea1_b"], lang), alpha=_g(p["alpha"], lang), result=result)
        key = {"close fit": "test_close", "not-close fit": "test_not_close", "exact fit": "test_exact"}[self.test]
        src = ""
        if p.get("instrument"):
            src = _text("df_source", lang, structure=p["structure"].replace("_", " "), instrument=p["instrument"])
        return _text("rmsea_methods", lang, test=_text(key, lang), rmsea0=_g(p["rmsea0"], lang),
                     rmsea_a=_g(p["rmsea_a"], lang), df=p["df"], df_source=src, alpha=_g(p["alpha"], lang), result=result)

    def plot(self, path: str | os.PathLike | None = None, *, lang: Lang = "en") -> Any:
        """Power against n, with the target power and the planned n marked; saved to ``path`` if given.

        Returns the matplotlib Figure (matplotlib is imported only here).
        """
        lang = _check_lang(lang)
        fig, ax = _figure()
        ax.plot(self.curve["n"], self.curve["power"], color="#1f4e79")
        if self.target_power is not None:
            ax.axhline(self.target_power, color="grey", ls="--", lw=0.8, label=_text("legend_target", lang))
        ax.axvline(self.n, color="#c0504d", ls=":", lw=1)
        ax.plot([self.n], [self.power], "o", color="#c0504d")
        ax.annotate(f"n = {self.n}", (self.n, self.power), textcoords="offset points", xytext=(6, -12))
        ax.set_xlabel(_text("axis_n", lang))
        ax.set_ylabel(_text("axis_power", lang))
        ax.set_ylim(0, 1.02)
        p = self.parameters
        if self.analysis == "rmsea":
            key = {"close fit": "test_close", "not-close fit": "test_not_close", "exact fit": "test_exact"}[self.test]
            ax.set_title(_text("fig_rmsea", lang, test=_text(key, lang), df=p["df"], alpha=_g(p["alpha"], lang)), fontsize=10)
        else:
            ax.set_title(_text("fig_nested", lang, df_a=p["df_a"], df_b=p["df_b"], alpha=_g(p["alpha"], lang)), fontsize=10)
        return _save(fig, path)


def _mode(n: int | None, power: float | None, alpha: float) -> tuple[int | None, float | None]:
    if n is not None and power is not None:
        raise ParameterError("n and power: give n (to compute the power) or power (to compute n), not both")
    if n is None and power is None:
        power = 0.8
    if n is not None:
        n = check_int("n", n, low=2, high=MAX_N)
    if power is not None:
        power = check_float("power", power, low=alpha, high=1.0, low_closed=False, high_closed=False)
    return n, power


def plan_rmsea(*, df: int | None = None, n: int | None = None, power: float | None = None, rmsea0: float = 0.05,
               rmsea_a: float = 0.08, alpha: float = 0.05, n_groups: int = 1,
               instrument: Instrument | str | None = None, structure: str = "correlated", scores: str = "P",
               model: str | None = None) -> RMSEAPlanResult:
    """Power of the RMSEA test of a factor model for ``n`` respondents, or the ``n`` for a ``power``.

    The test of close fit (``rmsea0 < rmsea_a``, e.g. 0.05 against 0.08), of not-close fit
    (``rmsea0 > rmsea_a``, e.g. 0.05 against 0.01) or of exact fit (``rmsea0 = 0``), following
    MacCallum, Browne & Sugawara (1996); identical to ``semTools::findRMSEApower(rmsea0, rmsea_a,
    df, n, alpha, group)`` and ``findRMSEAsamplesize`` (the smallest n whose power exceeds ``power``).

    Parameters
    ----------
    df : int, optional
        Degrees of freedom of the model.  Default: counted from ``model`` (lavaan syntax) or from
        ``instrument``'s model (``structure``, ``scores``; default ``servqual25``, df = 265).
    n : int, optional
        Total sample size: compute the power.
    power : float, optional
        Target power: compute the smallest total n whose power exceeds it.  Default 0.8 when
        ``n`` is not given.
    rmsea0, rmsea_a : float
        RMSEA under the null hypothesis and under the alternative.
    alpha : float
        Significance level of the test.
    n_groups : int
        Number of groups of a multiple-group model (semTools' ``group``: the noncentrality is
        divided by it, and ``n`` is the total over groups).

    Returns
    -------
    RMSEAPlanResult

    Examples
    --------
    >>> res = plan_rmsea(df=265, n=100, rmsea0=0.05, rmsea_a=0.08)
    >>> round(res.power, 6)
    0.947362
    >>> plan_rmsea(df=265, power=0.8).n
    71
    """
    alpha = check_float("alpha", alpha, low=0.0, high=1.0, low_closed=False, high_closed=False)
    rmsea0 = check_float("rmsea0", rmsea0, low=0.0, high=1.0)
    rmsea_a = check_float("rmsea_a", rmsea_a, low=0.0, high=1.0)
    if rmsea0 == rmsea_a:
        raise ParameterError(f"rmsea_a must differ from rmsea0 (both {rmsea0:g}): the test has no power to offer")
    n_groups = check_int("n_groups", n_groups, low=1)
    n, power = _mode(n, power, alpha)
    params: dict[str, Any] = {}
    if df is None:
        inst = get_instrument(instrument if instrument is not None else "servqual25")
        df = model_df(inst, structure=structure, scores=scores, model=model)
        params.update(instrument=inst.name if model is None else None, structure=structure if model is None else None,
                      df_source=f"{structure} model of {inst.name} ({scores} items)" if model is None else "model syntax")
    else:
        if instrument is not None or model is not None:
            raise ParameterError("df: give df, or an instrument/model to count it, not both")
        df = check_int("df", df, low=1, high=MAX_DF)
    test = "exact fit" if rmsea0 == 0 else "close fit" if rmsea0 < rmsea_a else "not-close fit"
    params = {"df": int(df), "rmsea0": rmsea0, "rmsea_a": rmsea_a, "alpha": alpha, "n_groups": n_groups, **params}

    def pw(x: np.ndarray) -> np.ndarray:
        return rmsea_power(x, df=df, rmsea0=rmsea0, rmsea_a=rmsea_a, alpha=alpha, n_groups=n_groups)

    target = power
    if n is None:
        assert target is not None
        n = _smallest_n(pw, target)
    achieved = float(pw(np.array([n]))[0])
    return RMSEAPlanResult("rmsea", test, int(n), n / n_groups if n_groups > 1 else int(n), achieved, target, params,
                           _curve(pw, n))


def plan_rmsea_nested(*, df_a: int, df_b: int, rmsea1_a: float, rmsea1_b: float | None = None,
                      rmsea0_a: float = 0.0, rmsea0_b: float = 0.0, n: int | None = None, power: float | None = None,
                      alpha: float = 0.05, n_groups: int = 1) -> RMSEAPlanResult:
    """Power (or n) of the chi-square difference test between nested models (MacCallum, Browne & Cai 2006).

    Model A is the more restricted one (``df_a > df_b``), e.g. one factor (df 275) against five
    correlated dimensions (df 265).  The null hypothesis says the models' RMSEAs are ``rmsea0_a``
    and ``rmsea0_b`` (both 0 by default: no difference in fit); the power is computed for RMSEAs
    ``rmsea1_a`` and ``rmsea1_b`` (default ``rmsea1_b = rmsea0_b``).  Identical to
    ``semTools::findRMSEApowernested`` and ``findRMSEAsamplesizenested``.

    Examples
    --------
    >>> round(plan_rmsea_nested(df_a=22, df_b=20, rmsea1_a=0.06, rmsea1_b=0.05, n=200).power, 6)
    0.5695
    >>> plan_rmsea_nested(df_a=22, df_b=20, rmsea1_a=0.06, rmsea1_b=0.05, power=0.8).n
    331
    """
    alpha = check_float("alpha", alpha, low=0.0, high=1.0, low_closed=False, high_closed=False)
    df_b = check_int("df_b", df_b, low=0, high=MAX_DF)
    df_a = check_int("df_a", df_a, low=1, high=MAX_DF)
    if df_a <= df_b:
        raise ParameterError(f"df_a must exceed df_b: model A is the more restricted one (got df_a = {df_a}, df_b = {df_b})")
    rmsea0_a = check_float("rmsea0_a", rmsea0_a, low=0.0, high=1.0)
    rmsea0_b = check_float("rmsea0_b", rmsea0_b, low=0.0, high=1.0)
    rmsea1_a = check_float("rmsea1_a", rmsea1_a, low=0.0, high=1.0)
    rmsea1_b = rmsea0_b if rmsea1_b is None else check_float("rmsea1_b", rmsea1_b, low=0.0, high=1.0)
    if rmsea0_a < rmsea0_b:
        raise ParameterError("rmsea0_a must be >= rmsea0_b: the more restricted model A cannot fit better")
    if rmsea1_a < rmsea1_b:
        raise ParameterError("rmsea1_a must be >= rmsea1_b: the more restricted model A cannot fit better")
    n_groups = check_int("n_groups", n_groups, low=1)
    n, power = _mode(n, power, alpha)
    delta0 = df_a * rmsea0_a**2 - df_b * rmsea0_b**2
    delta1 = df_a * rmsea1_a**2 - df_b * rmsea1_b**2
    if delta1 <= delta0:
        raise ParameterError("rmsea1_a, rmsea1_b: the alternative must have a larger difference in fit "
                             f"(df_a e_A^2 - df_b e_B^2 = {delta1:.4g}) than the null hypothesis ({delta0:.4g})")
    params = {"df_a": df_a, "df_b": df_b, "rmsea0_a": rmsea0_a, "rmsea0_b": rmsea0_b, "rmsea1_a": rmsea1_a,
              "rmsea1_b": rmsea1_b, "alpha": alpha, "n_groups": n_groups}

    def pw(x: np.ndarray) -> np.ndarray:
        return nested_power(x, df_a=df_a, df_b=df_b, rmsea0_a=rmsea0_a, rmsea0_b=rmsea0_b, rmsea1_a=rmsea1_a,
                            rmsea1_b=rmsea1_b, alpha=alpha, n_groups=n_groups)

    target = power
    if n is None:
        assert target is not None
        n = _smallest_n(pw, target)
    achieved = float(pw(np.array([n]))[0])
    return RMSEAPlanResult("rmsea_nested", "nested", int(n), n / n_groups if n_groups > 1 else int(n), achieved,
                           target, params, _curve(pw, n))


# ============================================================================ 2. precision of gaps
def _t_quantile(level: float, df: float) -> float:
    from ._distributions import t_ppf

    return t_ppf(1 - (1 - level) / 2, df)


def n_for_half_width(sd: float, half_width: float, confidence_level: float = 0.95) -> int:
    """Smallest n (>= 2) with ``t_{1-(1-level)/2, n-1} * sd / sqrt(n) <= half_width``.

    Starts from the normal-theory value ``ceil((z sd / h)^2)`` (a lower bound, since t > z)
    and counts up.

    Examples
    --------
    >>> n_for_half_width(0.6, 0.1)
    141
    """
    from ._distributions import norm_ppf

    z = norm_ppf(1 - (1 - confidence_level) / 2)
    root = z * sd / half_width  # (z sd / h)^2 is a lower bound of n (t > z)
    if not root <= math.sqrt(MAX_N):
        raise ParameterError(f"half_width: more than {MAX_N:,} respondents would be needed")
    n = max(2, math.ceil(root * root) - 1)
    while _t_quantile(confidence_level, n - 1) * sd / math.sqrt(n) > half_width:
        n += 1
        if n > MAX_N:
            raise ParameterError(f"half_width: more than {MAX_N:,} respondents would be needed")
    return n


def _design_n(n_srs: int, icc: float, m: int) -> int:
    # n_srs * deff rounded up, after rounding the product to 9 decimals (floating-point noise never adds one)
    return math.ceil(round(n_srs * (1 + (m - 1) * icc), 9))


def _cluster_size_for(n_srs: int, icc: float, k: int) -> int:
    """Smallest cluster size m with k m >= ceil(n_srs (1 + (m - 1) icc)), given k clusters."""
    if k <= n_srs * icc:
        raise ParameterError(
            f"n_clusters: with {k} clusters and ICC = {icc:g} the precision cannot be reached at any cluster size "
            f"(even very large clusters give an effective sample of at most k / ICC = {k / icc:.0f} < {n_srs}); "
            "sample more clusters")
    m = max(1, math.floor(n_srs * (1 - icc) / (k - n_srs * icc)) - 2)
    while k * m < _design_n(n_srs, icc, m):
        m += 1
    return m


@dataclass(frozen=True)
class GapPlanResult(Result):
    """Sample size for a gap's confidence-interval half-width (frozen).

    ``table`` has one row per gap planned (``name, sd, n_srs, design_effect, n, n_clusters,
    cluster_size``): a single row named ``gap`` for an assumed SD, or one per dimension (item,
    overall) with SDs from a pilot.  ``n`` is the largest row's ``n`` (``binding`` names it).
    """

    table: pd.DataFrame
    n: int
    n_srs: int
    binding: str
    half_width: float
    confidence_level: float
    icc: float | None
    cluster_size: int | None
    n_clusters: int | None
    design_effect: float
    sd: float
    level: str
    design: str = "simple"
    n_respondents: int = 0
    n_dropped: int = 0
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"analysis": "gap", "n": self.n, "n_srs": self.n_srs, "design_effect": self.design_effect,
                         "design": self.design,
                         "icc": self.icc, "cluster_size": self.cluster_size, "n_clusters": self.n_clusters,
                         "sd": self.sd, "half_width": self.half_width, "confidence_level": self.confidence_level,
                         "binding": self.binding, "level": self.level, "rows": self.table,
                         "methods": {lang: self.methods_text(lang) for lang in ("en", "id")},
                         "n_respondents": self.n_respondents, "n_dropped": self.n_dropped,
                         "warnings": list(self.warnings)})

    def summary(self, digits: int = 3) -> str:
        head = (f"Gap precision: {round(self.confidence_level * 100, 4):g}% CI half-width <= {self.half_width:g} — "
                f"n = {self.n}")
        if self.icc is not None:
            head += (f" (simple random sample {self.n_srs} x design effect {self.design_effect:.4g}; "
                     f"{self.n_clusters} clusters of {self.cluster_size})")
        if len(self.table) > 1:
            head += f"; binding: {self.binding}"
        return "\n".join([head, text_table(self.table, digits), "", self.methods_text("en")])

    def methods_text(self, lang: Lang = "en") -> str:
        """A paragraph for a thesis's methods chapter, with the assumptions stated (``"en"`` or ``"id"``)."""
        lang = _check_lang(lang)
        what = _text(f"gap_what_{self.level}" if self.level in ("dimension", "item", "overall") else "gap_what_single", lang)
        src = (_text("sd_pilot", lang, n=self.n_respondents, binding=self.binding) if self.n_respondents
               else _text("sd_assumed", lang))
        cluster = ""
        if self.icc is not None:
            key = "gap_cluster_size" if self.design == "cluster_size" else "gap_n_clusters"
            cluster = _text(key, lang, m=self.cluster_size, icc=_g(self.icc, lang), deff=_g(round(self.design_effect, 4), lang),
                            n=self.n, k=self.n_clusters)
        indep = _text("independent_villages" if self.icc is not None else "independent", lang)
        return _text("gap_methods", lang, level=_g(round(self.confidence_level * 100, 4), lang), what=what,
                     half_width=_g(self.half_width, lang), sd=_num(self.sd, 3, lang), sd_source=src, n_srs=self.n_srs,
                     cluster=cluster, independence=indep)

    def plot(self, path: str | os.PathLike | None = None, *, lang: Lang = "en") -> Any:
        """The CI half-width against n for the binding SD (effective n = n / deff with clusters)."""
        lang = _check_lang(lang)
        fig, ax = _figure()
        n_max = max(2 * self.n, 20)
        grid = np.unique(np.round(np.linspace(3, n_max, 200)).astype(int))
        deff = self.design_effect
        hw = np.array([_t_quantile(self.confidence_level, max(g / deff, 2) - 1) * self.sd / math.sqrt(g / deff)
                       for g in grid])
        ax.plot(grid, hw, color="#1f4e79")
        ax.axhline(self.half_width, color="grey", ls="--", lw=0.8, label=_text("legend_target", lang))
        ax.axvline(self.n, color="#c0504d", ls=":", lw=1)
        ax.annotate(f"n = {self.n}", (self.n, self.half_width), textcoords="offset points", xytext=(6, 6))
        ax.set_ylim(0, min(float(hw.max()), 4 * self.half_width))
        ax.set_xlabel(_text("axis_n", lang))
        ax.set_ylabel(_text("axis_half_width", lang))
        ax.set_title(_text("fig_gap", lang, level=_g(round(self.confidence_level * 100, 4), lang)), fontsize=10)
        return _save(fig, path)


def plan_gap(*, half_width: float, sd: float | None = None, pilot: Any = None, confidence_level: float = 0.95,
             icc: float | None = None, cluster_size: int | None = None, n_clusters: int | None = None,
             level: Literal["dimension", "item", "overall"] = "dimension", **read: Any) -> GapPlanResult:
    """Respondents needed so that a gap's confidence interval is at most ``± half_width`` wide.

    The interval is the paired-t interval of a mean gap (P − E), ``mean ± t_{n-1} SD / sqrt(n)``;
    the plain sample size is the smallest ``n`` with ``t_{1-(1-level)/2, n-1} SD / sqrt(n) <=
    half_width``.  For villages (clusters) of ``cluster_size`` respondents with intraclass
    correlation ``icc`` of the gap, the design effect ``deff = 1 + (m - 1) icc`` multiplies it:
    ``n = ceil(n_srs * deff)`` (the product rounded to 9 decimals first).  With ``n_clusters``
    instead, the cluster size is the smallest ``m`` with ``n_clusters * m >= ceil(n_srs deff(m))``
    and ``n = n_clusters * m``.

    Parameters
    ----------
    half_width : float
        Largest acceptable half-width, in scale points.
    sd : float, optional
        Assumed standard deviation of the gap (respondent-level, of the dimension's mean gap).
    pilot : SurveyData, DataFrame or path, optional
        A pilot survey instead of ``sd``: the SD of every dimension's (``level="dimension"``),
        item's or the overall gap; ``n`` is the largest.  Read with the keywords in ``read``
        (``instrument``, ``scale``, ``nan_policy``, ...), as :func:`servmodels.read_survey`.
    confidence_level : float
    icc : float, optional
        Intraclass correlation of the gap within clusters, in [0, 1).
    cluster_size, n_clusters : int, optional
        Respondents per cluster, or the number of clusters (one of them with ``icc``).

    Returns
    -------
    GapPlanResult

    Examples
    --------
    >>> plan_gap(sd=0.6, half_width=0.1).n
    141
    >>> res = plan_gap(sd=0.6, half_width=0.1, icc=0.05, cluster_size=10)
    >>> res.n, res.design_effect, res.n_clusters
    (205, 1.45, 21)
    >>> plan_gap(sd=0.6, half_width=0.1, icc=0.05, n_clusters=12).cluster_size
    28
    """
    half_width = check_float("half_width", half_width, low=0.0, low_closed=False)
    confidence_level = check_confidence_level(confidence_level)
    level = check_choice("level", level, ("dimension", "item", "overall"))
    if (sd is None) == (pilot is None):
        raise ParameterError("sd and pilot: give an assumed sd of the gap, or a pilot file to estimate it (one of them)")
    if icc is not None:
        icc = check_float("icc", icc, low=0.0, high=1.0, high_closed=False)
        if (cluster_size is None) == (n_clusters is None):
            raise ParameterError("icc: give cluster_size (respondents per village) or n_clusters (villages), one of them")
    elif cluster_size is not None or n_clusters is not None:
        raise ParameterError(f"{'cluster_size' if cluster_size is not None else 'n_clusters'}: a cluster design needs "
                             "icc, the intraclass correlation of the gap")
    if cluster_size is not None:
        cluster_size = check_int("cluster_size", cluster_size, low=1, high=MAX_N)
    if n_clusters is not None:
        n_clusters = check_int("n_clusters", n_clusters, low=1, high=MAX_N)
    n_resp = n_drop = 0
    issued: list[str] = []
    if pilot is not None:
        from ._inputs import as_survey

        _check_read(read)
        data = as_survey(pilot, what="pilot", **read)
        data.require("E", "P")
        data.require_complete("plan_gap")
        sds = _gap_sds(data, level)
        n_resp, n_drop, issued = data.n_respondents, data.n_dropped, list(data.warnings)
        if n_resp < 2:
            raise ParameterError(f"pilot: at least 2 respondents are needed to estimate an SD; got {n_resp}")
    else:
        if read:
            raise ParameterError(f"{', '.join(sorted(read))}: reading options apply to a pilot file")
        sd = check_float("sd", sd, low=0.0, low_closed=False)
        sds = {"gap": float(sd)}
    rows = []
    for name, s in sds.items():
        if not s > 0:
            rows.append({"name": name, "sd": s, "n_srs": 2, "design_effect": np.nan, "n": 2, "n_clusters": np.nan,
                         "cluster_size": np.nan})
            continue
        n0 = n_for_half_width(s, half_width, confidence_level)
        row = {"name": name, "sd": s, "n_srs": n0, "design_effect": 1.0, "n": n0, "n_clusters": np.nan,
               "cluster_size": np.nan}
        if icc is not None:
            m = cluster_size if cluster_size is not None else _cluster_size_for(n0, icc, int(n_clusters))  # type: ignore[arg-type]
            n = _design_n(n0, icc, m) if cluster_size is not None else int(n_clusters) * m  # type: ignore[arg-type]
            row.update(design_effect=1 + (m - 1) * icc, n=n, cluster_size=m,
                       n_clusters=math.ceil(n / m) if cluster_size is not None else n_clusters)
        rows.append(row)
    table = pd.DataFrame(rows)
    zero = table.loc[~(table["sd"] > 0), "name"].tolist()
    if zero:
        msg = f"the pilot's gap has no variation for {', '.join(map(str, zero))}: its n is the minimum, 2"
        warnings.warn(msg, ServmodelsWarning, stacklevel=2)
        issued.append(msg)
    b = int(table["n"].to_numpy().argmax())
    top = table.iloc[b]
    deff = float(top["design_effect"]) if np.isfinite(top["design_effect"]) else 1.0
    return GapPlanResult(
        table=table, n=int(top["n"]), n_srs=int(top["n_srs"]), binding=str(top["name"]), half_width=half_width,
        confidence_level=confidence_level, icc=icc,
        cluster_size=None if icc is None else int(top["cluster_size"]),
        n_clusters=None if icc is None else int(top["n_clusters"]), design_effect=deff, sd=float(top["sd"]),
        level=level if pilot is not None else "single",
        design="simple" if icc is None else "n_clusters" if n_clusters is not None else "cluster_size",
        n_respondents=n_resp, n_dropped=n_drop,
        warnings=tuple(dict.fromkeys(issued)))


def _check_read(read: Mapping[str, Any]) -> None:
    """The reading keywords of a pilot file are read_survey's (a misspelt one is named, not passed on)."""
    from ._inputs import READ_KEYWORDS

    unknown = sorted(set(read) - set(READ_KEYWORDS))
    if unknown:
        raise ParameterError(f"{unknown[0]}: unexpected keyword; the reading options of a pilot are "
                             f"{', '.join(READ_KEYWORDS)}")


def _gap_arrays(data: SurveyData) -> tuple[np.ndarray, list[str], list[np.ndarray]]:
    """Item gaps P - E (n x items), the dimension names and each dimension's item positions."""
    inst = data.instrument
    G = data.responses["P"].astype(np.int64) - data.responses["E"].astype(np.int64)
    pos = {item: j for j, item in enumerate(inst.items)}
    dims = list(inst.dimension_names)
    return G, dims, [np.array([pos[i] for i in inst.dimensions[d]]) for d in dims]


def _gap_sds(data: SurveyData, level: str) -> dict[str, float]:
    G, dims, idx = _gap_arrays(data)
    D = np.column_stack([G[:, ix].mean(axis=1) for ix in idx])
    if level == "dimension":
        return {d: float(D[:, k].std(ddof=1)) for k, d in enumerate(dims)}
    if level == "overall":  # the mean of the dimension gaps, as gap_bootstrap's overall gap
        return {"overall": float(D.mean(axis=1).std(ddof=1))}
    return {c: float(G[:, j].std(ddof=1)) for j, c in enumerate(data.item_columns("gap"))}


# ============================================================================ 3a. pilot estimates
@dataclass(frozen=True)
class PilotEstimates(Result):
    """The simulation model estimated from a pilot survey (frozen).

    Attributes
    ----------
    thresholds : dict of str to ndarray
        Per item column, ``Phi^-1`` of the cumulative answer proportions over the whole scale
        (``K - 1`` values; ``-inf``/``inf`` where a category was never chosen).
    loadings : dict of str to float
        Standardized loading of every item column on its dimension's factor (one-factor ML fit
        to the dimension's correlation block), clipped to [0.05, 0.95] for simulation.
    raw_loadings : dict of str to float
        The same before clipping.
    latent_correlation : DataFrame
        Correlations of the factors (``E:tangibles`` ... ``P:empathy``):
        ``sum(R_ab) / (sum(lambda_a) sum(lambda_b))`` for the correlation blocks of two
        dimensions, made positive definite if needed.
    raw_latent_correlation : DataFrame
        The same before the repair (equal to it when none was needed).
    outcome_correlation : float or None
        Correlation of latent satisfaction with the mean perception factor (None without an
        outcome column).
    item_means, gap_sd : dict
        Item means, and each dimension's SD of the respondent-level gap.
    correlation : str
        ``"polychoric"`` or ``"pearson"``.
    adjustments : tuple of str
        What had to be changed to make a valid simulation model (clipped loadings, a repaired
        correlation matrix), in words.
    """

    thresholds: dict[str, np.ndarray]
    loadings: dict[str, float]
    raw_loadings: dict[str, float]
    latent_correlation: pd.DataFrame
    raw_latent_correlation: pd.DataFrame
    outcome_correlation: float | None
    item_means: dict[str, float]
    gap_sd: dict[str, float]
    correlation: str
    instrument: Instrument
    n_respondents: int
    n_dropped: int
    adjustments: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per item column: ``column, loading, mean, threshold_1, ...``."""
        rows = []
        for col, tau in self.thresholds.items():
            rows.append({"column": col, "loading": self.loadings[col], "mean": self.item_means[col],
                         **{f"threshold_{k + 1}": float(t) for k, t in enumerate(tau)}})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        lc = self.latent_correlation
        return jsonable({"correlation": self.correlation, "n_respondents": self.n_respondents,
                         "n_dropped": self.n_dropped, "loadings": self.loadings, "raw_loadings": self.raw_loadings,
                         "thresholds": {k: [None if not np.isfinite(v) else float(v) for v in t]
                                        for k, t in self.thresholds.items()},
                         "latent_correlation": {"names": list(lc.columns), "matrix": lc.to_numpy()},
                         "outcome_correlation": self.outcome_correlation, "item_means": self.item_means,
                         "gap_sd": self.gap_sd, "adjustments": list(self.adjustments), "warnings": list(self.warnings)})

    def summary(self, digits: int = 3) -> str:
        lines = [f"Pilot estimates ({self.correlation} correlations) — n = {self.n_respondents} used, "
                 f"{self.n_dropped} dropped", text_table(self.to_frame(), digits), "", "Latent correlations:",
                 text_table(self.latent_correlation.reset_index(names="factor"), digits)]
        if self.outcome_correlation is not None:
            lines.append(f"Outcome correlation with the mean perception factor: {self.outcome_correlation:.3f}")
        if self.adjustments:
            lines += ["", "Adjustments:"] + [f"  - {a}" for a in self.adjustments]
        return "\n".join(lines)


def _one_factor_loadings(R: pd.DataFrame, n: int, label: str, correlation: str) -> np.ndarray:
    """Standardized loadings of a one-factor ML model fitted to a correlation block (as lavaan's
    ``cfa(sample.cov = R, sample.nobs = n, std.lv = TRUE)``, ``std.all``)."""
    from .sem import cfa

    cols = list(R.columns)
    if len(cols) == 1:
        raise ParameterError(f"pilot: {label} has one item; its loading cannot be estimated from a pilot")
    if len(cols) == 2:
        # two indicators do not identify a factor: tau-equivalent, lambda^2 = r (documented)
        r = float(R.iloc[0, 1])
        return np.full(2, math.sqrt(max(r, 0.0025)))
    model = "f =~ " + " + ".join(f"`{c}`" if not c.isidentifier() else c for c in cols)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = cfa(model=model, sample_cov=R, n_obs=n, std_lv=True)
    except (NumericalError, ConvergenceError) as exc:
        raise NumericalError(f"pilot: the one-factor model of {label} cannot be fitted to its {correlation} "
                             f"correlations ({exc})") from None
    lam = fit.parameters.loc[fit.parameters["op"] == "=~", "std_all"].to_numpy(float)
    return lam


def _nearest_correlation(phi: np.ndarray, floor: float = 1e-3) -> tuple[np.ndarray, bool]:
    """phi if it is positive definite with smallest eigenvalue >= floor; else its eigenvalues raised to
    ``floor`` and the result rescaled to a unit diagonal (returns the matrix and whether it changed)."""
    phi = (phi + phi.T) / 2
    w, V = np.linalg.eigh(phi)
    if w.min() >= floor:
        return phi, False
    fixed = (V * np.maximum(w, floor)) @ V.T
    d = np.sqrt(np.diag(fixed))
    fixed = fixed / np.outer(d, d)
    np.fill_diagonal(fixed, 1.0)
    return fixed, True


def estimate_pilot(pilot: Any, *, correlation: Literal["polychoric", "pearson"] = "polychoric",
                   **read: Any) -> PilotEstimates:
    """Estimate the simulation model of :func:`plan_simulate` from a pilot survey.

    How (``docs/planning.md`` has the reasoning):

    1. **Thresholds**: for every E and P item, ``tau_k = Phi^-1(share of answers <= k)`` over the
       whole scale, so simulated answers have the pilot's answer distribution.
    2. **Correlations** of all E and P items (and the outcome): polychoric (two-step, as lavaan's
       ``lavCor``; the simulator's latent responses are what they estimate) or Pearson (simpler,
       but attenuated by the categories, which makes the simulated items less correlated).
    3. **Loadings**: a one-factor ML model per score set and dimension, fitted to its
       correlation block (standardized loadings; two-item dimensions: ``sqrt(r)``).
    4. **Factor correlations** (within E, within P, and E with P): for dimensions a and b,
       ``sum(R_ab) / (sum(lambda_a) sum(lambda_b))`` — under the factor model the block
       ``R_ab = lambda_a lambda_b' phi_ab``.  A matrix that is not positive definite is
       repaired (eigenvalues raised to 0.001, unit diagonal restored).
    5. **Outcome**: latent satisfaction correlates ``r`` with the mean perception factor ``m``;
       then the items' correlations with it sum to ``r sum_d Lambda_d (Phi 1)_d / sqrt(1' Phi 1)``,
       which is solved for ``r`` (``Lambda_d`` the sum of dimension d's loadings).

    Loadings are clipped to [0.05, 0.95] for the simulator (recorded in ``adjustments``).

    Examples
    --------
    >>> from servmodels import load_example
    >>> est = estimate_pilot(load_example(), scale=(1, 4), outcome="satisfaction")
    >>> est.latent_correlation.shape, 0 < est.outcome_correlation < 1
    ((10, 10), True)
    """
    from ._inputs import as_survey

    correlation = check_choice("correlation", correlation, ("polychoric", "pearson"))
    _check_read(read)
    data = as_survey(pilot, what="pilot", **read)
    data.require("E", "P")
    data.require_complete("estimate_pilot")
    inst = data.instrument
    n = data.n_respondents
    if n < 3:
        raise ParameterError(f"pilot: at least 3 respondents are needed; got {n}")
    lo, hi = inst.scale
    K = hi - lo + 1
    sets = ("E", "P")
    cols = [inst.column(s, i) for s in sets for i in inst.items]
    X = np.column_stack([data.responses[s] for s in sets]).astype(np.int64)
    constant = [c for j, c in enumerate(cols) if np.all(X[:, j] == X[0, j])]
    if constant:
        raise ParameterError(f"pilot: {', '.join(constant[:5])}{' and more' if len(constant) > 5 else ''} "
                             "received one answer only: no correlation can be estimated; use a larger pilot or give "
                             "the model parameters")
    thresholds = {}
    with np.errstate(divide="ignore"):
        from scipy import special

        for j, c in enumerate(cols):
            counts = np.bincount(X[:, j] - lo, minlength=K)
            thresholds[c] = special.ndtri(np.cumsum(counts)[:-1] / n)
    frame = pd.DataFrame(X, columns=cols)
    adjustments: list[str] = []
    y = data.outcome
    if y is not None:
        if np.unique(y).size < 2:
            y = None
            adjustments.append("the outcome column is constant in the pilot: its correlation is not estimated")
        else:
            frame["__outcome__"] = y
    if correlation == "polychoric":
        from .polychoric import polychoric

        if y is not None and np.unique(y).size > 10:
            # a near-continuous outcome: its correlations are Pearson, the items' polychoric
            R = polychoric(frame[cols], nacov=False).correlation
            pear = frame.corr()["__outcome__"]
            R = R.reindex(index=cols + ["__outcome__"], columns=cols + ["__outcome__"])
            R.loc["__outcome__", :] = pear
            R.loc[:, "__outcome__"] = pear
            adjustments.append("the outcome has more than 10 distinct values: its correlations are Pearson")
        else:
            R = polychoric(frame, nacov=False).correlation
    else:
        R = frame.corr()
    blocks = {f"{s}:{d}": [inst.column(s, i) for i in inst.dimensions[d]] for s in sets for d in inst.dimension_names}
    raw: dict[str, float] = {}
    sums = {}
    for name, bc in blocks.items():
        lam = _one_factor_loadings(R.loc[bc, bc], n, f"dimension {name.split(':')[1]} ({name.split(':')[0]})",
                                   correlation)
        raw.update(zip(bc, map(float, lam)))
        sums[name] = float(lam.sum())
    names = list(blocks)
    phi = np.eye(len(names))
    for a, na in enumerate(names):
        for b, nb in enumerate(names):
            if a != b:
                phi[a, b] = float(R.loc[blocks[na], blocks[nb]].to_numpy().sum()) / (sums[na] * sums[nb])
    phi_fixed, changed = _nearest_correlation(phi)
    if changed:
        adjustments.append(f"the latent correlation matrix was not positive definite (smallest eigenvalue "
                           f"{np.linalg.eigvalsh((phi + phi.T) / 2).min():.3f}); it was repaired (largest change "
                           f"{np.abs(phi_fixed - phi).max():.3f})")
    loadings = {c: float(min(max(v, 0.05), 0.95)) for c, v in raw.items()}
    clipped = [c for c in raw if loadings[c] != raw[c]]
    if clipped:
        adjustments.append("loadings outside [0.05, 0.95] were clipped: "
                           + ", ".join(f"{c} ({raw[c]:.2f})" for c in clipped[:8])
                           + (f" and {len(clipped) - 8} more" if len(clipped) > 8 else "")
                           + (" (a negative loading may be a reverse-keyed item: declare it with reverse=)"
                              if any(raw[c] < 0 for c in clipped) else ""))
    r_out = None
    if y is not None:
        p_names = [nm for nm in names if nm.startswith("P:")]
        pi = [names.index(nm) for nm in p_names]
        Phi_P = phi_fixed[np.ix_(pi, pi)]
        p_cols = [c for nm in p_names for c in blocks[nm]]
        S = float(R.loc["__outcome__", p_cols].to_numpy().sum())
        lam_sums = np.array([sums[nm] for nm in p_names])
        r_out = S * math.sqrt(Phi_P.sum()) / float(lam_sums @ Phi_P.sum(axis=1))
        if not -0.95 <= r_out <= 0.95:
            adjustments.append(f"the outcome correlation {r_out:.3f} was clipped to [-0.95, 0.95]")
            r_out = float(min(max(r_out, -0.95), 0.95))
    item_means = {c: float(X[:, j].mean()) for j, c in enumerate(cols)}
    return PilotEstimates(
        thresholds=thresholds, loadings=loadings, raw_loadings=raw,
        latent_correlation=pd.DataFrame(phi_fixed, index=names, columns=names),
        raw_latent_correlation=pd.DataFrame(phi, index=names, columns=names), outcome_correlation=r_out,
        item_means=item_means, gap_sd=_gap_sds(data, "dimension"), correlation=correlation, instrument=inst,
        n_respondents=n, n_dropped=data.n_dropped, adjustments=tuple(adjustments), warnings=tuple(data.warnings))


# ============================================================================ 3b. Monte Carlo planning
@dataclass(frozen=True)
class _Spec:
    """Everything one replication needs (picklable: sent to worker processes)."""

    instrument: Instrument
    simulate: dict[str, Any]
    dims: tuple[str, ...]
    true_gaps: tuple[float, ...]
    test: str
    bootstrap_method: str
    n_resamples: int
    cluster: bool
    alpha: float
    confidence_level: float
    cfa_scores: str | None
    compare: bool


def _child(seed: np.random.SeedSequence, k: int) -> np.random.SeedSequence:
    """The k-th child of ``seed`` computed, not spawned: the same whatever was spawned before."""
    return np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + (k,), pool_size=seed.pool_size)


def _gap_t(G: np.ndarray, idx: list[np.ndarray], level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Paired t test of each dimension's mean gap: (p-values, CI low, CI high), as R's ``t.test``."""
    from ._distributions import t_sf

    n = len(G)
    D = np.column_stack([G[:, ix].mean(axis=1) for ix in idx])
    mean = D.mean(axis=0)
    se = D.std(axis=0, ddof=1) / math.sqrt(n)
    q = _t_quantile(level, n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = mean / se
    p = np.array([2 * t_sf(abs(v), n - 1) if np.isfinite(v) else (1.0 if m == 0 else 0.0) for v, m in zip(t, mean)])
    return p, mean - q * se, mean + q * se


def _replicate(spec: _Spec, n: int, seed: np.random.SeedSequence) -> dict[str, Any]:
    """One simulated survey of n respondents and everything measured on it."""
    from .bootstrap import gap_bootstrap
    from .io import read_survey
    from .regression import compare_servqual_servperf
    from .sem import cfa
    from .simulate import simulate_servqual

    out: dict[str, Any] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = simulate_servqual(n, instrument=spec.instrument, rng=np.random.default_rng(_child(seed, 0)),
                               outcome=spec.compare, **spec.simulate)
        data = read_survey(df, spec.instrument, outcome="satisfaction" if spec.compare else None, groups=["village"])
        # CFA: converged, and a proper solution (no Heywood case, positive definite matrices)
        converged = proper = False
        if spec.cfa_scores is not None:
            try:
                fit = cfa(data, scores=spec.cfa_scores)
                # build_result's warnings: non-convergence, a singular information matrix, Heywood cases,
                # non-positive-definite latent or residual covariance matrices
                converged = bool(fit.converged) and not any("is singular" in w for w in fit.warnings)
                proper = converged and not any(w.startswith("Heywood") or "not positive definite" in w
                                               for w in fit.warnings)
            except (NumericalError, ConvergenceError):
                pass
        out["converged"], out["proper"] = converged, proper
        # gap = 0 per dimension
        if spec.test == "t":
            G, _, idx = _gap_arrays(data)
            p, lo, hi = _gap_t(G, idx, spec.confidence_level)
        else:
            res = gap_bootstrap(data, method=spec.bootstrap_method, n_resamples=spec.n_resamples,
                                rng=_child(seed, 1), confidence_level=spec.confidence_level,
                                cluster="village" if spec.cluster else None)
            t = res.table[res.table["level"] == "dimension"].set_index("name").loc[list(spec.dims)]
            p, lo, hi = (t[c].to_numpy(float) for c in ("p_value", "ci_low", "ci_high"))
        truth = np.array(spec.true_gaps)
        out["reject"] = (p < spec.alpha).tolist()
        out["cover"] = ((lo <= truth) & (truth <= hi)).tolist()
        # SERVQUAL versus SERVPERF (J tests); the simulator's satisfaction follows perception
        if spec.compare:
            try:
                cmp = compare_servqual_servperf(data, n_splits=min(10, n), n_repeats=1, n_resamples=0,
                                                include_cfa=False, rng=np.random.default_rng(_child(seed, 2)))
                pq = cmp.j_test["servqual_vs_servperf"]["p_value"]
                pp = cmp.j_test["servperf_vs_servqual"]["p_value"]
                out["j_rejects_servqual"] = bool(pq < spec.alpha)
                out["favours_servperf"] = bool(pq < spec.alpha and not pp < spec.alpha)
            except NumericalError:
                out["j_rejects_servqual"] = out["favours_servperf"] = False
    del caught  # warnings of the replications are expected (small samples) and not reported one by one
    return out


def _one_blas_thread() -> Any:
    """A context with one BLAS thread: the matrices of a replication are small (25 x 25), where threaded
    BLAS only adds overhead (and, on a busy machine, threads spinning for cores); workers fill the cores."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        import contextlib

        return contextlib.nullcontext()


def _run_chunk(spec: _Spec, jobs: list[tuple[int, int, np.random.SeedSequence]]) -> list[tuple[int, dict[str, Any]]]:
    """Replications in a worker process: (job index, measurements)."""
    with _one_blas_thread():
        return [(i, _replicate(spec, n, seed)) for i, n, seed in jobs]


@dataclass(frozen=True)
class SimulationPlanResult(Result):
    """Monte Carlo planning over a grid of sample sizes (frozen).

    Attributes
    ----------
    by_n : DataFrame
        One row per n: ``n, replications, convergence_rate`` (CFA converged to a proper
        solution), ``nonconvergence_rate``, ``improper_rate`` (converged with a Heywood case or a
        non-positive-definite matrix), ``ci_coverage`` (share of all dimension intervals that
        contain their true gap), ``min_power``, ``compare_power`` (the J tests favour SERVPERF,
        the simulator's true model) and ``j_rejects_servqual``.
    table : DataFrame
        One row per n and dimension: ``n, dimension, true_gap, power, power_se, ci_coverage``.
    true_gaps : dict
        Each dimension's population gap under the simulation model.
    assumptions : dict
        Every input of the simulation (and the pilot's estimates, when used).
    seed : int
        The seed (entropy) of the run: the same seed gives the same result.
    """

    by_n: pd.DataFrame
    table: pd.DataFrame
    true_gaps: dict[str, float]
    assumptions: dict[str, Any]
    replications: int
    seed: int
    test: str
    alpha: float
    confidence_level: float
    target_power: float
    pilot: PilotEstimates | None = None
    n_respondents: int = 0
    n_dropped: int = 0
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _per_n(self) -> list[dict[str, Any]]:
        out = []
        for _, row in self.by_n.iterrows():
            n = int(row["n"])
            t = self.table[self.table["n"] == n].set_index("dimension")
            entry = {"n": n, "replications": int(row["replications"]),
                     "convergence_rate": row["convergence_rate"], "nonconvergence_rate": row["nonconvergence_rate"],
                     "improper_rate": row["improper_rate"], "power": t["power"].to_dict(),
                     "power_se": t["power_se"].to_dict(), "ci_coverage": row["ci_coverage"],
                     "ci_coverage_by_dimension": t["ci_coverage"].to_dict(), "min_power": row["min_power"]}
            if "compare_power" in row:
                entry["compare_power"] = row["compare_power"]
                entry["j_rejects_servqual"] = row["j_rejects_servqual"]
            out.append(entry)
        return out

    def to_dict(self) -> dict[str, Any]:
        per_n = self._per_n()
        return jsonable({"analysis": "simulate", "n": [e["n"] for e in per_n], "replications": self.replications,
                         "seed": self.seed, "test": self.test, "alpha": self.alpha,
                         "confidence_level": self.confidence_level, "target_power": self.target_power,
                         "recommended_n": self.recommended_n, "true_gaps": self.true_gaps, "results": per_n,
                         "by_n": {str(e["n"]): e for e in per_n}, "assumptions": self.assumptions,
                         "pilot": None if self.pilot is None else self.pilot.to_dict(),
                         "methods": {lang: self.methods_text(lang) for lang in ("en", "id")},
                         "n_respondents": self.n_respondents, "n_dropped": self.n_dropped,
                         "warnings": list(self.warnings)})

    @property
    def recommended_n(self) -> int | None:
        """Smallest n of the grid with every dimension's power >= target_power and convergence >= 95 %."""
        ok = self.by_n[(self.by_n["min_power"] >= self.target_power) & (self.by_n["convergence_rate"] >= 0.95)]
        return None if ok.empty else int(ok["n"].min())

    def summary(self, digits: int = 3) -> str:
        wide = self.table.pivot(index="n", columns="dimension", values="power")[list(self.true_gaps)]
        wide.columns = [f"power {c}" for c in wide.columns]
        cols = ["n", "convergence_rate", "ci_coverage"] + (["compare_power"] if "compare_power" in self.by_n else [])
        frame = self.by_n[cols].merge(wide.reset_index(), on="n")
        gaps = ", ".join(f"{d} {g:+.3f}" for d, g in self.true_gaps.items())
        head = (f"Monte Carlo planning: {self.replications} replications per n, seed {self.seed}, test {self.test}, "
                f"alpha {self.alpha:g}\nTrue gaps: {gaps}")
        rec = self.recommended_n
        tail = (f"Recommended n (power >= {self.target_power:g} in every dimension, convergence >= 95%): "
                f"{rec if rec is not None else 'none of the sizes examined'}")
        lines = [head, text_table(frame, digits), tail]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines + ["", self.methods_text("en")])

    def methods_text(self, lang: Lang = "en") -> str:
        """A paragraph for a thesis's methods chapter, with the assumptions stated (``"en"`` or ``"id"``)."""
        lang = _check_lang(lang)
        a = self.assumptions
        if self.pilot is not None:
            source = _text("sim_source_pilot", lang, correlation=self.pilot.correlation, n=self.pilot.n_respondents)
        else:
            source = _text("sim_source_assumed", lang, loading=_g(a["loading"], lang),
                           factor_correlation=_g(a["factor_correlation"], lang),
                           set_correlation=_g(a["set_correlation"], lang))
        if self.test == "t":
            test = _text("test_t", lang)
        else:
            key = "test_cluster_bootstrap" if a.get("cluster") else "test_bootstrap"
            test = _text(key, lang, method=a["bootstrap_method"], n=a["n_resamples"])
        rec = self.recommended_n
        pct = _g(round(self.target_power, 4), lang)
        lead = (_text("sim_recommend", lang, n=rec, target=pct) if rec is not None
                else _text("sim_none", lang, target=pct))
        n_show = rec if rec is not None else int(self.by_n["n"].max())
        row = self.by_n.set_index("n").loc[n_show]
        t = self.table[self.table["n"] == n_show].set_index("dimension")["power"]
        dmin, dmax = t.idxmin(), t.idxmax()
        finding = lead + _text("sim_finding", lang, n=n_show, conv=_g(round(100 * row["convergence_rate"], 1), lang),
                               pmin=_num(t[dmin], 2, lang), dmin=dmin, pmax=_num(t[dmax], 2, lang), dmax=dmax,
                               level=_g(round(self.confidence_level * 100, 4), lang),
                               cov=_g(round(100 * row["ci_coverage"], 1), lang))
        lo, hi = a["scale"]
        return _text("sim_methods", lang, replications=self.replications, seed=self.seed, lo=lo, hi=hi,
                     n_factors=2 * len(self.true_gaps),
                     source=source, villages=a["villages"], village_sd=_g(a["village_sd"], lang),
                     cfa_scores=a.get("cfa_scores") or "P", test=test, alpha=_g(self.alpha, lang),
                     compare=_text("sim_compare", lang) if "compare_power" in self.by_n else "", finding=finding)

    def plot(self, path: str | os.PathLike | None = None, *, lang: Lang = "en") -> Any:
        """Power of each dimension's gap test and the CFA's proper-solution rate against n."""
        lang = _check_lang(lang)
        fig, ax = _figure()
        for d in self.true_gaps:
            t = self.table[self.table["dimension"] == d]
            ax.plot(t["n"], t["power"], marker="o", ms=3, label=f"{d} ({self.true_gaps[d]:+.2f})")
        ax.plot(self.by_n["n"], self.by_n["convergence_rate"], color="black", ls="--", marker="s", ms=3,
                label=_text("legend_convergence", lang))
        ax.axhline(self.target_power, color="grey", ls=":", lw=0.8)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(_text("axis_n", lang))
        ax.set_ylabel(_text("axis_rate", lang))
        ax.set_title(_text("fig_sim", lang, replications=self.replications), fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
        return _save(fig, path)


def _n_grid(n: int | Sequence[int]) -> list[int]:
    values = [n] if isinstance(n, (int, np.integer)) else list(n)
    if not values:
        raise ParameterError("n must name at least one sample size")
    out = sorted({int(check_int("n", v, low=10, high=10**6)) for v in values})  # type: ignore[arg-type]
    return out


def plan_simulate(
    n: int | Sequence[int],
    *,
    replications: int = 200,
    rng: int | np.random.Generator | np.random.SeedSequence | None = None,
    pilot: Any = None,
    correlation: Literal["polychoric", "pearson"] = "polychoric",
    instrument: Instrument | str = "servqual25",
    scale: tuple[int, int] | None = None,
    loading: float = 0.7,
    factor_correlation: float = 0.5,
    set_correlation: float = 0.4,
    outcome_correlation: float | None = None,
    village_sd: float | None = None,
    villages: int = 12,
    gaps: float | Mapping[str, float] | None = None,
    item_means: pd.DataFrame | Mapping[str, Any] | None = None,
    test: Literal["t", "bootstrap"] = "t",
    bootstrap_method: Literal["percentile", "basic", "bca"] = "bca",
    n_resamples: int = 499,
    cluster: bool = False,
    alpha: float = 0.05,
    confidence_level: float = 0.95,
    target_power: float = 0.8,
    cfa_scores: str | None = "P",
    compare: bool = True,
    workers: int = 1,
    progress: bool = False,
    **read: Any,
) -> SimulationPlanResult:
    """Monte Carlo planning: simulate surveys of each size in ``n`` and measure what a study would find.

    Each replication draws a survey with :func:`~servmodels.simulate_servqual` and (1) fits the CFA
    of the ``cfa_scores`` items (:func:`~servmodels.cfa`): converged, and a proper solution without
    Heywood cases?; (2) tests every dimension's gap against 0 (paired ``t`` test, or
    :func:`~servmodels.gap_bootstrap` with ``bootstrap_method``; ``cluster=True`` resamples
    villages) and checks whether the interval covers the true gap; (3) compares SERVQUAL with
    SERVPERF (:func:`~servmodels.compare_servqual_servperf`, J tests).  Rates are over all
    replications (a failed fit counts as not converged, a failed comparison as no rejection).

    Parameters
    ----------
    n : int or sequence of int
        Sample sizes to examine (each >= 10).
    replications : int
        Replications per sample size.  The Monte Carlo SE of a power p is sqrt(p (1 - p) / R).
    rng : int, Generator or SeedSequence, optional
        Seed.  Replication r uses child r of one SeedSequence at every n, so the result does
        not depend on ``workers``.  None draws fresh entropy, recorded as ``seed``.
    pilot : SurveyData, DataFrame or path, optional
        Estimate the model from a pilot (:func:`estimate_pilot`, with ``correlation`` and the
        reading keywords ``read``): thresholds, loadings, latent correlations and the outcome
        correlation.  ``loading``, ``factor_correlation``, ``set_correlation``, ``gaps`` and
        ``item_means`` then do not apply.
    instrument, scale :
        The questionnaire simulated without a pilot.
    loading, factor_correlation, set_correlation : float
        Model without a pilot (as :func:`~servmodels.simulate_servqual`).
    outcome_correlation : float, optional
        Correlation of latent satisfaction with the mean perception factor (default 0.7, or the
        pilot's estimate).
    village_sd : float, optional
        SD of the village effect on the perception factors; default 0.25 without a pilot and 0
        with one (the pilot's correlations already contain any village effect).
    villages : int
        Number of villages, equally likely.
    gaps : float or mapping of dimension to float, optional
        True gap (P − E) of every dimension (or one for all) on the answer scale: expectation
        items at 75 % of the scale, perception items that much lower or higher.
    item_means : DataFrame or mapping, optional
        Target item means instead (as ``simulate_servqual``).
    test, bootstrap_method, n_resamples, cluster :
        The test of gap = 0 and its interval.
    alpha, confidence_level, target_power : float
        Significance level, interval level, and the power a recommended n must reach.
    cfa_scores : str or None
        Items of the CFA (``"P"``, ``"E"``, ``"gap"``), or None for no CFA.
    compare : bool
        Run the SERVQUAL-versus-SERVPERF comparison.
    workers : int
        Worker processes (1: in this process).
    progress : bool
        A progress bar on stderr.

    Returns
    -------
    SimulationPlanResult

    Examples
    --------
    >>> res = plan_simulate([50, 100], replications=3, rng=1, gaps=-0.5, compare=False)
    >>> res.by_n["n"].tolist(), sorted(res.to_dict()["results"][0])[:3]
    ([50, 100], ['ci_coverage', 'ci_coverage_by_dimension', 'convergence_rate'])
    """
    grid = _n_grid(n)
    replications = check_int("replications", replications, low=1, high=10**7)
    rng = check_rng(rng)
    test = check_choice("test", test, ("t", "bootstrap"))
    bootstrap_method = check_choice("bootstrap_method", bootstrap_method, ("percentile", "basic", "bca"))
    n_resamples = check_int("n_resamples", n_resamples, low=2)
    cluster = check_bool("cluster", cluster)
    if cluster and test != "bootstrap":
        raise ParameterError("cluster: the cluster (village) design applies to test='bootstrap'")
    alpha = check_float("alpha", alpha, low=0.0, high=1.0, low_closed=False, high_closed=False)
    confidence_level = check_confidence_level(confidence_level)
    target_power = check_float("target_power", target_power, low=0.0, high=1.0, low_closed=False, high_closed=False)
    compare = check_bool("compare", compare)
    workers = check_int("workers", workers, low=1, high=1024)
    progress = check_bool("progress", progress)
    villages = check_int("villages", villages, low=1, high=10**6)
    if cfa_scores is not None:
        cfa_scores = check_choice("cfa_scores", cfa_scores, ("P", "E", "gap"))
    if outcome_correlation is not None:
        outcome_correlation = check_float("outcome_correlation", outcome_correlation, low=-1.0, high=1.0,
                                          low_closed=False, high_closed=False)

    est: PilotEstimates | None = None
    issued: list[str] = []
    if pilot is not None:
        for name, value, default in (("loading", loading, 0.7), ("factor_correlation", factor_correlation, 0.5),
                                     ("set_correlation", set_correlation, 0.4)):
            if value != default:
                raise ParameterError(f"{name}: with a pilot the model is estimated from it; leave {name} out")
        if gaps is not None or item_means is not None:
            raise ParameterError("gaps, item_means: with a pilot the item means come from it; drop them")
        if scale is not None:
            read["scale"] = scale
        if instrument != "servqual25":
            read["instrument"] = instrument
        est = estimate_pilot(pilot, correlation=correlation, **read)
        inst = est.instrument
        village_sd = 0.0 if village_sd is None else check_float("village_sd", village_sd, low=0.0)
        r_out = outcome_correlation if outcome_correlation is not None else (
            est.outcome_correlation if est.outcome_correlation is not None else 0.7)
        r_source = ("given" if outcome_correlation is not None else "pilot" if est.outcome_correlation is not None
                    else "assumed: the pilot was read without an outcome column")
        sim = {"loading": dict(est.loadings), "thresholds": dict(est.thresholds),
               "latent_correlation": est.latent_correlation.to_numpy(), "outcome_correlation": r_out}
        issued += [f"pilot: {a}" for a in est.adjustments] + list(est.warnings)
    else:
        if read:
            raise ParameterError(f"{', '.join(sorted(read))}: reading options apply to a pilot file")
        inst = get_instrument(instrument)
        if scale is not None:
            inst = inst.with_scale(*scale)
        village_sd = 0.25 if village_sd is None else check_float("village_sd", village_sd, low=0.0)
        r_out = 0.7 if outcome_correlation is None else outcome_correlation
        r_source = "assumed" if outcome_correlation is None else "given"
        if gaps is not None and item_means is not None:
            raise ParameterError("gaps and item_means: give one of them")
        if gaps is not None:
            item_means = _means_for_gaps(inst, gaps)
        sim = {"loading": loading, "factor_correlation": factor_correlation, "set_correlation": set_correlation,
               "item_means": item_means, "outcome_correlation": r_out}
    # the simulated questionnaire: E and P only, answers already recoded, default column names of the layout
    sim_inst = inst.with_score_sets(["E", "P"]).with_columns(reverse=(), column_map={}, outcome=None,
                                                              respondent_id=None, groups=(), importance={})
    sim["village_sd"] = village_sd
    sim["villages"] = {f"V{v + 1:02d}": 1 for v in range(villages)}
    if pilot is not None:  # the pilot's column names under the default layout
        rename = {inst.column(s, i): sim_inst.column(s, i) for s in ("E", "P") for i in inst.items}
        sim["loading"] = {rename[c]: v for c, v in sim["loading"].items()}
        sim["thresholds"] = {rename[c]: v for c, v in sim["thresholds"].items()}
    if cfa_scores is not None and any(len(v) < 2 for v in sim_inst.dimensions.values()) and cfa_scores:
        raise ParameterError("cfa_scores: every dimension needs at least two items for the CFA; use cfa_scores=None")
    true = _true_gaps(sim_inst, sim)
    dims = tuple(sim_inst.dimension_names)
    spec = _Spec(sim_inst, sim, dims, tuple(true[d] for d in dims), test, bootstrap_method, n_resamples, cluster,
                 alpha, confidence_level, cfa_scores, compare)

    # seeds: replication r uses child r of the root at every n
    if isinstance(rng, np.random.Generator):
        root = rng.bit_generator.seed_seq
    elif isinstance(rng, np.random.SeedSequence):
        root = rng
    else:
        root = np.random.SeedSequence(rng)
    children = [_child(root, r) for r in range(replications)]
    jobs = [(j * replications + r, nv, children[r]) for j, nv in enumerate(grid) for r in range(replications)]
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    with progress_bar(len(jobs), "plan: simulate", progress, unit="replications") as bar:
        if workers == 1:
            with _one_blas_thread():
                for i, nv, seed in jobs:
                    results[i] = _replicate(spec, nv, seed)
                    bar.update(1)
        else:
            _run_pool(spec, jobs, results, workers, bar)
    by_n, table = _aggregate(grid, replications, dims, true, results, compare)  # type: ignore[arg-type]
    assumptions = {
        "instrument": inst.name, "scale": list(inst.scale), "villages": villages, "village_sd": village_sd,
        "outcome_correlation": r_out, "outcome_correlation_source": r_source, "test": test, "bootstrap_method": bootstrap_method if test == "bootstrap" else None,
        "n_resamples": n_resamples if test == "bootstrap" else None, "cluster": cluster, "cfa_scores": cfa_scores,
        "compare": compare, "source": "pilot" if est is not None else "assumed",
    }
    if est is None:
        assumptions.update(loading=loading, factor_correlation=factor_correlation, set_correlation=set_correlation,
                           gaps=gaps if not isinstance(gaps, Mapping) else dict(gaps),
                           item_means=None if item_means is None or gaps is not None else "given")
    else:
        assumptions["correlation"] = correlation
    return SimulationPlanResult(
        by_n=by_n, table=table, true_gaps=true, assumptions=assumptions, replications=replications,
        seed=int(root.entropy) if not isinstance(root.entropy, Sequence) else int(root.entropy[0]),  # type: ignore[arg-type]
        test=test if test == "t" else f"{bootstrap_method} bootstrap" + (" by village" if cluster else ""),
        alpha=alpha, confidence_level=confidence_level, target_power=target_power, pilot=est,
        n_respondents=0 if est is None else est.n_respondents, n_dropped=0 if est is None else est.n_dropped,
        warnings=tuple(dict.fromkeys(issued)))


def _run_pool(spec: _Spec, jobs: list[tuple[int, int, np.random.SeedSequence]], results: list[Any], workers: int,
              bar: Any) -> None:
    """Replications in worker processes, in chunks; results stored by job index (order-free)."""
    import multiprocessing
    import sys
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    size = max(1, math.ceil(len(jobs) / (workers * 8)))
    chunks = [jobs[k:k + size] for k in range(0, len(jobs), size)]
    # fork on Linux (workers start at once, and a user's script needs no __main__ guard); spawn elsewhere
    # (macOS and Windows, where fork is unsafe or absent)
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks)),
                                 mp_context=multiprocessing.get_context(method)) as pool:
            futures = {pool.submit(_run_chunk, spec, chunk): len(chunk) for chunk in chunks}
            for fut in as_completed(futures):
                for i, res in fut.result():
                    results[i] = res
                bar.update(futures[fut])
    except BrokenProcessPool:
        raise ParameterError(
            "workers: the worker processes stopped before finishing; in a script, call plan_simulate under "
            "`if __name__ == \"__main__\":` (needed where processes are spawned), or use workers=1") from None


def _means_for_gaps(inst: Instrument, gaps: float | Mapping[str, float]) -> pd.DataFrame:
    """Item means with E at 75 % of the scale and P = E + the dimension's gap."""
    lo, hi = inst.scale
    if isinstance(gaps, Mapping):
        unknown = [d for d in gaps if d not in inst.dimensions]
        if unknown:
            raise ParameterError(f"gaps: unknown dimension(s) {', '.join(map(repr, unknown))}; the instrument's: "
                                 f"{', '.join(inst.dimension_names)}")
        missing = [d for d in inst.dimension_names if d not in gaps]
        if missing:
            raise ParameterError(f"gaps: no gap for {', '.join(missing)}; give every dimension, or one number")
        per_dim = {d: float(check_float(f"gaps[{d!r}]", gaps[d])) for d in inst.dimension_names}  # type: ignore[arg-type]
    else:
        g = float(check_float("gaps", gaps))  # type: ignore[arg-type]
        per_dim = dict.fromkeys(inst.dimension_names, g)
    e = lo + 0.75 * (hi - lo)
    rows = []
    for d, items in inst.dimensions.items():
        p = e + per_dim[d]
        if not lo < p < hi:
            raise ParameterError(f"gaps: {d} = {per_dim[d]:g} puts perception at {p:g}, outside the scale "
                                 f"{lo}-{hi} (expectation is at {e:g})")
        rows += [{"item": i, "E": e, "P": p} for i in items]
    return pd.DataFrame(rows)


def _true_gaps(inst: Instrument, sim: Mapping[str, Any]) -> dict[str, float]:
    """Population gap of every dimension under the simulation model (expected item means)."""
    from .simulate import expected_item_means

    means = expected_item_means(instrument=inst, item_means=sim.get("item_means"), loading=sim["loading"],
                                village_sd=sim["village_sd"], thresholds=sim.get("thresholds"))
    return {d: float(np.mean([means[inst.column("P", i)] - means[inst.column("E", i)] for i in items]))
            for d, items in inst.dimensions.items()}


def _aggregate(grid: list[int], R: int, dims: tuple[str, ...], true: dict[str, float],
               results: list[dict[str, Any]], compare: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, dim_rows = [], []
    for j, nv in enumerate(grid):
        block = results[j * R:(j + 1) * R]
        reject = np.array([r["reject"] for r in block], dtype=float)
        cover = np.array([r["cover"] for r in block], dtype=float)
        conv = np.array([r["converged"] for r in block], dtype=float)
        proper = np.array([r["proper"] for r in block], dtype=float)
        power = reject.mean(axis=0)
        row = {"n": nv, "replications": R, "convergence_rate": proper.mean(), "nonconvergence_rate": 1 - conv.mean(),
               "improper_rate": conv.mean() - proper.mean(), "ci_coverage": cover.mean(), "min_power": power.min()}
        if compare:
            row["compare_power"] = float(np.mean([r["favours_servperf"] for r in block]))
            row["j_rejects_servqual"] = float(np.mean([r["j_rejects_servqual"] for r in block]))
        rows.append(row)
        for k, d in enumerate(dims):
            dim_rows.append({"n": nv, "dimension": d, "true_gap": true[d], "power": power[k],
                             "power_se": math.sqrt(power[k] * (1 - power[k]) / R), "ci_coverage": cover[:, k].mean()})
    return pd.DataFrame(rows), pd.DataFrame(dim_rows)
