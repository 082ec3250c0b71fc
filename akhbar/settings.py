"""Every setting that comes from the environment, read in one place.

The rest of the code imports ``settings()`` and never reads ``os.environ``
(a test enforces it). Values are read once per process; tests that change the
environment call ``settings.cache_clear()``.

| variable | what it sets |
|---|---|
| ``AKHBAR_CACHE`` | cache folder (Prism binary, Flink jars); default ``.cache`` in a checkout, else ``~/.cache/akhbar`` |
| ``AKHBAR_PRISM`` | the Prism runner binary to use for streaming runs |
| ``AKHBAR_FLINK_CACHE`` | where the Flink job server and expansion service jars are cached |
| ``AKHBAR_EXPANSION_SERVICE`` | address of a running Java expansion service (Flink streaming ticks) |
| ``AKHBAR_MODEL_THREADS`` | ONNX Runtime threads per model session (default 1: parallelism comes from workers) |
| ``AKHBAR_MODELS`` | a folder holding ``ner-ar-small``, ``events-ar-small`` and ``neardup`` to use instead of the shipped ones |
| ``AKHBAR_SHARED_DATA`` | the shared data package that ``akhbar eval geo`` reads article texts from; default ``../shared/data`` beside a checkout |
| ``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` | no model hub: hub ids fail before the run starts |
| ``AKHBAR_COMPACT_CRASH_AT`` | test hook: ``akhbar compact`` kills itself at this step |
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _checkout() -> Path | None:
    """The repository root when running from a source checkout (editable install), else None."""
    root = _PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() and (root / "transforms").is_dir() else None


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    checkout: Path | None
    cache_dir: Path
    prism: str | None
    flink_cache: Path
    expansion_service: str | None
    model_threads: int
    models_dir: Path | None
    shared_data: Path | None
    hub_offline: bool
    compact_crash_at: str | None


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    checkout = _checkout()
    default_cache = checkout / ".cache" if checkout else Path.home() / ".cache" / "akhbar"
    cache_dir = Path(env.get("AKHBAR_CACHE") or default_cache).expanduser()
    threads = env.get("AKHBAR_MODEL_THREADS", "1")
    try:
        model_threads = max(1, int(threads))
    except ValueError:
        raise ValueError(f"AKHBAR_MODEL_THREADS must be a whole number, not {threads!r}") from None
    return Settings(
        checkout=checkout,
        cache_dir=cache_dir,
        prism=env.get("AKHBAR_PRISM") or None,
        flink_cache=Path(env.get("AKHBAR_FLINK_CACHE") or cache_dir / "flink").expanduser(),
        expansion_service=env.get("AKHBAR_EXPANSION_SERVICE") or None,
        model_threads=model_threads,
        models_dir=Path(env["AKHBAR_MODELS"]).expanduser() if env.get("AKHBAR_MODELS") else None,
        shared_data=Path(env["AKHBAR_SHARED_DATA"]).expanduser() if env.get("AKHBAR_SHARED_DATA")
        else (checkout.parent / "shared" / "data" if checkout else None),
        hub_offline=_flag(env.get("HF_HUB_OFFLINE")) or _flag(env.get("TRANSFORMERS_OFFLINE")),
        compact_crash_at=env.get("AKHBAR_COMPACT_CRASH_AT") or None,
    )
