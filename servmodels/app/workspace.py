"""Where uploads and results live: one private temporary folder, deleted at shutdown.

The browser never names a file on the server.  An upload is written under a random
token into the private folder (``mkdtemp``: readable by this user only), and later
requests name it by that token, which is looked up in a table; the name the browser
sent is kept only for display and as the file name in the commands the app shows
(path separators and control characters removed).
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..io import SUPPORTED_FORMATS

__all__ = ["Workspace", "Upload", "AppError", "safe_filename", "read_multipart"]

#: uploads kept at a time; older ones are deleted (a session rarely needs more than a few)
MAX_UPLOADS = 16
#: multipart form limits besides the body limit: fields, and bytes of one text field
MAX_FIELDS = 64
MAX_FIELD_BYTES = 1 << 20


class AppError(Exception):
    """An error answered as ``{"error": message}`` with an HTTP status (422 by default)."""

    def __init__(self, message: str, status: int = 422, **extra: Any):
        super().__init__(message)
        self.status = status
        self.extra = extra


def safe_filename(name: str) -> str:
    """The last component of a browser's file name, without control characters or leading dots.

    Examples
    --------
    >>> safe_filename("C:\\\\Users\\\\ana\\\\survei desa.xlsx"), safe_filename("../../etc/passwd"), safe_filename("..")
    ('survei desa.xlsx', 'passwd', 'upload')
    """
    base = re.split(r"[\\/]", str(name))[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".").strip()
    if len(base) > 120:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 120 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else base[:120]
    return base or "upload"


@dataclass
class Upload:
    """One uploaded (or bundled example) survey file."""

    token: str
    folder: Path
    path: Path
    name: str
    size: int
    sheets: list[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class Workspace:
    """The private folder and the table of uploads and jobs in it."""

    def __init__(self, parent: str | Path | None = None):
        self.root = Path(tempfile.mkdtemp(prefix="servmodels-app-", dir=parent))
        self._uploads: dict[str, Upload] = {}
        self._lock = threading.Lock()

    def folder(self, kind: str) -> tuple[str, Path]:
        """A new private sub-folder ``{kind}-{token}`` and its token."""
        token = secrets.token_urlsafe(12)
        path = self.root / f"{kind}-{token}"
        path.mkdir(mode=0o700)
        return token, path

    def add(self, upload: Upload) -> Upload:
        with self._lock:
            self._uploads[upload.token] = upload
            while len(self._uploads) > MAX_UPLOADS:
                old = self._uploads.pop(next(iter(self._uploads)))
                shutil.rmtree(old.folder, ignore_errors=True)
        return upload

    def upload(self, token: Any) -> Upload:
        """The upload of a token; 404 for anything else (a path is never looked up)."""
        with self._lock:
            found = self._uploads.get(token) if isinstance(token, str) else None
        if found is None:
            raise AppError("no such upload (it may have been replaced by newer ones): upload the file again", 404)
        return found

    def close(self) -> None:
        """Delete the private folder and everything in it."""
        with self._lock:
            self._uploads.clear()
        shutil.rmtree(self.root, ignore_errors=True)


def check_suffix(name: str) -> str:
    ext = Path(name).suffix.lower()
    if ext not in SUPPORTED_FORMATS:
        raise AppError(f"cannot read {name!r}: unsupported file type {ext or '(none)'}; "
                       f"use one of {', '.join(sorted(SUPPORTED_FORMATS))}")
    return ext


async def read_multipart(request: Any, folder: Path) -> tuple[dict[str, str], dict[str, Upload]]:
    """Parse a ``multipart/form-data`` body as it streams: text fields, and files written into ``folder``.

    Each file part goes straight to ``folder/<safe name>`` (never to a shared
    temporary folder).  Returns the text fields and, per file field, an :class:`Upload`
    without token.  Malformed bodies raise :class:`AppError` (422); the body limit is
    enforced by the :class:`~servmodels.app.guard.Guard` around the app.
    """
    from python_multipart.multipart import MultipartParser, parse_options_header

    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise AppError("send the survey as multipart/form-data (a form with a file field)", 415)
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    part: dict[str, Any] = {}
    header = {"name": b"", "value": b""}

    def on_part_begin() -> None:
        part.clear()
        part.update(headers={}, data=bytearray(), handle=None)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header["name"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header["value"] += data[start:end]

    def on_header_end() -> None:
        part["headers"][header["name"].lower()] = header["value"]
        header["name"] = header["value"] = b""

    def on_headers_finished() -> None:
        _, opts = parse_options_header(part["headers"].get(b"content-disposition", b""))
        if b"name" not in opts:
            raise AppError("a form part has no name")
        part["name"] = opts[b"name"].decode("utf-8", "replace")
        if len(fields) + len(files) >= MAX_FIELDS:
            raise AppError(f"too many form fields (more than {MAX_FIELDS})")
        if b"filename" in opts:
            if files:
                raise AppError("send one file per request")
            name = safe_filename(opts[b"filename"].decode("utf-8", "replace"))
            check_suffix(name)  # before a byte is written
            part["file"] = name
            part["path"] = folder / name
            part["handle"] = open(part["path"], "wb")  # noqa: SIM115 - closed at the part's end or on error
            part["size"] = 0

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if part.get("handle") is not None:
            part["handle"].write(chunk)
            part["size"] += len(chunk)
        else:
            if len(part["data"]) + len(chunk) > MAX_FIELD_BYTES:
                raise AppError(f"form field {part.get('name')!r} is too long")
            part["data"].extend(chunk)

    def on_part_end() -> None:
        if part.get("handle") is not None:
            part["handle"].close()
            part["handle"] = None
            files[part["name"]] = Upload("", folder, part["path"], part["file"], part["size"])
        else:
            try:
                fields[part["name"]] = bytes(part["data"]).decode("utf-8")
            except UnicodeDecodeError:
                raise AppError(f"form field {part['name']!r} is not UTF-8 text") from None

    parser = MultipartParser(params[b"boundary"], {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    })
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except AppError:
        raise
    except Exception as exc:
        from python_multipart.exceptions import FormParserError

        if isinstance(exc, FormParserError):
            raise AppError(f"the form data are malformed: {exc}") from None
        raise
    finally:
        if part.get("handle") is not None:
            part["handle"].close()
    return fields, files
