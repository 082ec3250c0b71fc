"""Fault routes for loopback test/demo servers (``http.server`` handlers).

Why: the HTTP client's limits (timeouts, size caps, redirect budget, conditional
GET) are only trustworthy if exercised against a real socket that misbehaves.
Any ``BaseHTTPRequestHandler`` can mount these by calling :func:`handle_fault`
first in ``do_GET``. Only ever bind such servers to 127.0.0.1.

Routes (all under ``/fault/``):
  404, 500                 plain error statuses
  slow?seconds=N           headers at once, body after N s (default 5) - read timeouts
  huge?mb=N[&length=0]     N MiB (default 20) of Arabic filler HTML, streamed;
                           length=0 omits Content-Length (chunked / close-delimited)
  gzip-bomb?mb=N           tiny gzip body that inflates to N MiB (default 50)
  redirect-loop            a -> b -> a
  redirect-chain?n=N       N hops (default 3), then 200 "ok"
  redirect-to?url=URL      302 to URL
  etag                     fixed body with ETag/Last-Modified; 304 on a match
  no-length                body without Content-Length (chunked on HTTP/1.1, else close)
"""

from __future__ import annotations

import select
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, quote, urlsplit

__all__ = ["FAULT_PREFIX", "handle_fault", "ETAG", "LAST_MODIFIED", "ETAG_BODY", "gzip_bomb_bytes"]

FAULT_PREFIX = "/fault/"
MIB = 1024 * 1024
_CHUNK = 64 * 1024
_MAX_MB = 1024  # keep a typo from asking a demo server for terabytes
_MAX_SLEEP = 120.0

ETAG = '"akhbar-fault-etag-v1"'
LAST_MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT"
ETAG_BODY = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<rss version="2.0"><channel><title>أخبار ثابتة</title>'
    "<item><title>خبر لا يتغير</title><link>http://127.0.0.1/static</link></item>"
    "</channel></rss>\n"
).encode()

_FILLER = (
    "<p>أعلنت الحكومة اليوم عن خطة جديدة لدعم التعليم والصحة في المناطق الريفية، "
    "وقال المتحدث الرسمي إن المشروع سيبدأ مطلع العام المقبل.</p>\n"
).encode()
_HUGE_HEAD = (
    '<!doctype html>\n<html lang="ar" dir="rtl"><head><meta charset="utf-8">'
    "<title>صفحة ضخمة</title></head><body>\n"
).encode()
_HUGE_TAIL = b"</body></html>\n"

_bomb_cache: dict[int, bytes] = {}
_bomb_lock = threading.Lock()

_DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


# ------------------------------------------------------------------------ helpers


def _num(query: dict[str, list[str]], name: str, default: float, cap: float) -> float:
    """Query parameter as a non-negative number, clamped; bad values fall back."""
    try:
        value = float(query.get(name, [default])[0])
    except ValueError:
        return default
    if value != value or value < 0:  # NaN or negative
        return default
    return min(value, cap)


def _send_simple(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    content_type: str = "text/plain; charset=utf-8",
    extra: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for name, value in (extra or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if body and handler.command != "HEAD":
        handler.wfile.write(body)


def _redirect(handler: BaseHTTPRequestHandler, location: str, status: int = 302) -> None:
    _send_simple(handler, status, b"redirecting\n", extra={"Location": location})


def _chunked_ok(handler: BaseHTTPRequestHandler) -> bool:
    """Chunked framing needs HTTP/1.1 on both ends; otherwise close-delimit."""
    return handler.protocol_version >= "HTTP/1.1" and handler.request_version >= "HTTP/1.1"


def _stream(
    handler: BaseHTTPRequestHandler,
    status: int,
    headers: dict[str, str],
    chunks: Iterable[bytes],
    length: int | None,
) -> None:
    """Send headers then chunks; without a length use chunked or close-delimited framing."""
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    chunked = False
    if length is not None:
        handler.send_header("Content-Length", str(length))
    elif _chunked_ok(handler):
        chunked = True
        handler.send_header("Transfer-Encoding", "chunked")
    else:
        handler.send_header("Connection", "close")
        handler.close_connection = True
    handler.end_headers()
    if handler.command == "HEAD":
        return
    out = handler.wfile
    for chunk in chunks:
        if not chunk:
            continue
        if chunked:
            out.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        else:
            out.write(chunk)
    if chunked:
        out.write(b"0\r\n\r\n")
    out.flush()


def _client_gone(handler: BaseHTTPRequestHandler, wait: float) -> bool:
    """Wait up to `wait` s; True as soon as the peer has closed its end."""
    sock = handler.connection
    try:
        readable, _, _ = select.select([sock], [], [], wait)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _huge_chunks(total: int) -> Iterable[bytes]:
    """Exactly `total` bytes of valid UTF-8 HTML (padding with ASCII spaces at the end)."""
    fill = total - len(_HUGE_HEAD) - len(_HUGE_TAIL)
    if fill < 0:
        yield (_HUGE_HEAD + _HUGE_TAIL)[:total]
        return
    yield _HUGE_HEAD
    block = _FILLER * max(1, _CHUNK // len(_FILLER))
    n_blocks, rest = divmod(fill, len(block))
    for _ in range(n_blocks):
        yield block
    n_units, pad = divmod(rest, len(_FILLER))
    yield _FILLER * n_units + b" " * pad
    yield _HUGE_TAIL


def gzip_bomb_bytes(mb: int) -> bytes:
    """Gzip stream inflating to `mb` MiB of zeros; compressed once per size, then cached."""
    with _bomb_lock:
        cached = _bomb_cache.get(mb)
        if cached is None:
            comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31 = gzip container
            zeros = bytes(MIB)
            parts = [comp.compress(zeros) for _ in range(mb)]
            parts.append(comp.flush())
            cached = _bomb_cache[mb] = b"".join(parts)
        return cached


# ------------------------------------------------------------------------- routes


def _r404(handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
    _send_simple(handler, 404, b"not found (fault)\n")


def _r500(handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
    _send_simple(handler, 500, b"internal error (fault)\n")


def _slow(handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
    seconds = _num(query, "seconds", 5.0, _MAX_SLEEP)
    body = "<p>وصل أخيرا</p>\n".encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.flush()
    deadline = time.monotonic() + seconds
    # Small steps so the handler thread ends soon after the client gives up.
    while (left := deadline - time.monotonic()) > 0:
        if _client_gone(handler, min(0.05, left)):
            handler.close_connection = True
            return
    handler.wfile.write(body)


def _huge(handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
    total = int(_num(query, "mb", 20, _MAX_MB) * MIB)
    with_length = query.get("length", ["1"])[0] not in ("0", "no", "false")
    _stream(
        handler,
        200,
        {"Content-Type": "text/html; charset=utf-8"},
        _huge_chunks(total),
        total if with_length else None,
    )


def _gzip_bomb(handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
    mb = int(_num(query, "mb", 50, _MAX_MB))
    _send_simple(
        handler,
        200,
        gzip_bomb_bytes(mb),
        content_type="text/html; charset=utf-8",
        extra={"Content-Encoding": "gzip"},
    )


def _redirect_loop(handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
    # a -> b -> a: catches clients that only detect a URL redirecting to itself.
    if query.get("hop", [""])[0] == "b":
        _redirect(handler, FAULT_PREFIX + "redirect-loop")
    else:
        _redirect(handler, FAULT_PREFIX + "redirect-loop?hop=b")


def _redirect_chain(handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
    n = int(_num(query, "n", 3, 1000))
    if n > 0:
        _redirect(handler, f"{FAULT_PREFIX}redirect-chain?n={n - 1}")
    else:
        _send_simple(handler, 200, b"ok")


def _redirect_to(handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
    url = query.get("url", [""])[0]
    if not url or any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        _send_simple(handler, 400, b"redirect-to needs a url= without control characters\n")
        return
    # Keep the Location header ASCII; non-ASCII is percent-encoded, URL syntax kept.
    _redirect(handler, quote(url, safe=":/?#[]@!$&'()*+,;=%~"))


def _etag_matches(header: str) -> bool:
    """RFC 9110 weak comparison against our one ETag; '*' matches."""
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == ETAG:
            return True
    return False


def _not_modified_since(header: str) -> bool:
    try:
        return parsedate_to_datetime(header) >= parsedate_to_datetime(LAST_MODIFIED)
    except (TypeError, ValueError, IndexError):
        return False


def _etag(handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
    validators = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED, "Cache-Control": "max-age=0"}
    inm = handler.headers.get("If-None-Match")
    ims = handler.headers.get("If-Modified-Since")
    # If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 13.2.2).
    fresh = _etag_matches(inm) if inm is not None else (ims is not None and _not_modified_since(ims))
    if fresh:
        handler.send_response(304)
        for name, value in validators.items():
            handler.send_header(name, value)
        handler.end_headers()
        return
    _send_simple(handler, 200, ETAG_BODY, content_type="application/rss+xml; charset=utf-8", extra=validators)


def _no_length(handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
    body = "<p>جسم بلا طول معلن</p>\n".encode()
    _stream(handler, 200, {"Content-Type": "text/html; charset=utf-8"}, [body] * 4, None)


_ROUTES: dict[str, Callable[[BaseHTTPRequestHandler, dict[str, list[str]]], None]] = {
    "404": _r404,
    "500": _r500,
    "slow": _slow,
    "huge": _huge,
    "gzip-bomb": _gzip_bomb,
    "redirect-loop": _redirect_loop,
    "redirect-chain": _redirect_chain,
    "redirect-to": _redirect_to,
    "etag": _etag,
    "no-length": _no_length,
}


def handle_fault(handler: BaseHTTPRequestHandler, path: str) -> bool:
    """Serve a fault route if path starts with /fault/; return True when handled."""
    parts = urlsplit(path)
    if not parts.path.startswith(FAULT_PREFIX):
        return False
    route = _ROUTES.get(parts.path[len(FAULT_PREFIX):])
    try:
        if route is None:
            _send_simple(handler, 404, f"unknown fault route {parts.path!r}\n".encode())
        else:
            route(handler, parse_qs(parts.query))
        handler.wfile.flush()
    except _DISCONNECTS:
        # The client gave up (that is often the point of the fault); don't crash the server.
        handler.close_connection = True
    return True
