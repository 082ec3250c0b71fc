"""A loopback HTTP server whose paths the test sets: feeds and pages written to break identity.

Each path serves fixed bytes with a Content-Type of the test's choice (or none
at all), can be changed while a job runs, and every request is logged, so a
test can tell which pages a run fetched. It only ever binds 127.0.0.1.
"""
from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOST = "127.0.0.1"


class RouteServer:
    def __init__(self) -> None:
        self._routes: dict[str, tuple[bytes, str | None]] = {}
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self._httpd = ThreadingHTTPServer((HOST, 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._httpd.server_address[1]}"

    def set(self, path: str, body: bytes, content_type: str | None = "text/html; charset=utf-8") -> str:
        """Serve ``body`` at ``path`` (with this Content-Type, or none); return the full URL."""
        with self._lock:
            self._routes[path] = (body, content_type)
        return self.url + path

    def start(self) -> RouteServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="route-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> RouteServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                return

            def do_GET(self):
                path = urlsplit(self.path).path
                with server._lock:
                    server.requests[path] += 1
                    route = server._routes.get(path)
                body, content_type = route if route else (b"not found", "text/plain; charset=utf-8")
                self.send_response(200 if route else 404)
                if content_type:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
