"""Before any feed is read: can the output location take files?

A run that fetches for minutes and only then finds that ``--output`` is a file,
or a folder it may not write, wastes the fetch and hides the cause. So the
location is checked first, by writing and deleting a small probe file
(``.akhbar-write-check-*``) where the tables will go. Local paths get a precise
message (a file in the way, no permission); ``gs://`` and ``s3://`` outputs get
the same probe through Beam's FileSystems, so a missing extra, missing
credentials or a bucket without write access stop the run before any fetch.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

from apache_beam.io.filesystems import FileSystems

from akhbar.pipelines.options import UsageError

PROBE_PREFIX = ".akhbar-write-check-"


class OutputError(UsageError):
    """The output location cannot take the run's files."""


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]


def _check_local(output: str) -> None:
    path = Path(output).expanduser()
    if path.exists() and not path.is_dir():
        raise OutputError(f"--output {output}: is a file, not a folder")
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"--output {output}: {ancestor} is a file, so no folder can be made under it")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f"{PROBE_PREFIX}{uuid.uuid4().hex[:12]}"
        with open(probe, "wb") as handle:
            handle.write(b"ok")
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"--output {output}: cannot write there ({_reason(exc)})") from None


def _check_remote(output: str) -> None:
    try:
        FileSystems.get_filesystem(output)
    except ValueError as exc:
        raise OutputError(f"--output {output}: {_reason(exc)} (install akhbar[gcp] or akhbar[aws])") from None
    probe = FileSystems.join(output, f"{PROBE_PREFIX}{uuid.uuid4().hex[:12]}")
    try:
        with FileSystems.create(probe) as handle:
            handle.write(b"ok")
        FileSystems.delete([probe])
    except Exception as exc:  # each filesystem raises its own errors (credentials, permissions, no bucket)
        raise OutputError(f"--output {output}: cannot write there ({_reason(exc)})") from None


def check_output_writable(output: str) -> None:
    """Raise OutputError unless files can be written under ``output``; creates the folder if needed."""
    scheme = output.split("://", 1)[0] if "://" in output else None
    if scheme in (None, "file"):
        _check_local(output.split("://", 1)[1] if scheme == "file" else output)
    else:
        _check_remote(output)
