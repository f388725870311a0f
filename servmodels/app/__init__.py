"""``servmodels app``: the whole workflow in a web browser, on this computer only.

A small Starlette application served by uvicorn on 127.0.0.1: upload a survey file,
match its columns to an instrument, see every validation problem with its row and
column, choose the analyses, watch them run, read the tables and figures, and
download the report (HTML, Word, Markdown, LaTeX), ``analysis.json`` and the exact
``servmodels report`` command and Python code that give the same numbers.

Nothing is computed here: the app builds the arguments of ``servmodels report``
and runs the command's own reading and analysis (:func:`servmodels.cli.report_analysis`),
then the renderers of :mod:`servmodels.render`.  Uploaded files live in a private
temporary folder that is deleted when the server stops.

The web stack is the optional extra ``servmodels[app]`` (starlette, uvicorn,
python-multipart); :func:`require_extra` says what is missing in one line.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

from .._exceptions import ParameterError

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["create_app", "serve", "require_extra", "DEFAULT_MAX_UPLOAD_MB"]

#: largest upload by default (``--max-upload-mb``), in megabytes of 10**6 bytes
DEFAULT_MAX_UPLOAD_MB = 200.0

#: import name -> distribution name of the ``app`` extra
_EXTRA = {"starlette": "starlette", "uvicorn": "uvicorn", "python_multipart": "python-multipart"}


def require_extra() -> None:
    """Raise :class:`~servmodels.ParameterError` naming the missing packages of the ``app`` extra.

    Examples
    --------
    >>> require_extra()  # the test environment has the extra
    """
    missing = [dist for mod, dist in _EXTRA.items() if importlib.util.find_spec(mod) is None]
    if missing:
        raise ParameterError(f"servmodels app needs the optional web packages ({', '.join(missing)} missing): "
                             "pip install 'servmodels[app]'")


def create_app(*, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, allowed_hosts: Any = None,
               workdir: Any = None) -> Starlette:
    """The web application (an ASGI app), for uvicorn or Starlette's ``TestClient``.

    Parameters
    ----------
    max_upload_mb : float
        Largest request body in megabytes (10**6 bytes); a larger ``Content-Length`` is
        refused with status 413 before the body is read, and a body that grows past it
        while streaming is cut off with 413.
    allowed_hosts : sequence of str, optional
        Host names the server answers to (default: ``127.0.0.1``, ``localhost``, ``::1``);
        requests for any other ``Host`` are refused, which defeats DNS-rebinding pages.
    workdir : path, optional
        Parent of the private temporary folder (default: the system's temporary folder).

    Returns
    -------
    starlette.applications.Starlette
        ``app.state.workspace.root`` is the private folder, deleted at shutdown.

    Examples
    --------
    >>> from starlette.testclient import TestClient
    >>> with TestClient(create_app(), base_url="http://127.0.0.1") as client:
    ...     page = client.get("/")
    >>> page.status_code, 'type="file"' in page.text
    (200, True)
    """
    require_extra()
    from .server import build_app

    return build_app(max_upload_mb=max_upload_mb, allowed_hosts=allowed_hosts, workdir=workdir)


def serve(host: str = "127.0.0.1", port: int = 0, *, open_browser: bool = True,
          max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB) -> int:
    """Run the app until Ctrl+C (``servmodels app``); returns the exit status.

    ``port=0`` takes a free port.  A ``host`` other than the loopback addresses is
    served with a warning on stderr: anyone who can reach it can upload files.
    """
    require_extra()
    from .server import run

    return run(host=host, port=port, open_browser=open_browser, max_upload_mb=max_upload_mb)
