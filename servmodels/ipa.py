"""Importance-performance analysis (Martilla & James 1977) of SERVQUAL items.

Performance is the item's perception mean.  Importance is either stated (the expectation
mean) or implicit (the correlation of the item's perception with overall satisfaction).
Cross-hairs sit at the grand means of the two axes; quadrants:
I "concentrate here" (important, low performance), II "keep up the good work",
III "low priority", IV "possible overkill".  The bootstrap probability of each quadrant
resamples respondents (cross-hairs included) from per-resample keyed streams (servmodels._stream); both axes
are moment statistics, computed from each resample's weighted sums without copying rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._exceptions import ParameterError
from ._inputs import survey_input
from ._params import check_choice, check_int, check_rng
from ._results import Result, jsonable, text_table
from .data import SurveyData

__all__ = ["IPAResult", "ipa", "QUADRANTS"]

QUADRANTS = {
    "I": ("concentrate here", "prioritaskan perbaikan"),
    "II": ("keep up the good work", "pertahankan"),
    "III": ("low priority", "prioritas rendah"),
    "IV": ("possible overkill", "berlebihan"),
}


def _quadrant(imp: np.ndarray, perf: np.ndarray, ci: float, cp: float) -> np.ndarray:
    return np.where(imp >= ci, np.where(perf < cp, "I", "II"), np.where(perf < cp, "III", "IV"))


def _axes(P: np.ndarray, E: np.ndarray | None, y: np.ndarray | None, importance: str) -> tuple[np.ndarray, np.ndarray]:
    perf = P.mean(axis=0)
    if importance == "expectation":
        imp = E.mean(axis=0)
    else:
        Pc = P - perf
        yc = y - y.mean()
        with np.errstate(divide="ignore", invalid="ignore"):
            imp = (Pc.T @ yc) / np.sqrt((Pc * Pc).sum(axis=0) * (yc @ yc))
    return imp, perf


def _quadrant_shares(P: np.ndarray, E: np.ndarray | None, y: np.ndarray | None, importance: str,
                     seeds: Any) -> dict[str, np.ndarray]:
    """Share of bootstrap resamples putting each item in each quadrant, cross-hairs re-estimated in
    every resample.  Both axes are moment statistics (item means; correlations with the outcome), so
    they come from each resample's weighted sums (:mod:`servmodels._resample_moments`) without copying
    rows.  Stated importance compares integer sums exactly: item j is at or above the cross-hair
    when p * sum_j >= sum over items (no rounding can move an item across it)."""
    from ._resample_moments import resample_moments

    p = P.shape[1]
    if importance == "expectation":
        ms = resample_moments(np.hstack([E, P]), seeds=seeds, shift=np.zeros(2 * p), desc="IPA bootstrap")
        se, sp = ms.first[:, :p], ms.first[:, p:]
        up_i = p * se >= se.sum(axis=1, keepdims=True)
        low_p = p * sp < sp.sum(axis=1, keepdims=True)
    else:
        X = np.column_stack([P, y])
        pairs = np.array([(j, j) for j in range(p)] + [(p, p)] + [(j, p) for j in range(p)])
        ms = resample_moments(X, seeds=seeds, pairs=pairs, desc="IPA bootstrap")
        w = ms.w[:, None]
        s1 = ms.first
        sxx = ms.second[:, :p] - s1[:, :p] ** 2 / w
        syy = ms.second[:, p : p + 1] - s1[:, p : p + 1] ** 2 / w
        sxy = ms.second[:, p + 1 :] - s1[:, :p] * s1[:, p : p + 1] / w
        with np.errstate(divide="ignore", invalid="ignore"):
            bi = sxy / np.sqrt(sxx * syy)
        bp = ms.means()[:, :p]
        up_i = bi >= bi.mean(axis=1, keepdims=True)
        low_p = bp < bp.mean(axis=1, keepdims=True)
    quads = {"I": up_i & low_p, "II": up_i & ~low_p, "III": ~up_i & low_p, "IV": ~up_i & ~low_p}
    return {q: m.sum(axis=0) / len(seeds) for q, m in quads.items()}


@dataclass(frozen=True)
class IPAResult(Result):
    """Per item: ``importance, performance, quadrant`` and ``p_I .. p_IV`` (bootstrap)."""

    table: pd.DataFrame
    importance: str
    crosshair_importance: float
    crosshair_performance: float
    n_resamples: int
    n_respondents: int
    n_dropped: int = 0
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The item table with an ``item`` column."""
        return self.table.reset_index()

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"importance": self.importance, "crosshair_importance": self.crosshair_importance,
                         "crosshair_performance": self.crosshair_performance, "n_resamples": self.n_resamples,
                         "n_respondents": self.n_respondents, "n_dropped": self.n_dropped,
                         "items": self.table.reset_index(), "warnings": list(self.warnings)})

    def summary(self, digits: int = 2) -> str:
        head = (f"Importance-performance analysis ({self.importance} importance) — n = {self.n_respondents}; "
                f"cross-hairs at importance {self.crosshair_importance:.{digits}f}, performance "
                f"{self.crosshair_performance:.{digits}f}"
                + (f"; quadrant probabilities from {self.n_resamples} bootstrap resamples" if self.n_resamples else ""))
        return head + "\n" + text_table(self.table.reset_index(), digits)


@survey_input
def ipa(data: SurveyData, *, importance: Literal["expectation", "regression"] = "expectation", n_resamples: int = 1000,
        rng: int | np.random.Generator | None = None) -> IPAResult:
    """Importance-performance analysis with bootstrap quadrant probabilities.

    Examples
    --------
    >>> from servmodels import read_survey, load_example
    >>> res = ipa(read_survey(load_example()), n_resamples=100, rng=1)
    >>> sorted(res.table["quadrant"].unique())[:1]
    ['I']
    """
    from .bootstrap import _seeds

    importance = check_choice("importance", importance, ("expectation", "regression"))
    n_resamples = check_int("n_resamples", n_resamples, low=0)
    rng = check_rng(rng)
    data.require("P")
    data.require_complete("ipa")
    P = data.responses["P"].astype(float)
    E = data.responses["E"].astype(float) if "E" in data.responses else None
    y = data.outcome
    if importance == "expectation" and E is None:
        raise ParameterError("importance='expectation' (stated importance) needs expectation (E) answers; "
                             "use importance='regression'")
    if importance == "regression" and y is None:
        raise ParameterError("importance='regression' (implicit importance) needs an outcome column "
                             "(overall satisfaction)")
    imp, perf = _axes(P, E, y, importance)
    ci, cp = float(imp.mean()), float(perf.mean())
    quad = _quadrant(imp, perf, ci, cp)
    cols = list(data.item_columns("P"))
    table = pd.DataFrame({"item": [c[1:] if c.startswith("P") else c for c in cols],
                          "dimension": [data.instrument.dimension_of(i) for i in data.instrument.items],
                          "importance": imp, "performance": perf, "quadrant": quad}).set_index("item")
    if n_resamples:
        shares = _quadrant_shares(P, E, y, importance, _seeds(rng, n_resamples))
        for q, share in shares.items():
            table[f"p_{q}"] = share
    return IPAResult(table, importance, ci, cp, n_resamples, data.n_respondents, data.n_dropped, data.warnings)
