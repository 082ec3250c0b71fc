"""Peak memory of `akhbar run` (default models) on one feed item with a huge title, next to a normal one.

One hostile item must not take a worker's memory: text fields are capped before
the models see them (``akhbar.lib.articles.FIELD_LIMITS``, docs/security.md).
Each case serves a one-item feed on 127.0.0.1 and runs ``akhbar run`` in a
child process; the child's peak resident memory is reported.

    .venv/bin/python -m bench.field_caps
"""
from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SUMMARY = "أعلنت الوزارة اليوم عن خطة جديدة لدعم المدارس في المناطق الريفية، وقال المتحدث إن العمل يبدأ قريبا."
TITLES = {"normal": "عنوان خبر عادي", "huge": "عنوان خبر طويل جدا " * 300_000}  # ~5.4 M characters


def feed(title: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>جريدة</title>'
            f"<item><title>{title}</title><link>http://127.0.0.1:1/x</link><guid>g1</guid>"
            f"<description>{SUMMARY}</description></item></channel></rss>").encode()


def peak_rss_of_run(body: bytes) -> tuple[float, int]:
    """(peak MiB, exit code) of one `akhbar run` child process over a feed serving ``body``."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            feeds = Path(tmp) / "feeds.txt"
            feeds.write_text(f"http://127.0.0.1:{server.server_address[1]}/feed.xml\n")
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            proc = subprocess.run([sys.executable, "-m", "akhbar", "run", "--feeds", str(feeds), "--output",
                                   f"{tmp}/out", "--allow_loopback"], capture_output=True, text=True)
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    finally:
        server.shutdown()
        server.server_close()
    # ru_maxrss of children is the largest child so far: run the small case first.
    return max(peak, before) / 1024, proc.returncode


def main() -> int:
    results = {}
    for name, title in TITLES.items():  # normal first: see peak_rss_of_run
        body = feed(title)
        peak, code = peak_rss_of_run(body)
        results[name] = {"feed_mb": round(len(body) / 1e6, 1), "peak_rss_mib": round(peak), "exit_code": code}
    print(json.dumps({"machine": platform.platform(), "python": platform.python_version(), "results": results},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
