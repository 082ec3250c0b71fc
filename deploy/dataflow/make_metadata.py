#!/usr/bin/env python3
"""Write deploy/dataflow/metadata.json (the flex template's parameters) from AkhbarOptions.

The template's parameters are the flags of ``akhbar.pipelines.options.AkhbarOptions``, so the
Dataflow job takes exactly the options of a local ``akhbar run``; run this after adding
a flag (tests/deploy checks that the file is up to date), with a Python where akhbar is
installed (the checkout's editable install or the wheel):

    .venv/bin/python deploy/dataflow/make_metadata.py
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from akhbar.pipelines.options import AkhbarOptions

METADATA = Path(__file__).resolve().parent / "metadata.json"
REQUIRED = {"feeds", "output"}
# Flags that pick the local runner's mode; Dataflow runs streaming, set by the launcher.
NOT_TEMPLATE_PARAMETERS = {"once"}


def akhbar_flags() -> list[argparse.Action]:
    """The argparse actions AkhbarOptions adds, in declaration order."""
    parser = argparse.ArgumentParser(add_help=False)
    AkhbarOptions._add_argparse_args(parser)
    return [a for a in parser._actions if a.option_strings]


def flag_name(action: argparse.Action) -> str:
    return action.option_strings[0].lstrip("-")


def metadata() -> dict:
    parameters = []
    for action in akhbar_flags():
        name = flag_name(action)
        if name in NOT_TEMPLATE_PARAMETERS or action.nargs == 0:
            # Switches: a template passes --name=value, which a store_true flag refuses.
            continue
        help_text = (action.help or name.replace("_", " ")).replace("%%", "%")
        entry = {
            "name": name,
            "label": name.replace("_", " ").capitalize(),
            "helpText": help_text,
            "isOptional": name not in REQUIRED,
        }
        if getattr(action.type, "number_type", action.type) in (int, float):  # validated numbers carry their type
            entry["regexes"] = [r"^[0-9]+(\.[0-9]+)?$"]
        elif action.choices:
            entry["regexes"] = ["^(" + "|".join(re.escape(str(c)) for c in action.choices) + ")$"]
        parameters.append(entry)
    return {
        "name": "akhbar-ingest",
        "description": "Streaming ingest of Arabic news feeds into date-partitioned Parquet (akhbar).",
        "streaming": True,
        "supportsAtLeastOnce": False,
        "supportsExactlyOnce": True,
        "defaultStreamingMode": "EXACTLY_ONCE",
        "parameters": parameters,
    }


def render() -> str:
    return json.dumps(metadata(), ensure_ascii=False, indent=2) + "\n"


def main() -> int:
    METADATA.write_text(render(), encoding="utf-8")
    print(f"wrote {METADATA} ({len(metadata()['parameters'])} parameters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
