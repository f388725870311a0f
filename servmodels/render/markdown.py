"""Markdown (GitHub/pandoc pipe tables with alignment rows); figures linked from ``figures/``."""

from __future__ import annotations

from .catalogue import label
from .document import Document

__all__ = ["to_markdown"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Document, figure_dir: str = "figures", figure_suffix: str = "") -> str:
    """The document as Markdown; figures are linked as ``{figure_dir}/{name}{figure_suffix}.png``."""
    lang = doc.lang
    lines = [f"# {doc.title}", "", f"*{doc.subtitle}*", "", f"## {label('provenance', lang)}", ""]
    lines += [f"- **{k}**: {_cell(v)}" for k, v in doc.provenance]
    n = 0
    for s in doc.sections:
        lines += ["", f"## {s.title}", ""]
        for t in s.tables:
            n += 1
            lines += [f"**{label('table', lang)} {n}.** *{t.title}*", ""]
            lines.append("| " + " | ".join(_cell(h) for h in t.headers) + " |")
            lines.append("|" + "|".join(":---" if a == "l" else "---:" for a in t.align) + "|")
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in t.rows]
            lines.append("")
            if t.note:
                lines += [f"*{label('note', lang)}.* {t.note}", ""]
        lines += [p + "\n" for p in s.paragraphs]
        if s.warnings:
            lines += [f"> **{label('warnings', lang)}**", ">"] + [f"> - {_cell(w)}" for w in s.warnings] + [""]
    if doc.figures:
        lines += ["", f"## {label('figures', lang)}", ""]
        for i, f in enumerate(doc.figures.values(), 1):
            lines += [f"![{f.caption}]({figure_dir}/{f.name}{figure_suffix}.png)", "", f"*{label('figure', lang)} {i}. {f.caption}*", ""]
    if doc.sentences:
        lines += ["", f"## {label('sentences', lang)}", ""] + [f"- {x}" for x in doc.sentences]
    if doc.skipped:
        lines += ["", f"## {label('skipped', lang)}", ""] + [f"- **{a}**: {_cell(r)}" for a, r in doc.skipped]
    return "\n".join(lines).rstrip() + "\n"
