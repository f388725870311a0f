"""Renderers: an :class:`~servmodels.analysis.Analysis` to HTML, Word, Markdown and LaTeX,
in English and Bahasa Indonesia, plus the machine-readable ``analysis.json``.

Nothing here computes a statistic: :func:`write_report` lays out the analysis it is
given, so one analysis rendered in several formats and languages shows the same
numbers everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from .._exceptions import DataFileError, ParameterError
from ..analysis import Analysis
from .catalogue import LANGS
from .document import Document, build_document

__all__ = ["FORMATS", "write_report", "write_analysis_json", "build_document", "Document", "render"]

#: format -> file suffix
FORMATS: dict[str, str] = {"html": ".html", "docx": ".docx", "md": ".md", "tex": ".tex"}


def render(doc: Document, fmt: str) -> str | bytes:
    """One document in one format: text (HTML, Markdown, LaTeX) or bytes (Word)."""
    if fmt == "html":
        from .html import to_html

        return to_html(doc)
    if fmt == "md":
        from .markdown import to_markdown

        return to_markdown(doc)
    if fmt == "docx":
        from .docx import to_docx

        return to_docx(doc)
    if fmt in ("tex", "latex"):
        from .latex import to_latex

        return to_latex(doc)
    raise ParameterError(f"formats: unknown report format {fmt!r}; use {', '.join(FORMATS)}")


def write_analysis_json(analysis: Analysis, path: str | Path) -> Path:
    """``analysis.json``: provenance, every analysis's full result and every report table."""
    path = Path(path)
    text = json.dumps(analysis.to_dict(), indent=1, allow_nan=False, ensure_ascii=False)
    try:
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise DataFileError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    return path


def write_report(analysis: Analysis, out: str | Path, formats: Sequence[str] = ("html", "docx", "md", "tex"),
                 langs: Sequence[str] = ("en",), *, stem: str = "report",
                 subtitle: str | Mapping[str, str] | None = None,
                 documents: Mapping[str, Document] | None = None) -> list[Path]:
    """Write ``analysis`` in every format and language into the folder ``out``.

    Files are ``{stem}.{ext}`` for the first language and ``{stem}_{lang}.{ext}`` for
    the others; figures go to ``figures/`` (PNG and SVG, per language), and
    ``analysis.json`` beside them.  ``documents`` (language -> :func:`build_document` of
    this analysis) are used instead of building them again (the web app shows them too).

    Examples
    --------
    >>> import tempfile, servmodels as sm
    >>> data = sm.read_survey(sm.load_example())
    >>> a = sm.analyze(data, n_resamples=20, analyses=["scores", "bootstrap"])
    >>> paths = write_report(a, tempfile.mkdtemp(), formats=["md"], langs=["en", "id"])
    >>> [p.name for p in paths]
    ['report.md', 'report_id.md', 'analysis.json']
    """
    formats = [("tex" if f == "latex" else f) for f in dict.fromkeys(formats)]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ParameterError(f"formats: use {', '.join(FORMATS)}; got {', '.join(map(repr, formats)) or 'none'}")
    langs = list(dict.fromkeys(langs))
    bad = [lang for lang in langs if lang not in LANGS]
    if bad or not langs:
        raise ParameterError(f"lang: use {', '.join(LANGS)}; got {', '.join(map(repr, langs)) or 'none'}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for k, lang in enumerate(langs):
        doc = documents[lang] if documents is not None and lang in documents else build_document(
            analysis, lang, subtitle=subtitle.get(lang) if isinstance(subtitle, Mapping) else subtitle)
        suffix = "" if k == 0 else f"_{lang}"
        figdir = out / "figures"
        figdir.mkdir(exist_ok=True)
        for f in doc.figures.values():
            (figdir / f"{f.name}{suffix}.png").write_bytes(f.png)
            (figdir / f"{f.name}{suffix}.svg").write_bytes(f.svg)
        for fmt in formats:
            path = out / f"{stem}{suffix}{FORMATS[fmt]}"
            if fmt == "md":
                from .markdown import to_markdown

                body: str | bytes = to_markdown(doc, figure_suffix=suffix)
            elif fmt == "tex":
                from .latex import to_latex

                body = to_latex(doc, figure_suffix=suffix)
            else:
                body = render(doc, fmt)
            if isinstance(body, bytes):
                path.write_bytes(body)
            else:
                path.write_text(body, encoding="utf-8")
            written.append(path)
    written.append(write_analysis_json(analysis, out / "analysis.json"))
    return written
