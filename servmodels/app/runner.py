"""Reading, checking and analysing an upload exactly as ``servmodels report`` does.

For each request the page's :class:`~servmodels.app.settings.Settings` become the
argument list of ``servmodels report`` (with the private copy of the file), which the
CLI's own parser turns into its arguments; then the CLI's own functions read the file
(:func:`servmodels.cli._read`) and run the analysis
(:func:`servmodels.cli.report_analysis`).  Errors are the CLI's one-line messages
(:func:`servmodels.cli._cli_message`), with the private paths replaced by the names
the user knows.  One analysis runs at a time (the machine's cores are better used by
one analysis than shared by two), in a worker thread, reporting its progress.
"""

from __future__ import annotations

import argparse
import io
import json
import queue
import threading
import time
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import ServmodelsError, ValidationError
from .settings import (
    OUT_FOLDER,
    REPORT_FORMATS,
    REPORT_LANGS,
    Settings,
    command_args,
    command_line,
    display_names,
    instrument_yaml,
    python_code,
)
from .workspace import AppError, Upload, Workspace

__all__ = ["Prepared", "prepare", "inspect", "check", "run_analysis", "Jobs", "Job", "ANALYSIS_LOCK"]

#: one reading or analysis at a time: ``warnings.catch_warnings`` is process-wide, and two
#: analyses would only share the cores
ANALYSIS_LOCK = threading.Lock()
#: rows of the file shown on the page
PREVIEW_ROWS = 5
#: jobs remembered (with their result folders)
MAX_JOBS = 16


@dataclass
class Prepared:
    """The command for one upload and settings: as run on the server and as shown to the user."""

    upload: Upload
    settings: Settings
    args: argparse.Namespace
    argv: list[str]
    shown_argv: list[str]
    file: Path
    shown_file: str
    instrument_file: Path | None
    kept_rows: list[int] | None  # rows of the user's file kept, when some were left out

    @property
    def command(self) -> str:
        return command_line(self.shown_argv)

    def python(self) -> str:
        shown_file, shown_inst = display_names(self.upload.name, self.settings)
        return python_code(self._arg_settings(), shown_file, shown_inst)

    def _arg_settings(self) -> Settings:
        from dataclasses import replace

        return replace(self.settings, sheet=None) if self.settings.drop_rows else self.settings

    def message(self, exc: BaseException) -> str:
        """The CLI's one-line message of an error, naming the user's files instead of the private copies."""
        from ..cli import _cli_message

        text = _cli_message(exc, self.args) if isinstance(exc, ServmodelsError) else str(exc)
        return self.unprivate(text)

    def unprivate(self, text: str) -> str:
        text = text.replace(str(self.file), self.shown_file)
        if self.instrument_file is not None:
            text = text.replace(str(self.instrument_file), "instrument.yaml")
        return text.replace(str(self.upload.folder) + "/", "").replace(str(self.upload.folder), "")


def _parse(argv: list[str]) -> argparse.Namespace:
    from ..cli import build_parser

    try:
        return build_parser().parse_args(argv)
    except SystemExit:  # the settings are checked before; this is a bug, not a user error
        raise AppError(f"internal error: the command {command_line(argv)!r} is not valid (please report it)",
                       500) from None


def prepare(upload: Upload, settings: Settings, out: Path | None = None) -> Prepared:
    """Write what the command needs beside the upload (the instrument's YAML, the data without
    the rows left out) and parse the command with the CLI's parser."""
    gen = upload.folder / "app"
    gen.mkdir(exist_ok=True)
    shown_file, shown_inst = display_names(upload.name, settings)
    file = upload.path
    kept: list[int] | None = None
    if settings.drop_rows:
        from ..io import read_table

        frame, _ = read_table(upload.path, sheet=settings.sheet)
        beyond = [r for r in settings.drop_rows if r > len(frame)]
        if beyond:
            raise AppError(f"drop_rows: the file has {len(frame)} rows; no row {beyond[0]}")
        keep = [r for r in range(1, len(frame) + 1) if r not in set(settings.drop_rows)]
        file = gen / shown_file
        frame.iloc[[r - 1 for r in keep]].to_csv(file, index=False)
        kept = keep
    inst_file = None
    if settings.needs_instrument_file():
        inst_file = gen / "instrument.yaml"
        inst_file.write_text(instrument_yaml(settings.base_instrument()), encoding="utf-8")
    from dataclasses import replace

    arg_settings = replace(settings, sheet=None) if settings.drop_rows else settings
    argv = command_args(arg_settings, str(file), None if inst_file is None else str(inst_file),
                        out=str(out) if out is not None else OUT_FOLDER)
    shown = command_args(arg_settings, shown_file, shown_inst)
    return Prepared(upload, settings, _parse(argv), argv, shown, file, shown_file, inst_file, kept)


# ----------------------------------------------------------------------------- inspecting an upload
def inspect(upload: Upload, sheet: str | None = None) -> dict[str, Any]:
    """Read the file as it is (``read_table``): its columns, first rows, sheets, reading notes and
    the guesses of instrument and column roles."""
    from ..cli import _reading_flags
    from ..io import read_table
    from .detect import detect

    # no lock: reading a table raises no servmodels warning, so a new upload need not wait for a running analysis
    try:
        frame, meta = read_table(upload.path, sheet=sheet)
    except ServmodelsError as exc:
        text = _reading_flags(" ".join(str(exc).split())).replace(str(upload.path), upload.name)
        raise AppError(text) from None
    import pandas as pd

    # the whole-number answers of each numeric column: the hint beside the scale (text columns are not items)
    seen: dict[str, list[int]] = {}
    for c in frame.columns:
        col = frame[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            values = col.dropna()
            values = values[(values % 1) == 0]
            if not values.empty:
                seen[str(c)] = [int(values.min()), int(values.max())]
    upload.sheets = meta.get("sheets")
    upload.meta = {"columns": [str(c) for c in frame.columns], "seen": seen, "n_rows": len(frame),
                   "sheet": meta.get("sheet")}
    head = frame.head(PREVIEW_ROWS).astype(object).where(frame.head(PREVIEW_ROWS).notna(), "")
    return {
        "upload": upload.token, "name": upload.name, "size": upload.size, "format": meta.get("format"),
        "sheets": meta.get("sheets"), "sheet": meta.get("sheet"), "columns": upload.meta["columns"],
        "n_rows": len(frame), "preview": [[str(v) for v in row] for row in head.itertuples(index=False, name=None)],
        "notes": [_reading_flags(n) for n in meta.get("notes", ())],
        "detected": detect(frame),
    }


def instrument_view(upload: Upload, settings: Settings) -> dict[str, Any]:
    """The instrument of the settings, matched to the upload's columns, for the mapping table."""
    from .detect import match_columns

    try:
        inst = settings.base_instrument()
    except ServmodelsError as exc:
        raise AppError(str(exc)) from None
    columns = upload.meta.get("columns")
    if columns is None:
        raise AppError("read the file first")
    # the page's own choices (template, map) are not re-guessed: match against the instrument as it is
    m = match_columns(columns, inst)
    seen = [upload.meta["seen"][r["column"]] for s in m["sets"].values() for r in s["items"]
            if r["column"] in upload.meta["seen"]]
    return {
        "name": inst.name, "description": inst.description, "scale": list(inst.scale),
        "score_sets": list(inst.score_sets), "set_names": {s: inst.set_name(s) for s in inst.score_sets},
        "dimensions": {d: list(v) for d, v in inst.dimensions.items()},
        "labels": {lang: {d: inst.label(d, lang) for d in inst.dimensions} for lang in REPORT_LANGS},
        "reverse": list(inst.reverse), "match": m,
        "seen": [min(s[0] for s in seen), max(s[1] for s in seen)] if seen else None,
    }


# ----------------------------------------------------------------------------- checking the data
def _problem_rows(rows: tuple[int, ...], kept: list[int] | None) -> list[int]:
    return [kept[r - 1] if kept is not None and 0 < r <= len(kept) else r for r in rows]


def check(prep: Prepared) -> dict[str, Any]:
    """Read and validate the data as the command would (nothing is analysed).

    Returns the respondents used and dropped, warnings and reading notes; a
    :class:`ValidationError` becomes a 422 :class:`AppError` with the CLI's message and
    every problem (rows counted in the user's own file).
    """
    from ..cli import _cli_spelling, _read, _reading_flags

    try:
        with ANALYSIS_LOCK, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = _read(prep.args, None)
    except ValidationError as exc:
        problems = [{"kind": p.kind, "column": p.column, "rows": _problem_rows(p.rows, prep.kept_rows),
                     "n_rows": p.n_rows, "detail": _cli_spelling(p.detail),
                     "message": prep.unprivate(_cli_spelling(p.message()))} for p in exc.problems]
        # rows can be left out only when every problem is in rows and all of them are listed
        droppable = bool(problems) and all(p["n_rows"] and len(p["rows"]) == p["n_rows"] for p in problems)
        raise AppError(prep.message(exc), problems=problems, droppable=droppable) from None
    except ServmodelsError as exc:
        raise AppError(prep.message(exc)) from None
    found = [str(w.message) for w in caught]
    return {
        "ok": True, "n_respondents": data.n_respondents, "n_dropped": data.n_dropped,
        "dropped_rows": _problem_rows(tuple(data.dropped_rows), prep.kept_rows),
        "left_out": list(prep.settings.drop_rows),
        "warnings": [prep.unprivate(_cli_spelling(w)) for w in dict.fromkeys([*data.warnings, *found])],
        "notes": [prep.unprivate(_reading_flags(n)) for n in data.metadata.get("notes", ())],
        "score_sets": list(data.score_sets), "groups": [str(g) for g in data.groups.columns],
        "command": prep.command,
    }


def run_analysis(prep: Prepared, on_progress: Callable[[str, int, int], None] | None = None) -> Any:
    """``servmodels report``'s analysis of the prepared command; errors as the CLI's messages."""
    from ..cli import report_analysis

    try:
        with ANALYSIS_LOCK, warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            return report_analysis(prep.args, on_progress=on_progress)
    except ServmodelsError as exc:
        problems = None
        if isinstance(exc, ValidationError):
            problems = [{"kind": p.kind, "column": p.column, "rows": _problem_rows(p.rows, prep.kept_rows),
                         "n_rows": p.n_rows, "message": prep.unprivate(p.message())} for p in exc.problems]
        raise AppError(prep.message(exc), **({"problems": problems} if problems else {})) from None


# ----------------------------------------------------------------------------- jobs
def document_json(doc: Any) -> dict[str, Any]:
    """A report :class:`~servmodels.render.Document` as JSON for the page: the same cells as every format."""
    import base64

    number = 0
    sections = []
    for s in doc.sections:
        tables = []
        for t in s.tables:
            number += 1
            tables.append({"key": t.key, "number": number, "title": t.title, "headers": list(t.headers),
                           "rows": [list(r) for r in t.rows], "align": list(t.align), "note": t.note})
        sections.append({"key": s.key, "title": s.title, "tables": tables, "paragraphs": list(s.paragraphs),
                         "warnings": list(s.warnings)})
    return {
        "lang": doc.lang, "title": doc.title, "subtitle": doc.subtitle,
        "provenance": [list(p) for p in doc.provenance], "sections": sections,
        "figures": [{"name": f.name, "caption": f.caption, "src": "data:image/png;base64," + base64.b64encode(f.png).decode()}
                    for f in doc.figures.values()],
        "sentences": list(doc.sentences), "skipped": [list(x) for x in doc.skipped],
    }


@dataclass
class Job:
    """One analysis run by the worker thread; the page polls its state."""

    id: str
    folder: Path
    prep: Prepared
    state: str = "queued"  # queued, running, done, error
    phase: str = "queued"
    done: int = 0
    total: int = 1
    error: str | None = None
    problems: list[dict[str, Any]] | None = None
    started: float = field(default_factory=time.perf_counter)
    seconds: float | None = None
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def out(self) -> Path:
        return self.folder / OUT_FOLDER

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"job": self.id, "state": self.state, "phase": self.phase, "done": self.done,
                               "total": self.total}
        if self.state == "error":
            out["error"] = self.error
            if self.problems:
                out["problems"] = self.problems
        if self.state == "done":
            out.update(seconds=round(self.seconds or 0.0, 1), summary=self.summary, command=self.prep.command,
                       python=self.prep.python(), shown_file=self.prep.shown_file, out=OUT_FOLDER,
                       instrument_file=self.prep.instrument_file is not None)
        return out

    def run(self) -> None:
        """Read, analyse, render every format in both languages, write the reproduction files."""
        from ..render import build_document, write_report

        self.state, self.phase, self.started = "running", "reading", time.perf_counter()

        def progress(name: str, done: int, total: int) -> None:
            self.phase, self.done, self.total = name or "rendering", done, total + 1

        try:
            analysis = run_analysis(self.prep, progress)
            self.phase = "rendering"
            docs = {lang: build_document(analysis, lang) for lang in REPORT_LANGS}
            write_report(analysis, self.out, REPORT_FORMATS, REPORT_LANGS, documents=docs)
            self.documents = {lang: document_json(d) for lang, d in docs.items()}
            self._write_reproduction()
            self.summary = {"n_respondents": analysis.n_respondents, "n_dropped": analysis.n_dropped,
                            "skipped": analysis.skipped, "failed": analysis.failed,
                            "seed": analysis.provenance["seed"]}
            self.done = self.total
            self.state = "done"
        except AppError as exc:
            self.error, self.problems, self.state = str(exc), exc.extra.get("problems"), "error"
        except Exception as exc:  # noqa: BLE001 - shown as one line on the page, never a traceback
            self.error = f"internal error {type(exc).__name__}: {' '.join(str(exc).split())[:400]} (please report it)"
            self.state = "error"
        finally:
            self.seconds = time.perf_counter() - self.started

    def _write_reproduction(self) -> None:
        p = self.prep
        (self.folder / "reproduce.sh").write_text(
            "#!/bin/sh\n# servmodels report, as run by servmodels app; run it in the folder that holds "
            f"{p.shown_file}\n{p.command}\n", encoding="utf-8")
        (self.folder / "reproduce.py").write_text(
            "# servmodels report, as run by servmodels app; run it in the folder that holds "
            f"{p.shown_file}\n{p.python()}", encoding="utf-8")

    def archive(self, what: str, lang: str = "en") -> tuple[bytes, str]:
        """A zip of the Markdown or LaTeX report with its figures (``md``, ``tex``), or of everything (``all``)."""
        buf = io.BytesIO()
        suffix = "" if lang == REPORT_LANGS[0] else f"_{lang}"
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            if what in ("md", "tex"):
                z.write(self.out / f"report{suffix}.{what}", f"report{suffix}.{what}")
                for png in sorted((self.out / "figures").glob(f"*{suffix}.png")):
                    if suffix or not any(png.stem.endswith(f"_{x}") for x in REPORT_LANGS[1:]):
                        z.write(png, f"figures/{png.name}")
                name = f"report{suffix}-{what}.zip"
            else:
                for f in sorted(self.out.rglob("*")):
                    if f.is_file():
                        z.write(f, f"{OUT_FOLDER}/{f.relative_to(self.out).as_posix()}")
                for extra in ("reproduce.sh", "reproduce.py"):
                    z.write(self.folder / extra, extra)
                if self.prep.instrument_file is not None:
                    z.write(self.prep.instrument_file, "instrument.yaml")
                if self.prep.kept_rows is not None:
                    z.write(self.prep.file, self.prep.shown_file)
                name = "servmodels-report.zip"
        return buf.getvalue(), name


class Jobs:
    """The job table and one daemon worker thread (a stopped server does not wait for it)."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self._jobs: dict[str, Job] = {}
        self._queue: queue.Queue[Job] = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="servmodels-app-worker", daemon=True)
        self._thread.start()

    def submit(self, upload: Upload, settings: Settings) -> Job:
        token, folder = self.workspace.folder("job")
        prep = prepare(upload, settings, out=folder / OUT_FOLDER)
        job = Job(token, folder, prep)
        with self._lock:
            self._jobs[token] = job
            while len(self._jobs) > MAX_JOBS:
                old = self._jobs.pop(next(iter(self._jobs)))
                if old.state in ("done", "error"):
                    import shutil

                    shutil.rmtree(old.folder, ignore_errors=True)
        self._queue.put(job)
        return job

    def get(self, token: Any) -> Job:
        with self._lock:
            job = self._jobs.get(token) if isinstance(token, str) else None
        if job is None:
            raise AppError("no such analysis (the app keeps the last 16): run it again", 404)
        return job

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            job.run()


def analysis_json_bytes(job: Job) -> bytes:
    return (job.out / "analysis.json").read_bytes()


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False).encode()
