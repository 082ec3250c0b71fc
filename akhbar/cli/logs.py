"""Logging for the ``akhbar`` commands: one format, and without Beam's import-time noise.

Importing Beam logs "apitools not found …" through the root logger, which
also installs a default handler; configuring first keeps our format and
drops that line (it only concerns BigQuery, which akhbar does not use).
"""
from __future__ import annotations

import logging

_NOISE = ("apitools not found",)


class _DropImportNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(noise in message for noise in _NOISE)


def configure(level: int = logging.WARNING) -> None:
    """Install one stderr handler on the root logger, unless the host application already did."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_DropImportNoise())
    root.addHandler(handler)
    root.setLevel(level)
