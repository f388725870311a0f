"""From an :class:`~servmodels.analysis.AnalysisTable` to the cells every format prints.

One function decides how a report shows a number (decimals per column, APA
p-values, the minus sign, the Indonesian decimal comma), which columns are text
(left-aligned) and which are numbers (right-aligned with fixed decimals, so the
decimal marks line up), and what note goes under the table.  The HTML, Word,
Markdown and LaTeX writers only lay these cells out, so every format shows the
same digits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..analysis import Analysis, AnalysisTable
from .catalogue import MODEL_NAMES, QUADRANT_NAMES, column, label, reason

__all__ = ["PreparedTable", "prepare", "prepare_all", "number", "pvalue", "MINUS"]

MINUS = "\u2212"

#: decimals per column; every other numeric column shows 3
DIGITS: dict[str, int] = {
    "n": 0, "df": 0, "chisq": 2, "chisq_scaled": 2, "aic": 2, "bic": 2,
    "expectation": 2, "perception": 2, "minimum": 2, "desired": 2, "gap": 2, "adequacy": 2, "superiority": 2,
    "ci_low": 2, "ci_high": 2, "mean": 2, "sd": 2, "importance": 2, "performance": 2,
    "p_I": 2, "p_II": 2, "p_III": 2, "p_IV": 2,
    "chisq_diff": 2, "df_diff": 0, "total": 0, "mi": 2,
}
#: columns holding p-values: three decimals, "< .001" below
P_COLUMNS = frozenset({"p_adjusted", "pvalue", "pvalue_scaled", "p_value", "p_diff"})
#: columns holding text
TEXT_COLUMNS = frozenset({"group", "item", "dimension", "factor", "model", "estimator", "quadrant", "code", "element",
                          "parameter"})


@dataclass(frozen=True)
class PreparedTable:
    """A table ready to lay out: translated title and headers, formatted cells, alignment, note."""

    key: str
    title: str
    columns: tuple[str, ...]
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: tuple[str, ...]  # "l" text, "r" numbers
    note: str | None


def number(value: Any, digits: int, lang: str) -> str:
    """Fixed decimals, a true minus sign, the decimal comma in Indonesian; "—" for missing.

    Examples
    --------
    >>> number(-0.3123, 2, "id"), number(12.5, 0, "en"), number(float("nan"), 2, "en")
    ('−0,31', '12', '—')
    """
    if value is None or (isinstance(value, (float, np.floating)) and not math.isfinite(value)):
        return "—"
    text = f"{float(value):.{digits}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]  # -0.00 -> 0.00
    text = text.replace("-", MINUS)
    return text.replace(".", ",") if lang == "id" else text


def pvalue(value: Any, lang: str) -> str:
    """APA p-value: three decimals, no leading zero in English, "< .001" below (Indonesian: "< 0,001").

    Examples
    --------
    >>> pvalue(0.0234, "en"), pvalue(0.00001, "en"), pvalue(0.0234, "id")
    ('.023', '< .001', '0,023')
    """
    if value is None or (isinstance(value, (float, np.floating)) and not math.isfinite(value)):
        return "—"
    if value < 0.001:
        return "< .001" if lang == "en" else "< 0,001"
    text = f"{float(value):.3f}"
    return text[1:] if lang == "en" and text.startswith("0") else text.replace(".", ",") if lang == "id" else text


def _cell(key: str, value: Any, lang: str, instrument: Any) -> str:
    if key in TEXT_COLUMNS or isinstance(value, str):
        text = str(value)
        if key in ("dimension", "factor") and instrument is not None:
            return instrument.label(text, lang)
        if key == "model" and text in MODEL_NAMES:
            return MODEL_NAMES[text][lang]
        if key == "quadrant" and text in QUADRANT_NAMES:
            return f"{text} ({QUADRANT_NAMES[text][lang]})"
        return text
    if key in P_COLUMNS:
        return pvalue(value, lang)
    if isinstance(value, (bool, np.bool_)):
        return "✓" if value else "✗"
    return number(value, DIGITS.get(key, 3), lang)


def _title(t: AnalysisTable, lang: str, instrument: Any) -> str:
    if t.key in ("sample", "invariance"):
        return label(t.key, lang, group=t.note.get("group", ""))
    if t.key == "item_analysis":
        scores = str(t.note.get("scores", ""))
        return label("item_analysis", lang, scores=column(scores, lang) if scores else "")
    return label(t.key, lang)


def _note(t: AnalysisTable, lang: str) -> str | None:
    n = t.note
    if t.key in ("items", "dimensions") and "n_resamples" in n:
        method = {"bca": "BCa", "percentile": "percentile", "basic": "basic", "studentized": "studentized"}.get(
            str(n.get("method")), str(n.get("method")))
        return label("note_boot", lang, level=number(100 * n["confidence_level"], 0, lang), method=method,
                     n=n["n_resamples"], adjust=str(n.get("adjust", "holm")).capitalize())
    if t.key == "item_analysis" and "r_critical" in n:
        return label("note_items", lang, r=number(n["r_critical"], 3, lang))
    if t.key == "reliability":
        return label("note_reliability", lang, level=number(100 * n["confidence_level"], 0, lang), n=n["n_resamples"],
                     kmo=number(n["kmo"], 3, lang))
    if t.key == "htmt":
        return label("note_htmt", lang)
    if t.key == "cfa_modindices":
        return label("note_modindices", lang)
    if t.key == "efa_loadings":
        return label("note_efa", lang, n=n.get("n_factors"), method=n.get("method"), rotation=n.get("rotation") or "—")
    if t.key == "latent_gap":
        level = number(100 * n["confidence_level"], 0, lang)
        observed = (label("observed_bca", lang, n=n["n_resamples"]) if n.get("observed_method") == "bca"
                    else label("observed_t", lang))
        text = label("note_latent_gap", lang, model=label("model_" + str(n["gap_model"]), lang),
                     unit=label("unit_std_lv" if n.get("std_lv") else "unit_marker", lang), level=level, observed=observed)
        if n.get("free_intercepts"):
            text += " " + label("note_freed", lang, items=", ".join(n["free_intercepts"]))
        if not n.get("scalar_supported", True):
            text += " " + label("note_scalar_rejected", lang, items=", ".join(n.get("flagged_intercepts") or ["—"]))
        return text
    if t.key == "latent_invariance":
        return label("note_latent_invariance", lang, method=reason(str(n.get("diff_method", "")), lang))
    if t.key == "invariance":
        return label("note_invariance", lang, method=n.get("diff_method") or "χ²")
    if t.key == "ikm":
        level = number(95, 0, lang)
        return label("note_ikm", lang, index=number(n["index"], 2, lang), level=level, low=number(n["ci_low"], 2, lang),
                     high=number(n["ci_high"], 2, lang), n=n["n_resamples"], grade=n["grade"],
                     label=n["grade_label_en" if lang == "en" else "grade_label_id"])
    if t.key == "compare" and n.get("verdict") and lang == "en":
        return str(n["verdict"])
    return None


def prepare(t: AnalysisTable, lang: str, instrument: Any = None) -> PreparedTable:
    """Format one table for ``lang`` (``"en"`` or ``"id"``)."""
    frame = t.frame
    cols = [str(c) for c in frame.columns]
    headers = []
    for c in cols:
        h = column(c, lang)
        if h == c and instrument is not None and t.key == "htmt":
            h = instrument.label(c, lang)  # HTMT columns are dimensions
        headers.append(h)
    rows = tuple(tuple(_cell(c, v, lang, instrument) for c, v in zip(cols, rec))
                 for rec in frame.itertuples(index=False, name=None))
    align = tuple("l" if (c in TEXT_COLUMNS or pd.api.types.is_object_dtype(frame[c]) or
                          pd.api.types.is_string_dtype(frame[c])) else "r" for c in cols)
    return PreparedTable(t.key, _title(t, lang, instrument), tuple(cols), tuple(headers), rows, align, _note(t, lang))


def prepare_all(analysis: Analysis, lang: str) -> list[PreparedTable]:
    """Every table of an analysis, formatted for ``lang``."""
    return [prepare(t, lang, analysis.instrument) for t in analysis.tables()]
