"""The one home of Arabic text rules: normalisation, keys, letters, proclitics.

Extraction, exact dedup, near-dup, NER features and the event model all fold
Arabic through here, so the same word is the same key everywhere. The output
always keeps the text as written; these forms only decide identity and matching
(dedup keys, ``text_hash``, model lookups, boilerplate patterns), so a story
written with or without tashkeel, tatweel, bidi marks or hamza variants gets one key.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = [
    "ARABIC_DIGITS",
    "ARABIC_LETTER",
    "ARABIC_SCRIPT",
    "PROCLITICS",
    "MARK_CHARS",
    "TASHKEEL",
    "TATWEEL",
    "arabic_ratio",
    "detect_language",
    "normalize_arabic",
    "proclitic_stems",
    "strip_proclitic",
    "text_hash",
    "text_key",
    "UNSPACED_SCRIPT",
    "word_count",
]

# Harakat, tanween, shadda, sukun, superscript alef, Quranic annotation marks (combining marks only).
MARK_CHARS = "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed"
TASHKEEL = re.compile(f"[{MARK_CHARS}]")
TATWEEL = "\u0640"
# Arabic-Indic and Eastern Arabic-Indic digits (a character-class range): keys read them as ASCII.
ARABIC_DIGITS = "\u0660-\u0669\u06f0-\u06f9"
# Zero-width and bidi formatting characters: invisible, but they split words and keys.
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u00ad\u061c]")
_LETTER_MAP = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        # Arabic-Indic and Eastern Arabic-Indic digits to ASCII.
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
    }
)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_SPACES = re.compile(r"\s+")
# An Arabic letter: the Arabic block's letters (not tatweel, marks or digits), Arabic Supplement,
# and the presentation forms that legacy pages still carry.
ARABIC_LETTER = re.compile(
    "[\u0621-\u063a\u0641-\u064a\u066e-\u066f\u0671-\u06d3\u06d5\u06ee-\u06ef"
    "\u06fa-\u06fc\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc]"
)
# Every code point of the Arabic script's blocks (letters, marks, digits, punctuation, Arabic Supplement and
# Extended-A, presentation forms), for character classes: "[" + ARABIC_SCRIPT + "]".
ARABIC_SCRIPT = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff"
_ANY_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
# Scripts written without spaces between words: Thai, Lao, Myanmar, Khmer, kana, CJK ideographs,
# halfwidth katakana. Word counts and token bags treat their characters apart.
UNSPACED_SCRIPT = re.compile(
    "[\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\uff66-\uff9f]"
)
_UNSPACED_RUN = re.compile(UNSPACED_SCRIPT.pattern + "+")
# A whitespace-separated token that holds a letter or digit.
_WORD_TOKEN = re.compile(r"[^\s\w]*\w\S*", re.UNICODE)

# Proclitic strings (conjunction, preposition, article and their combinations), in normalized
# spelling, longest first: the one list that NER features and near-dup stems both use.
PROCLITICS: tuple[str, ...] = tuple(
    sorted(
        ["وبال", "وكال", "فبال", "فال", "وال", "بال", "كال", "ولل", "فلل", "لل", "ال",
         "وب", "ول", "وك", "فب", "فل", "و", "ف", "ب", "ل", "ك"],
        key=len,
        reverse=True,
    )
)


def normalize_arabic(text: str) -> str:
    """NFKC; no invisible marks, tashkeel or tatweel; unified alef/ya/ta marbuta/hamza seats; digits as ASCII."""
    text = unicodedata.normalize("NFKC", text)
    text = INVISIBLE.sub("", text)
    text = TASHKEEL.sub("", text).replace(TATWEEL, "")
    text = text.translate(_LETTER_MAP)
    # A removed tatweel or invisible mark may have stood between a letter and a combining accent
    # ("e\u0640\u0301"): compose once more, so that normalising twice changes nothing.
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def proclitic_stems(word: str, min_stem: int = 2) -> list[str]:
    """``word`` (normalized) with each proclitic string stripped, longest first, keeping ``min_stem`` letters."""
    return [word[len(p):] for p in PROCLITICS if word.startswith(p) and len(word) - len(p) >= min_stem]


def strip_proclitic(word: str, min_stem: int = 3) -> str:
    """``word`` (normalized) without its longest proclitic string that leaves ``min_stem`` letters."""
    stems = proclitic_stems(word, min_stem)
    return stems[0] if stems else word


def text_key(text: str) -> str:
    """The normalized text reduced to lower-case words, so punctuation and spacing do not matter."""
    words = _NON_WORD.sub(" ", normalize_arabic(text).lower())
    return _SPACES.sub(" ", words).strip()


def text_hash(text: str) -> str:
    """Hash of ``text_key``: equal for texts that differ only in marks, spacing or punctuation."""
    return hashlib.sha256(text_key(text).encode("utf-8")).hexdigest()[:32]


def arabic_ratio(text: str) -> float:
    """Share of letters that are Arabic letters (0.0 for text with no letters)."""
    letters = _ANY_LETTER.findall(text)
    if not letters:
        return 0.0
    return len(ARABIC_LETTER.findall(text)) / len(letters)


def detect_language(text: str, threshold: float = 0.5) -> str:
    """'ar' when most letters are Arabic, else 'other': enough to route non-Arabic feeds."""
    return "ar" if arabic_ratio(text) >= threshold else "other"


def word_count(text: str) -> int:
    """Words in `text`, script-aware: whitespace tokens that hold a letter or digit, plus one
    word per two characters of scripts written without spaces (Chinese, Japanese, Thai, ...),
    so a prose test works on every page."""
    words = len(_WORD_TOKEN.findall(text))
    if UNSPACED_SCRIPT.search(text):
        for run in _UNSPACED_RUN.findall(text):
            words += max(1, len(run) // 2) - 1  # the run already counted as (part of) one token
    return words
