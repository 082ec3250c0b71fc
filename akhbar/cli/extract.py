"""``akhbar extract FILE_OR_URL... [--url URL] [--json]``: the main text of saved pages or URLs.

The trafilatura command-line analog with akhbar's extraction (related-article
lines and Arabic page furniture removed). Many inputs run in one process.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from akhbar.lib.extract_inputs import extract_inputs, is_url
from akhbar.lib.web.http import HttpConfig


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="akhbar extract",
        description="The main text of saved pages or URLs, without page furniture or related-article lines.",
        epilog="Exit status: 0 when every input gave a text, 1 when some failed (each says why), 2 on bad usage.",
    )
    parser.add_argument("inputs", nargs="+", metavar="FILE_OR_URL",
                        help="saved HTML files (any encoding), http(s) URLs, or - for standard input")
    parser.add_argument("--url", help="the address of a saved page (one input only): decides which links are "
                                      "the site's own articles")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per input: input, url, title, text, published, method, language "
                             "(or input, error)")
    parser.add_argument("--allow_loopback", action="store_true", help="let URLs resolve to 127.0.0.1/::1")
    parser.add_argument("--allow_private", action="store_true", help="let URLs resolve to private networks")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.url is not None:
        if len(args.inputs) != 1:
            parser.error("--url names the address of one saved page: give exactly one input")
        if not is_url(args.url):
            parser.error(f"--url {args.url!r} is not an http(s) URL")
    http = HttpConfig(allow_loopback=args.allow_loopback, allow_private=args.allow_private)
    try:
        return _print_records(args, http)
    except BrokenPipeError:  # the reader stopped (| head): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _print_records(args: argparse.Namespace, http: HttpConfig) -> int:
    failed = 0
    for record in extract_inputs(args.inputs, http, args.url):
        if "error" in record:
            failed += 1
            print(f"akhbar extract: {record['input']}: {record['error']}", file=sys.stderr)
        if args.json:
            print(json.dumps(record, ensure_ascii=False), flush=True)
        elif "error" not in record:
            if len(args.inputs) > 1:
                print(f"==> {record['input']} <==")
            print(record["text"], flush=True)
    return 1 if failed else 0
