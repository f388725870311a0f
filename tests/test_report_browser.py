"""The HTML report in a real browser: headless Chromium (Debian's, driven by Playwright) loads the
English and Indonesian reports of every analysis and checks by script that nothing runs past the
page, every figure loaded and fits its column, there is no script and no outside request, and the
dimension table on the screen shows the numbers of ``servmodels score FILE --json``.

Run with ``make test-browser`` (installs chromium when root, and the ``browser`` extra).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest

import servmodels as sm
from servmodels.cli import main
from servmodels.render import write_report

pytestmark = pytest.mark.browser

#: the layout width the report is checked at, and a phone's, where wide tables must scroll in their wrappers
WIDTHS = (1280, 390)
TITLES = {"en": "Service quality report", "id": "Laporan kualitas pelayanan"}
DIMENSIONS_ID = {"tangibles": "bukti fisik", "reliability": "keandalan", "responsiveness": "daya tanggap",
                 "assurance": "jaminan", "empathy": "empati"}
HEADERS = {"en": ["Dimension", "Expectation", "Perception", "Gap"], "id": ["Dimensi", "Harapan", "Kinerja", "Kesenjangan"]}

# Everything measured in the page, in CSS pixels.  Elements inside a div.table-wrap are left out
# of "outside": the wrapper clips and scrolls them, and it is measured itself.
_MEASURE = """() => {
  const root = document.documentElement, vw = root.clientWidth;
  const box = e => e.getBoundingClientRect();
  const where = e => { const f = e.closest('[id]'); return (f ? f.id : '') + ' ' + e.tagName.toLowerCase(); };
  const outside = [];
  for (const e of document.body.querySelectorAll('*')) {
    if (e.closest('div.table-wrap') && !e.matches('div.table-wrap')) continue;
    const b = box(e);
    if (b.width === 0 && b.height === 0) continue;
    if (b.right > vw + 0.5 || b.left < -0.5) outside.push({where: where(e), left: b.left, right: b.right});
  }
  return {
    scrollWidth: root.scrollWidth, clientWidth: vw, title: document.title, lang: root.lang, outside,
    h1: document.querySelector('h1').innerText, scripts: document.scripts.length,
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    captions: [...document.querySelectorAll('figcaption')].map(c => ({
      where: where(c), text: c.innerText,
      lines: [...c.children].map(s => Math.round(box(s).height / parseFloat(getComputedStyle(s).lineHeight)))})),
    tables: [...document.querySelectorAll('table')].map(t => {
      const w = t.parentElement, b = box(t), wb = box(w);
      return {where: where(t), right: b.right, width: b.width, wrapped: w.matches('div.table-wrap'),
              wrapRight: wb.right, wrapClient: w.clientWidth, wrapScroll: w.scrollWidth,
              overflowX: getComputedStyle(w).overflowX};
    }),
    images: [...document.querySelectorAll('figure img')].map(i => {
      const f = i.closest('figure'), b = box(i);
      return {where: where(i), complete: i.complete, naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight,
              width: b.width, height: b.height, right: b.right, containerWidth: f.clientWidth, containerRight: box(f).right};
    }),
    dls: [...document.querySelectorAll('dl')].map(d => ({
      where: where(d), right: box(d).right, scrollWidth: d.scrollWidth, clientWidth: d.clientWidth,
      children: [...d.children].filter(c => c.scrollWidth > c.clientWidth + 1 || box(c).right > box(d).right + 0.5)
                               .map(c => c.tagName.toLowerCase() + ': ' + c.innerText.slice(0, 40)),
    })),
  };
}"""


def layout_problems(m: dict) -> list[str]:
    """Everything in a measurement that runs past the page or its container (empty: the layout holds)."""
    vw = m["clientWidth"]
    out = []
    if m["scrollWidth"] > vw:
        out.append(f"page scrolls sideways: scrollWidth {m['scrollWidth']} > clientWidth {vw}")
    out += [f"{e['where']} outside the viewport: left {e['left']:.0f}, right {e['right']:.0f} > {vw}" for e in m["outside"]]
    for t in m["tables"]:
        if not t["wrapped"] or t["overflowX"] not in ("auto", "scroll"):
            out.append(f"{t['where']} is not in a scrolling div.table-wrap")
        elif t["wrapRight"] > vw + 0.5:
            out.append(f"{t['where']}: wrapper right {t['wrapRight']:.0f} > viewport {vw}")
        elif t["wrapScroll"] <= t["wrapClient"] and t["right"] > t["wrapRight"] + 0.5:
            out.append(f"{t['where']}: right {t['right']:.0f} past its wrapper {t['wrapRight']:.0f}")
    for i in m["images"]:
        if not (i["complete"] and i["naturalWidth"] > 0 and i["naturalHeight"] > 0):
            out.append(f"{i['where']} did not load")
        elif not i["height"] or abs(i["width"] / i["height"] - i["naturalWidth"] / i["naturalHeight"]) > 0.01:
            out.append(f"{i['where']} is distorted: {i['width']:.0f} x {i['height']:.0f} shown, "
                       f"{i['naturalWidth']} x {i['naturalHeight']} natural")
        if i["width"] > i["containerWidth"] + 0.5 or i["right"] > i["containerRight"] + 0.5:
            out.append(f"{i['where']}: {i['width']:.0f} px wide (right {i['right']:.0f}) in a "
                       f"{i['containerWidth']} px figure (right {i['containerRight']:.0f})")
    for d in m["dls"]:
        if d["right"] > vw + 0.5 or d["scrollWidth"] > d["clientWidth"] or d["children"]:
            out.append(f"{d['where']} overflows: right {d['right']:.0f}, scrollWidth {d['scrollWidth']} > "
                       f"{d['clientWidth']}; {d['children']}")
    return out


def scrolling_tables(m: dict) -> list[str]:
    """Tables wider than their wrapper (allowed: they scroll inside it), as 'id table width/wrapper width'."""
    return [f"{t['where']} {t['wrapScroll']}/{t['wrapClient']}" for t in m["tables"] if t["wrapScroll"] > t["wrapClient"]]



@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    data = sm.read_survey(sm.example_path(), outcome="satisfaction", groups=["village", "gender"])
    analysis = sm.analyze(data, n_resamples=100, seed=3)
    assert not analysis.skipped, analysis.skipped  # every analysis is in the page
    out = tmp_path_factory.mktemp("browser")
    write_report(analysis, out, ["html", "md"], ["en", "id"])
    return {"en": out / "report.html", "id": out / "report_id.html"}


def _load(browser, path: Path, width: int):
    """Open a report; returns the page, every URL it requested and every console error and page error."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri(), wait_until="load")
    return page, requests, errors


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", ["en", "id"])
def test_report_fits_the_window_loads_every_figure_and_runs_nothing(browser, reports, lang, width):
    page, requests, errors = _load(browser, reports[lang], width)
    try:
        m = page.evaluate(_MEASURE)
    finally:
        page.close()
    assert m["clientWidth"] == width
    assert layout_problems(m) == []
    # every analysis is there: 2 sample tables + 13 (latent gaps and their invariance steps, the largest
    # modification indices included), six figures
    assert len(m["tables"]) == 15 and len(m["images"]) == 6
    assert m["scripts"] == 0
    assert (m["title"], m["h1"], m["lang"]) == (TITLES[lang], TITLES[lang], lang)
    assert [u for u in requests if u != reports[lang].as_uri() and not u.startswith("data:")] == []
    assert errors == []
    assert len(set(m["ids"])) == len(m["ids"]), sorted(i for i in m["ids"] if m["ids"].count(i) > 1)
    assert len(m["captions"]) == 21  # APA: every table and figure has a number and a title above it
    if width == 1280:
        # the 960-pixel column holds every table and every figure at its printed size (PNGs of 150 dpi), and captions
        # are as wide as the column, not the table: "Table 1" and its title on one line each
        assert scrolling_tables(m) == []
        assert [c for c in m["captions"] if c["lines"] != [1, 1]] == []
        assert all(i["width"] == pytest.approx(i["naturalWidth"] * 96 / 150, abs=1) for i in m["images"])
    else:
        # on a phone the wide tables scroll inside their wrappers and the figures shrink to the column
        assert "items table" in " ".join(scrolling_tables(m))
        assert all(i["width"] <= i["containerWidth"] < i["naturalWidth"] for i in m["images"])
    print(f"\n{lang} at {width}px: scrollWidth {m['scrollWidth']} / clientWidth {m['clientWidth']}; "
          f"widest table {max(t['width'] for t in m['tables']):.0f}px; "
          f"widest figure {max(i['width'] for i in m['images']):.0f}px of natural "
          f"{max(i['naturalWidth'] for i in m['images'])}px; tables that scroll: {scrolling_tables(m) or 'none'}")


@pytest.mark.parametrize(("rule", "broken", "found"), [
    (".table-wrap{overflow-x:auto;max-width:100%}", "", ["page scrolls sideways", "table-items table is not in a scrolling"]),
    ("figure img{display:block;max-width:100%;height:auto}", "figure img{display:block;height:auto}",
     ["figure-gap_dimensions img: 573 px wide"]),
    ("figure img{display:block;max-width:100%;height:auto}", "figure img{display:block;max-width:100%}",
     ["figure-gap_dimensions img is distorted"]),
    ("dl.provenance dd{margin:0;overflow-wrap:anywhere}", "dl.provenance dd{margin:0}", ["provenance dl overflows"]),
])
def test_the_check_finds_overflow(browser, reports, tmp_path, rule, broken, found):
    # the report with one rule of its style sheet broken, on a phone: the check must say what went wrong
    html = reports["en"].read_text(encoding="utf-8")
    assert html.count(rule) == 1
    path = tmp_path / "broken.html"
    path.write_text(html.replace(rule, broken), encoding="utf-8")
    page, _, _ = _load(browser, path, 390)
    try:
        problems = "\n".join(layout_problems(page.evaluate(_MEASURE)))
    finally:
        page.close()
    for text in found:
        assert text in problems


@pytest.mark.parametrize("lang", ["en", "id"])
def test_dimension_table_on_screen_equals_score_json(browser, reports, lang):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["score", str(sm.example_path()), "--json"]) == 0
    dims = json.loads(buf.getvalue())["dimensions"]
    assert list(dims) == list(DIMENSIONS_ID)

    def shown(v: float) -> str:
        # two decimals, U+2212 minus; decimal comma in Indonesian (written here, not taken from the renderer)
        text = f"{v:.2f}".replace("-", "\u2212")
        return text.replace(".", ",") if lang == "id" else text

    expected = [[d if lang == "en" else DIMENSIONS_ID[d], shown(r["expectation"]), shown(r["perception"]), shown(r["gap"])]
                for d, r in dims.items()]
    page, _, _ = _load(browser, reports[lang], 1280)
    try:
        rows = page.evaluate("""() => [...document.querySelectorAll('figure[data-key=dimensions] table tr')]
                                      .map(tr => [...tr.cells].map(c => c.innerText.trim()))""")
    finally:
        page.close()
    assert rows[0][:4] == HEADERS[lang]
    assert [r[:4] for r in rows[1:]] == expected
    assert any("\u2212" in r[3] for r in expected)  # the gaps are negative: the minus sign is tested


# ----------------------------------------------------------------------------- screenshots of every format
# docs/reports.md shows each format with a picture made here by docs/screenshots.py's functions (`make
# screenshots` writes them into docs/img): the HTML pages and the Markdown rendered by markdown-it in Chromium;
# the Word file through LibreOffice and poppler (installed by `make test-browser`); the LaTeX file through
# pdflatex and poppler (tests marked latex, in tests/test_render_docx_latex.py).


def _screenshots_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("screenshots", Path(__file__).parents[1] / "docs" / "screenshots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ink(png: Path) -> tuple[tuple[int, int], float, float]:
    """(size, share of non-white pixels, share of dark pixels) of a screenshot."""
    from PIL import Image

    img = Image.open(png).convert("L")
    hist = img.histogram()
    total = img.width * img.height
    return img.size, 1 - sum(hist[250:]) / total, sum(hist[:100]) / total


# A4 at the screenshots' 100 dpi: 595.28 x 841.89 pt -> 826.8 x 1169.3 px, which pdftoppm rounds either way
# by the PDF's own rounding of the page size (US Letter would be 850 x 1100)
A4_PX = (826.8, 1169.3)


def _two_pages(size: tuple[int, int]) -> bool:
    """Two A4 pages side by side with 16 px margins, to the pixel."""
    return abs(size[0] - (2 * A4_PX[0] + 3 * 16)) <= 2 and abs(size[1] - (A4_PX[1] + 2 * 16)) <= 1


@pytest.fixture(scope="module")
def all_formats(tmp_path_factory):
    data = sm.read_survey(sm.example_path(), outcome="satisfaction", groups=["gender"])
    analysis = sm.analyze(data, n_resamples=100, seed=3)
    out = tmp_path_factory.mktemp("formats")
    write_report(analysis, out, ["html", "md", "docx"], ["en", "id"])
    return out


def test_screenshots_of_html_and_markdown(browser, all_formats, tmp_path):
    shots = _screenshots_module().shoot(all_formats, tmp_path, ("html", "md"), height=1500, browser=browser)
    assert sorted(shots) == ["report_en", "report_id", "report_md"]
    for name, png in shots.items():
        size, ink, dark = _ink(png)
        assert size == (1280, 1500), (name, size)
        assert 0.02 < ink < 0.6 and dark > 0.005, (name, ink, dark)  # text on a white page, not blank, not black
    # the Markdown rendering is a page of its own beside report.md, its tables rendered as tables
    import re

    html = (all_formats / "report_md_preview.html").read_text(encoding="utf-8")
    md = (all_formats / "report.md").read_text(encoding="utf-8")
    rules = re.findall(r"^\|(?:\s*:?-+:?\s*\|)+\s*$", md, re.M)  # a pipe table's header rule, one per table
    assert len(rules) >= 10 and html.count("<table>") == len(rules)
    assert html.count("<img ") == md.count("![")


def test_screenshot_of_word_is_two_a4_pages(all_formats, tmp_path):
    if shutil.which("soffice") is None:
        pytest.fail("LibreOffice is not installed: apt-get install libreoffice-writer-nogui poppler-utils "
                    "(`make test-browser` does it)")
    shots = _screenshots_module().shoot(all_formats, tmp_path, ("docx",))
    size, ink, dark = _ink(shots["report_docx"])
    assert _two_pages(size), size  # LibreOffice laid the Word file out on A4
    assert 0.05 < ink < 0.5 and dark > 0.005, (ink, dark)
