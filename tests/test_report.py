"""Reports: analysed once, rendered many times; every table of every text format parsed back and
compared with the Analysis; provenance; warnings and failures visible; escaping."""

from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels.analysis import analyze
from servmodels.cli import main
from servmodels.ipa import ipa
from servmodels.render import build_document, write_report
from servmodels.render.catalogue import LABELS
from servmodels.render.tables import P_COLUMNS, number, pvalue
from servmodels.sentences import gap_sentence


@pytest.fixture(scope="module")
def analysis():
    data = sm.read_survey(sm.example_path(), outcome="satisfaction", groups=["village"])
    return analyze(data, seed=1, n_resamples=200, pa_iterations=20, cv_repeats=2)


@pytest.fixture(scope="module")
def written(analysis, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    paths = write_report(analysis, out, ["html", "md"], ["en", "id"])
    return out, paths


class _Tables(HTMLParser):
    """Cells of every <table> (header row first)."""

    def __init__(self):
        super().__init__()
        self.tables, self._row, self._cell, self.tags = [], None, None, []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
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


def _md_tables(text):
    tables, cur = [], None
    for line in text.splitlines():
        if line.startswith("| "):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if cur is None:
                cur = [cells]
            else:
                cur.append(cells)
        elif line.startswith("|:") or line.startswith("|-"):
            continue
        else:
            if cur is not None:
                tables.append(cur)
            cur = None
    if cur is not None:
        tables.append(cur)
    return tables


def _parse_number(text, lang):
    if text == "—":
        return np.nan
    t = text.replace("\u2212", "-")
    if lang == "id":
        t = t.replace(",", ".")
    return float(t)


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("fmt", ["html", "md"])
def test_every_table_parsed_back_equals_the_analysis_numbers(analysis, written, lang, fmt):
    out, _ = written
    suffix = "" if lang == "en" else "_id"
    text = (out / f"report{suffix}.{fmt}").read_text(encoding="utf-8")
    if fmt == "html":
        p = _Tables()
        p.feed(text)
        parsed = p.tables
    else:
        parsed = _md_tables(text)
    tables = analysis.tables()
    assert len(parsed) == len(tables)
    for got, t in zip(parsed, tables):
        frame = t.frame
        assert len(got) == len(frame) + 1, t.key
        for j, col in enumerate(frame.columns):
            values = frame[col].to_numpy()
            cells = [row[j] for row in got[1:]]
            if pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col]):
                if col in P_COLUMNS:
                    # APA p: "< .001" below, else three decimals (no leading zero in English)
                    for c, v in zip(cells, values):
                        if not np.isfinite(v):  # e.g. no difference test for the first invariance step
                            assert c == "—"
                            continue
                        assert c == ("< .001" if lang == "en" else "< 0,001") if v < 0.001 else abs(
                            _parse_number(c if lang == "id" else "0" + c, lang) - v) <= 0.0005 + 1e-12
                    continue
                shown = np.array([_parse_number(c, lang) for c in cells])
                decimals = [len(c.split("," if lang == "id" else ".")[1]) if ("," if lang == "id" else ".") in c else 0
                            for c in cells if c != "—"]
                assert len(set(decimals)) <= 1, (t.key, col)  # one number of decimals per column: aligned marks
                tol = 0.5 * 10.0 ** -(decimals[0] if decimals else 0) + 1e-9
                finite = np.isfinite(values.astype(float))
                assert np.all(np.isnan(shown[~finite]))
                np.testing.assert_array_less(np.abs(shown[finite] - values.astype(float)[finite]), tol)


def test_provenance_in_every_format_and_analysis_json(analysis, written):
    out, paths = written
    sha = hashlib.sha256(sm.example_path().read_bytes()).hexdigest()
    for name in ("report.html", "report_id.html", "report.md", "report_id.md"):
        text = (out / name).read_text(encoding="utf-8")
        assert sha in text and sm.__version__ in text
    doc = json.loads((out / "analysis.json").read_text(encoding="utf-8"))
    prov = doc["provenance"]
    assert prov["input_sha256"] == sha and prov["seed"] == 1 and prov["servmodels_version"] == sm.__version__
    assert (prov["n_respondents"], prov["n_dropped"]) == (100, 0)
    assert prov["n_resamples"] == {"bootstrap": 200, "reliability": 200, "compare": 200, "ipa": 200}
    # every number of every table is in analysis.json
    for t_json, t in zip(doc["tables"], analysis.tables()):
        assert t_json["key"] == t.key
        for rec_json, rec in zip(t_json["rows"], t.frame.to_dict(orient="records")):
            for k, v in rec.items():
                if isinstance(v, float) and np.isfinite(v):
                    assert rec_json[k] == v


def test_html_has_no_script_and_escapes_markup(tmp_path):
    df = sm.load_example()
    inst = sm.get_instrument("servqual25")
    dims = dict(inst.dimensions)
    dims["<b>x</b>"] = dims.pop("empathy")
    evil = sm.Instrument(name="<i>inst</i>", dimensions=dims, scale=(1, 4))
    data = sm.read_survey(df, evil, outcome="satisfaction")
    a = analyze(data, n_resamples=20, analyses=["scores", "bootstrap", "items"])
    write_report(a, tmp_path, ["html", "md"], ["en"])
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "&lt;i&gt;inst&lt;/i&gt;" in html and "<i>inst</i>" not in html


def test_report_cli_equals_bootstrap_and_reliability(tmp_path, capsys):
    # the interface: analysis.json equals the standalone commands on the same file and seed
    src = tmp_path / "s.csv"
    sm.simulate_servqual(150, rng=5, instrument=sm.get_instrument("servqual25").with_scale(1, 5)).to_csv(src, index=False)
    assert main(["report", str(src), "--scale", "1", "5", "--outcome", "satisfaction", "--seed", "3", "--format", "md",
                 "--out", str(tmp_path / "rep"), "--n-resamples", "300", "--quiet"]) == 0
    doc = json.loads((tmp_path / "rep" / "analysis.json").read_text(encoding="utf-8"))
    capsys.readouterr()
    assert main(["bootstrap", str(src), "--scale", "1", "5", "--level", "dimension", "--seed", "3", "--n-resamples", "300",
                 "--json"]) == 0
    boot = json.loads(capsys.readouterr().out)
    assert main(["reliability", str(src), "--scale", "1", "5", "--scores", "P", "--seed", "3", "--n-resamples", "300",
                 "--json", "--quiet"]) == 0
    rel = json.loads(capsys.readouterr().out)
    dims = {r["dimension"]: r for r in next(t for t in doc["tables"] if t["key"] == "dimensions")["rows"]}
    rows = [r for r in boot["gaps"] if r["level"] == "dimension"]
    assert len(rows) == 5
    for r in rows:
        d = dims[r["name"]]
        for k in ("estimate", "ci_low", "ci_high"):
            got = d["gap"] if k == "estimate" else d[k]
            assert got == pytest.approx(r[k], rel=1e-12, abs=1e-15)
    relrows = {r["dimension"]: r for r in next(t for t in doc["tables"] if t["key"] == "reliability")["rows"]}
    for dname, r in rel["dimensions"].items():
        for k in ("alpha", "alpha_ci_low", "alpha_ci_high", "omega"):
            assert relrows[dname][k] == pytest.approx(r[k], rel=1e-12)


def test_strict_exits_3_and_names_the_constant_item(tmp_path, capsys):
    df = sm.load_example()
    df["P3"] = 2
    src = tmp_path / "const.csv"
    df.to_csv(src, index=False)
    code = main(["report", str(src), "--outcome", "satisfaction", "--format", "md", "--out", str(tmp_path / "r"),
                 "--n-resamples", "20", "--strict"])
    err = capsys.readouterr().err
    assert code == 3
    assert "P3" in err and "not run" in err
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert LABELS["skipped"]["en"] in md and "P3" in md.split(LABELS["skipped"]["en"])[1]
    # without --strict the same report exits 0 but still lists what was not run
    assert main(["report", str(src), "--outcome", "satisfaction", "--format", "md", "--out", str(tmp_path / "r2"),
                 "--n-resamples", "20"]) == 0
    assert "not run" in capsys.readouterr().err


def test_indonesian_document_uses_the_catalogue(analysis):
    doc = build_document(analysis, "id", figures=False)
    titles = [t.title for t in doc.all_tables()]
    assert LABELS["dimensions"]["id"] in titles and LABELS["dimensions"]["en"] not in titles
    dims = next(t for t in doc.all_tables() if t.key == "dimensions")
    assert [r[0] for r in dims.rows] == ["bukti fisik", "keandalan", "daya tanggap", "jaminan", "empati"]
    assert all("." not in c for r in dims.rows for c in r[1:])  # decimal commas
    assert number(-0.5, 2, "id") == "\u22120,50" and pvalue(0.0004, "id") == "< 0,001"


def test_skipped_analysis_is_stated():
    data = sm.read_survey(sm.load_example())  # no outcome column
    a = analyze(data, n_resamples=20, analyses=["scores", "compare"])
    doc = build_document(a, "en", figures=False)
    assert ("SERVQUAL versus SERVPERF", "needs an overall-satisfaction column (--outcome)") in doc.skipped


def test_ipa_quadrants_closed_form():
    data = sm.read_survey(sm.load_example())
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

