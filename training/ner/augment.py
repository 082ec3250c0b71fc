"""Entity-swap augmentation: training sentences again, their person names replaced by today's names.

ANERcorp's people are the 2003-2007 news (بوش، بلير، أنان); today's news
spells other names, many of them foreign names in a modern transliteration.
A copy of a sentence with each PERS entity replaced by a name drawn from a
pool (``lists/person_names.txt``, written for akhbar, plus the person names
mined from the unlabelled news) teaches the context, not the memorized name.
A proclitic on the replaced name ("وبوش") moves to the new one ("وماكرون").
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from akhbar.core.metrics import bio_spans
from akhbar.lib.ner.canonical import KnownForms
from akhbar.lib.ner.features import norm_word

NAMES_FILE = Path(__file__).resolve().parent / "lists" / "person_names.txt"


def read_names(path: Path = NAMES_FILE) -> list[list[str]]:
    """Names of a list file (one a line, '#' comments) as word lists."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line.split())
    return out


def proclitic_of(word: str, known: KnownForms) -> str:
    """The written proclitic of ``word`` ("و" of "وبوش") where the rest is a commoner known form, else ''."""
    nw = norm_word(word)
    rest = known.strip(nw)
    if rest == nw or not nw.endswith(rest):
        return ""  # nothing stripped, or "لل" -> "ال" (the article is not moved)
    return word[: len(word) - len(rest)] if len(word) == len(nw) else ""


def swap_persons(tokens: Sequence[str], tags: Sequence[str], names: Sequence[Sequence[str]], rng: random.Random,
                 known: KnownForms) -> tuple[list[str], list[str]] | None:
    """A copy of the sentence with every PERS entity replaced by a random name; None if it has none."""
    spans = [s for s in bio_spans(tags) if s[0] == "PERS"]
    if not spans:
        return None
    new_tokens, new_tags, pos = [], [], 0
    for _, a, b in spans:
        new_tokens += tokens[pos:a]
        new_tags += tags[pos:a]
        name = list(rng.choice(names))
        name[0] = proclitic_of(tokens[a], known) + name[0]
        new_tokens += name
        new_tags += ["B-PERS"] + ["I-PERS"] * (len(name) - 1)
        pos = b
    new_tokens += tokens[pos:]
    new_tags += tags[pos:]
    return new_tokens, new_tags
