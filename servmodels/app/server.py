"""The Starlette application and the uvicorn server of ``servmodels app``.

Routes (every error is JSON ``{"error": "..."}``, never a traceback):

=========================================  ====================================================
``GET /``                                  the page (``?lang=id`` for Bahasa Indonesia)
``GET /static/app.js``, ``/static/app.css`` its script and style sheet (no CDN: works offline)
``POST /api/upload``                       multipart ``file`` (and ``sheet``): read it, guess the layout
``POST /api/example``                      the bundled synthetic example, as an upload
``POST /api/inspect``                      ``{upload, sheet}``: another sheet of a workbook
``POST /api/instrument``                   ``{upload, settings}``: the instrument matched to the columns
``POST /api/validate``                     ``{upload, settings}``: every problem, or the data are ready
``POST /api/run``                          ``{upload, settings}``: start the analysis -> ``{job}``
``GET /api/jobs/{job}``                    its progress; when done, the command and Python code
``GET /api/jobs/{job}/document?lang=``     the report's tables, figures and sentences for the page
``GET /api/jobs/{job}/download/{what}``    ``html``, ``docx``, ``md``, ``tex`` (``?lang=``), ``json``,
                                           ``zip``, ``sh``, ``py``, ``yaml``
``POST /api/report``                       one call: multipart ``file``, ``scale_min``, ``scale_max``,
                                           ``lang``, ``format`` (html, docx, json), ``outcome``,
                                           ``seed``, ... -> the report
=========================================  ====================================================
"""

from __future__ import annotations

import atexit
import contextlib
import json
import shutil
import socket
import sys
import threading
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .. import __version__
from ..analysis import ANALYSES, OPTIONAL_ANALYSES
from ..instrument import get_instrument, list_instruments
from . import DEFAULT_MAX_UPLOAD_MB
from .guard import Guard
from .i18n import strings
from .runner import Jobs, check, inspect, instrument_view, prepare, run_analysis
from .settings import ESTIMATORS, REPORT_LANGS, Settings
from .workspace import AppError, Upload, Workspace, check_suffix, read_multipart

__all__ = ["build_app", "run", "LOOPBACK"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")

_MEDIA = {"html": "text/html; charset=utf-8",
          "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "json": "application/json", "zip": "application/zip", "sh": "text/x-shellscript; charset=utf-8",
          "py": "text/x-python; charset=utf-8", "yaml": "application/yaml; charset=utf-8"}


def _static(name: str) -> bytes:
    return resources.files("servmodels.app").joinpath("static", name).read_bytes()


def _lang(value: Any) -> str:
    return value if value in REPORT_LANGS else "en"


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise AppError("the request is not valid JSON") from None
    if not isinstance(body, dict):
        raise AppError("the request must be a JSON object")
    return body


def _attachment(data: bytes, filename: str, kind: str) -> Response:
    # the name is ours (report.docx, ...), never the browser's
    return Response(data, media_type=_MEDIA[kind], headers={"content-disposition": f'attachment; filename="{filename}"'})


def build_app(*, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, allowed_hosts: Any = None,
              workdir: Any = None) -> Starlette:
    """See :func:`servmodels.app.create_app`."""
    import jinja2

    if not max_upload_mb > 0:
        from .._exceptions import ParameterError

        raise ParameterError(f"--max-upload-mb must be above 0; got {max_upload_mb}")
    workspace = Workspace(workdir)
    atexit.register(workspace.close)  # also when the server is stopped without a clean shutdown
    jobs = Jobs(workspace)
    env = jinja2.Environment(loader=jinja2.PackageLoader("servmodels.app", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    page = env.get_template("index.html")
    words = strings()
    max_bytes = int(max_upload_mb * 1e6)
    config = {
        "max_upload_mb": f"{max_upload_mb:g}", "version": __version__,
        "presets": [{"name": n, "description": get_instrument(n).description} for n in list_instruments()],
        "analyses": list(ANALYSES), "optional": list(OPTIONAL_ANALYSES), "estimators": list(ESTIMATORS),
    }
    static = {"app.js": (_static("app.js"), "text/javascript; charset=utf-8"),
              "app.css": (_static("app.css"), "text/css; charset=utf-8")}

    async def index(request: Request) -> Response:
        lang = _lang(request.query_params.get("lang"))
        html = page.render(lang=lang, t=words[lang], strings=words, config=config)
        return HTMLResponse(html)

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)

    async def static_file(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in static:
            raise AppError("not found", 404)
        data, media = static[name]
        return Response(data, media_type=media)

    def _inspect(upload: Upload, sheet: str | None) -> dict[str, Any]:
        return inspect(upload, sheet)

    async def upload_file(request: Request) -> Response:
        token, folder = workspace.folder("upload")
        try:
            fields, files = await read_multipart(request, folder)
            if "file" not in files:
                raise AppError("send the survey in a form field named 'file'")
            f = files["file"]
            upload = workspace.add(Upload(token, folder, f.path, f.name, f.size))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return JSONResponse(await run_in_threadpool(_inspect, upload, fields.get("sheet") or None))

    async def example(request: Request) -> Response:
        from ..datasets import example_path

        token, folder = workspace.folder("upload")
        src = example_path()
        path = folder / src.name
        shutil.copyfile(src, path)
        upload = workspace.add(Upload(token, folder, path, src.name, path.stat().st_size))
        return JSONResponse(await run_in_threadpool(_inspect, upload, None))

    async def inspect_sheet(request: Request) -> Response:
        body = await _json_body(request)
        upload = workspace.upload(body.get("upload"))
        sheet = body.get("sheet")
        if sheet is not None and not isinstance(sheet, str):
            raise AppError("sheet: expected a sheet name")
        return JSONResponse(await run_in_threadpool(_inspect, upload, sheet))

    async def instrument(request: Request) -> Response:
        body = await _json_body(request)
        upload = workspace.upload(body.get("upload"))
        settings = Settings.from_json(body.get("settings"))
        return JSONResponse(await run_in_threadpool(instrument_view, upload, settings))

    async def validate(request: Request) -> Response:
        body = await _json_body(request)
        upload = workspace.upload(body.get("upload"))
        settings = Settings.from_json(body.get("settings"))
        return JSONResponse(await run_in_threadpool(lambda: check(prepare(upload, settings))))

    async def run_job(request: Request) -> Response:
        body = await _json_body(request)
        upload = workspace.upload(body.get("upload"))
        settings = Settings.from_json(body.get("settings"))
        job = await run_in_threadpool(jobs.submit, upload, settings)
        return JSONResponse({"job": job.id, "command": job.prep.command}, status_code=202)

    async def job_status(request: Request) -> Response:
        return JSONResponse(jobs.get(request.path_params["job"]).status())

    def _done(request: Request) -> Any:
        job = jobs.get(request.path_params["job"])
        if job.state != "done":
            raise AppError(f"the analysis is {job.state}: {job.error or 'not finished yet'}", 409)
        return job

    async def job_document(request: Request) -> Response:
        job = _done(request)
        return JSONResponse(job.documents[_lang(request.query_params.get("lang"))])

    async def download(request: Request) -> Response:
        job = _done(request)
        what = request.path_params["what"]
        lang = _lang(request.query_params.get("lang"))
        suffix = "" if lang == REPORT_LANGS[0] else f"_{lang}"
        if what in ("html", "docx"):
            name = f"report{suffix}.{what}"
            return _attachment((job.out / name).read_bytes(), name, what)
        if what in ("md", "tex", "zip"):
            data, name = await run_in_threadpool(job.archive, "all" if what == "zip" else what, lang)
            return _attachment(data, name, "zip")
        if what == "json":
            return _attachment((job.out / "analysis.json").read_bytes(), "analysis.json", "json")
        if what in ("sh", "py"):
            name = f"reproduce.{what}"
            return _attachment((job.folder / name).read_bytes(), name, what)
        if what == "yaml" and job.prep.instrument_file is not None:
            return _attachment(job.prep.instrument_file.read_bytes(), "instrument.yaml", "yaml")
        raise AppError(f"nothing to download as {what[:20]!r}", 404)

    async def report(request: Request) -> Response:
        """The interface in one call: the survey in, the report out (as ``servmodels report``)."""
        token, folder = workspace.folder("upload")
        try:
            fields, files = await read_multipart(request, folder)
            if "file" not in files:
                raise AppError("send the survey in a form field named 'file'")
            f = files["file"]
            check_suffix(f.name)
            upload = Upload(token, folder, f.path, f.name, f.size)
            fmt = fields.get("format", "html")
            if fmt not in ("html", "docx", "json"):
                raise AppError(f"format: html, docx or json; got {fmt[:20]!r}")
            lang = fields.get("lang", "en")
            if lang not in REPORT_LANGS:
                raise AppError(f"lang: {' or '.join(REPORT_LANGS)}; got {lang[:20]!r}")
            settings = Settings.from_json(_form_settings(fields))
            prep = await run_in_threadpool(prepare, upload, settings)
            analysis = await run_in_threadpool(run_analysis, prep)
            if fmt == "json":
                from ..render import write_analysis_json

                path = folder / "analysis.json"
                await run_in_threadpool(write_analysis_json, analysis, path)
                return Response(path.read_bytes(), media_type=_MEDIA["json"])
            from ..render import build_document, render

            doc = await run_in_threadpool(build_document, analysis, lang)
            body = await run_in_threadpool(render, doc, fmt)
            name = f"report{'' if lang == 'en' else '_' + lang}.{fmt}"
            data = body.encode("utf-8") if isinstance(body, str) else body
            return _attachment(data, name, fmt)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            workspace.close()

    async def app_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        return JSONResponse({"error": str(exc), **exc.extra}, status_code=exc.status)

    async def http_error(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": getattr(exc, "detail", "error")}, status_code=getattr(exc, "status_code", 500))

    async def internal_error(request: Request, exc: Exception) -> Response:
        text = " ".join(f"{type(exc).__name__}: {exc}".split())[:400]
        return JSONResponse({"error": f"internal error {text} (please report it)"}, status_code=500)

    from starlette.exceptions import HTTPException

    app = Starlette(
        routes=[
            Route("/", index), Route("/static/{name}", static_file), Route("/favicon.ico", no_icon),
            Route("/api/upload", upload_file, methods=["POST"]), Route("/api/example", example, methods=["POST"]),
            Route("/api/inspect", inspect_sheet, methods=["POST"]),
            Route("/api/instrument", instrument, methods=["POST"]),
            Route("/api/validate", validate, methods=["POST"]), Route("/api/run", run_job, methods=["POST"]),
            Route("/api/jobs/{job}", job_status), Route("/api/jobs/{job}/document", job_document),
            Route("/api/jobs/{job}/download/{what}", download),
            Route("/api/report", report, methods=["POST"]),
        ],
        middleware=[Middleware(Guard, max_bytes=max_bytes,  # type: ignore[arg-type]
                               allowed_hosts=list(allowed_hosts) if allowed_hosts is not None else list(LOOPBACK))],
        exception_handlers={AppError: app_error, HTTPException: http_error, Exception: internal_error},
        lifespan=lifespan,
    )
    app.state.workspace = workspace
    app.state.jobs = jobs
    app.state.max_bytes = max_bytes
    return app


def _form_settings(fields: dict[str, str]) -> dict[str, Any]:
    """``POST /api/report``'s form fields as settings (lists comma-separated)."""
    known = {"scale_min", "scale_max", "lang", "format", "instrument", "outcome", "seed", "sheet", "id", "group",
             "nan_policy", "reverse", "analyses", "estimator", "n_resamples", "title", "columns", "map"}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise AppError(f"unknown form field(s) {', '.join(unknown)}; fields are file, {', '.join(sorted(known))}")
    out: dict[str, Any] = {}
    if fields.get("scale_min") or fields.get("scale_max"):
        if not (fields.get("scale_min") and fields.get("scale_max")):
            raise AppError("scale_min and scale_max: give both")
        out["scale"] = [fields["scale_min"], fields["scale_max"]]
    for field, key in (("instrument", "instrument"), ("outcome", "outcome"), ("seed", "seed"), ("sheet", "sheet"),
                       ("id", "respondent_id"), ("group", "groups"), ("nan_policy", "nan_policy"),
                       ("reverse", "reverse"), ("analyses", "analyses"), ("estimator", "estimator"),
                       ("n_resamples", "n_resamples"), ("title", "title"), ("columns", "column_template")):
        if fields.get(field):
            out[key] = fields[field]
    if fields.get("map"):
        pairs = [p.split("=", 1) for p in fields["map"].split(",") if p.strip()]
        if any(len(p) != 2 for p in pairs):
            raise AppError("map: expected ITEM_COLUMN=FILE_COLUMN,...")
        out["column_map"] = {k.strip(): v.strip() for k, v in pairs}
    return out


# ----------------------------------------------------------------------------- the server
def host_warning(host: str) -> str | None:
    """The warning printed when the app listens beyond this computer (None on a loopback address)."""
    if host in LOOPBACK or host.startswith("127."):
        return None
    return (f"servmodels: warning: listening on {host}: anyone who can reach this computer can upload files to the "
            "app and download its reports; use the default --host 127.0.0.1 unless that is what you want")


def _socket(host: str, port: int) -> socket.socket:
    from .._exceptions import ParameterError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ParameterError(f"--host {host} --port {port}: cannot listen there: {exc.strerror or exc}") from None
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def run(host: str = "127.0.0.1", port: int = 0, *, open_browser: bool = True,
        max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB) -> int:
    """Serve until interrupted; the private folder is deleted on the way out."""
    import uvicorn

    sock = _socket(host, port)
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    hosts = list(LOOPBACK) if host in LOOPBACK or host.startswith("127.") else ["*"]
    app = build_app(max_upload_mb=max_upload_mb, allowed_hosts=hosts if "*" in hosts else [*hosts, host])
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/"
    warning = host_warning(host)
    if warning:
        sys.stderr.write(warning + "\n")
    sys.stdout.write(f"servmodels app {__version__}: serving on {url} (press Ctrl+C to stop)\n"
                     f"uploads are kept in {app.state.workspace.root} and deleted when the app stops; "
                     f"largest upload {max_upload_mb:g} MB\n")
    sys.stdout.flush()
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    if open_browser:
        def _open() -> None:
            import time
            import webbrowser

            while not server.started and not server.should_exit:
                time.sleep(0.05)
            if server.started:
                webbrowser.open(url)

        threading.Thread(target=_open, daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        app.state.workspace.close()
        sock.close()
    sys.stdout.write("servmodels app: stopped; uploads deleted\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
