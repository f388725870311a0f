"""The latent gap model: expectation (E) versus perception (P) at the latent level.

Observed gap scores P - E carry the measurement error of both columns (the
difference-score critique of SERVQUAL: Peter, Churchill & Brown 1993).  Here E and P
dimension factors are fitted jointly on the same respondents, as a two-occasion
longitudinal factor model (Widaman, Ferrer & Conger 2010; Vandenberg & Lance 2000):

    x_Ei = nu_Ei + lambda_Ei eta_E,d(i) + eps_Ei,     x_Pi = nu_Pi + lambda_Pi eta_P,d(i) + eps_Pi,
    Cov(eps_Ei, eps_Pi) free (the same item answered twice), all 2D factors correlated.

Invariance between the two administrations is tested step by step:

=============  ==============================================================================
configural     loadings and intercepts free; factor means 0
metric         lambda_Ei = lambda_Pi (shared labels)
scalar         + nu_Ei = nu_Pi; E factor means 0, P factor means kappa_d free
strict         + Var(eps_Ei) = Var(eps_Pi)
=============  ==============================================================================

Under scalar invariance E[x_Pi] - E[x_Ei] = lambda_i kappa_d, so kappa_d, the mean of the P
factor when the E factor's mean is 0, is the latent gap of dimension d: in the metric of the
dimension's first item (its loading is fixed at 1, lavaan's default), or with ``std_lv`` in
units of the E factor's standard deviation (E factor variances 1, P variances free from the
metric step on, every loading labelled).  Where scalar invariance fails, univariate score
tests of the intercept equalities (lavaan ``lavTestScore``) say which items differ, and
``free_intercepts`` releases named equalities (partial invariance, Byrne, Shavelson &
Muthen 1989).  Every model is an ordinary :func:`~servmodels.sem.cfa` fit of lavaan syntax
(:func:`latent_gap_model`), so lavaan fits the same syntax to the same numbers.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._distributions import t_ppf, t_sf
from .._exceptions import ModelSpecificationError, ParameterError
from .._inputs import survey_input
from .._params import check_int
from .._results import Result, jsonable, text_table
from ..data import SurveyData
from ..instrument import Instrument
from .api import cfa
from .invariance import _compare, _row
from .options import SEMOptions, resolve_options
from .result import CFAResult
from .score_test import score_tests

__all__ = ["LATENT_GAP_STEPS", "LatentGapResult", "latent_gap", "latent_gap_model"]

LATENT_GAP_STEPS = ("configural", "metric", "scalar", "strict")
#: each model is compared with this less restricted one
_PARENT = {"metric": "configural", "scalar": "metric", "strict": "scalar", "partial_scalar": "metric",
           "partial_strict": "partial_scalar"}
#: Chen (2007): a CFI drop of 0.01 or more flags non-invariance
_DELTA_CFI = -0.01


def factor_name(code: str, dimension: str) -> str:
    """The factor of one score set and dimension, a valid lavaan name: ``E_tangibles``, ``P_customer_care``."""
    return re.sub(r"[^A-Za-z0-9_.]", "_", f"{code}_{dimension}")


def _resolve_items(instrument: Instrument, names: Sequence[str] | str | None, expectation: str,
                   perception: str) -> tuple[str, ...]:
    """Item ids from ids ("3") or columns of either set ("E3", "P3"), in questionnaire order."""
    if names is None:
        return ()
    if isinstance(names, str):
        names = [n for n in names.replace(";", ",").split(",")]
    lookup: dict[str, str] = {}
    for item in instrument.items:
        lookup[str(item)] = item
        lookup[instrument.column(expectation, item)] = item
        lookup[instrument.column(perception, item)] = item
    wanted, unknown = set(), []
    for raw in names:
        name = str(raw).strip()
        if not name:
            continue
        if name in lookup:
            wanted.add(lookup[name])
        else:
            unknown.append(name)
    if unknown:
        raise ParameterError(f"free_intercepts: unknown item(s) {', '.join(map(repr, unknown))}; give item ids "
                             f"({', '.join(instrument.items[:3])}, ...) or columns ({instrument.column(expectation, instrument.items[0])}, "
                             f"{instrument.column(perception, instrument.items[0])}, ...)")
    return tuple(i for i in instrument.items if i in wanted)


def latent_gap_model(instrument: Instrument, step: str = "scalar", *, std_lv: bool = False,
                     free_intercepts: Sequence[str] | str | None = None, expectation: str = "E",
                     perception: str = "P") -> str:
    """lavaan syntax of one step of the latent gap model.

    Factors are named ``E_<dimension>`` and ``P_<dimension>``; loadings, intercepts
    and residual variances held equal share the labels ``l<k>``, ``i<k>`` and
    ``r<k>`` (k the item's position).  Fit it with ``cfa(..., meanstructure=True,
    std_lv=std_lv)`` here or ``lavaan::cfa(..., meanstructure = TRUE, std.lv = )``.

    Parameters
    ----------
    instrument : Instrument
    step : {"configural", "metric", "scalar", "strict"}
    std_lv : bool
        Identify by factor variances (E variances 1, P variances free once the
        loadings are equal) instead of the first loading of each factor.
    free_intercepts : sequence of str or str, optional
        Items (ids or E/P columns) whose intercepts are not held equal (partial
        scalar invariance).
    expectation, perception : str
        Score-set codes.

    Examples
    --------
    >>> from servmodels import get_instrument
    >>> text = latent_gap_model(get_instrument("servqual25"), "scalar")
    >>> text.splitlines()[0]
    'E_tangibles =~ E1 + l2*E2 + l3*E3 + l4*E4 + l5*E5'
    >>> [line for line in text.splitlines() if line.startswith(("E3 ~ ", "P_tangibles ~ "))]
    ['E3 ~ i3*1', 'P_tangibles ~ NA*1']
    """
    if step not in LATENT_GAP_STEPS:
        raise ParameterError(f"step must be one of {', '.join(LATENT_GAP_STEPS)}; got {step!r}")
    freed = set(_resolve_items(instrument, free_intercepts, expectation, perception))
    names = [factor_name(c, d) for c in (expectation, perception) for d in instrument.dimensions]
    if len(set(names)) < len(names):
        raise ModelSpecificationError(f"dimension names give clashing factor names ({', '.join(names)}); rename the "
                                      "dimensions so that they differ in letters, digits or underscores")
    pos = {item: k + 1 for k, item in enumerate(instrument.items)}
    equal_loadings = step != "configural"
    lines: list[str] = []
    for dim, items in instrument.dimensions.items():
        for code in (expectation, perception):
            terms = [(f"l{pos[i]}*" if equal_loadings and (std_lv or k > 0) else "") + instrument.column(code, i)
                     for k, i in enumerate(items)]
            lines.append(f"{factor_name(code, dim)} =~ " + " + ".join(terms))
        if std_lv and equal_loadings:
            lines.append(f"{factor_name(perception, dim)} ~~ NA*{factor_name(perception, dim)}")
    lines += [f"{instrument.column(expectation, i)} ~~ {instrument.column(perception, i)}" for i in instrument.items]
    if step in ("scalar", "strict"):
        for dim, items in instrument.dimensions.items():
            if all(i in freed for i in items):
                raise ModelSpecificationError(
                    f"free_intercepts frees every intercept of dimension {dim!r}: its P factor mean (the latent "
                    "gap) is then not identified; keep at least one item's intercepts equal")
        for i in instrument.items:
            lab = "" if i in freed else f"i{pos[i]}*"
            lines += [f"{instrument.column(expectation, i)} ~ {lab}1", f"{instrument.column(perception, i)} ~ {lab}1"]
        lines += [f"{factor_name(expectation, d)} ~ 0*1" for d in instrument.dimensions]
        lines += [f"{factor_name(perception, d)} ~ NA*1" for d in instrument.dimensions]
    if step == "strict":
        for code in (expectation, perception):
            lines += [f"{instrument.column(code, i)} ~~ r{pos[i]}*{instrument.column(code, i)}" for i in instrument.items]
    return "\n".join(lines)


@dataclass(frozen=True)
class LatentGapResult(Result):
    """Latent gaps (P factor means under scalar invariance) beside the observed gaps (frozen).

    Attributes
    ----------
    latent_gaps : DataFrame
        One row per dimension: ``dimension, estimate, se, z, p_value, ci_low,
        ci_high, std_lv`` — the P factor mean of the (partial) scalar model with the E
        factor means fixed at 0; ``std_lv`` divides it by the P factor's standard
        deviation (lavaan's ``std.lv``).
    observed_gaps : DataFrame
        ``dimension, estimate, se, ci_low, ci_high, p_value`` of the observed mean
        P - E of each dimension on the same respondents; ``observed_method`` says
        which interval (``"bca"`` bootstrap from :func:`~servmodels.gap_bootstrap`,
        or ``"t"``, the paired t-interval).
    invariance : DataFrame
        One row per model (``configural, metric, scalar, strict`` and, with
        ``free_intercepts``, ``partial_scalar, partial_strict``): ``model, chisq, df,
        pvalue, cfi, tli, rmsea, srmr, aic, bic`` (scaled and robust columns with
        MLR), ``compared_with``, ``chisq_diff, df_diff, p_diff, delta_cfi,
        delta_rmsea`` against the less restricted model, ``diff_method``.
    score_tests : DataFrame
        Univariate score tests (lavaan ``lavTestScore``) of every equality constraint of
        the scalar model(s): ``model, item, dimension, parameter`` (``loading`` or
        ``intercept``), ``expectation, perception`` (the two columns), ``chisq, df,
        p_value, p_adjusted`` (Holm over the intercept tests, or over the loading
        tests, of one model).
    flagged_intercepts : tuple of str
        Items whose intercept test in the full scalar model has p_adjusted < 0.05,
        largest statistic first: candidates for ``free_intercepts``.
    free_intercepts : tuple of str
        Items whose intercept equality was released (partial invariance).
    fits : dict of str to CFAResult
        Every fitted model; ``models`` their lavaan syntax.
    """

    latent_gaps: pd.DataFrame
    observed_gaps: pd.DataFrame
    invariance: pd.DataFrame
    score_tests: pd.DataFrame
    flagged_intercepts: tuple[str, ...]
    free_intercepts: tuple[str, ...]
    fits: dict[str, CFAResult]
    models: dict[str, str]
    options: SEMOptions
    observed_method: str
    n_resamples: int
    confidence_level: float
    n_respondents: int
    n_dropped: int = 0
    dropped_rows: tuple[int, ...] = ()
    score_test_total: dict[str, dict[str, float]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def gap_model(self) -> str:
        """The model the latent gaps come from: ``"scalar"`` or ``"partial_scalar"``."""
        return "partial_scalar" if self.free_intercepts else "scalar"

    @property
    def scalar_supported(self) -> bool:
        """Full scalar invariance not rejected: chi-square difference against metric p >= .05 and ΔCFI > -0.01."""
        row = self.invariance.set_index("model").loc["scalar"]
        return bool(row["p_diff"] >= 0.05 and row["delta_cfi"] > _DELTA_CFI)

    def to_frame(self) -> pd.DataFrame:
        """Latent gaps beside the observed gaps, one row per dimension."""
        obs = self.observed_gaps.set_index("dimension")
        out = self.latent_gaps[["dimension", "estimate", "se", "ci_low", "ci_high", "p_value"]].copy()
        for src, dst in (("estimate", "observed"), ("ci_low", "observed_ci_low"), ("ci_high", "observed_ci_high"),
                         ("p_value", "observed_p_value")):
            out[dst] = obs.loc[out["dimension"], src].to_numpy()
        return out

    def to_dict(self) -> dict[str, Any]:
        keep = ["model", "partial", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "chisq_scaled", "df_scaled",
                "pvalue_scaled", "scaling_factor", "cfi_scaled", "rmsea_scaled", "cfi_robust", "rmsea_robust",
                "compared_with", "chisq_diff", "df_diff", "p_diff", "delta_cfi", "delta_rmsea", "diff_method"]
        inv = self.invariance[[c for c in keep if c in self.invariance]]
        return jsonable({
            "options": self.options.to_dict(),
            "n_respondents": self.n_respondents,
            "n_dropped": self.n_dropped,
            "dropped_rows": list(self.dropped_rows),
            "identification": "std_lv" if self.options.std_lv else "marker",
            "gap_model": self.gap_model,
            "free_intercepts": list(self.free_intercepts),
            "invariance": inv,
            "scalar_supported": self.scalar_supported,
            "latent_gaps": self.latent_gaps,
            "observed_gaps": self.observed_gaps,
            "observed_method": self.observed_method,
            "n_resamples": self.n_resamples,
            "confidence_level": self.confidence_level,
            "score_tests": self.score_tests,
            "score_test_total": self.score_test_total,
            "flagged_intercepts": list(self.flagged_intercepts),
            "warnings": list(self.warnings),
        })

    def summary(self, digits: int = 3) -> str:
        unit = ("E factor SD units (std_lv)" if self.options.std_lv
                else "the metric of each dimension's first item")
        level = round(self.confidence_level * 100)
        obs = "BCa bootstrap" if self.observed_method == "bca" else "paired t"
        cols = ["model", "chisq", "df", "pvalue", "cfi", "rmsea", "srmr", "chisq_diff", "df_diff", "p_diff", "delta_cfi"]
        if "chisq_scaled" in self.invariance:
            cols = ["model", "chisq_scaled", "df", "pvalue_scaled", "cfi_robust", "rmsea_robust", "srmr",
                    "chisq_diff", "df_diff", "p_diff", "delta_cfi"]
        lines = [
            f"Latent gap model ({self.options.label}) — n = {self.n_respondents} used, {self.n_dropped} dropped",
            "",
            "Invariance between the E and P administrations:",
            text_table(self.invariance[[c for c in cols if c in self.invariance]], digits),
            "",
            f"Latent gaps (P factor means, E means 0; {self.gap_model} model; {unit}) beside observed gaps "
            f"(mean P - E; {level}% {obs} intervals):",
            text_table(self.to_frame(), digits),
        ]
        if self.free_intercepts:
            lines.append(f"Intercepts freed (partial invariance): items {', '.join(self.free_intercepts)}")
        if not self.scalar_supported:
            lines.append("Scalar invariance is rejected (chi-square difference p < .05 or ΔCFI <= -0.01)"
                         + (f"; intercepts that differ (score tests, Holm p < .05): items {', '.join(self.flagged_intercepts)}"
                            f" — refit with free_intercepts=[...] for partial invariance" if self.flagged_intercepts else ""))
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)


def _observed_t(data: SurveyData, confidence_level: float) -> pd.DataFrame:
    """Paired t-interval of each dimension's mean gap (the mean over its items of P - E)."""
    inst = data.instrument
    gap = data.item_scores("gap").astype(np.float64)
    rows = []
    n = gap.shape[0]
    tq = t_ppf(0.5 + confidence_level / 2, n - 1)
    for d, items in inst.dimensions.items():
        idx = [inst.items.index(i) for i in items]
        g = gap[:, idx].mean(axis=1)
        est = float(g.mean())
        se = float(g.std(ddof=1) / math.sqrt(n))
        t = est / se if se > 0 else math.nan
        rows.append({"dimension": d, "estimate": est, "se": se, "ci_low": est - tq * se, "ci_high": est + tq * se,
                     "p_value": 2 * t_sf(abs(t), n - 1) if se > 0 else math.nan})
    return pd.DataFrame(rows)


def _observed_bootstrap(data: SurveyData, n_resamples: int, rng: Any, confidence_level: float) -> pd.DataFrame:
    from ..bootstrap import gap_bootstrap

    boot = gap_bootstrap(data, method="bca", n_resamples=n_resamples, rng=rng, confidence_level=confidence_level)
    t = boot.table[boot.table["level"] == "dimension"]
    return pd.DataFrame({"dimension": t["name"].to_numpy(), "estimate": t["estimate"].to_numpy(),
                         "se": t["se"].to_numpy(), "ci_low": t["ci_low"].to_numpy(), "ci_high": t["ci_high"].to_numpy(),
                         "p_value": t["p_value"].to_numpy()})


def _score_rows(model: str, res: CFAResult, inst: Instrument, cols: dict[str, tuple[str, str]]) -> tuple[list[dict], dict]:
    from ..bootstrap import adjust_pvalues

    st = score_tests(res)
    u = st.univariate
    by_p = {p: (item, e) for item, (e, p) in cols.items()}
    rows = []
    for _, r in u.iterrows():
        col = r["lhs"] if r["kind"] == "intercepts" else r["rhs"]
        if col not in by_p or r["kind"] not in ("intercepts", "loadings"):
            continue
        item, e = by_p[col]
        rows.append({"model": model, "item": item, "dimension": inst.dimension_of(item),
                     "parameter": "intercept" if r["kind"] == "intercepts" else "loading", "expectation": e,
                     "perception": col, "chisq": float(r["chisq"]), "df": 1, "p_value": float(r["p_value"])})
    for kind in ("intercept", "loading"):
        sel = [k for k, r in enumerate(rows) if r["parameter"] == kind]
        if sel:
            adj = adjust_pvalues(np.array([rows[k]["p_value"] for k in sel]), "holm")
            for k, a in zip(sel, adj):
                rows[k]["p_adjusted"] = float(a)
    return rows, st.total


@survey_input
def latent_gap(
    data: SurveyData,
    *,
    options: SEMOptions | dict[str, Any] | None = None,
    free_intercepts: Sequence[str] | str | None = None,
    std_lv: bool | None = None,
    estimator: str | None = None,
    likelihood: str | None = None,
    confidence_level: float | None = None,
    strict: bool | None = None,
    n_resamples: int = 2000,
    rng: int | np.random.Generator | np.random.SeedSequence | None = None,
) -> LatentGapResult:
    """Latent gaps of each dimension: E and P factors jointly, invariance from configural to strict.

    Fits the four models of :func:`latent_gap_model` (and, with ``free_intercepts``,
    partial scalar and strict models) to the E and P items of the same respondents,
    compares them by chi-square difference tests and changes in CFI and RMSEA, and
    reports the P factor means under (partial) scalar invariance with the E means fixed
    at 0 — the latent gaps, with SE, z, p and Wald interval — beside the observed
    dimension gaps.  Equivalent to lavaan ``cfa(model, meanstructure = TRUE)`` on the
    same syntax, with ``lavTestScore`` for the intercept equalities.

    Parameters
    ----------
    data : SurveyData, DataFrame or path
        E and P answers (a DataFrame or a path is read as by :func:`read_survey`,
        with the reading keywords ``instrument=``, ``scale=``, ``nan_policy=`` ...).
        Respondents with missing answers (data read with ``nan_policy="fiml"``) are
        dropped listwise and counted.
    options : SEMOptions or dict, optional
        ``estimator`` ML (default; expected information, as lavaan) or MLR (robust
        SEs, scaled statistics, Satorra-Bentler difference tests); ``std_lv``;
        ``confidence_level`` [0.95]; ``likelihood``; ``strict``.  The keywords of the
        same names set single options.  WLSMV and FIML are not implemented here.
    free_intercepts : sequence of str or str, optional
        Items (ids ``"3"`` or columns ``"E3"``/``"P3"``, or ``"E3,P3"``) whose E and P
        intercepts are not held equal: partial scalar invariance.  The latent gaps
        then come from the partial scalar model.
    n_resamples : int
        Resamples of the BCa bootstrap of the observed gaps (as
        :func:`~servmodels.gap_bootstrap`); 0 gives the paired t-interval instead.
    rng : int or Generator, optional
        Seed of that bootstrap.

    Returns
    -------
    LatentGapResult

    Examples
    --------
    >>> import servmodels as sm
    >>> res = sm.latent_gap(sm.simulate_servqual(300, rng=2), n_resamples=0)
    >>> res.invariance["model"].tolist(), res.scalar_supported
    (['configural', 'metric', 'scalar', 'strict'], True)
    >>> res.latent_gaps[["dimension", "estimate"]].round(2).values.tolist()[:2]
    [['tangibles', -0.47], ['reliability', -0.51]]
    >>> res.observed_method  # the paired t-interval; n_resamples > 0 gives the BCa bootstrap
    't'
    """
    opts = resolve_options(options, estimator=estimator, likelihood=likelihood, std_lv=std_lv,
                           confidence_level=confidence_level, strict=strict)
    if opts.estimator == "WLSMV":
        raise ParameterError("latent_gap: estimator='WLSMV' is not implemented (ordinal items have no intercepts to "
                             "compare); use estimator='ML' or estimator='MLR'")
    if opts.missing == "fiml":
        raise ParameterError("latent_gap: missing='fiml' is not implemented; respondents with missing answers are "
                             "dropped listwise (read with nan_policy='omit')")
    n_resamples = check_int("n_resamples", n_resamples, low=0)
    data.require("E", "P")
    inst = data.instrument
    freed = _resolve_items(inst, free_intercepts, "E", "P")
    n_dropped, dropped_rows = data.n_dropped, tuple(data.dropped_rows)
    if data.has_missing:
        complete = ~(np.isnan(np.asarray(data.responses["E"], float)).any(axis=1)
                     | np.isnan(np.asarray(data.responses["P"], float)).any(axis=1))
        lost = tuple(int(r) for r in np.asarray(data.rows)[~complete])
        data = data.take(np.flatnonzero(complete))
        n_dropped += len(lost)
        dropped_rows = tuple(sorted(dropped_rows + lost))
    if data.n_respondents < 3:
        raise ParameterError(f"latent_gap: {data.n_respondents} complete respondent(s); a factor model needs many more")
    cols = {i: (inst.column("E", i), inst.column("P", i)) for i in inst.items}
    frame = pd.DataFrame(np.hstack([data.responses["E"], data.responses["P"]]).astype(np.float64),
                         columns=list(inst.columns("E")) + list(inst.columns("P")))

    steps: list[tuple[str, str]] = [(s, s) for s in LATENT_GAP_STEPS]
    if freed:
        steps += [("partial_scalar", "scalar"), ("partial_strict", "strict")]
    models = {name: latent_gap_model(inst, step, std_lv=opts.std_lv, free_intercepts=freed if name.startswith("partial")
                                     else None) for name, step in steps}
    from threadpoolctl import threadpool_limits

    fits: dict[str, CFAResult] = {}
    # models of 2 x items variables: BLAS threads only add wake-up latency (10x slower on a busy machine)
    with threadpool_limits(limits=1, user_api="blas"):
        for name, _ in steps:
            # each step starts from its less restricted parent's estimates (lavaan start = fit): same optimum,
            # fewer iterations
            parent = _PARENT.get(name)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fits[name] = cfa(frame, models[name], options=opts, meanstructure=True,
                                 start=fits[parent] if parent is not None else None)
            # each fit's warnings once, naming the step (the result keeps the same text)
            for w in caught:
                warnings.warn(f"{name}: {w.message}", w.category, stacklevel=3)

    # invariance table: each model against its less restricted parent
    rows = []
    for name, _ in steps:
        row = _row(name, fits[name])
        parent = _PARENT.get(name)
        row["compared_with"] = parent
        row["partial"] = name.startswith("partial")
        if parent is not None:
            pair = _compare([_row(parent, fits[parent]), _row(name, fits[name])], [fits[parent], fits[name]])
            for c in ("chisq_diff", "df_diff", "p_diff", "delta_cfi", "delta_rmsea", "delta_cfi_robust",
                      "delta_rmsea_robust", "diff_method"):
                if c in pair:
                    row[c] = pair.loc[1, c]
        rows.append(row)
    invariance = pd.DataFrame(rows)

    gap_model = "partial_scalar" if freed else "scalar"
    params = fits[gap_model].parameters
    lat = []
    for d in inst.dimensions:
        r = params[(params["op"] == "~1") & (params["lhs"] == factor_name("P", d))].iloc[0]
        lat.append({"dimension": d, "estimate": float(r["estimate"]), "se": float(r["se"]), "z": float(r["z"]),
                    "p_value": float(r["p_value"]), "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"]),
                    "std_lv": float(r["std_lv"])})
    latent = pd.DataFrame(lat)

    score_rows: list[dict] = []
    totals: dict[str, dict[str, float]] = {}
    for name in ("scalar", "partial_scalar"):
        if name in fits:
            with threadpool_limits(limits=1, user_api="blas"):
                rws, tot = _score_rows(name, fits[name], inst, cols)
            score_rows += rws
            totals[name] = tot
    tests = pd.DataFrame(score_rows, columns=["model", "item", "dimension", "parameter", "expectation", "perception",
                                              "chisq", "df", "p_value", "p_adjusted"])
    flag = tests[(tests["model"] == "scalar") & (tests["parameter"] == "intercept") & (tests["p_adjusted"] < 0.05)]
    flagged = tuple(flag.sort_values("chisq", ascending=False)["item"])

    if n_resamples > 0:
        observed, method = _observed_bootstrap(data, n_resamples, rng, opts.confidence_level), "bca"
    else:
        observed, method = _observed_t(data, opts.confidence_level), "t"
    issued = tuple(f"{name}: {w}" for name, f in fits.items() for w in f.warnings)
    return LatentGapResult(
        latent_gaps=latent, observed_gaps=observed, invariance=invariance, score_tests=tests,
        flagged_intercepts=flagged, free_intercepts=freed, fits=fits, models=models, options=opts,
        observed_method=method, n_resamples=n_resamples if method == "bca" else 0,
        confidence_level=opts.confidence_level, n_respondents=data.n_respondents, n_dropped=n_dropped,
        dropped_rows=dropped_rows, score_test_total=totals, warnings=issued,
    )
