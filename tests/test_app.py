"""The web app's HTTP layer (``servmodels app``), through Starlette's TestClient and a real server.

The interface checked: ``GET /`` serves a page with a file input; ``POST /api/report`` returns the
report, whose JSON gives the dimension gaps of ``servmodels score FILE --scale ... --json`` and the
seed asked for; a damaged file is a 422 with the CLI's one-line message naming row and column; a
body over the upload limit is a 413, and so is an announced ``Content-Length`` over it, before a
byte of the body is read.  The workflow endpoints (upload, layout detection, validation, jobs,
downloads) are checked against the CLI: the command the app shows, run by the CLI, and the Python
code it shows, run as written, give the same numbers as the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import servmodels as sm
from servmodels.cli import main

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from servmodels.app import create_app  # noqa: E402
from servmodels.app.server import host_warning  # noqa: E402

BASE = "http://127.0.0.1"
SCALE = {"scale_min": "1", "scale_max": "4"}
#: a fast analysis for the workflow checks (every number is still the command's)
FAST = {"seed": 3, "n_resamples": 40, "analyses": ["scores", "bootstrap", "items"]}


@pytest.fixture(scope="module")
def app():
    return create_app(max_upload_mb=2)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, base_url=BASE) as c:
        yield c


@pytest.fixture(scope="module")
def example_bytes() -> bytes:
    return sm.example_path().read_bytes()


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def _damaged(example_bytes: bytes, cells: dict[tuple[int, str], str]) -> bytes:
    """The example with some cells replaced (row counted from 1 at the first respondent)."""
    frame = pd.read_csv(io.BytesIO(example_bytes), dtype=str)
    for (row, col), value in cells.items():
        frame.loc[row - 1, col] = value
    return frame.to_csv(index=False).encode()


def _wait(client, job: str, timeout: float = 120) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status = client.get(f"/api/jobs/{job}").json()
        if status["state"] in ("done", "error"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job} did not finish in {timeout} s: {status}")


# ----------------------------------------------------------------------------- the page
def test_page_has_a_file_input_and_loads_nothing_from_outside(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert re.search(r'<input type="file" id="file" name="file"', page.text)
    # no CDN: every script, style sheet and image is the app's own
    refs = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert refs and all(r.startswith("/static/") for r in refs), refs
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    for name, kind in (("app.js", "javascript"), ("app.css", "css")):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
    assert client.get("/static/..%2F__init__.py").status_code == 404
    assert client.get("/static/index.html").status_code == 404


def test_page_languages_and_escaping(client):
    en, ind = client.get("/").text, client.get("/?lang=id").text
    assert '<html lang="en">' in en and "Check the data" in en
    assert '<html lang="id">' in ind and "Periksa data" in ind and "Berkas survei" in ind
    # both languages are in the page (switching keeps what was chosen); the JSON is escaped for HTML
    words = json.loads(re.search(r'<script id="strings" type="application/json">(.*?)</script>', en, re.S)[1])
    assert words["id"]["an_reliability"] == "reliabilitas dan validitas" and words["en"]["check"] == "Check the data"
    evil = client.get("/", params={"lang": '"><script>alert(1)</script>'}).text
    assert "<script>alert" not in evil and '<html lang="en">' in evil


# ----------------------------------------------------------------------------- POST /api/report
def test_report_json_gives_the_gaps_of_score_cli_and_the_seed(client, tmp_path, example_bytes):
    path = tmp_path / "survey.csv"
    path.write_bytes(example_bytes)
    r = client.post("/api/report", files={"file": ("survey.csv", example_bytes, "text/csv")},
                    data={**SCALE, "lang": "en", "format": "json", "outcome": "satisfaction", "seed": "11",
                          "analyses": "scores,bootstrap", "n_resamples": "50"})
    assert r.status_code == 200, r.text
    doc = r.json()
    status, out, _ = _cli(["score", str(path), "--scale", "1", "4", "--json"])
    assert status == 0
    expected = json.loads(out)["dimensions"]
    # the same scores object serialised the same way: equal to the last digit
    assert {d: v["gap"] for d, v in doc["dimensions"].items()} == {d: v["gap"] for d, v in expected.items()}
    assert doc["dimensions"] == expected
    assert doc["provenance"]["seed"] == 11
    assert doc["provenance"]["input_sha256"] == hashlib.sha256(example_bytes).hexdigest()
    assert doc["provenance"]["input_file"] == "survey.csv"
    assert doc["provenance"]["n_resamples"] == {"bootstrap": 50}


def test_report_html_and_docx(client, example_bytes):
    from docx import Document

    common = {"files": {"file": ("survey.csv", example_bytes, "text/csv")}}
    fields = {**SCALE, "analyses": "scores", "seed": "2"}
    r = client.post("/api/report", **common, data={**fields, "format": "html", "lang": "id"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<html lang="id">' in r.text and "Kesenjangan" in r.text and "bukti fisik" in r.text
    r = client.post("/api/report", **common, data={**fields, "format": "docx", "lang": "en"})
    assert r.status_code == 200 and 'filename="report.docx"' in r.headers["content-disposition"]
    word = Document(io.BytesIO(r.content))
    cells = [[c.text for c in row.cells] for t in word.tables for row in t.rows]
    assert ["Dimension", "Expectation", "Perception", "Gap"] in cells


def test_report_bad_fields_are_422(client, example_bytes):
    file = {"file": ("survey.csv", example_bytes, "text/csv")}
    for data, text in (({"format": "pdf"}, "format"), ({"lang": "fr"}, "lang"), ({"scale_min": "1"}, "scale"),
                       ({"seed": "-1"}, "seed"), ({"analyses": "magic"}, "analyses"), ({"colour": "red"}, "colour")):
        r = client.post("/api/report", files=file, data=data)
        assert r.status_code == 422 and text in r.json()["error"], (data, r.text)
    r = client.post("/api/report", files={"file": ("survey.pdf", b"%PDF", "application/pdf")})
    assert r.status_code == 422 and "unsupported file type .pdf" in r.json()["error"]
    r = client.post("/api/report", content=b"{}", headers={"content-type": "application/json"})
    assert r.status_code == 415


def test_damaged_file_is_422_with_the_cli_message(client, tmp_path, example_bytes):
    bad = _damaged(example_bytes, {(10, "E3"): "9"})
    path = tmp_path / "survey.csv"
    path.write_bytes(bad)
    r = client.post("/api/report", files={"file": ("survey.csv", bad, "text/csv")},
                    data={**SCALE, "format": "json", "lang": "en"})
    assert r.status_code == 422
    body = r.json()
    assert "row 10" in body["error"] and "'E3'" in body["error"] and "Traceback" not in r.text
    status, _, err = _cli(["report", str(path), "--scale", "1", "4", "--out", str(tmp_path / "out")])
    assert status == 2
    assert body["error"] == err.strip().removeprefix("servmodels: error: ").replace(str(path), "survey.csv")
    assert body["problems"] == [{"kind": "out_of_range", "column": "E3", "rows": [10], "n_rows": 1,
                                 "message": "column 'E3': values outside the scale 1-4 (9) at row 10"}]


# ----------------------------------------------------------------------------- upload limit and origin
def test_body_over_the_limit_is_413(client, app):
    limit = app.state.max_bytes
    big = b"1," * (limit // 2 + 10)
    r = client.post("/api/report", files={"file": ("survey.csv", big, "text/csv")})
    assert r.status_code == 413 and "--max-upload-mb" in r.json()["error"]

    def chunks():  # no Content-Length: counted while it streams
        for _ in range(limit // 50_000 + 5):
            yield b"x" * 50_000

    r = client.post("/api/upload", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413
    # nothing of the refused uploads is left behind
    assert not any(p.is_file() for p in app.state.workspace.root.rglob("*") if "upload-" in str(p) and p.stat().st_size > limit / 2)


def test_announced_content_length_is_refused_before_the_body_is_read(app):
    read: list[dict] = []
    sent: list[dict] = []

    async def receive() -> dict:
        read.append({})
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    headers = [(b"host", b"127.0.0.1"), (b"content-length", str(10**12).encode()),
               (b"content-type", b"multipart/form-data; boundary=x")]
    scope = {"type": "http", "method": "POST", "path": "/api/report", "raw_path": b"/api/report", "headers": headers,
             "query_string": b"", "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 1234), "root_path": "", "asgi": {"version": "3.0"}}
    asyncio.run(app(scope, receive, send))
    assert read == []  # not one receive() call
    assert sent[0]["status"] == 413
    assert b"1e+06 MB" not in sent[1]["body"] and b"limit of 2 MB" in sent[1]["body"]


def test_other_sites_and_hosts_are_refused(client, example_bytes):
    file = {"file": ("survey.csv", example_bytes, "text/csv")}
    r = client.post("/api/report", files=file, headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    r = client.post("/api/example", headers={"sec-fetch-site": "cross-site"})
    assert r.status_code == 403
    r = client.get("/", headers={"host": "attacker.example:8000"})  # DNS rebinding
    assert r.status_code == 400
    assert client.post("/api/example", headers={"origin": BASE}).status_code == 200


# ----------------------------------------------------------------------------- upload and layout
def test_upload_reads_the_file_and_guesses_the_layout(client, example_bytes):
    frame = pd.read_csv(io.BytesIO(example_bytes))
    renamed = frame.rename(columns={**{f"E{i}": f"harapan_{i}" for i in range(1, 26)},
                                    **{f"P{i}": f"kinerja_{i}" for i in range(1, 26)}, "satisfaction": "kepuasan"})
    r = client.post("/api/upload", files={"file": ("../../etc/survei desa.csv", renamed.to_csv(index=False).encode())})
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["name"] == "survei desa.csv" and info["n_rows"] == 100 and len(info["preview"]) == 5
    assert info["detected"] == {"instrument": "servqual25", "share": 1.0, "outcome": "kepuasan",
                                "respondent_id": "respondent_id", "groups": ["village", "gender"]}
    inst = client.post("/api/instrument", json={"upload": info["upload"], "settings": {"instrument": "servqual25"}}).json()
    m = inst["match"]
    assert m["found"] == m["total"] == 50 and m["present"] == ["E", "P"]
    assert [r["column"] for r in m["sets"]["E"]["items"]][:2] == ["harapan_1", "harapan_2"]
    assert inst["seen"] == [1, 4] and inst["labels"]["id"]["tangibles"] == "bukti fisik"
    # the page sends that mapping back: the data are read with it, and the command says --map
    cmap = {r["key"]: r["column"] for s in m["sets"].values() for r in s["items"]}
    check = client.post("/api/validate", json={"upload": info["upload"], "settings": {
        "instrument": "servqual25", "scale": [1, 4], "column_map": cmap, "outcome": "kepuasan"}})
    assert check.status_code == 200, check.text
    assert check.json()["n_respondents"] == 100
    assert "--map E1=harapan_1" in check.json()["command"] and "'survei desa.csv'" in check.json()["command"]
    # the stored file is inside the private folder whatever name the browser sent
    assert not Path("/etc/survei desa.csv").exists()


def test_template_detection_and_excel_sheets(client, tmp_path, example_bytes):
    frame = pd.read_csv(io.BytesIO(example_bytes))
    renamed = frame.rename(columns={c: f"{c[0]}_{c[1:]}" for c in frame.columns if re.fullmatch(r"[EP]\d+", c)})
    book = tmp_path / "survey.xlsx"
    with pd.ExcelWriter(book) as xl:
        pd.DataFrame({"notes": ["collected 2016"]}).to_excel(xl, sheet_name="about", index=False)
        renamed.to_excel(xl, sheet_name="answers", index=False)
    r = client.post("/api/upload", files={"file": ("survey.xlsx", book.read_bytes())})
    info = r.json()
    assert info["sheets"] == ["about", "answers"] and info["columns"] == ["notes"]
    assert info["detected"]["instrument"] == "custom"
    info = client.post("/api/inspect", json={"upload": info["upload"], "sheet": "answers"}).json()
    assert info["sheet"] == "answers" and info["detected"]["instrument"] == "servqual25"
    settings = {"instrument": "servqual25", "sheet": "answers"}
    m = client.post("/api/instrument", json={"upload": info["upload"], "settings": settings}).json()["match"]
    assert m["column_template"] == "{set}_{item}" and m["found"] == 50
    check = client.post("/api/validate", json={"upload": info["upload"], "settings": {
        **settings, "column_template": m["column_template"], "scale": [1, 4]}}).json()
    assert check["n_respondents"] == 100
    assert "--sheet answers --columns '{set}_{item}'" in check["command"]


def test_validation_problems_rows_dropped_and_missing_answers(client, example_bytes):
    bad = _damaged(example_bytes, {(4, "P2"): "7", (9, "E5"): "x", (20, "P7"): ""})
    info = client.post("/api/upload", files={"file": ("s.csv", bad)}).json()
    settings = {"instrument": "servqual25", "scale": [1, 4]}
    r = client.post("/api/validate", json={"upload": info["upload"], "settings": settings})
    assert r.status_code == 422
    body = r.json()
    assert {(p["column"], tuple(p["rows"])) for p in body["problems"]} == {("P2", (4,)), ("E5", (9,)), ("P7", (20,))}
    assert body["droppable"] is True and body["error"].startswith("invalid survey data in s.csv (3 problems)")
    # missing answers dropped listwise (the CLI's --nan-policy omit), the other rows left out by the user
    r = client.post("/api/validate", json={"upload": info["upload"],
                                           "settings": {**settings, "nan_policy": "omit", "drop_rows": [4, 9]}})
    assert r.status_code == 200, r.text
    ok = r.json()
    assert (ok["n_respondents"], ok["n_dropped"], ok["dropped_rows"], ok["left_out"]) == (97, 1, [20], [4, 9])
    assert shlex.split(ok["command"])[2] == "s_without_dropped_rows.csv" and "--nan-policy omit" in ok["command"]
    # a problem in every row cannot be dropped here
    bad = _damaged(example_bytes, {(k, "P1"): "9" for k in range(1, 11)})
    info = client.post("/api/upload", files={"file": ("t.csv", bad)}).json()
    body = client.post("/api/validate", json={"upload": info["upload"], "settings": settings}).json()
    assert body["droppable"] is False and body["problems"][0]["n_rows"] == 10


def test_custom_instrument_and_bad_settings(client, tmp_path, example_bytes):
    info = client.post("/api/upload", files={"file": ("s.csv", example_bytes)}).json()
    custom = {"instrument": "custom", "custom": "speed: P1 P2 P3\ncare: P4 P5 P6", "custom_sets": "once",
              "scale": [1, 4]}
    inst = client.post("/api/instrument", json={"upload": info["upload"], "settings": custom}).json()
    assert inst["score_sets"] == ["S"] and inst["match"]["found"] == 6
    ok = client.post("/api/validate", json={"upload": info["upload"], "settings": custom}).json()
    assert ok["n_respondents"] == 100 and "--instrument instrument.yaml" in ok["command"]
    for settings, text in (({"instrument": "nope"}, "instrument"), ({"estimator": "OLS"}, "estimator"),
                           ({"scale": [4, 1]}, "scale"), ({"drop_rows": [0]}, "drop_rows"), ({"x": 1}, "unknown"),
                           ({"analyses": []}, "at least one"),
                           ({"instrument": "custom", "custom": "[1, 2]"}, "custom instrument")):
        r = client.post("/api/validate", json={"upload": info["upload"], "settings": settings})
        assert r.status_code == 422 and text in r.json()["error"], (settings, r.text)


def test_unknown_tokens_and_names_are_404(client):
    assert client.post("/api/validate", json={"upload": "../../etc/passwd", "settings": {}}).status_code == 404
    assert client.get("/api/jobs/nope").status_code == 404
    assert client.get("/api/jobs/nope/download/html").status_code == 404
    assert client.post("/api/validate", content=b"not json").status_code == 422


# ----------------------------------------------------------------------------- a whole run
@pytest.fixture(scope="module")
def job(client, example_bytes):
    info = client.post("/api/upload", files={"file": ("survey.csv", example_bytes)}).json()
    settings = {"instrument": "servqual25", "scale": [1, 4], "outcome": "satisfaction", "groups": ["gender"],
                "respondent_id": "respondent_id", "reverse": ["3"], **FAST}
    started = client.post("/api/run", json={"upload": info["upload"], "settings": settings})
    assert started.status_code == 202
    status = _wait(client, started.json()["job"])
    assert status["state"] == "done", status
    return status


def test_job_progress_results_and_downloads(client, job):
    from docx import Document

    jid = job["job"]
    assert job["done"] == job["total"] == len(FAST["analyses"]) + 1
    assert job["summary"]["skipped"] == {} and job["summary"]["seed"] == 3
    en = client.get(f"/api/jobs/{jid}/document", params={"lang": "en"}).json()
    ind = client.get(f"/api/jobs/{jid}/document", params={"lang": "id"}).json()
    dims_en = next(t for s in en["sections"] for t in s["tables"] if t["key"] == "dimensions")
    dims_id = next(t for s in ind["sections"] for t in s["tables"] if t["key"] == "dimensions")
    assert dims_en["headers"][:4] == ["Dimension", "Expectation", "Perception", "Gap"]
    assert dims_id["headers"][:4] == ["Dimensi", "Harapan", "Kinerja", "Kesenjangan"]
    assert dims_id["rows"][0][0] == "bukti fisik" and "," in dims_id["rows"][0][3]
    assert [f["name"] for f in en["figures"]][:2] == ["gap_dimensions", "gap_items"]
    assert all(f["src"].startswith("data:image/png;base64,") for f in en["figures"])
    word = Document(io.BytesIO(client.get(f"/api/jobs/{jid}/download/docx", params={"lang": "id"}).content))
    assert ["Dimensi", "Harapan", "Kinerja", "Kesenjangan"] in [[c.text for c in r.cells][:4] for t in word.tables
                                                               for r in t.rows]
    html = client.get(f"/api/jobs/{jid}/download/html")
    assert 'filename="report.html"' in html.headers["content-disposition"] and "<html" in html.text
    md = zipfile.ZipFile(io.BytesIO(client.get(f"/api/jobs/{jid}/download/md", params={"lang": "id"}).content))
    assert "report_id.md" in md.namelist() and "figures/gap_dimensions_id.png" in md.namelist()
    assert not any(n.startswith("figures/") and not n.endswith("_id.png") for n in md.namelist())
    tex = zipfile.ZipFile(io.BytesIO(client.get(f"/api/jobs/{jid}/download/tex").content))
    assert "report.tex" in tex.namelist() and "figures/profile.png" in tex.namelist()
    everything = zipfile.ZipFile(io.BytesIO(client.get(f"/api/jobs/{jid}/download/zip").content)).namelist()
    assert {"reproduce.sh", "reproduce.py", "servmodels-report/analysis.json", "servmodels-report/report_id.docx"} <= set(everything)
    assert client.get(f"/api/jobs/{jid}/download/yaml").status_code == 404  # a preset: no instrument file
    assert client.get(f"/api/jobs/{jid}/download/..%2F..%2Fetc").status_code == 404


def _comparable(doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    doc["provenance"].pop("date")
    for a in doc["analyses"].values():
        a.pop("seconds")
    return doc


def _reproduce(job: dict, folder: Path, example_bytes: bytes, *, every_format: bool) -> tuple[dict, dict]:
    """analysis.json of the command and of the Python code the app showed, run in a folder with the file.

    Without ``every_format`` only the Markdown report is written (the numbers do not depend on the
    formats, and writing Word and LaTeX in both languages twice takes seconds)."""
    (folder / "survey.csv").write_bytes(example_bytes)
    argv = shlex.split(job["command"])
    code = job["python"]
    if not every_format:
        k = argv.index("--format")
        argv[k + 1: k + 4] = ["md", "--lang", "en"]
        code = code.replace("formats=['html', 'docx', 'md', 'tex'], langs=['en', 'id']", "formats=['md'], langs=['en']")
        assert "formats=['md']" in code
    assert argv[:3] == ["servmodels", "report", "survey.csv"] and "--reverse" in argv
    status, _, err = _cli(argv[1:])
    assert status == 0, err
    out = folder / "servmodels-report" / "analysis.json"
    cli_json = json.loads(out.read_text())
    out.unlink()
    # item 3 declared reverse-keyed although it is not: the warning the page showed, here as a Python warning
    with contextlib.redirect_stdout(io.StringIO()), pytest.warns(sm.ReverseKeyWarning, match="E3, P3"):
        exec(compile(code, "reproduce.py", "exec"), {})  # the code as shown, in the folder of the file
    return cli_json, json.loads(out.read_text())


def test_the_command_and_the_code_shown_give_the_same_numbers(client, job, tmp_path, monkeypatch, example_bytes):
    app_json = client.get(f"/api/jobs/{job['job']}/download/json").json()
    monkeypatch.chdir(tmp_path)
    cli_json, py_json = _reproduce(job, tmp_path, example_bytes, every_format=False)
    assert _comparable(cli_json) == _comparable(app_json)
    assert _comparable(py_json) == _comparable(app_json)
    assert app_json["provenance"]["reverse_keyed"] == ["3"]


@pytest.mark.slow
def test_the_command_shown_writes_the_same_files(client, job, tmp_path, monkeypatch, example_bytes):
    # the command exactly as shown: the same report files as the app's zip, in every format and language
    monkeypatch.chdir(tmp_path)
    cli_json, py_json = _reproduce(job, tmp_path, example_bytes, every_format=True)
    app_zip = zipfile.ZipFile(io.BytesIO(client.get(f"/api/jobs/{job['job']}/download/zip").content))
    names = {n.removeprefix("servmodels-report/") for n in app_zip.namelist() if n.startswith("servmodels-report/")}
    written = {p.relative_to(tmp_path / "servmodels-report").as_posix() for p in (tmp_path / "servmodels-report").rglob("*")
               if p.is_file()} | {"analysis.json"}
    assert names == written
    assert _comparable(cli_json) == _comparable(json.loads(app_zip.read("servmodels-report/analysis.json")))
    date = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
    app_md = app_zip.read("servmodels-report/report_id.md").decode()
    cli_md = (tmp_path / "servmodels-report" / "report_id.md").read_text(encoding="utf-8")
    assert date.sub("DATE", app_md) == date.sub("DATE", cli_md)


def test_job_errors_are_one_line_and_custom_instrument_is_downloadable(client, example_bytes):
    bad = _damaged(example_bytes, {(3, "P1"): "8"})
    info = client.post("/api/upload", files={"file": ("bad.csv", bad)}).json()
    started = client.post("/api/run", json={"upload": info["upload"], "settings": {"scale": [1, 4], "analyses": ["scores"]}})
    status = _wait(client, started.json()["job"])
    assert status["state"] == "error" and "'P1'" in status["error"] and "row 3" in status["error"]
    assert client.get(f"/api/jobs/{status['job']}/download/html").status_code == 409
    custom = {"instrument": "servqual25", "score_sets": ["P"], "scale": [1, 4], "analyses": ["scores", "ikm"]}
    info = client.post("/api/upload", files={"file": ("good.csv", example_bytes)}).json()
    status = _wait(client, client.post("/api/run", json={"upload": info["upload"], "settings": custom}).json()["job"])
    assert status["state"] == "done", status
    assert "--instrument instrument.yaml" in status["command"] and status["instrument_file"]
    spec = client.get(f"/api/jobs/{status['job']}/download/yaml").text
    assert sm.Instrument.from_dict(__import__("yaml").safe_load(spec)).score_sets == ("P",)


def test_private_folder_is_deleted_at_shutdown(example_bytes):
    app = create_app()
    root = app.state.workspace.root
    with TestClient(app, base_url=BASE) as c:
        assert c.post("/api/upload", files={"file": ("s.csv", example_bytes)}).status_code == 200
        assert any(root.rglob("s.csv")) and oct(root.stat().st_mode & 0o777) == "0o700"
    assert not root.exists()


# ----------------------------------------------------------------------------- the command
def test_app_command_without_the_extra_says_so_in_one_line(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    assert main(["app", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'servmodels[app]'" in err and "uvicorn" in err


def test_host_warning():
    assert host_warning("127.0.0.1") is None and host_warning("localhost") is None and host_warning("::1") is None
    assert "anyone who can reach this computer" in host_warning("0.0.0.0")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_servmodels_app_serves_the_page_within_10_seconds(tmp_path):
    import httpx2 as httpx

    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.Popen([sys.executable, "-m", "servmodels.cli", "app", "--port", str(port), "--no-browser",
                             "--max-upload-mb", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        start = time.monotonic()
        page = None
        while time.monotonic() - start < 10:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert page is not None, "no answer within 10 s"
        assert page.status_code == 200 and 'type="file"' in page.text
        # a request announcing 2 MB gets its 413 although not a byte of the body is sent
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"POST /api/report HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2000000\r\n"
                      b"Content-Type: multipart/form-data; boundary=x\r\n\r\n")
            answer = b""
            while chunk := s.recv(4096):  # the server closes the connection after its answer
                answer += chunk
            answer = answer.decode()
        assert answer.startswith("HTTP/1.1 413") and "--max-upload-mb" in answer
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    folder = re.search(r"uploads are kept in (\S+) and deleted", out)[1]
    assert f"serving on http://127.0.0.1:{port}/" in out and "stopped; uploads deleted" in out
    assert not Path(folder).exists()
    assert "warning" not in err
