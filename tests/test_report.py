"""Reports: every format is produced and parsed back; numbers equal the result objects;
the Indonesian report carries no untranslated section labels."""

import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest

import servmodels as sm
from servmodels.ipa import ipa
from servmodels.report import COLUMNS, LABELS, build_report, write_report
from servmodels.sentences import gap_sentence


@pytest.fixture(scope="module")
def data():
    return sm.read_survey(sm.load_example(), outcome="satisfaction", groups=["village"])


@pytest.fixture(scope="module")
def reports(data, tmp_path_factory):
    out = {}
    for lang in ("en", "id"):
        rep = build_report(data, lang=lang, seed=1, n_resamples=200)
        d = tmp_path_factory.mktemp(lang)
        out[lang] = (rep, d, write_report(rep, d, ["html", "docx", "md", "tex"]))
    return out


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self._row, self._cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr":
            self.tables[-1].append(self._row)

    def handle_data(self, d):
        if self._cell is not None:
            self._cell += d


def _expected_gaps(data):
    return [f"{v:.3f}" for v in sm.score(data).dimensions.drop(index="overall")["gap"]]


@pytest.mark.parametrize("lang", ["en", "id"])
def test_html_and_docx_dimension_tables_equal_score(data, reports, lang):
    rep, d, _ = reports[lang]
    parser = _Tables()
    parser.feed((d / "report.html").read_text(encoding="utf-8"))
    gap_label = COLUMNS["gap"][lang]
    dim_label = COLUMNS["dimension"][lang]
    found = [t for t in parser.tables if t and gap_label in t[0] and dim_label in t[0] and len(t) == 6]
    assert found, "dimension table not found in HTML"
    col = found[0][0].index(gap_label)
    assert [r[col] for r in found[0][1:]] == _expected_gaps(data)
    import docx

    doc = docx.Document(d / "report.docx")
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    found = [t for t in tables if gap_label in t[0] and dim_label in t[0] and len(t) == 6]
    assert [r[found[0][0].index(gap_label)] for r in found[0][1:]] == _expected_gaps(data)
    assert len(doc.inline_shapes) == len(rep.figures) >= 4
    html = (d / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == len(rep.figures)  # self-contained


def test_markdown_latex_and_figures(reports):
    rep, d, paths = reports["en"]
    md = (d / "report.md").read_text(encoding="utf-8")
    assert "| dimension" in md.lower() and "![" in md
    tex = (d / "report.tex").read_text(encoding="utf-8")
    assert "\\toprule" in tex and "\\begin{tabular}" in tex and tex.rstrip().endswith("\\end{document}")
    for name in rep.figures:
        assert (d / "figures" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert b"<svg" in (d / "figures" / f"{name}.svg").read_bytes()[:500]
    engine = shutil.which("pdflatex")
    if engine:  # compile when a TeX engine is installed (none on the CI image)
        proc = subprocess.run([engine, "-interaction=nonstopmode", "report.tex"], cwd=d, capture_output=True)
        assert proc.returncode == 0


def test_indonesian_report_has_no_english_section_labels(reports):
    rep, d, _ = reports["id"]
    html = (d / "report.html").read_text(encoding="utf-8")
    for key in ("items", "dims", "reliability", "cfa", "compare", "ipa", "figures", "sentences"):
        assert LABELS[key]["id"] in html
        if LABELS[key]["en"] != LABELS[key]["id"]:
            assert f">{LABELS[key]['en']}<" not in html
    assert "bukti fisik" in html and "Kesenjangan dimensi" in html
    assert rep.skipped == []


def test_skipped_analysis_is_stated(tmp_path):
    d = sm.read_survey(sm.load_example())  # no outcome column
    rep = build_report(d, lang="en", n_resamples=100)
    assert any("SERVQUAL versus SERVPERF" in s and "--outcome" in s for s in rep.skipped)


def test_ipa_quadrants_closed_form(data):
    res = ipa(data, n_resamples=100, rng=2)
    t = res.table
    E = data.responses["E"].astype(float).mean(axis=0)
    P = data.responses["P"].astype(float).mean(axis=0)
    np.testing.assert_allclose(t["importance"], E, rtol=1e-12)
    np.testing.assert_allclose(t["performance"], P, rtol=1e-12)
    hi_imp, lo_perf = E >= E.mean(), P < P.mean()
    expected = np.where(hi_imp, np.where(lo_perf, "I", "II"), np.where(lo_perf, "III", "IV"))
    assert (t["quadrant"].to_numpy() == expected).all()
    np.testing.assert_allclose(t[["p_I", "p_II", "p_III", "p_IV"]].sum(axis=1), 1.0)
    assert t.loc["7", "quadrant"] == "I"  # item 7 (reporting rules): largest gap in the seed's Table 8


def test_sentences_en_id():
    row = {"estimate": -0.442, "ci_low": -0.57, "ci_high": -0.32, "p_adjusted": 0.0004}
    assert gap_sentence("assurance", row, 95, "en") == "The assurance gap was −0.44, 95% CI [−0.57, −0.32], p < .001 (Holm-adjusted)."
    assert gap_sentence("jaminan", row, 95, "id") == "Kesenjangan dimensi jaminan sebesar −0,44, IK 95% [−0,57; −0,32], p < 0,001 (disesuaikan Holm)."


@pytest.mark.browser
def test_html_report_renders_in_headless_chromium(reports, tmp_path):
    # run with `make test-browser` (needs Debian's chromium); a screenshot of the Indonesian report
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "install chromium (apt-get install chromium) to run the browser tests"
    _, d, _ = reports["id"]
    shot = tmp_path / "report.png"
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run",
                           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1200,2000",
                           (d / "report.html").as_uri()], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-500:]
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 20_000
