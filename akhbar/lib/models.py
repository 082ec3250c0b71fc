"""Where the models are, what they are called, and whether they can run: checked before a run starts.

The shipped models are package data (``akhbar.models``), so an installed wheel
runs the defaults from any folder; ``AKHBAR_MODELS`` points at another folder
holding the same layout. ``--ner_model`` and ``--event_model`` also take a
model folder, and ``--ner_model`` a Hugging Face hub id. Everything a model
needs is validated here, in the launching process, so a wrong path, a hub id
while offline, a missing extra or a model whose labels mean nothing to akhbar
fails in one line before any feed is read.

Each model has an id written into every row it enriched (``ner_model``,
``event_model``): its folder name and a short hash of its config (the
version), or the hub id and revision.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import akhbar.models
from akhbar.lib.ner.labels import ENTITY_TYPES, unmapped_labels
from akhbar.settings import settings

LOG = logging.getLogger(__name__)

SHIPPED_MODELS = settings().models_dir or Path(akhbar.models.__file__).resolve().parent
NER_MODEL = SHIPPED_MODELS / "ner-ar-small"
EVENT_MODEL = SHIPPED_MODELS / "events-ar-small"
NEAR_DUP_MODEL = SHIPPED_MODELS / "neardup" / "pair_scorer.json"

# A Hugging Face hub id: "name" or "org/name", letters, digits, '-', '_', '.'.
_HUB_ID = re.compile(r"^(?:[A-Za-z0-9][\w.-]*/)?[A-Za-z0-9][\w.-]*$")


class ModelError(ValueError):
    """A model option that cannot work; the message is one line that names the cause and the fix."""


@dataclass(frozen=True)
class ModelChoice:
    """A validated model: where it is (a folder, or a hub id) and the id written into rows."""

    location: str
    model_id: str


def model_version(folder: Path) -> str:
    """A short, stable version of a model folder: the hash of its config.json."""
    return hashlib.sha1((folder / "config.json").read_bytes()).hexdigest()[:10]


def _missing(*modules: str) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def _is_path_like(value: str) -> bool:
    """Whether an option value is meant as a local path rather than a hub id."""
    if value.startswith((".", "/", "~")) or value.endswith(("/", "\\")) or "\\" in value or value.count("/") > 1:
        return True
    first = value.split("/", 1)[0]
    # "models/ner-ar-smal" (a typo in a local path) must not become a hub lookup.
    return "/" in value and Path(first).expanduser().is_dir()


def _shipped(folder: Path, option: str, what: str) -> ModelChoice:
    if not (folder / "config.json").is_file():
        raise ModelError(
            f"{option} default: the shipped {what} is missing at {folder}; reinstall akhbar "
            "(`pip install --force-reinstall akhbar`) or pass a model folder"
        )
    return ModelChoice(str(folder), f"{folder.name}@{model_version(folder)}")


def _check_labels(labels: list[str], source: str, option: str) -> None:
    mapped, unmapped = unmapped_labels(labels)
    if not mapped:
        raise ModelError(
            f"{option} {source}: none of its labels {sorted(set(labels))[:12]} maps to {'/'.join(ENTITY_TYPES)}; "
            "akhbar would find no entities with it"
        )
    if unmapped:
        LOG.warning("%s %s: labels %s map to no akhbar type and are dropped", option, source, sorted(set(unmapped)))


def _labels_of(config: dict) -> list[str]:
    id2label = config.get("id2label") or {}
    return [str(v) for v in id2label.values()]


def choose_ner_model(option: str | None) -> ModelChoice | None:
    """``--ner_model``: 'default', 'none', an akhbar or Hugging Face model folder, or a hub id (``hf`` extra)."""
    value = (option or "default").strip()
    if value.lower() == "none":
        return None
    if value.lower() == "default":
        return _shipped(NER_MODEL, "--ner_model", "NER model")
    path = Path(value).expanduser()
    if path.exists():
        config_file = path / "config.json"
        if not config_file.is_file():
            raise ModelError(f"--ner_model {value}: {config_file} is missing; not a model folder")
        config = json.loads(config_file.read_text(encoding="utf-8"))
        if config.get("model_type") == "akhbar-word-ner":
            return ModelChoice(str(path), f"{path.resolve().name}@{model_version(path)}")
        _require_hf("--ner_model", value)
        _check_labels(_labels_of(config), value, "--ner_model")
        return ModelChoice(str(path), f"{path.resolve().name}@{model_version(path)}")
    if _is_path_like(value) or not _HUB_ID.match(value):
        raise ModelError(f"--ner_model {value}: no such model folder")
    return _hub_model(value)


def _require_hf(option: str, value: str) -> None:
    missing = _missing("torch", "transformers")
    if missing:
        raise ModelError(f"{option} {value}: Hugging Face models need {' and '.join(missing)}: "
                         "pip install 'akhbar[hf]'")


def _hub_model(hub_id: str) -> ModelChoice:
    """A hub id: its config must load now (from the hub, or the local Hugging Face cache when offline)."""
    _require_hf("--ner_model", hub_id)
    if settings().hub_offline:
        return _cached_hub_model(hub_id)
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(hub_id)
    except Exception as exc:
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"--ner_model {hub_id}: cannot load its config from the Hugging Face hub: {cause}") from None
    _check_labels([str(v) for v in (config.id2label or {}).values()], hub_id, "--ner_model")
    revision = getattr(config, "_commit_hash", None)
    return ModelChoice(hub_id, f"{hub_id}@{revision[:10]}" if revision else hub_id)


def _cached_hub_model(hub_id: str) -> ModelChoice:
    """Offline: the hub model's config from the local Hugging Face cache, read without importing
    transformers (which loads torch: seconds), so a model that is not there fails at once."""
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(hub_id, "config.json")
    except Exception:
        found = None
    if not isinstance(found, str):
        raise ModelError(f"--ner_model {hub_id}: a Hugging Face hub id, but the hub is off (HF_HUB_OFFLINE=1) "
                         "and the model is not in the local Hugging Face cache")
    config_file = Path(found)
    _check_labels(_labels_of(json.loads(config_file.read_text(encoding="utf-8"))), hub_id, "--ner_model")
    revision = config_file.parent.name  # <cache>/models--org--name/snapshots/<commit>/config.json
    return ModelChoice(hub_id, f"{hub_id}@{revision[:10]}")


def choose_event_model(option: str | None) -> ModelChoice | None:
    """``--event_model``: 'default', 'none' or an akhbar event model folder."""
    value = (option or "default").strip()
    if value.lower() == "none":
        return None
    if value.lower() == "default":
        return _shipped(EVENT_MODEL, "--event_model", "event model")
    path = Path(value).expanduser()
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ModelError(f"--event_model {value}: {config_file} is missing; not an event model folder")
    config = json.loads(config_file.read_text(encoding="utf-8"))
    if "labels" not in config or "thresholds" not in config:
        raise ModelError(f"--event_model {value}: {config_file} is not an akhbar event model config")
    return ModelChoice(str(path), f"{path.resolve().name}@{model_version(path)}")


def choose_near_dup_model(option: str | None) -> str:
    """``--near_dup_model``: the pair scorer JSON (default: the shipped one); it must load."""
    from akhbar.lib.neardup.scorer import PairScorer

    path = Path(option).expanduser() if option and option != "default" else NEAR_DUP_MODEL
    try:
        PairScorer.load(path)
    except ValueError as exc:
        raise ModelError(f"--near_dup_model: {exc}") from None
    return str(path)
