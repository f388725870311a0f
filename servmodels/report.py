"""Reports: :func:`servmodels.analyze` runs the analyses once, :func:`write_report` renders them.

This module keeps the old import path; the two layers live in :mod:`servmodels.analysis`
(computation) and :mod:`servmodels.render` (HTML, Word, Markdown, LaTeX; English and
Bahasa Indonesia).
"""

from __future__ import annotations

from .analysis import Analysis, analyze
from .render import build_document, write_analysis_json, write_report

__all__ = ["Analysis", "analyze", "build_document", "write_analysis_json", "write_report"]
