"""Word and LaTeX reports, parsed back.

Every table of the .docx and the .tex holds exactly the PreparedTable cells (headers,
rows, alignment), and its numbers agree with the Analysis's unrounded values; the
Word page is A4 with 2.5 cm margins in both languages and header rows repeat; the
provenance carries the input's SHA-256 (computed here with hashlib); warnings and
the analyses not run are printed.  The LaTeX source is plain ASCII, and its
escaping is undone here by an independent table, so a wrong mapping shows.

Tests marked ``latex`` compile the reports with pdflatex (``make test-latex``).
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import warnings
from collections import defaultdict
from pathlib import Path

import docx
import numpy as np
import pandas as pd
import pytest
from docx.oxml.ns import qn
from hypothesis import given
from hypothesis import strategies as st

import servmodels as sm
from servmodels.render import build_document, write_report
from servmodels.render.catalogue import label, reason

LANGS = ("en", "id")
W = qn("w:val")

# ----------------------------------------------------------------------------- analyses


def _nasty_instrument() -> sm.Instrument:
    dims = {"<b>x</b>": [str(i) for i in range(1, 6)], "50% & more_#1 {$}": [str(i) for i in range(6, 11)],
            "~^\\": [str(i) for i in range(11, 16)], "café é “q” ≥ 2": [str(i) for i in range(16, 21)],
            "x--y ''z'' ,,w": [str(i) for i in range(21, 26)]}
    return sm.Instrument("nasty_<b>&%", dims, scale=(1, 4),
                         translations={"id": {"<b>x</b>": "<i>y</i> & 100%", "~^\\": "ñ — x̄ ^_^",
                                                "x--y ''z'' ,,w": LONG_NAME}})


#: long enough that the tables wrap it (a p column in LaTeX)
LONG_NAME = "a very long dimension name that a thesis writer might type to describe the whole dimension, twice over"
NASTY_FILE = "nasty 50% & more_#1 {$} ~^\\ é.csv"


@pytest.fixture(scope="module")
def analyses(tmp_path_factory) -> dict[str, tuple[sm.Analysis, Path]]:
    """name -> (analysis, input file): the bundled example with every analysis; perception-only data with
    reverse-keyed items (warnings; bootstrap, compare and IPA not run); an instrument and a file name full of
    TeX specials and Unicode."""
    tmp = tmp_path_factory.mktemp("inputs")
    out: dict[str, tuple[sm.Analysis, Path]] = {}
    example = Path(sm.example_path())
    data = sm.read_survey(example, outcome="satisfaction", groups=["village"])
    out["example"] = (sm.analyze(data, n_resamples=50, seed=3), example)

    df = sm.load_example().head(60).copy()
    for c in ("P3", "P4", "P5"):
        df[c] = 5 - df[c]  # reverse-keyed answers nobody declared: the key check and alpha warn
    warned = tmp / "reversed.csv"
    df.drop(columns=[c for c in df.columns if c.startswith("E")]).to_csv(warned, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = sm.read_survey(warned, score_sets=["P"])
    out["warned"] = (sm.analyze(data, n_resamples=20, seed=1), warned)

    nasty = tmp / NASTY_FILE
    shutil.copy(example, nasty)
    data = sm.read_survey(nasty, _nasty_instrument(), outcome="satisfaction", groups=["village"])
    out["nasty"] = (sm.analyze(data, n_resamples=20, seed=2, title="Title $ & _ α ≤ 1"), nasty)
    return out


@pytest.fixture(scope="module")
def documents(analyses):
    return {(name, lang): build_document(a, lang) for name, (a, _) in analyses.items() for lang in LANGS}


@pytest.fixture(scope="module")
def written(analyses, tmp_path_factory) -> dict[str, Path]:
    """write_report of every analysis in both languages: name -> folder (report.* English, report_id.* Indonesian)."""
    out = {}
    for name, (a, _) in analyses.items():
        folder = tmp_path_factory.mktemp(name)
        write_report(a, folder, formats=["docx", "tex"], langs=LANGS)
        out[name] = folder
    return out


def _stem(lang: str) -> str:
    return "report" if lang == "en" else "report_id"


CASES = [(name, lang) for name in ("example", "warned", "nasty") for lang in LANGS]

# ----------------------------------------------------------------------------- numbers against the Analysis


def _analysis_frames(a: sm.Analysis) -> dict[tuple[str, str], list[pd.DataFrame]]:
    frames: dict[tuple[str, str], list[pd.DataFrame]] = defaultdict(list)
    for t in a.tables():
        frames[(t.step, t.key)].append(t.frame)
    return frames


def _decimals(cell: str) -> int:
    m = re.search(r"[.,](\d+)$", cell)
    return len(m.group(1)) if m else 0


def _check_numbers(cells: list[list[str]], frame: pd.DataFrame, align: tuple[str, ...]) -> int:
    """Every right-aligned cell, read as a number, is the frame's value rounded to the cell's decimals."""
    checked = 0
    assert len(cells) == len(frame)
    for row, (_, rec) in zip(cells, frame.iterrows()):
        for j, (cell, a) in enumerate(zip(row, align)):
            value = rec.iloc[j]
            if a != "r":
                continue
            if cell == "—":
                assert value is None or not np.isfinite(float(value))
                continue
            if cell in ("✓", "✗"):
                assert bool(value) is (cell == "✓")
            elif cell.startswith("<"):
                assert float(value) < 0.001
            else:
                x = float(cell.replace("\u2212", "-").replace(",", "."))
                assert abs(x - float(value)) <= 0.5 * 10.0 ** -_decimals(cell) + 1e-9, (cell, value)
            checked += 1
    return checked


# ----------------------------------------------------------------------------- Word


def _docx(written, name, lang):
    return docx.Document(io.BytesIO((written[name] / f"{_stem(lang)}.docx").read_bytes()))


def _body(d):
    """The document body in order: ("p", Paragraph) and ("t", Table)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out = []
    for el in d.element.body.iterchildren():
        if el.tag == qn("w:p"):
            out.append(("p", Paragraph(el, d)))
        elif el.tag == qn("w:tbl"):
            out.append(("t", Table(el, d)))
    return out


@pytest.mark.parametrize("name,lang", CASES)
def test_docx_tables_hold_the_prepared_cells(written, documents, analyses, name, lang):
    doc = documents[(name, lang)]
    d = _docx(written, name, lang)
    prepared = doc.all_tables()
    # the first table is the provenance ("About this report"), then the analysis's tables
    assert len(d.tables) == 1 + len(prepared) > 1
    frames = _analysis_frames(analyses[name][0])
    seen: dict[tuple[str, str], int] = defaultdict(int)
    step_of = {t.key: t.step for t in analyses[name][0].tables()}
    checked = 0
    for table, t in zip(d.tables[1:], prepared):
        cells = [[c.text for c in row.cells] for row in table.rows]
        assert cells[0] == list(t.headers)
        assert cells[1:] == [list(r) for r in t.rows]
        for row in table.rows:
            for c, a in zip(row.cells, t.align):
                expected = "RIGHT" if a == "r" else "LEFT"
                assert c.paragraphs[0].alignment.name == expected
        key = (step_of[t.key], t.key)
        checked += _check_numbers(cells[1:], frames[key][seen[key]], t.align)
        seen[key] += 1
    assert checked > 20


@pytest.mark.parametrize("lang", LANGS)
def test_docx_page_is_a4_with_2_5_cm_margins(written, lang):
    d = _docx(written, "example", lang)
    for s in d.sections:
        assert abs(s.page_width.cm - 21.0) < 0.01 and abs(s.page_height.cm - 29.7) < 0.01
        for m in (s.left_margin, s.right_margin, s.top_margin, s.bottom_margin):
            assert abs(m.cm - 2.5) < 0.01


def _borders(cell) -> dict[str, str]:
    tcpr = cell._tc.tcPr
    b = tcpr.find(qn("w:tcBorders")) if tcpr is not None else None
    if b is None:
        return {}
    return {child.tag.split("}")[1]: child.get(W) for child in b}


@pytest.mark.parametrize("name,lang", [("example", "en"), ("warned", "id")])
def test_docx_header_rows_repeat_and_only_horizontal_rules(written, name, lang):
    d = _docx(written, name, lang)
    for table in d.tables[1:]:  # the first is the borderless provenance table
        tblpr = table._tbl.tblPr
        tb = tblpr.find(qn("w:tblBorders"))
        assert tb is not None and {c.get(W) for c in tb} == {"nil"}
        rows = table.rows
        for i, row in enumerate(rows):
            trpr = row._tr.trPr
            is_header = trpr is not None and trpr.find(qn("w:tblHeader")) is not None
            assert is_header is (i == 0)
            for cell in row.cells:
                b = _borders(cell)
                assert b.get("left") == b.get("right") == "nil"  # no vertical lines
                top_rule = b.get("top") == "single"
                bottom_rule = b.get("bottom") == "single"
                assert top_rule is (i == 0)
                assert bottom_rule is (i == 0 or i == len(rows) - 1)


@pytest.mark.parametrize("name,lang", CASES)
def test_docx_captions_notes_warnings_in_order(written, documents, name, lang):
    doc = documents[(name, lang)]
    body = _body(_docx(written, name, lang))
    tables = [k for k, (kind, _) in enumerate(body) if kind == "t"][1:]  # [0]: the provenance table
    assert len(tables) == len(doc.all_tables())
    for n, (k, t) in enumerate(zip(tables, doc.all_tables()), 1):
        kind, caption = body[k - 1]
        assert kind == "p" and caption.text == f"{label('table', lang)} {n}. {t.title}"
        assert caption.style.name == "Caption" and caption.paragraph_format.keep_with_next
        title_runs = [r for r in caption.runs if r.text == t.title]
        assert title_runs and title_runs[0].italic  # APA: italic title
        if t.note:
            assert body[k + 1][1].text == f"{label('note', lang)}. {t.note}"
    # each section: heading, then its tables, then its warnings before the next heading
    texts = [(kind, x.text if kind == "p" else None, x.style.name if kind == "p" else None) for kind, x in body]
    headings = [k for k, (kind, _, style) in enumerate(texts) if style == "Heading 1"]
    for s in doc.sections:
        start = next(k for k in headings if texts[k][1] == s.title)
        end = next((k for k in headings if k > start), len(texts))
        inside = texts[start:end]
        assert sum(kind == "t" for kind, _, _ in inside) == len(s.tables)
        last_table = max((k for k, (kind, _, _) in enumerate(inside) if kind == "t"), default=0)
        for w in s.warnings:
            at = [k for k, (_, text, _) in enumerate(inside) if text == w]
            assert at and at[0] > last_table
    # figures: one picture each, numbered captions, no wider than the text
    assert len(_docx(written, name, lang).inline_shapes) == len(doc.figures)
    captions = [text for _, text, style in texts if style == "Caption" and text.startswith(label("figure", lang))]
    assert captions == [f"{label('figure', lang)} {k}. {f.caption}" for k, f in enumerate(doc.figures.values(), 1)]
    for shape, f in zip(_docx(written, name, lang).inline_shapes, doc.figures.values()):
        assert shape.width.inches <= min(f.width_in, 16 / 2.54) + 1e-3


@pytest.mark.parametrize("name,lang", CASES)
def test_docx_provenance_warnings_skipped(written, documents, analyses, name, lang):
    a, path = analyses[name]
    doc = documents[(name, lang)]
    d = _docx(written, name, lang)
    text = [p.text for p in d.paragraphs]
    # before the first section: title, subtitle, provenance heading, then the provenance table
    assert text[:3] == [doc.title, doc.subtitle, label("provenance", lang)]
    blocks = _body(d)
    assert [kind for kind, _ in blocks[:4]] == ["p", "p", "p", "t"]
    rows = [tuple(c.text for c in row.cells) for row in blocks[3][1].rows]
    assert rows == list(doc.provenance)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (label("input_sha256", lang), sha) in rows
    assert (label("input_file", lang), path.name) in rows
    tblpr = blocks[3][1]._tbl.tblPr
    assert {c.get(W) for c in tblpr.find(qn("w:tblBorders"))} == {"nil"}
    for step in a.steps.values():
        for w in step.warnings:
            assert w in text
        if step.skipped:
            assert f"{label('an_' + step.name, lang)}: {reason(step.skipped, lang)}" in text
    for sentence in doc.sentences:
        assert sentence in text


def test_docx_warned_case_has_warnings_and_skips(analyses):
    a, _ = analyses["warned"]
    # the data's warnings (undeclared reverse-keyed items) once, then the analyses' own
    assert a.provenance["data_warnings"] and sum(len(s.warnings) for s in a.steps.values()) + len(
        a.provenance["data_warnings"]) >= 2
    assert {"bootstrap", "compare", "ipa"} <= set(a.skipped)


@pytest.mark.parametrize("lang", LANGS)
def test_docx_title_and_language(written, documents, lang):
    d = _docx(written, "example", lang)
    assert d.core_properties.title == documents[("example", lang)].title
    rpr = d.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    assert rpr.find(qn("w:lang")).get(W) == {"en": "en-US", "id": "id-ID"}[lang]


# ----------------------------------------------------------------------------- LaTeX, parsed back

#: LaTeX spellings this test understands, independent of servmodels.render.latex (longest match first)
TEX_TOKENS: dict[str, str] = {
    r"\textbackslash{}": "\\", r"\{": "{", r"\}": "}", r"\$": "$", r"\&": "&", r"\#": "#", r"\%": "%", r"\_": "_",
    r"\textasciitilde{}": "~", r"\textasciicircum{}": "^", r"\textless{}": "<", r"\textgreater{}": ">",
    r"\textbar{}": "|", r"\textquotedbl{}": '"', r"\textquotesingle{}": "'", r"\textasciigrave{}": "`",
    r"\ensuremath{-}": "\u2212", r"\ensuremath{\alpha}": "α", r"\ensuremath{\omega}": "ω", r"\ensuremath{\chi}": "χ",
    r"\ensuremath{\Delta}": "Δ", r"\textsuperscript{2}": "²", r"\ensuremath{\checkmark}": "✓",
    r"\ensuremath{\times}": "✗", r"\ensuremath{\geq}": "≥", r"\ensuremath{\leq}": "≤",
    "`": "‘", "'": "’", "---": "—", "--": "–", "``": "“", "''": "”", "{}": "",
    r"\'{e}": "é", r"\~{n}": "ñ", r"\={x}": "x̄",
}
_TOKEN_RE = re.compile("|".join(re.escape(k) for k in sorted(TEX_TOKENS, key=len, reverse=True)) + "|.", re.S)


def untex(s: str) -> str:
    out = "".join(TEX_TOKENS.get(m.group(0), m.group(0)) for m in _TOKEN_RE.finditer(s))
    return out


def _cells(line: str) -> list[str]:
    assert line.endswith(r" \\"), line
    return [untex(c.strip()) for c in re.split(r"(?<!\\)&", line[:-3])]


def _longtables(tex: str) -> list[dict]:
    """Every captioned longtable: column spec, caption, header, body rows."""
    out = []
    for m in re.finditer(r"\\begin\{longtable\}\{(.*?)\}\n(.*?)\\end\{longtable\}", tex, re.S):
        spec, body = m.group(1), m.group(2).split("\n")
        cap = re.fullmatch(r"\\caption\{(.*)\}\\\\", body[0])
        if cap is None:
            continue
        header = body[body.index(r"\toprule") + 1]
        rows = body[body.index(r"\endfoot") + 1:]
        out.append({"spec": spec, "caption": untex(cap.group(1)), "header": _cells(header),
                    "rows": [_cells(r) for r in rows if r]})
    return out


def _aligns(spec: str) -> list[str]:
    spec = spec.removeprefix("@{}").removesuffix("@{}")
    spec = spec.replace(r"\arraybackslash", "")
    # wrapped columns: text ragged right, numbers (whose long headers wrap) ragged left
    spec = re.sub(r">\{\\raggedleft\s*\}p\{[\d.]+pt\}", "r", spec)
    spec = re.sub(r">\{.*?\}p\{[\d.]+pt\}", "l", spec)
    return list(spec)


def _tex(written, name, lang) -> str:
    return (written[name] / f"{_stem(lang)}.tex").read_text(encoding="utf-8")


@pytest.mark.parametrize("name,lang", CASES)
def test_latex_tables_hold_the_prepared_cells(written, documents, analyses, name, lang):
    doc = documents[(name, lang)]
    parsed = _longtables(_tex(written, name, lang))
    prepared = doc.all_tables()
    assert len(parsed) == len(prepared) > 0
    frames = _analysis_frames(analyses[name][0])
    step_of = {t.key: t.step for t in analyses[name][0].tables()}
    seen: dict[tuple[str, str], int] = defaultdict(int)
    checked = 0
    for p, t in zip(parsed, prepared):
        assert p["caption"] == t.title
        assert p["header"] == list(t.headers)
        assert p["rows"] == [list(r) for r in t.rows]
        assert _aligns(p["spec"]) == list(t.align)
        key = (step_of[t.key], t.key)
        checked += _check_numbers(p["rows"], frames[key][seen[key]], t.align)
        seen[key] += 1
    assert checked > 20


@pytest.mark.parametrize("name,lang", CASES)
def test_latex_is_plain_ascii(written, name, lang):
    tex = _tex(written, name, lang)
    assert [c for c in tex if ord(c) > 126 or (ord(c) < 32 and c != "\n")] == []


@pytest.mark.parametrize("name,lang", CASES)
def test_latex_provenance_notes_warnings_skipped(written, documents, analyses, name, lang):
    a, path = analyses[name]
    doc = documents[(name, lang)]
    tex = _tex(written, name, lang)
    lines = tex.split("\n")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert sha in tex
    start = next(k for k, x in enumerate(lines) if x.startswith(r"\noindent\begin{tabular}"))
    rows = lines[start + 1:start + 1 + len(doc.provenance)]
    got = [tuple(_cells(r)) for r in rows]
    got = [(k, re.sub(r"^\{\\footnotesize\\ttfamily (\w+)\}$", r"\1", v)) for k, v in got]
    assert got == list(doc.provenance)
    assert dict(got)[label("input_file", lang)] == path.name
    text = untex(tex)
    for t in doc.all_tables():
        if t.note:
            assert rf"\textit{{{label('note', lang)}.}} {t.note}" in text
    items = [untex(x.removeprefix(r"\item ")) for x in lines if x.startswith(r"\item ")]
    for step in a.steps.values():
        for w in step.warnings:
            assert w in items
        if step.skipped:
            assert rf"\textbf{{{label('an_' + step.name, lang)}}}: {reason(step.skipped, lang)}" in items
    for sentence in doc.sentences:
        assert sentence in items


@pytest.mark.parametrize("lang", LANGS)
def test_latex_page_and_figures(written, documents, lang):
    tex = _tex(written, "example", lang)
    assert r"\usepackage[a4paper,margin=2.5cm]{geometry}" in tex
    doc = documents[("example", lang)]
    paths = re.findall(r"\\includegraphics\[[^]]*\]\{(.*?)\}", tex)
    suffix = "" if lang == "en" else "_id"
    assert paths == [f"figures/{f.name}{suffix}.png" for f in doc.figures.values()]
    for p in paths:
        assert (written["example"] / p).read_bytes()[:4] == b"\x89PNG"
    caps = re.findall(r"\\begin\{figure\}\[H\]\n\\caption\{(.*?)\}\n", tex)
    assert [untex(c) for c in caps] == [f.caption for f in doc.figures.values()]
    assert rf"\renewcommand{{\tablename}}{{{label('table', lang)}}}" in tex


_SYMBOLS = "−αωχΔ²✓≥≤—–“”‘’éñ"


@pytest.mark.parametrize("text", [
    "".join(chr(c) for c in range(32, 127)),
    _SYMBOLS,
    "–– -– —- ‘“ !“ ?‘ ’’ ,, '' -- `` x̄ χ² = −0,31",  # pairs that would form TeX ligatures
])
def test_escape_every_symbol(text):
    from servmodels.render.latex import escape

    out = escape(text)
    assert all(32 <= ord(c) < 127 for c in out)
    assert untex(out) == text


def test_escape_drops_unprintable_characters_without_joining_neighbours():
    from servmodels.render.latex import escape

    assert untex(escape("-\x07-\u200b-")) == "---"  # three hyphens, not an em dash
    assert escape("中") == "[U+4E2D]"


@given(st.text(alphabet=st.sampled_from([chr(c) for c in range(32, 127)] + list(_SYMBOLS)), max_size=40))
def test_escape_round_trips_and_is_ascii(text):
    from servmodels.render.latex import escape

    out = escape(text)
    assert all(32 <= ord(c) < 127 for c in out)
    assert untex(out) == text


# ----------------------------------------------------------------------------- pdflatex (make test-latex)


def _compile(folder: Path, stem: str) -> str:
    pdflatex = shutil.which("pdflatex")
    assert pdflatex, "install texlive (make test-latex does it when root) to run the LaTeX tests"
    proc = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", f"{stem}.tex"], cwd=folder,
                          capture_output=True, timeout=300)
    log = (folder / f"{stem}.log").read_text(encoding="latin-1")
    assert proc.returncode == 0, log[-3000:]
    return log


@pytest.mark.latex
@pytest.mark.parametrize("name,lang", CASES)
def test_pdflatex_compiles_cleanly(written, documents, name, lang):
    log = _compile(written[name], _stem(lang))
    assert "Missing character" not in log
    assert "Undefined control sequence" not in log
    assert "\n! " not in log
    assert "Overfull \\hbox" not in log  # every table fits the text width
    assert re.search(r"Output written on .*\((\d+) pages?", log)


@pytest.mark.latex
@pytest.mark.parametrize("lang", LANGS)
def test_pdflatex_prints_the_nasty_names(written, analyses, lang):
    """The PDF's text holds the user's names as typed: the escaping maps to the right glyphs."""
    tool = shutil.which("mutool") or shutil.which("pdftotext")
    assert tool, "needs pdftotext (apt-get install poppler-utils; make test-latex does it when root)"
    folder = written["nasty"]
    _compile(folder, _stem(lang))
    pdf = folder / f"{_stem(lang)}.pdf"
    cmd = [tool, "draw", "-q", "-F", "txt", str(pdf)] if tool.endswith("mutool") else [tool, str(pdf), "-"]
    text = subprocess.run(cmd, capture_output=True, timeout=120).stdout.decode("utf-8")
    # x̄ has no precomposed glyph: TeX stacks a macron on x, which text extraction reads as "¯x"
    flat = " ".join(text.split()).replace("\u00afx", "x\u0304")
    inst = analyses["nasty"][0].instrument
    names = [inst.label(dim, lang) for dim in inst.dimension_names]
    for name in names:
        if name != LONG_NAME:  # wrapped over several lines of its cell
            assert name in flat
    assert len(names) == 5 and (lang == "en") is (LONG_NAME not in names)
    assert NASTY_FILE in flat
    assert "Title $ & _ α ≤ 1" in flat


@pytest.mark.latex
def test_screenshot_of_latex_is_two_a4_pages(written, tmp_path):
    """docs/img/report_tex.png is made by this function (docs/screenshots.py): pdflatex, then poppler's pdftoppm."""
    import importlib.util

    from PIL import Image

    spec = importlib.util.spec_from_file_location("screenshots", Path(__file__).parents[1] / "docs" / "screenshots.py")
    shots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shots)
    png = shots.shoot(written["example"], tmp_path, ("tex",))["report_tex"]
    img = Image.open(png).convert("L")
    # two A4 pages at 100 dpi (595.28 x 841.89 pt -> 826.8 x 1169.3 px, rounded by pdftoppm) side by side with
    # 16 px margins (US Letter would be 850 x 1100 px)
    assert abs(img.size[0] - (2 * 826.8 + 3 * 16)) <= 2 and abs(img.size[1] - (1169.3 + 2 * 16)) <= 1, img.size
    hist = img.histogram()
    ink = 1 - sum(hist[250:]) / (img.width * img.height)
    assert 0.05 < ink < 0.5 and sum(hist[:100]) > 1000  # printed pages: text on white, not blank
