"""Measurement invariance across groups and between the E and P administrations.

Every step is a ``cfa`` fit with the same :class:`SEMOptions`, so MLR gives scaled
statistics and robust indices per step and FIML uses every answer in every step.
Successive steps are compared by the chi-square difference test: plain for ML (and
FIML), the Satorra-Bentler (2001) scaled difference for MLR, as lavaan's
``lavTestLRT`` (``anova``) does by default:
``c_d = (df0 c0 - df1 c1) / (df0 - df1)``, ``T_d = (T0 - T1) / c_d`` with T the
unscaled statistics and c the scaling factors of the more (0) and less (1)
restricted model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .._distributions import chi2_sf
from .._exceptions import ParameterError
from .._results import Result, jsonable, text_table
from ..data import SurveyData
from .api import cfa
from .options import SEMOptions, resolve_options
from .result import CFAResult

__all__ = ["InvarianceResult", "measurement_invariance", "ep_structure_test", "INVARIANCE_LEVELS", "scaled_difference"]

INVARIANCE_LEVELS = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}
#: ordinal items (estimator="WLSMV", delta parameterization), as lavaan's group.equal: metric invariance
#: needs equal thresholds too (Muthen & Asparouhov 2002), and there is no strict step (the residual
#: variances are not parameters)
ORDINAL_INVARIANCE_LEVELS = {
    "configural": (),
    "metric": ("thresholds", "loadings"),
    "scalar": ("thresholds", "loadings", "intercepts"),
}

_BASE_COLS = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic")
_ROBUST_COLS = ("chisq_scaled", "df_scaled", "pvalue_scaled", "scaling_factor", "cfi_scaled", "tli_scaled",
                "rmsea_scaled", "cfi_robust", "tli_robust", "rmsea_robust")


@dataclass(frozen=True)
class InvarianceResult(Result):
    """Nested invariance models and their comparisons (frozen).

    ``table`` has one row per model: ``model, chisq, df, pvalue, cfi, tli, rmsea,
    srmr`` (``aic, bic`` with a likelihood), with MLR also ``chisq_scaled,
    df_scaled, pvalue_scaled, scaling_factor, cfi_scaled, tli_scaled,
    rmsea_scaled, cfi_robust, tli_robust, rmsea_robust``; then the comparison with
    the previous, less constrained model: ``chisq_diff, df_diff, p_diff``
    (``diff_method`` says which test), ``delta_cfi, delta_rmsea`` (and with MLR
    ``delta_cfi_robust, delta_rmsea_robust``).  Chen (2007): ΔCFI ≤ -0.01 flags
    non-invariance.
    """

    table: pd.DataFrame
    fits: dict[str, CFAResult]
    options: SEMOptions

    @property
    def n_respondents(self) -> int:
        return next(iter(self.fits.values())).n_respondents

    @property
    def n_dropped(self) -> int:
        return next(iter(self.fits.values())).n_dropped

    @property
    def warnings(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(f"{k}: {w}" for k, f in self.fits.items() for w in f.warnings)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"options": self.options.to_dict(), "n_respondents": self.n_respondents,
                         "n_dropped": self.n_dropped, "steps": self.table, "warnings": list(self.warnings)})

    def summary(self, digits: int = 3) -> str:
        cols = ["model", "chisq", "df", "pvalue", "cfi", "rmsea", "srmr", "chisq_diff", "df_diff", "p_diff", "delta_cfi"]
        if "chisq_scaled" in self.table:
            cols = ["model", "chisq_scaled", "df", "pvalue_scaled", "cfi_robust", "rmsea_robust", "srmr",
                    "chisq_diff", "df_diff", "p_diff", "delta_cfi_robust"]
        text = f"Measurement invariance ({self.options.label}) — n = {self.n_respondents} used, {self.n_dropped} dropped\n"
        text += text_table(self.table[[c for c in cols if c in self.table]], digits)
        if "diff_method" in self.table and self.table["diff_method"].notna().any():
            text += f"\ndifference test: {self.table['diff_method'].dropna().iloc[0]}"
        if self.warnings:
            text += "\nWarnings:\n" + "\n".join(f"  - {w}" for w in self.warnings)
        return text


def scaled_difference(t0: float, df0: float, c0: float, t1: float, df1: float, c1: float) -> tuple[float, float]:
    """Satorra-Bentler (2001) scaled chi-square difference; model 0 is the more restricted.

    Returns (T_d, c_d).  ``T_d`` may be negative when c_d < 0 (a known property of the
    2001 test in small samples); lavaan reports it as is.

    >>> round(scaled_difference(120.0, 50, 1.2, 100.0, 45, 1.1)[0], 4)  # c_d = (60 - 49.5)/5 = 2.1; 20/2.1
    9.5238
    """
    cd = (df0 * c0 - df1 * c1) / (df0 - df1)
    return (t0 - t1) / cd, cd


def _row(name: str, res: CFAResult) -> dict[str, Any]:
    f = res.fit
    row: dict[str, Any] = {"model": name}
    row.update({k: f[k] for k in _BASE_COLS if k in f})
    row.update({k: f[k] for k in _ROBUST_COLS if k in f})
    return row


def _compare(rows: list[dict[str, Any]], fits: Sequence[CFAResult] = ()) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    ordinal = [f.extra.get("ordinal") for f in fits]
    robust = "scaling_factor" in out
    for col in ("chisq_diff", "df_diff", "p_diff", "delta_cfi", "delta_rmsea"):
        out[col] = np.nan
    if "cfi_robust" in out:
        out["delta_cfi_robust"] = np.nan
        out["delta_rmsea_robust"] = np.nan
    out["diff_method"] = None
    for k in range(1, len(out)):
        prev, cur = out.loc[k - 1], out.loc[k]
        ddf = cur["df"] - prev["df"]
        if ordinal and ordinal[k] is not None and ordinal[k - 1] is not None:
            from .wlsmv import satorra2000_difference

            d = satorra2000_difference(ordinal[k], ordinal[k - 1])
            out.loc[k, ["chisq_diff", "df_diff", "p_diff"]] = [d["chisq_diff"], ddf, d["p_value"]]
            out.loc[k, "diff_method"] = ("Satorra (2000) scaled-and-shifted difference" if ddf > 0 else
                                         "same degrees of freedom: no test (lavaan's ordinal intercepts are fixed at 0)")
            for col in ("cfi", "rmsea", "cfi_scaled", "rmsea_scaled"):
                if col in out:
                    out.loc[k, f"delta_{col}"] = cur[col] - prev[col]
            continue
        if robust:
            dchi, _ = scaled_difference(cur["chisq"], cur["df"], cur["scaling_factor"],
                                        prev["chisq"], prev["df"], prev["scaling_factor"])
            method = "Satorra-Bentler (2001) scaled difference"
        else:
            dchi = cur["chisq"] - prev["chisq"]
            method = "chi-square difference"
        out.loc[k, ["chisq_diff", "df_diff"]] = [dchi, ddf]
        out.loc[k, "p_diff"] = chi2_sf(max(dchi, 0.0), ddf) if ddf > 0 else np.nan
        out.loc[k, "diff_method"] = method
        out.loc[k, "delta_cfi"] = cur["cfi"] - prev["cfi"]
        out.loc[k, "delta_rmsea"] = cur["rmsea"] - prev["rmsea"]
        if "cfi_robust" in out:
            out.loc[k, "delta_cfi_robust"] = cur["cfi_robust"] - prev["cfi_robust"]
            out.loc[k, "delta_rmsea_robust"] = cur["rmsea_robust"] - prev["rmsea_robust"]
    return out


def measurement_invariance(
    data: SurveyData | pd.DataFrame,
    model: str | None = None,
    *,
    group: str,
    options: SEMOptions | dict[str, Any] | None = None,
    scores: str | None = None,
    levels: Sequence[str] | None = None,
    estimator: str | None = None,
    missing: str | None = None,
    likelihood: str | None = None,
    std_lv: bool | None = None,
    nan_policy: str | None = None,
    instrument: Any = None,
    scale: tuple[int, int] | None = None,
    reverse: Sequence[str] | str | None = None,
) -> InvarianceResult:
    """Configural, metric, scalar and strict invariance across ``group`` in one call.

    Equivalent to lavaan's ``cfa(..., group=, group.equal=)`` with ``c()``,
    ``"loadings"``, ``c("loadings","intercepts")`` and
    ``c("loadings","intercepts","residuals")`` and the same ``estimator``/``missing``
    in every step, compared with ``lavTestLRT`` and by changes in CFI and RMSEA.
    With ``estimator="WLSMV"`` (ordinal items) the steps are lavaan's ``c()``,
    ``c("thresholds","loadings")`` and ``c("thresholds","loadings","intercepts")``
    (configural, metric, scalar; no strict step), compared by the Satorra (2000)
    scaled-and-shifted difference test (:func:`~servmodels.sem.wlsmv.satorra2000_difference`).
    For ordinal items lavaan fixes the latent-response intercepts at 0, so its scalar
    model is the metric one (same fit, 0 degrees of freedom between them).

    Parameters
    ----------
    options : SEMOptions, optional
        The same options as :func:`cfa`: ``SEMOptions(estimator="MLR")`` gives scaled
        chi-squares, robust CFI/TLI/RMSEA and Satorra-Bentler difference tests;
        ``SEMOptions(missing="fiml")`` multi-group FIML.
    instrument, scale, reverse : optional
        How to read a file path (or a DataFrame with ``instrument``) as survey data,
        once for every step (see :func:`servmodels.read_survey`).

    Examples
    --------
    >>> from servmodels import read_survey, simulate_servqual
    >>> df = simulate_servqual(600, rng=1)
    >>> df["half"] = ["a", "b"] * 300
    >>> inv = measurement_invariance(read_survey(df, groups=["half"]), group="half", levels=("configural", "metric"))
    >>> inv.table["model"].tolist()
    ['configural', 'metric']
    """
    opts = resolve_options(options, estimator=estimator, missing=missing, likelihood=likelihood, std_lv=std_lv)
    steps = ORDINAL_INVARIANCE_LEVELS if opts.estimator == "WLSMV" else INVARIANCE_LEVELS
    if levels is None:
        levels = tuple(steps)
    if isinstance(levels, str):
        levels = (levels,)
    bad = [lv for lv in levels if lv not in steps]
    if bad or not levels:
        extra = (" (ordinal items have no strict step: in the delta parameterization their residual variances are "
                 "not parameters)" if "strict" in bad and opts.estimator == "WLSMV" else "")
        raise ParameterError(f"levels: unknown {bad}; choose from {', '.join(steps)}{extra}")
    import os

    if isinstance(data, (str, os.PathLike)) or (isinstance(data, pd.DataFrame) and instrument is not None):
        from .._inputs import DEFAULT_SCORES, as_survey

        # read once (incomplete respondents kept; each step applies the missing-data rule)
        data = as_survey(data, scores=scores or DEFAULT_SCORES, instrument=instrument, scale=scale, reverse=reverse,
                         groups=[group], nan_policy="fiml")
    fits = {}
    for lv in levels:
        fits[lv] = cfa(data, model, options=opts, scores=scores, group=group, group_equal=steps[lv],
                       meanstructure=True, nan_policy=nan_policy)
    table = _compare([_row(k, v) for k, v in fits.items()], list(fits.values()))
    return InvarianceResult(table=table, fits=fits, options=opts)


def ep_structure_test(data: SurveyData, *, options: SEMOptions | dict[str, Any] | None = None,
                      likelihood: str | None = None) -> InvarianceResult:
    """Do expectation and perception items measure the same structure?

    Fits E and P dimension factors jointly (same respondents, two score sets) with
    correlated uniquenesses between matching E and P items, first with free
    loadings, then with each item's loading equal across E and P, and compares the
    two (chi-square difference or its scaled version, ΔCFI, ΔRMSEA) — the
    longitudinal-invariance design applied to the two columns of SERVQUAL.
    """
    if not isinstance(data, SurveyData):
        raise ParameterError(f"data must be SurveyData with E and P score sets; got {type(data).__name__}")
    opts = resolve_options(options, likelihood=likelihood)
    data.require("E", "P")
    inst = data.instrument
    frame = pd.DataFrame(
        np.hstack([data.responses["E"], data.responses["P"]]).astype(float),
        columns=list(inst.columns("E")) + list(inst.columns("P")),
    )
    free_lines, equal_lines = [], []
    for d, items in inst.dimensions.items():
        for s in ("E", "P"):
            cols = [inst.column(s, i) for i in items]
            free_lines.append(f"{d}_{s} =~ " + " + ".join(cols))
            equal_lines.append(f"{d}_{s} =~ " + " + ".join(f"l{i}*{c}" for i, c in zip(items, cols)))
    cu = [f"{inst.column('E', i)} ~~ {inst.column('P', i)}" for i in inst.items]
    rows = np.asarray(data.rows)

    def fit(model: str) -> CFAResult:
        res = cfa(frame, model, options=opts)
        # the frame's rows are the SurveyData's: report rows of the file, and the ones dropped on reading
        dropped = tuple(sorted(tuple(data.dropped_rows) + tuple(int(rows[r - 1]) for r in res.dropped_rows)))
        return replace(res, n_dropped=res.n_dropped + data.n_dropped, dropped_rows=dropped)

    fits = {"free_loadings": fit("\n".join(free_lines + cu)), "equal_loadings": fit("\n".join(equal_lines + cu))}
    table = _compare([_row(k, v) for k, v in fits.items()], list(fits.values()))
    return InvarianceResult(table=table, fits=fits, options=opts)
