"""Word (.docx): an A4 document with APA-style tables, numbered captions and figures.

Both languages get an A4 page (21 x 29.7 cm) with 2.5 cm margins; the Indonesian
document is tagged ``id-ID`` so Word checks its spelling as Indonesian.  Each
table is a real Word table whose cells hold exactly the
:class:`~servmodels.render.tables.PreparedTable` strings (the Indonesian decimal
comma and the true minus sign included), numbers right-aligned and text
left-aligned, with horizontal rules only: above and below the header row, which
repeats on every page the table runs onto, and below the last row.  Captions
("Table 1." / "Tabel 1.") are Word ``SEQ`` fields, so Word's list of tables and
figures finds them.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from typing import Any

from .catalogue import label
from .document import Document
from .tables import PreparedTable

__all__ = ["to_docx", "PAGE_WIDTH_CM", "PAGE_HEIGHT_CM", "MARGIN_CM"]

#: A4, both languages
PAGE_WIDTH_CM = 21.0
PAGE_HEIGHT_CM = 29.7
MARGIN_CM = 2.5
_TEXT_WIDTH_IN = (PAGE_WIDTH_CM - 2 * MARGIN_CM) / 2.54
#: the tallest a figure may be: the text height less room for its caption
_TEXT_HEIGHT_IN = (PAGE_HEIGHT_CM - 2 * MARGIN_CM) / 2.54 - 0.8
#: a SHA-256 digest
_HEX64 = re.compile(r"[0-9a-f]{64}")
#: Word's language tags
_LANG_TAGS = {"en": "en-US", "id": "id-ID"}
#: rules in eighths of a point: 1.5 pt above and below a table, 0.75 pt under its header (APA)
_HEAVY, _LIGHT = 12, 6
#: table font sizes (points) tried largest first
_TABLE_SIZES = (10.0, 9.0, 8.0)
#: the estimate of a table's width: em per character.  Cambria's and Calibri's digits are 0.5 em and their
#: average letter a little less; 0.55 leaves room for capitals, the minus sign and a substitute font
#: (LibreOffice without Caladea/Carlito draws the text in DejaVu, whose digits are 0.64 em)
_EM_PER_CHAR = 0.55


def _lang(d: Any, tag: str) -> None:
    """Set the language of every run whose style does not say otherwise (``w:docDefaults``)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    defaults = d.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), tag)


def _seq_field(paragraph: Any, name: str, number: int, bold: bool) -> None:
    """A ``SEQ name`` field showing ``number`` (Word renumbers it; other readers show the number)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def fld(kind: str) -> None:
        run = paragraph.add_run()
        run.bold = bold
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run._r.append(el)

    fld("begin")
    instr = paragraph.add_run()
    instr.bold = bold
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" SEQ {name} \\* ARABIC "
    instr._r.append(text)
    fld("separate")
    paragraph.add_run(str(number)).bold = bold
    fld("end")


def _caption(d: Any, word: str, seq: str, number: int, title: str) -> Any:
    """"Table 1. *Title*": bold label and number, italic title (APA), kept with what follows."""
    p = d.add_paragraph(style="Caption")
    p.add_run(f"{word} ").bold = True
    _seq_field(p, seq, number, bold=True)
    p.add_run(". ").bold = True
    p.add_run(title).italic = True
    p.paragraph_format.keep_with_next = True
    return p


def _borders(cell: Any, top: int | None, bottom: int | None) -> None:
    """Horizontal rules on a cell; no vertical ones."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tcpr = cell._tc.get_or_add_tcPr()
    old = tcpr.find(qn("w:tcBorders"))
    if old is not None:
        tcpr.remove(old)
    borders = OxmlElement("w:tcBorders")
    for side, size in (("top", top), ("left", None), ("bottom", bottom), ("right", None)):
        el = OxmlElement(f"w:{side}")
        if size:
            el.set(qn("w:val"), "single")
            el.set(qn("w:sz"), str(size))
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), "000000")
        else:
            el.set(qn("w:val"), "nil")
        borders.append(el)
    tcpr.insert_element_before(borders, "w:shd", "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText",
                               "w:vAlign", "w:hideMark", "w:headers", "w:cellIns", "w:cellDel", "w:cellMerge",
                               "w:tcPrChange")


def _no_table_borders(table: Any) -> None:
    """No borders from the table style: the only rules are the cells' (APA: no vertical lines)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tblpr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tblpr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption",
                                "w:tblDescription", "w:tblPrChange")


def _repeat_header(row: Any) -> None:
    """Mark ``row`` as a header row Word repeats at the top of each page (``w:tblHeader``)."""
    from docx.oxml import OxmlElement

    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))
    trpr.append(OxmlElement("w:tblHeader"))


def _natural_in(t: PreparedTable, size: float) -> list[float]:
    """Estimated width of each column in inches at ``size`` points, plus the cell margins."""
    chars = [max([len(h)] + [len(r[j]) for r in t.rows]) for j, h in enumerate(t.headers)]
    return [c * _EM_PER_CHAR * size / 72 + 0.16 for c in chars]


def _min_in(t: PreparedTable, size: float) -> list[float]:
    """The narrowest each column may be: its longest word (header or cell), so that words wrap whole."""
    words = [max(len(w) for cell in [h, *(r[j] for r in t.rows)] for w in (cell.split() or [""]))
             for j, h in enumerate(t.headers)]
    return [c * _EM_PER_CHAR * size / 72 + 0.16 for c in words]  # 0.16 in: Word's default 0.19 cm cell margins, both sides


def _font_size(t: PreparedTable) -> float:
    """The largest of :data:`_TABLE_SIZES` at which ``t`` fits the text width (else the smallest)."""
    for size in _TABLE_SIZES:
        if sum(_natural_in(t, size)) <= _TEXT_WIDTH_IN:
            return size
    return _TABLE_SIZES[-1]


def _column_widths(t: PreparedTable, size: float) -> list[float]:
    """Column widths (inches) from the content; too wide a table narrows its text columns (they wrap), then all."""
    widths = _natural_in(t, size)
    total = sum(widths)
    if total <= _TEXT_WIDTH_IN:
        return widths
    # text columns give way first, down to their longest word; numbers are never wrapped if it can be helped
    floor = [m if a == "l" else w for w, m, a in zip(widths, _min_in(t, size), t.align)]
    if sum(floor) <= _TEXT_WIDTH_IN:
        slack = [w - f for w, f in zip(widths, floor)]
        scale = (_TEXT_WIDTH_IN - sum(floor)) / sum(slack)
        return [f + s * scale for f, s in zip(floor, slack)]
    return [w * _TEXT_WIDTH_IN / total for w in widths]


def _table(d: Any, t: PreparedTable, number: int, lang: str) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Inches, Pt

    _caption(d, label("table", lang), "Table", number, t.title)
    table = d.add_table(rows=1 + len(t.rows), cols=len(t.headers))
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    _no_table_borders(table)
    points = _font_size(t)
    size = Pt(points)
    table.autofit = False
    widths = [Inches(w) for w in _column_widths(t, points)]
    for column, width in zip(table.columns, widths):
        column.width = width
    last = len(t.rows)
    for i, cells in enumerate([t.headers, *t.rows]):
        row = table.rows[i]
        if i == 0:
            _repeat_header(row)
        for j, text in enumerate(cells):
            cell = row.cells[j]
            cell.width = widths[j]
            cell.text = text
            p = cell.paragraphs[0]
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if t.align[j] == "r" else WD_ALIGN_PARAGRAPH.LEFT
            fmt = p.paragraph_format
            fmt.space_before = fmt.space_after = Pt(1)
            fmt.line_spacing = 1.0
            if i == 0:
                fmt.keep_with_next = True
            for run in p.runs:
                run.font.size = size
            _borders(cell, top=_HEAVY if i == 0 else None,
                     bottom=_LIGHT if i == 0 and last else _HEAVY if i == last else None)
    if t.note:
        p = d.add_paragraph()
        p.add_run(f"{label('note', lang)}.").italic = True
        p.add_run(f" {t.note}")
        for run in p.runs:
            run.font.size = Pt(9)
        p.paragraph_format.space_before = Pt(3)
    else:
        d.add_paragraph().paragraph_format.space_after = Pt(6)


def _figure_width_in(png: bytes, width_in: float) -> float:
    """The figure's own width, at most the text width, and narrower if it would be taller than the page."""
    from docx.image.image import Image

    img = Image.from_blob(png)
    aspect = img.px_width / img.px_height
    return min(width_in, _TEXT_WIDTH_IN, _TEXT_HEIGHT_IN * aspect)


def _bullets(d: Any, items: list[tuple[str, str]]) -> None:
    """A bulleted list; each item is (bold lead, text)."""
    for lead, text in items:
        p = d.add_paragraph(style="List Bullet")
        if lead:
            p.add_run(lead).bold = True
            p.add_run(": ")
        p.add_run(text)


def _black(d: Any) -> None:
    """Black headings and captions (the default template's are blue)."""
    from docx.shared import Pt, RGBColor

    for name in ("Title", "Subtitle", "Heading 1", "Heading 2", "Caption"):
        style = d.styles[name]
        style.font.color.rgb = RGBColor(0, 0, 0)
    caption = d.styles["Caption"]
    caption.font.bold = False
    caption.font.size = Pt(11)
    caption.paragraph_format.space_before = Pt(12)
    caption.paragraph_format.space_after = Pt(4)


def to_docx(doc: Document) -> bytes:
    """The document as a Word file.

    Parameters
    ----------
    doc : Document
        The report (:func:`~servmodels.render.build_document`).

    Returns
    -------
    bytes
        The ``.docx`` file: A4, 2.5 cm margins, the provenance as a borderless first table,
        then one Word table per report table, figures at most the text width wide.

    Examples
    --------
    >>> import io, docx, servmodels as sm
    >>> from servmodels.render import build_document
    >>> a = sm.analyze(sm.read_survey(sm.load_example()), analyses=["scores"])
    >>> word = docx.Document(io.BytesIO(to_docx(build_document(a, "id", figures=False))))
    >>> round(word.sections[0].page_height.cm, 1), word.tables[2].rows[1].cells[3].text  # dimensions' gaps
    (29.7, '−0,31')
    """
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Inches, Pt

    lang = doc.lang
    d = docx.Document()
    for section in d.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
        section.left_margin = section.right_margin = Cm(MARGIN_CM)
        section.top_margin = section.bottom_margin = Cm(MARGIN_CM)
    _lang(d, _LANG_TAGS[lang])
    _black(d)
    props = d.core_properties
    props.title = doc.title
    props.subject = doc.subtitle
    props.language = _LANG_TAGS[lang]
    props.author = "servmodels"
    props.last_modified_by = "servmodels"
    props.comments = ""
    props.created = props.modified = datetime.now(timezone.utc).replace(microsecond=0)

    d.add_heading(doc.title, level=0)
    if doc.subtitle:
        d.add_paragraph(doc.subtitle, style="Subtitle")
    d.add_heading(label("provenance", lang), level=1)
    # a borderless two-column table without a caption (so it is not numbered among the analysis's tables):
    # a long label wraps in its 5 cm column instead of pushing its value to the next tab stop
    about = d.add_table(rows=len(doc.provenance), cols=2)
    _no_table_borders(about)
    about.autofit = False
    widths = (Cm(5.0), Inches(_TEXT_WIDTH_IN) - Cm(5.0))
    for row, (key, value) in zip(about.rows, doc.provenance):
        for cell, text, width in zip(row.cells, (key, value), widths):
            cell.width = width
            p = cell.paragraphs[0]
            p.paragraph_format.space_after = p.paragraph_format.space_before = Pt(1)
            run = p.add_run(text)
            if text is key:
                run.bold = True
            elif _HEX64.fullmatch(value):
                # a SHA-256 cannot wrap: 7.5 pt monospace fits its 64 characters in the value column
                run.font.name, run.font.size = "Consolas", Pt(7.5)
    for column, width in zip(about.columns, widths):
        column.width = width

    number = 0
    for s in doc.sections:
        d.add_heading(s.title, level=1)
        for t in s.tables:
            number += 1
            _table(d, t, number, lang)
        for text in s.paragraphs:
            d.add_paragraph(text)
        if s.warnings:
            d.add_paragraph().add_run(label("warnings", lang)).bold = True
            _bullets(d, [("", w) for w in s.warnings])

    if doc.figures:
        d.add_heading(label("figures", lang), level=1)
        for k, f in enumerate(doc.figures.values(), 1):
            _caption(d, label("figure", lang), "Figure", k, f.caption)  # above the figure (APA 7)
            d.add_picture(io.BytesIO(f.png), width=Inches(_figure_width_in(f.png, f.width_in)))
    if doc.sentences:
        d.add_heading(label("sentences", lang), level=1)
        _bullets(d, [("", x) for x in doc.sentences])
    if doc.skipped:
        d.add_heading(label("skipped", lang), level=1)
        _bullets(d, list(doc.skipped))

    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()
