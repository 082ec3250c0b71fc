"""``akhbar serve-sample``: serve the bundled sample news on 127.0.0.1 until Ctrl-C."""
from __future__ import annotations

import argparse
import threading

from akhbar.sample.server import SampleNewsServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the akhbar sample news on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--faults", action="store_true", help="Also serve the bad feeds and pages.")
    args = parser.parse_args(argv)
    server = SampleNewsServer(port=args.port, faults=args.faults).start()
    print(f"serving {len(server.articles)} articles on {server.url} ; feed list at {server.url}/feeds.txt")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
    return 0
