"""Classical item analysis: item-total correlations, critical r, Cronbach's alpha.

This is the method of the seed study (Sumino & Sutrischastini 2016, Tables 4-7)
done completely: the Pearson item-total correlation is compared with the critical
r of a two-sided t test, and alpha comes with the Feldt (1965) confidence
interval, its standardized form and alpha-if-item-deleted, all as in R's
``psych::alpha`` (Revelle).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ._distributions import f_ppf, t_ppf, t_sf
from ._exceptions import NegativeReliabilityWarning, ParameterError, Problem, ValidationError
from ._inputs import survey_input
from ._params import check_confidence_level, check_int
from ._results import Result, jsonable, text_table
from .data import SurveyData

__all__ = [
    "AlphaResult", "ItemAnalysisResult", "OrdinalReliabilityResult",
    "cronbach_alpha", "critical_r", "item_analysis", "ordinal_reliability",
]


def critical_r(n_respondents: int, *, confidence_level: float = 0.95) -> float:
    """Smallest |r| significant in a two-sided test of zero correlation.

    ``r_crit = t / sqrt(df + t^2)`` with ``t`` the ``1 - (1 - confidence_level)/2``
    quantile of Student's t on ``df = n - 2`` degrees of freedom; this is the
    "r tabel" of Indonesian method texts.

    Examples
    --------
    >>> round(critical_r(100), 4)   # the seed's r tabel 0.1966
    0.1966
    """
    n_respondents = check_int("n_respondents", n_respondents, low=3)
    confidence_level = check_confidence_level(confidence_level)
    df = n_respondents - 2
    t = t_ppf(1 - (1 - confidence_level) / 2, df)
    return float(t / np.sqrt(df + t * t))


def _alpha_from_cov(cov: np.ndarray) -> tuple[float, float]:
    """Raw and standardized alpha from a covariance matrix (psych::alpha's alpha.1)."""
    k = cov.shape[0]
    if k < 2:
        return np.nan, np.nan
    total = cov.sum()
    raw = k / (k - 1) * (1 - np.trace(cov) / total) if total > 0 else np.nan
    sd = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.outer(sd, sd)
    std = k / (k - 1) * (1 - k / corr.sum()) if np.all(sd > 0) else np.nan
    return float(raw), float(std)


def _feldt(alpha: float, n: int, k: int, confidence_level: float) -> tuple[float, float]:
    # Feldt (1965): (1 - alpha_hat)/(1 - alpha) ~ F(n - 1, (n - 1)(k - 1)); psych::alpha.ci
    if not np.isfinite(alpha) or k < 2 or n < 2:
        return np.nan, np.nan
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - confidence_level) / 2
    low = 1 - (1 - alpha) * f_ppf(1 - tail, df1, df2)
    high = 1 - (1 - alpha) * f_ppf(tail, df1, df2)
    return float(low), float(high)


@dataclass(frozen=True)
class AlphaResult(Result):
    """Cronbach's alpha of one set of items.

    Attributes
    ----------
    alpha : float
        Raw alpha ``k/(k-1) * (1 - sum(var_i)/var(total))`` (Cronbach 1951).
    alpha_standardized : float
        Alpha of the standardized items ``k r̄ / (1 + (k-1) r̄)``.
    ci_low, ci_high : float
        Feldt (1965) interval at ``confidence_level``.
    average_r : float
        Mean inter-item correlation r̄.
    n_items, n_respondents, n_dropped : int
    warnings : tuple of str
    """

    alpha: float
    alpha_standardized: float
    ci_low: float
    ci_high: float
    confidence_level: float
    average_r: float
    n_items: int
    n_respondents: int
    n_dropped: int = 0
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row: ``estimate`` (raw alpha), ``ci_low``, ``ci_high`` (Feldt) and the other fields."""
        return pd.DataFrame([{"statistic": "alpha", "estimate": self.alpha, "ci_low": self.ci_low,
                              "ci_high": self.ci_high, "confidence_level": self.confidence_level,
                              "alpha_standardized": self.alpha_standardized, "average_r": self.average_r,
                              "n_items": self.n_items, "n_respondents": self.n_respondents}])

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self.__dict__)

    def summary(self, digits: int = 3) -> str:
        pct = round(self.confidence_level * 100)
        return (f"Cronbach's alpha = {self.alpha:.{digits}f} [{pct}% Feldt interval {self.ci_low:.{digits}f}, "
                f"{self.ci_high:.{digits}f}]; standardized {self.alpha_standardized:.{digits}f}; average r = "
                f"{self.average_r:.{digits}f}; {self.n_items} items, n = {self.n_respondents}")


def _alpha_result(x: np.ndarray, confidence_level: float) -> AlphaResult:
    n, k = x.shape
    cov = np.cov(x, rowvar=False) if k > 1 else np.atleast_2d(np.var(x, ddof=1))
    raw, std = _alpha_from_cov(cov)
    low, high = _feldt(raw, n, k, confidence_level)
    avg_r = std / (k - std * (k - 1)) if k > 1 and np.isfinite(std) else np.nan
    return AlphaResult(raw, std, low, high, confidence_level, float(avg_r), k, n)


def cronbach_alpha(items: ArrayLike | SurveyData, *, scores: str = "P", confidence_level: float = 0.95) -> AlphaResult:
    """Cronbach's alpha with the Feldt confidence interval.

    Parameters
    ----------
    items : array-like of shape (n_respondents, n_items), or SurveyData
        Complete responses (no missing values).  With :class:`SurveyData`, all items of
        the score set ``scores`` are used and the result records the data's dropped rows.
    scores : str
        Score set code or gap name, used only when ``items`` is a SurveyData.
    confidence_level : float
        Level of the Feldt interval.

    Returns
    -------
    AlphaResult

    Notes
    -----
    Matches ``psych::alpha(x)$total$raw_alpha`` / ``std.alpha`` and
    ``psych::alpha.ci`` (the Feldt bounds printed by ``psych::alpha``).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 3, 4], [2, 1, 2]])
    >>> round(cronbach_alpha(x).alpha, 4)
    0.8654
    """
    confidence_level = check_confidence_level(confidence_level)
    if isinstance(items, SurveyData):
        items.require_complete("cronbach_alpha")
        res = _alpha_result(items.item_scores(scores).astype(np.float64), confidence_level)
        return replace(res, n_dropped=items.n_dropped, warnings=items.warnings)
    try:
        x = np.asarray(items, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError("items must be a numeric 2-D array (respondents x items) or a SurveyData") from None
    if x.ndim != 2 or x.shape[1] < 2 or x.shape[0] < 2:
        raise ParameterError(f"items must be a 2-D array with at least 2 respondents and 2 items, got shape {x.shape}")
    if np.isnan(x).any():
        bad = np.flatnonzero(np.isnan(x).any(axis=1)) + 1
        raise ValidationError([Problem("missing_value", None, "alpha needs complete responses; validate the data "
                                       "with nan_policy='omit' first", tuple(int(r) for r in bad[:5]), len(bad))],
                              "<items>")
    return _alpha_result(x, confidence_level)


@dataclass(frozen=True)
class ItemAnalysisResult(Result):
    """Classical item analysis of one score set (frozen).

    Attributes
    ----------
    scores : str
        ``"P"``, ``"E"``, ``"gap"``, ...
    r_critical : float
        Critical r of the two-sided test at ``confidence_level`` (df = n - 2).
    dimensions : DataFrame
        Per dimension (index): ``n_items, alpha, alpha_standardized, alpha_ci_low,
        alpha_ci_high, average_r``.
    total : AlphaResult
        Alpha of all items together.
    items : DataFrame
        Per item: ``item`` (column name), ``dimension``, ``mean``, ``sd``,
        ``item_total_r`` (with the dimension total, psych ``raw.r``),
        ``corrected_item_total_r`` (with the total of the other items of the
        dimension, psych ``r.drop``), ``item_total_p_value``, ``valid``
        (``item_total_r > r_critical``, the seed's rule), ``alpha_if_deleted``,
        ``alpha_if_deleted_standardized``, ``item_scale_r`` (with the total of all
        items) and ``corrected_item_scale_r``.
    n_respondents, n_dropped : int
    """

    scores: str
    confidence_level: float
    r_critical: float
    dimensions: pd.DataFrame
    total: AlphaResult
    items: pd.DataFrame
    n_respondents: int
    n_dropped: int
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.items.copy()

    def to_dict(self) -> dict[str, Any]:
        dims = {}
        for d, row in self.dimensions.to_dict(orient="index").items():
            items = self.items[self.items["dimension"] == d].drop(columns="dimension")
            dims[d] = {**row, "items": items}
        return jsonable(
            {
                "scores": self.scores,
                "n_respondents": self.n_respondents,
                "n_dropped": self.n_dropped,
                "confidence_level": self.confidence_level,
                "r_critical": self.r_critical,
                "dimensions": dims,
                "total": self.total.to_dict(),
                "warnings": list(self.warnings),
            }
        )

    def summary(self, digits: int = 3) -> str:
        pct = round(self.confidence_level * 100)
        lines = [
            f"Item analysis of {self.scores} scores — n = {self.n_respondents} used, {self.n_dropped} dropped",
            f"critical r (two-sided, {100 - pct}%, df = {self.n_respondents - 2}): {self.r_critical:.4f}",
            "",
            f"Cronbach's alpha with {pct}% Feldt interval",
            text_table(self.dimensions.reset_index(names="dimension"), digits),
            "",
            "Items",
            text_table(
                self.items[["item", "dimension", "mean", "sd", "item_total_r", "corrected_item_total_r", "valid", "alpha_if_deleted"]],
                digits,
            ),
        ]
        return "\n".join(lines)


def _corr_with(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of every column of x with vector y (NaN where a variance is zero)."""
    xc = x - x.mean(axis=0)
    yc = y - y.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        return (xc.T @ yc) / np.sqrt((xc * xc).sum(axis=0) * (yc @ yc))


@survey_input
def item_analysis(
    data: SurveyData, *, scores: str | None = None, confidence_level: float = 0.95
) -> ItemAnalysisResult:
    """Item-total correlations, critical r and Cronbach's alpha per dimension.

    Parameters
    ----------
    data : SurveyData
    scores : str, optional
        Score set code (``"P"``, ``"E"``, ``"M"``, ``"D"``, or a custom set such as
        ``"S"``) or gap name (``"gap"``); default: the instrument's only set, else ``"P"``.
    confidence_level : float
        For the critical r and the Feldt interval.

    Returns
    -------
    ItemAnalysisResult

    Notes
    -----
    Per dimension this reproduces ``psych::alpha``: ``raw_alpha``, ``std.alpha``,
    the Feldt bounds (``alpha.ci``), item ``raw.r`` (our ``item_total_r``),
    ``r.drop`` (``corrected_item_total_r``) and ``alpha.drop$raw_alpha``
    (``alpha_if_deleted``).

    Examples
    --------
    >>> from servmodels import read_survey, item_analysis, load_example
    >>> res = item_analysis(read_survey(load_example()), scores="P")
    >>> round(res.r_critical, 4)
    0.1966
    """
    confidence_level = check_confidence_level(confidence_level)
    data.require_complete("item_analysis")
    x = data.item_scores(scores).astype(np.float64)
    cols = data.item_columns(scores)
    inst = data.instrument
    n = data.n_respondents
    r_crit = critical_r(n, confidence_level=confidence_level)
    item_pos = {item: j for j, item in enumerate(inst.items)}
    issued: list[str] = []
    total_all = x.sum(axis=1)
    item_scale_r = _corr_with(x, total_all)
    corrected_scale_r = np.array(
        [_corr_with(x[:, [j]], total_all - x[:, j])[0] if x.shape[1] > 1 else np.nan for j in range(x.shape[1])]
    )

    dim_rows = {}
    item_rows = []
    for d, items in inst.dimensions.items():
        idx = [item_pos[i] for i in items]
        xd = x[:, idx]
        k = len(idx)
        res = _alpha_result(xd, confidence_level)
        dim_rows[d] = {
            "n_items": k,
            "alpha": res.alpha,
            "alpha_standardized": res.alpha_standardized,
            "alpha_ci_low": res.ci_low,
            "alpha_ci_high": res.ci_high,
            "average_r": res.average_r,
        }
        if np.isfinite(res.alpha) and res.alpha < 0:
            msg = f"alpha of {d} ({scores}) is negative ({res.alpha:.3f}): its items correlate negatively on average"
            warnings.warn(msg, NegativeReliabilityWarning, stacklevel=2)
            issued.append(msg)
        total = xd.sum(axis=1)
        r = _corr_with(xd, total)
        cov = np.cov(xd, rowvar=False) if k > 1 else None
        for pos, j in enumerate(idx):
            rest = total - xd[:, pos]
            r_drop = _corr_with(xd[:, [pos]], rest)[0] if k > 1 else np.nan
            if cov is not None and k > 2:
                keep = [m for m in range(k) if m != pos]
                a_raw, a_std = _alpha_from_cov(cov[np.ix_(keep, keep)])
            else:
                a_raw = a_std = np.nan
            rj = r[pos]
            with np.errstate(divide="ignore", invalid="ignore"):
                t = rj * np.sqrt((n - 2) / (1 - rj * rj))
            p = 2 * t_sf(abs(t), n - 2) if np.isfinite(t) else (0.0 if abs(rj) == 1 else np.nan)
            item_rows.append(
                {
                    "item": cols[j],
                    "dimension": d,
                    "mean": float(xd[:, pos].mean()),
                    "sd": float(xd[:, pos].std(ddof=1)) if n > 1 else np.nan,
                    "item_total_r": float(rj),
                    "corrected_item_total_r": float(r_drop),
                    "item_total_p_value": p,
                    "valid": bool(np.isfinite(rj) and rj > r_crit),
                    "alpha_if_deleted": float(a_raw),
                    "alpha_if_deleted_standardized": float(a_std),
                    "item_scale_r": float(item_scale_r[j]),
                    "corrected_item_scale_r": float(corrected_scale_r[j]),
                }
            )
    dim_frame = pd.DataFrame.from_dict(dim_rows, orient="index")
    dim_frame.index.name = "dimension"
    return ItemAnalysisResult(
        scores=scores,
        confidence_level=confidence_level,
        r_critical=r_crit,
        dimensions=dim_frame,
        total=_alpha_result(x, confidence_level),
        items=pd.DataFrame(item_rows),
        n_respondents=n,
        n_dropped=data.n_dropped,
        warnings=data.warnings + tuple(issued),
    )


@dataclass(frozen=True)
class OrdinalReliabilityResult(Result):
    """Pearson-based and ordinal (polychoric) reliability per dimension (frozen).

    ``table`` (indexed by dimension): ``alpha``, ``alpha_ordinal``, ``omega``,
    ``omega_ordinal``, ``n_items``.
    """

    scores: str
    table: pd.DataFrame
    n_respondents: int
    n_dropped: int
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index()

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"scores": self.scores, "n_respondents": self.n_respondents, "n_dropped": self.n_dropped,
                         "dimensions": self.table.to_dict(orient="index"), "warnings": list(self.warnings)})

    def summary(self, digits: int = 3) -> str:
        return (f"Reliability of {self.scores} scores, Pearson vs ordinal (polychoric) — n = {self.n_respondents}\n"
                + text_table(self.table.reset_index(names="dimension"), digits))


def _omega(lam: np.ndarray, theta: np.ndarray) -> float:
    # McDonald's omega for one factor: (sum lambda)^2 / ((sum lambda)^2 + sum theta)
    s = float(np.sum(lam)) ** 2
    return s / (s + float(np.sum(theta)))


@survey_input
def ordinal_reliability(data: SurveyData, *, scores: str | None = None) -> OrdinalReliabilityResult:
    """Ordinal alpha and omega (Zumbo, Gadermann & Zeisser 2007) beside the Pearson ones.

    Per dimension: ``alpha`` (Cronbach, Pearson covariances); ``alpha_ordinal`` (the
    standardized-alpha formula on the polychoric correlation matrix); ``omega`` from a
    one-factor ML CFA, ``(sum lambda)^2 / ((sum lambda)^2 + sum theta)`` with latent
    variance 1; ``omega_ordinal`` from a one-factor WLSMV CFA on the polychoric
    correlations (standardized loadings, theta = 1 - lambda^2).

    Notes
    -----
    Reference values: ``psych::alpha`` on ``lavaan::lavCor(..., ordered=)`` and on the raw
    items, and one-factor ``lavaan::cfa`` fits (tests/reference/R/lavaan_robust.R).
    Likert items with 4-5 categories make Pearson correlations attenuated, so the
    ordinal coefficients are usually higher.
    """
    from .polychoric import polychoric
    from .sem import cfa

    data.require_complete("ordinal_reliability")
    x = data.item_scores(scores).astype(np.float64)
    cols = list(data.item_columns(scores))
    frame = pd.DataFrame(x, columns=cols)
    inst = data.instrument
    pos = {item: j for j, item in enumerate(inst.items)}
    rows = {}
    for d, items in inst.dimensions.items():
        c = [cols[pos[i]] for i in items]
        k = len(c)
        if k < 2:
            continue
        R = polychoric(frame[c], nacov=False).correlation.to_numpy()
        alpha_ord = k / (k - 1) * (1 - k / R.sum())
        model = "f =~ " + " + ".join(c)
        ml = cfa(frame, model, std_lv=True)
        pe = ml.parameters
        lam = pe.loc[pe.op == "=~", "estimate"].to_numpy()
        theta = pe.loc[(pe.op == "~~") & (pe.lhs == pe.rhs) & (pe.lhs != "f"), "estimate"].to_numpy()
        wl = cfa(frame, model, estimator="WLSMV")
        lam_std = wl.parameters.loc[wl.parameters.op == "=~", "std_all"].to_numpy()
        rows[d] = {
            "n_items": k,
            "alpha": _alpha_result(frame[c].to_numpy(), 0.95).alpha,
            "alpha_ordinal": float(alpha_ord),
            "omega": _omega(lam, theta),
            "omega_ordinal": _omega(lam_std, 1 - lam_std**2),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "dimension"
    return OrdinalReliabilityResult(scores=scores, table=table, n_respondents=data.n_respondents,
                                    n_dropped=data.n_dropped, warnings=data.warnings)
