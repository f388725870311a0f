"""The web app in a real browser: headless Chromium (Debian's, driven by Playwright) uploads the bundled
example, keeps the detected column mapping, checks the data, runs every analysis, and the dimension
table on the page must show the gaps of ``servmodels score FILE --json``; the Word report is downloaded
and read with python-docx; a damaged file shows its row and column; the language switch changes the
page and the results without losing them.  The pictures of ``docs/app.md`` are taken on the way
(``SERVMODELS_APP_SCREENSHOTS=docs/img``, as ``make screenshots`` sets it; else a temporary folder).

Run with ``make test-browser``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import servmodels as sm
from servmodels.cli import main

pytestmark = pytest.mark.browser

DIMENSIONS_ID = {"tangibles": "bukti fisik", "reliability": "keandalan", "responsiveness": "daya tanggap",
                 "assurance": "jaminan", "empathy": "empati"}
HEADERS = {"en": ["Dimension", "Expectation", "Perception", "Gap"], "id": ["Dimensi", "Harapan", "Kinerja", "Kesenjangan"]}
WIDTH = 1280
#: the longest a whole analysis of the example may take on a busy machine
RUN_TIMEOUT_MS = 240_000



@pytest.fixture(scope="module")
def server():
    """``servmodels app --port 0 --no-browser`` in a subprocess; yields its address."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.Popen([sys.executable, "-m", "servmodels.cli", "app", "--port", "0", "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    match = re.search(r"serving on (http://\S+/)", line)
    if match is None:
        proc.kill()
        pytest.fail(f"servmodels app did not start: {line}{proc.stderr.read()}")
    yield match[1]
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("SERVMODELS_APP_SCREENSHOTS")
    out = Path(folder) if folder else tmp_path_factory.mktemp("app-shots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _shoot(locator, path: Path, max_height: int | None = None) -> None:
    """An element's picture (its top ``max_height`` pixels), as docs/screenshots.py keeps them:
    small PNGs with sharp text."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "docs"))
    try:
        from screenshots import _small_png
    finally:
        sys.path.pop(0)
    box = locator.bounding_box()
    if max_height is None or box["height"] <= max_height:
        png = locator.screenshot()
    else:
        locator.page.evaluate(f"window.scrollTo(0, {box['y']})")
        box = locator.bounding_box()  # in the viewport, after scrolling
        png = locator.page.screenshot(full_page=True, clip={"x": box["x"], "y": box["y"] + locator.page.evaluate("window.scrollY"),
                                                             "width": box["width"], "height": max_height})
    path.write_bytes(_small_png(png))


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": WIDTH, "height": 900}, device_scale_factor=1, accept_downloads=True)
    seen = {"requests": [], "errors": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.goto(url, wait_until="load")
    return page, seen


def _expected(lang: str) -> list[list[str]]:
    """The dimension rows of ``servmodels score FILE --json``, formatted as the report formats them
    (two decimals, U+2212 minus, decimal comma in Indonesian) — written here, not taken from the app."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["score", str(sm.example_path()), "--scale", "1", "4", "--json"]) == 0
    dims = json.loads(buf.getvalue())["dimensions"]

    def shown(v: float) -> str:
        text = f"{v:.2f}".replace("-", "\u2212")
        return text.replace(".", ",") if lang == "id" else text

    return [[d if lang == "en" else DIMENSIONS_ID[d], shown(r["expectation"]), shown(r["perception"]), shown(r["gap"])]
            for d, r in dims.items()]


def _dimension_rows(page) -> list[list[str]]:
    return page.evaluate("""() => [...document.querySelectorAll('#results figure[data-key=dimensions] table tr')]
                                  .map(tr => [...tr.cells].map(c => c.innerText.trim()))""")


def test_upload_map_run_compare_download_and_switch_language(browser, server, shots, tmp_path):
    from docx import Document

    page, seen = _open(browser, server)
    try:
        assert page.title() == "servmodels: service-quality survey analysis"
        page.set_input_files("#file", str(sm.example_path()))
        page.wait_for_selector("#mapping-area:not([hidden])")
        assert page.inner_text("#file-summary") == "bawang_synthetic.csv: 100 rows, 54 columns"
        assert page.inner_text("#found") == "50 of 50 item columns found in the file"
        assert page.input_value("#instrument") == "servqual25"
        assert (page.input_value("#scale-min"), page.input_value("#scale-max")) == ("1", "4")
        assert (page.input_value("#outcome"), page.input_value("#respondent-id")) == ("satisfaction", "respondent_id")
        # the group columns offered are the columns that are not items; village and gender are guessed
        groups = page.eval_on_selector_all("#groups input", "xs => xs.map(x => [x.value, x.checked])")
        assert groups == [["respondent_id", False], ["village", True], ["gender", True], ["satisfaction", False]]
        page.click("#mapping-box summary")  # open the item table for the picture
        _shoot(page.locator("#step-columns"), shots / "app_columns.png")
        page.click("#mapping-box summary")
        _shoot(page.locator("#step-file"), shots / "app_file.png")

        assert page.is_disabled("#run")
        page.click("#check")
        page.wait_for_selector("#check-result .ok")
        assert page.inner_text("#check-result .ok") == "The data are ready: 100 respondents used, 0 left out."
        page.fill("#seed", "3")
        _shoot(page.locator("#step-analyses"), shots / "app_analyses.png")
        page.click("#run")
        page.wait_for_selector("#progress-box[data-state=running], #progress-box[data-state=done]")
        page.wait_for_selector("#step-download:not([hidden])", timeout=RUN_TIMEOUT_MS)
        assert re.fullmatch(r"Done in [\d.]+ s\.", page.inner_text("#progress-text"))

        # the numbers on the page are those of `servmodels score`
        rows = _dimension_rows(page)
        assert rows[0][:4] == HEADERS["en"]
        assert [r[:4] for r in rows[1:]] == _expected("en")
        assert page.locator("#results figure.figure img").count() == 6
        assert page.eval_on_selector_all("#results figure.figure img", "xs => xs.every(i => i.complete && i.naturalWidth > 0)")
        assert page.locator("#results ul.skipped").count() == 0  # every analysis ran
        _shoot(page.locator("#step-results"), shots / "app_results.png", 1500)

        command = page.inner_text("#cli")
        assert command.startswith("servmodels report bawang_synthetic.csv --instrument servqual25 --scale 1 4 ")
        assert "--seed 3" in command and "--group village --group gender" in command
        assert page.inner_text("#python").startswith("import servmodels as sm")
        _shoot(page.locator("#step-download"), shots / "app_download.png")

        # the Word report, downloaded as a user does, opened with python-docx
        with page.expect_download() as info:
            page.click("#dl-docx")
        download = info.value
        assert download.suggested_filename == "report.docx"
        path = tmp_path / "report.docx"
        download.save_as(path)
        cells = [[c.text for c in row.cells] for t in Document(str(path)).tables for row in t.rows]
        start = cells.index(HEADERS["en"] + ["CI lower", "CI upper", "p (adj.)"])
        assert [r[:4] for r in cells[start + 1:start + 6]] == _expected("en")

        # the language switch: page and results in Indonesian, nothing lost, downloads in Indonesian
        page.click("nav.lang button[data-lang=id]")
        page.wait_for_function("() => document.querySelector('#results figure[data-key=dimensions] th')?.innerText === 'Dimensi'")
        assert page.inner_text("h1") == "servmodels: analisis survei kualitas pelayanan"
        assert page.inner_text("#check") == "Periksa data"
        assert [r[:4] for r in _dimension_rows(page)] == [HEADERS["id"]] + _expected("id")
        assert page.get_attribute("#dl-docx", "href").endswith("lang=id")
        assert "lang=id" in page.url and page.evaluate("document.documentElement.lang") == "id"
        _shoot(page.locator("#step-results"), shots / "app_results_id.png", 1500)
        page.click("nav.lang button[data-lang=en]")
        page.wait_for_function("() => document.querySelector('#results figure[data-key=dimensions] th')?.innerText === 'Dimension'")
        assert page.inner_text("#check-result .ok") == "The data are ready: 100 respondents used, 0 left out."

        assert seen["errors"] == []
        assert [u for u in seen["requests"] if not (u.startswith(server) or u.startswith("data:"))] == []
    finally:
        page.close()


def test_damaged_file_shows_row_and_column_and_rows_can_be_left_out(browser, server, shots, tmp_path):
    frame = pd.read_csv(sm.example_path(), dtype=str)
    frame.loc[9, "E3"] = "9"    # row 10
    frame.loc[19, "P7"] = "0"   # row 20
    path = tmp_path / "survei_desa.csv"
    frame.to_csv(path, index=False)
    page, seen = _open(browser, server + "?lang=en")
    try:
        page.set_input_files("#file", str(path))
        page.wait_for_selector("#mapping-area:not([hidden])")
        page.click("#check")
        page.wait_for_selector("#problems-box:not([hidden])")
        message = page.inner_text("#problems-message")
        assert message.startswith("invalid survey data in survei_desa.csv (2 problems)")
        assert "column 'E3': values outside the scale 1-4 (9) at row 10" in message
        rows = page.evaluate("() => [...document.querySelectorAll('#problems tr')].map(tr => [...tr.cells].map(c => c.innerText))")
        assert rows == [["Column", "Rows (in your file)", "Problem"], ["E3", "10", "values outside the scale 1-4 (9)"],
                        ["P7", "20", "values outside the scale 1-4 (0)"]]
        assert page.is_disabled("#run") and page.is_hidden("#step-analyses")
        assert page.inner_text("#drop-rows") == "Leave out rows 10, 20 and check again"
        _shoot(page.locator("#step-columns"), shots / "app_problems.png")
        page.click("nav.lang button[data-lang=id]")
        assert page.inner_text("#problems th:nth-child(2)") == "Baris (dalam berkas Anda)"
        assert page.inner_text("#drop-rows") == "Keluarkan baris 10, 20 lalu periksa lagi"
        page.click("#drop-rows")
        page.wait_for_selector("#check-result .ok")
        assert page.inner_text("#check-result .ok") == "Data siap: 98 responden dianalisis, 0 dikeluarkan."
        assert page.inner_text("#left-out-text") == "Baris yang Anda keluarkan: 10, 20"
        assert page.is_enabled("#run")
        assert seen["errors"] == [] or all("422" in e for e in seen["errors"])  # the check's answer, shown on the page
    finally:
        page.close()
