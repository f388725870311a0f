"""The web app's own cost (issue 19): what ``servmodels app`` adds to the work of the command line.

A real server (``python -m servmodels app --port 0 --no-browser``, uvicorn, in another process) is
measured over HTTP against its peer, the command line doing the same work in one process, on the same
file in the same run; best of ``repeat``.

* ``upload``: ``POST /api/upload`` of a CSV of ``n_upload`` simulated respondents (the body streamed to
  the private folder, read with ``read_table``, first rows and layout guessed) against
  ``shutil.copyfile`` + ``servmodels.read_table`` of the same file (copy and parse, the least any
  reading of an uploaded file costs).
* ``report``: ``POST /api/report`` with ``format=html`` (upload, the whole analysis, the English HTML report)
  on ``n_report`` respondents against ``servmodels.cli.main(["report", FILE, "--format", "html", ...])``
  in this process (reading, the same analysis, the same HTML report, and also ``analysis.json`` and the
  figures as files).

Usage: ``python benchmarks/bench_app.py [--n-upload 200000] [--n-report 20000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import servmodels as sm
from servmodels.cli import main as cli


def _server() -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.Popen([sys.executable, "-m", "servmodels.cli", "app", "--port", "0", "--no-browser",
                             "--max-upload-mb", "2000"], stdout=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    return proc, re.search(r"serving on (http://\S+/)", line)[1]


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run(n_upload: int = 200_000, n_report: int = 20_000, repeat: int = 3) -> dict:
    import httpx2 as httpx

    folder = Path(tempfile.mkdtemp(prefix="bench-app-"))
    proc, url = _server()
    try:
        up = folder / "upload.csv"
        sm.simulate_servqual(n_upload, rng=1).to_csv(up, index=False)
        rep = folder / "report.csv"
        sm.simulate_servqual(n_report, rng=2).to_csv(rep, index=False)
        client = httpx.Client(base_url=url, timeout=600)
        client.get("/")  # warm

        def upload() -> None:
            with open(up, "rb") as fh:
                r = client.post("/api/upload", files={"file": ("upload.csv", fh, "text/csv")})
            assert r.status_code == 200, r.text

        def copy_and_read() -> None:
            target = folder / "copy.csv"
            shutil.copyfile(up, target)
            sm.read_table(target)

        fields = {"scale_min": "1", "scale_max": "4", "format": "html", "lang": "en", "outcome": "satisfaction",
                  "group": "village", "seed": "0"}

        def report_http() -> None:
            with open(rep, "rb") as fh:
                r = client.post("/api/report", files={"file": ("report.csv", fh, "text/csv")}, data=fields)
            assert r.status_code == 200, r.text[:300]

        def report_cli() -> None:
            out = folder / "cli-report"
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                status = cli(["report", str(rep), "--scale", "1", "4", "--outcome", "satisfaction", "--group", "village",
                              "--seed", "0", "--format", "html", "--lang", "en", "--out", str(out), "--quiet"])
            assert status == 0

        result = {
            "n_upload": n_upload, "upload_mb": up.stat().st_size / 1e6, "n_report": n_report,
            "upload_s": _best(upload, repeat), "copy_read_s": _best(copy_and_read, repeat),
            "report_http_s": _best(report_http, repeat), "report_cli_s": _best(report_cli, repeat),
        }
        client.close()
        return result
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def markdown(r: dict) -> str:
    return "\n".join([
        "## The web app (`benchmarks/bench_app.py`)",
        "",
        "A running `servmodels app` (uvicorn, another process) over HTTP against the command line doing the same",
        "work in one process, same file, same run; best of 3.",
        "",
        "| work | app over HTTP (s) | peer (s) | ratio |",
        "|---|---:|---:|---:|",
        f"| upload {r['n_upload']:,} rows ({r['upload_mb']:.0f} MB CSV): stream, read, guess the layout vs "
        f"`copyfile` + `read_table` | {r['upload_s']:.2f} | {r['copy_read_s']:.2f} | {r['upload_s'] / r['copy_read_s']:.2f}x |",
        f"| report of {r['n_report']:,} rows: `POST /api/report` (html) vs `servmodels report --format html` in-process "
        f"| {r['report_http_s']:.2f} | {r['report_cli_s']:.2f} | {r['report_http_s'] / r['report_cli_s']:.2f}x |",
        "",
    ])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-upload", type=int, default=200_000)
    parser.add_argument("--n-report", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    a = parser.parse_args()
    print(markdown(run(a.n_upload, a.n_report, a.repeat)))
