"""The ``akhbar`` command line: the only layer that parses argv, prints and exits.

    akhbar run --feeds FILE --output DIR [--once | --streaming] [options] [Beam options]
    akhbar submit --feeds FILE --output DIR --runner RUNNER [options]   (submit and return: launchers)
    akhbar demo [--output DIR] [--streaming --duration S] [options]
    akhbar serve-sample [--port N] [--faults]
    akhbar eval ner|events|dedup|geo [...]
    akhbar extract FILE_OR_URL... [--url URL] [--json]
    akhbar compact DIR [...]
    akhbar report DIR [...]

``akhbar COMMAND --help`` describes each command.
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from akhbar.cli import logs

# Each command lives in its own module, imported only when used (so `akhbar --help` does not load Beam).
COMMANDS = {
    "run": "akhbar.cli.run:run_command",
    "submit": "akhbar.cli.run:submit_command",
    "demo": "akhbar.cli.run:demo_command",
    "eval": "akhbar.cli.evaluate:main",
    "extract": "akhbar.cli.extract:main",
    "serve-sample": "akhbar.cli.serve_sample:main",
    "compact": "akhbar.cli.compact:main",
    "report": "akhbar.cli.report:main",
}


def main(argv: Sequence[str] | None = None) -> int:
    logs.configure()  # before Beam is imported: see akhbar/cli/logs.py
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv[0] == "--version":
        from akhbar import __version__

        print(f"akhbar {__version__}")
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"akhbar: unknown command {command!r}; try 'akhbar --help'", file=sys.stderr)
        return 2
    module_name, function = COMMANDS[command].split(":")
    return getattr(importlib.import_module(module_name), function)(rest)


if __name__ == "__main__":
    sys.exit(main())
