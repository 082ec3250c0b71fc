"""akhbar: streaming ingest of Arabic news on Apache Beam.

Layers, from the bottom up (checked by ``lint-imports``, see ``pyproject.toml``)::

    akhbar.settings, akhbar.models        the environment and the shipped model files
    akhbar.core, akhbar.schemas           Arabic text rules, URLs, metrics; records and Arrow schemas
    akhbar.lib, akhbar.sample             the plain library (no Beam): web, extraction, models, near-dup
    akhbar.transforms                     Beam PTransforms: wiring, state, counters, dead letters
    akhbar.pipelines                      options, runners, pipeline assembly
    akhbar.cli                            the command line: parses argv, prints, exits
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("akhbar")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"
