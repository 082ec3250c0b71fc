"""Main-text extraction scored against ground truth: token precision, recall and F1.

A text is a bag of tokens (``text_key`` words: case, Arabic spelling variants
and punctuation folded; runs of Chinese, Japanese or Thai script, which have
no spaces, count one token per character). A page's true positives are the
tokens the extraction shares with the ground truth, with multiplicity.
Totals are micro-averaged (summed counts) and macro-averaged (the mean of the
per-page scores), so one long page cannot hide many short failures.

For pages that carry lists of strings that must (``body``) or must not
(``boilerplate``) appear, `snippet_check` says which are missing or leaked.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from akhbar.core.metrics import Scores, prf
from akhbar.core.text import UNSPACED_SCRIPT, text_key

__all__ = ["PageScore", "SnippetCheck", "snippet_check", "summarize", "token_scores", "tokens"]

_UNSPACED = re.compile(f"({UNSPACED_SCRIPT.pattern})")


def tokens(text: str) -> Counter[str]:
    """The bag of tokens of a text (see the module docstring)."""
    return Counter(_UNSPACED.sub(r" \1 ", text_key(text)).split())


def token_scores(extracted: str, truth: str) -> Scores:
    """Token precision, recall and F1 of one extraction against its ground truth."""
    got, want = tokens(extracted), tokens(truth)
    tp = sum((got & want).values())
    return prf(tp, sum(got.values()) - tp, sum(want.values()) - tp)


@dataclass(frozen=True)
class PageScore:
    page: str
    scores: Scores
    seconds: float


def summarize(pages: Sequence[PageScore]) -> dict:
    """Micro and macro precision/recall/F1 over pages, and pages per second."""
    micro = prf(sum(p.scores.tp for p in pages), sum(p.scores.fp for p in pages), sum(p.scores.fn for p in pages))
    n = len(pages) or 1
    seconds = sum(p.seconds for p in pages)
    return {
        "pages": len(pages),
        "micro": {k: round(getattr(micro, k), 4) for k in ("precision", "recall", "f1")},
        "macro": {k: round(sum(getattr(p.scores, k) for p in pages) / n, 4) for k in ("precision", "recall", "f1")},
        "seconds": round(seconds, 2),
        "pages_per_s": round(len(pages) / seconds, 1) if seconds else None,
    }


@dataclass(frozen=True)
class SnippetCheck:
    missing: tuple[str, ...]  # body snippets the extraction lacks
    leaked: tuple[str, ...]  # boilerplate snippets it holds


def _flat(text: str) -> str:
    return " ".join(text.split())


def snippet_check(extracted: str, body: Iterable[str], boilerplate: Iterable[str]) -> SnippetCheck:
    """Which body snippets are missing from `extracted`, which boilerplate snippets are in it
    (whitespace-insensitive, exact otherwise)."""
    flat = _flat(extracted)
    return SnippetCheck(
        missing=tuple(s for s in body if _flat(s) not in flat),
        leaked=tuple(s for s in boilerplate if _flat(s) not in ("",) and _flat(s) in flat),
    )
