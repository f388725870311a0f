"""The app's outer safety layer, as plain ASGI middleware.

* **Upload limit.**  A request that announces a ``Content-Length`` above the limit is
  answered 413 at once: its body is never read.  A body without a length (chunked) or
  with a false one is counted while it streams, and the request is cut off with 413
  as soon as it passes the limit.
* **Local pages only.**  Requests for a ``Host`` other than the ones served are refused
  (a page on another site cannot reach the app through DNS rebinding), and a request
  that changes something (POST) must come from the app's own page: a cross-site
  ``Origin`` or ``Sec-Fetch-Site`` is refused, so another site cannot post files to it.
* **Headers.**  Every response forbids framing, outside scripts, styles and
  connections (Content-Security-Policy), MIME sniffing and referrers; API answers are
  not cached.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["Guard", "BodyTooLarge", "too_large_message", "SECURITY_HEADERS"]

#: the page loads only its own script, style sheet and data: images (the figures)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                 b"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyTooLarge(Exception):
    """The request body passed the upload limit while it was being read."""


def too_large_message(max_bytes: int) -> str:
    """The 413 message: the limit and how to raise it.

    Examples
    --------
    >>> too_large_message(200_000_000)
    'the upload is larger than the limit of 200 MB; start the app with --max-upload-mb N to accept larger files'
    """
    return (f"the upload is larger than the limit of {max_bytes / 1e6:g} MB; "
            "start the app with --max-upload-mb N to accept larger files")


def _host_name(host: str) -> str:
    """``Host`` header without the port, IPv6 brackets removed, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """ASGI middleware: upload limit, host and origin checks, security headers.

    Parameters
    ----------
    app : ASGI application
    max_bytes : int
        Largest request body.
    allowed_hosts : sequence of str
        Host names (without port) the app answers to; ``"*"`` answers to any.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, allowed_hosts: Sequence[str]):
        self.app = app
        self.max_bytes = int(max_bytes)
        self.allowed_hosts = frozenset(h.lower().strip("[]") for h in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if "*" not in self.allowed_hosts and _host_name(host) not in self.allowed_hosts:
            await _error(send, 400, f"this server answers to {', '.join(sorted(self.allowed_hosts))}, not to {host!r}")
            return
        method = scope.get("method", "GET")
        if method not in _SAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
                await _error(send, 403, f"requests from {origin!r} are refused: use the app's own page")
                return
            if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
                await _error(send, 403, "cross-site requests are refused: use the app's own page")
                return
            length = headers.get("content-length")
            if length is not None:
                try:
                    announced = int(length)
                except ValueError:
                    await _error(send, 400, f"bad Content-Length {length!r}")
                    return
                if announced > self.max_bytes:
                    # answered before a byte of the body is read
                    await _error(send, 413, too_large_message(self.max_bytes), close=True)
                    return
        received = 0
        started = False
        api = scope.get("path", "").startswith("/api/")

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                extra = list(SECURITY_HEADERS)
                if api:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, counted, secured)
        except BodyTooLarge:
            if started:
                raise
            await _error(send, 413, too_large_message(self.max_bytes), close=True)


async def _error(send: Send, status: int, message: str, *, close: bool = False) -> None:
    body = json.dumps({"error": message}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               *SECURITY_HEADERS, (b"cache-control", b"no-store")]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
