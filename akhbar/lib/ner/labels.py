"""akhbar's four entity types and the mapping of other models' label names onto them."""
from __future__ import annotations

ENTITY_TYPES = ("PERS", "LOC", "ORG", "MISC")

# Label names used by common Arabic/English NER models -> our four types (others are dropped).
_TYPE_MAP = {
    "PERS": "PERS", "PER": "PERS", "PERSON": "PERS",
    "LOC": "LOC", "LOCATION": "LOC", "GPE": "LOC",
    "ORG": "ORG", "ORGANIZATION": "ORG", "ORGANISATION": "ORG",
    "MISC": "MISC", "MISCELLANEOUS": "MISC", "NORP": "MISC", "EVENT": "MISC",
}


def map_label(label: str) -> str:
    """A model's label -> our BIO tag: 'B-PER' -> 'B-PERS', 'I-GPE' -> 'I-LOC', unknown types -> 'O'."""
    label = label.upper()
    if label in ("O", "") or "-" not in label and "_" not in label:
        kind = _TYPE_MAP.get(label)
        return f"B-{kind}" if kind else "O"
    prefix, _, kind = label.replace("_", "-").partition("-")
    if prefix not in ("B", "I", "E", "S"):
        prefix, kind = "B", label
    mapped = _TYPE_MAP.get(kind)
    if mapped is None:
        return "O"
    return f"{'I' if prefix in ('I', 'E') else 'B'}-{mapped}"


def unmapped_labels(labels: list[str]) -> tuple[list[str], list[str]]:
    """(labels that map to one of ENTITY_TYPES, labels that map to nothing) of a model, 'O' excluded."""
    mapped, unmapped = [], []
    for label in labels:
        if label.upper() in ("O", ""):
            continue
        (mapped if map_label(label) != "O" else unmapped).append(label)
    return mapped, unmapped
