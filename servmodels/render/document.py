"""A report as a language-specific, format-neutral document: title block, provenance,
one section per analysis (its tables, their notes and its warnings), figures,
reporting sentences and the analyses that were not run.

Built from an :class:`~servmodels.analysis.Analysis` only; every writer (HTML, Word,
Markdown, LaTeX) lays out the same :class:`Document`, so they print the same cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..analysis import Analysis
from .catalogue import label, reason
from .figures import Figure, render_figures
from .tables import PreparedTable, number, prepare

__all__ = ["Document", "Section", "build_document"]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    tables: list[PreparedTable] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    lang: str
    title: str
    subtitle: str
    provenance: list[tuple[str, str]]
    sections: list[Section]
    figures: dict[str, Figure]
    sentences: list[str]
    skipped: list[tuple[str, str]]  # (analysis label, reason)

    def all_tables(self) -> list[PreparedTable]:
        return [t for s in self.sections for t in s.tables]


def _provenance(a: Analysis, lang: str) -> list[tuple[str, str]]:
    p = a.provenance
    inst = a.instrument
    rows: list[tuple[str, str]] = [
        (label("date", lang), str(p["date"])),
        (label("servmodels_version", lang), str(p["servmodels_version"])),
        (label("input_file", lang), str(p["input_file"] or "—")),
        (label("input_sha256", lang), str(p["input_sha256"] or "—")),
        (label("instrument", lang), f"{p['instrument']} ({', '.join(inst.set_name(s) for s in p['score_sets'])})"
         if inst is not None else str(p["instrument"])),
        (label("scale", lang), f"{p['scale'][0]}–{p['scale'][1]}"),
        (label("reverse_keyed", lang), ", ".join(p["reverse_keyed"]) or label("none", lang)),
        (label("respondents", lang), label("used_dropped", lang, used=p["n_respondents"], dropped=p["n_dropped"])
         + (f" ({label('dropped_because', lang)})" if p.get("n_dropped") else "")),
        (label("seed", lang), str(p["seed"])),
    ]
    if p.get("n_resamples"):
        rows.append((label("n_resamples", lang),
                     "; ".join(f"{label('an_' + k, lang)} {v}" for k, v in p["n_resamples"].items())))
    if p.get("cv_repeats"):
        rows.append((label("cv_repeats", lang), str(p["cv_repeats"])))
    if p.get("pa_iterations"):
        rows.append((label("pa_iterations", lang), str(p["pa_iterations"])))
    rows.append((label("estimator", lang), str(p["estimator"])))
    return rows


def _sentences(a: Analysis, lang: str) -> list[str]:
    from ..sentences import alpha_sentence, cfa_sentence, compare_sentence, gap_sentence

    inst = a.instrument
    dim = (lambda d: inst.label(d, lang)) if inst is not None else (lambda d: d)
    out: list[str] = []
    boot = a.get("bootstrap")
    if boot is not None:
        db = boot.table[boot.table.level == "dimension"]
        for _, row in db.iterrows():
            out.append(gap_sentence(dim(row["name"]), row, round(boot.confidence_level * 100), lang))  # type: ignore[arg-type]
    val = a.get("reliability")
    if val is not None and "alpha_ci_low" in val.dimensions:
        for d, r in val.dimensions.iterrows():
            out.append(alpha_sentence(dim(str(d)), r["alpha"], r["alpha_ci_low"], r["alpha_ci_high"], lang))  # type: ignore[arg-type]
    fit = a.get("cfa")
    if fit is not None and all(k in fit.fit for k in ("rmsea_ci_low", "srmr")):
        out.append(cfa_sentence(fit.fit, lang))
    cmp = a.get("compare")
    if cmp is not None:
        out.append(compare_sentence(cmp, lang))
    return out


def build_document(a: Analysis, lang: str, *, figures: bool = True, subtitle: str | None = None) -> Document:
    """The report of ``a`` in ``lang`` (``"en"`` or ``"id"``)."""
    if lang not in ("en", "id"):
        from .._exceptions import ParameterError

        raise ParameterError(f"lang must be 'en' or 'id'; got {lang!r}")
    inst = a.instrument
    by_step: dict[str, list[PreparedTable]] = {}
    for t in a.tables():
        by_step.setdefault(t.step, []).append(prepare(t, lang, inst))
    sections: list[Section] = []
    data_warnings = list(a.provenance.get("data_warnings") or ())
    if by_step.get("data") or data_warnings:
        sections.append(Section("data", label("respondents", lang), by_step.get("data", []), [], data_warnings))
    for name, step in a.steps.items():
        if not step.ok:
            continue
        tables = by_step.get(name, [])
        paragraphs: list[str] = []
        if name == "efa" and step.result is not None:
            r: Any = step.result
            paragraphs.append(f"KMO = {number(r.kmo, 3, lang)}; Bartlett χ²({r.bartlett['df']:.0f}) = "
                              f"{number(r.bartlett['chisq'], 2, lang)}")
        if not tables and not paragraphs and not step.warnings:
            continue
        title = label("an_" + name, lang)
        sections.append(Section(name, title[:1].upper() + title[1:], tables, paragraphs, list(step.warnings)))
    skipped = [(label("an_" + k, lang), reason(s.skipped, lang)) for k, s in a.steps.items() if s.skipped]
    title = a.provenance.get("title") or label("title", lang)
    sub = subtitle if subtitle is not None else (f"{a.provenance['instrument']} — n = {a.n_respondents}")
    return Document(lang=lang, title=str(title), subtitle=sub, provenance=_provenance(a, lang), sections=sections,
                    figures=render_figures(a, lang) if figures else {}, sentences=_sentences(a, lang), skipped=skipped)
