"""Charset decoding and Arabic mojibake repair for fetched pages and feeds.

Arabic sites still serve windows-1256 / ISO-8859-6, often with a wrong or missing
charset. A wrong label decodes "cleanly" into mojibake ('ÇáÑÆíÓ', 'Ø§Ù„', 'ط§ظ„'),
so decoding is followed by two checks instead of trusting the first codec that
does not raise:

1. when the labelled text is not plausible Arabic, the raw bytes are decoded
   again as UTF-8, windows-1256 and ISO-8859-6, and a candidate that reads as
   Arabic (letter frequencies of Arabic news, no Latin letters or control
   characters among the Arabic ones) replaces it;
2. text-level repair of mojibake that survives in otherwise correct bytes
   (double-encoded UTF-8).

A UTF-8 document with a few invalid bytes is read as UTF-8 with those bytes
replaced (U+FFFD), never re-decoded as a whole in another charset.
"""

from __future__ import annotations

import codecs
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import charset_normalizer

from akhbar.core.text import ARABIC_DIGITS, ARABIC_LETTER, ARABIC_SCRIPT, MARK_CHARS, TATWEEL

__all__ = [
    "arabic_fit",
    "decode_bytes",
    "effective_label",
    "encoding_alias",
    "label_codec",
    "looks_like_arabic_mojibake",
    "repair_mojibake",
]

# Web labels that Python's codec registry does not know.
_EXTRA_ALIASES = {
    "ms-arab": "cp1256",
    "x-mac-arabic": "mac-arabic",
    "iso-8859-6-i": "iso8859-6",
    "iso-8859-6-e": "iso8859-6",
    "x-iso-8859-6": "iso8859-6",
    "dos-720": "cp720",
}
# Codecs that "decode" but are not charsets a web page can honestly declare.
_REJECTED = {
    "undefined",
    "unicode-escape",
    "raw-unicode-escape",
    "idna",
    "punycode",
    "utf-7",
}
# Browsers read these labels as windows-1252 (WHATWG Encoding); so do we, so that
# smart quotes in a page labelled iso-8859-1 do not become C1 controls.
_WHATWG_OVERRIDES = {"iso8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252"}

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SNIFF_BYTES = 8192
_XML_PROLOG = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']\s*([A-Za-z0-9._:-]+)""")
_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)


def encoding_alias(name: str) -> str | None:
    """Canonical Python codec name for a charset label, None if unknown.

    Labels come from HTTP headers, <meta> and XML prologs in every spelling
    ('windows_1256', 'WINDOWS-1256', 'ms-arab'); one canonical name keeps
    comparisons and metrics sane.
    """
    label = name.strip().strip("\"'").strip().lower()
    if not label:
        return None
    label = _EXTRA_ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _REJECTED:
        return None
    return info.name


# --- mojibake -----------------------------------------------------------------

# latin-1 covers U+0000-U+00FF; cp1252 adds these for bytes 0x80-0x9F. Mapping both
# back lets us undo either decode (browsers leave cp1252's 5 holes as C1 controls).
_CP1252_EXTRA = {
    ch: bytes([b])
    for b in range(0x80, 0xA0)
    for ch in [bytes([b]).decode("cp1252", errors="ignore")]
    if ch
}
_CP1256_HIGH = bytes(range(0x80, 0xC0)).decode("cp1256")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
# A run is only worth a repair attempt if it holds a character that a wrong
# single-byte decode produces.
_SUSPECT = re.compile(
    "[\u0080-\u00ff"
    + re.escape("".join(_CP1252_EXTRA))
    + re.escape(_CP1256_HIGH)
    + "]"
)
# What a correctly decoded Arabic token may contain besides Arabic script.
_ARABIC_OK = re.compile(
    "[" + ARABIC_SCRIPT +
    "\u200b-\u200f\u00a0\u00ab\u00bb\u2013\u2014\u2018\u2019\u201c\u201d\u2026"
    r"0-9!-/:-@\[-`{-~]+"
)


_TO_C1 = str.maketrans({ch: b.decode("latin-1") for ch, b in _CP1252_EXTRA.items()})


def _latin_bytes(token: str) -> bytes:
    """Bytes that a latin-1 or cp1252 decode turned into `token`."""
    return token.translate(_TO_C1).encode("latin-1")


# (name, reverse the wrong decode, the right decode)
_Mode = tuple[str, Callable[[str], bytes], Callable[[bytes], str]]
_MODES: tuple[_Mode, ...] = (
    ("latin-1>utf-8", _latin_bytes, lambda b: b.decode("utf-8")),
    ("cp1256>utf-8", lambda t: t.encode("cp1256"), lambda b: b.decode("utf-8")),
    ("latin-1>cp1256", _latin_bytes, lambda b: b.decode("cp1256")),
)
_TARGET = {"latin-1>utf-8": "utf-8", "cp1256>utf-8": "utf-8", "latin-1>cp1256": "cp1256"}


def _is_clean_arabic(token: str) -> bool:
    return bool(ARABIC_LETTER.search(token)) and _ARABIC_OK.fullmatch(token) is not None


def _try_mode(text: str, runs: list[re.Match[str]], mode: _Mode) -> tuple[str, int] | None:
    """Apply one repair hypothesis run by run; None if the evidence is weak.

    A run is a maximal stretch of non-ASCII characters: no multi-byte sequence
    and no Arabic single-byte letter contains an ASCII byte, so markup, digits
    and spaces around a run do not matter, and genuine text next to mojibake is
    left alone. Returns (repaired text, Arabic letters gained).
    """
    _, undo, redo = mode
    pieces: list[str] = []
    repaired_runs: list[str] = []
    last = changed = clean = letters = 0
    strong = False
    for run in runs:
        try:
            fixed = redo(undo(run.group()))
        except (UnicodeError, ValueError):
            continue
        if fixed == run.group():
            continue
        changed += 1
        start, end = run.span()
        # A run glued to ASCII letters is part of a Latin word ('Straße', 'Ça').
        in_latin_word = (start > 0 and text[start - 1] in _ASCII_LETTERS) or (
            end < len(text) and text[end] in _ASCII_LETTERS
        )
        if in_latin_word or "\ufffd" in fixed or not _is_clean_arabic(fixed):
            continue  # keep the original, count it against the hypothesis
        clean += 1
        n = len(ARABIC_LETTER.findall(fixed))
        letters += n
        strong = strong or n >= 2
        pieces += (text[last:start], fixed)
        repaired_runs.append(fixed)
        last = end
    # Lone letters ('À' -> 'ہ') are weak evidence; many runs that do not turn
    # into clean Arabic mean the hypothesis is wrong.
    if not strong or clean < 0.8 * changed:
        return None
    # Other alphabets read through windows-1256 (KOI8-R Russian), or 'Â\xa0' (UTF-8's NBSP
    # read as cp1252) read once more as windows-1256 ('آ'), also give clean Arabic letters,
    # but not with the letter frequencies of Arabic.
    if arabic_fit(" ".join(repaired_runs)).mean_logp < _MIN_MEAN_LOGP:
        return None
    pieces.append(text[last:])
    return "".join(pieces), letters


def _best_repair(text: str) -> tuple[str, str] | None:
    """(repaired text, mode name) for the most convincing repair, if any."""
    if text.isascii():
        return None
    runs = [m for m in _NON_ASCII_RUN.finditer(text) if _SUSPECT.search(m.group())]
    best: tuple[str, str, int] | None = None
    for mode in _MODES:
        result = _try_mode(text, runs, mode)
        if result and (best is None or result[1] > best[2]):
            best = (result[0], mode[0], result[1])
    return (best[0], best[1]) if best else None


def looks_like_arabic_mojibake(text: str) -> bool:
    """True when `text` holds Arabic that a wrong single-byte decode garbled.

    Same test as repair_mojibake (a repair must produce clean Arabic words), so
    the two never disagree.
    """
    return _best_repair(text) is not None


def repair_mojibake(text: str) -> tuple[str, bool]:
    """Undo the common Arabic mojibake; return (text, repaired).

    Handles UTF-8 or cp1256 bytes decoded as latin-1/cp1252 ('Ø§Ù„' -> 'ال',
    'ÇáÑÆíÓ' -> 'الرئيس') and UTF-8 bytes decoded as cp1256 ('ط§ظ„' -> 'ال').
    A repair is kept only where it yields whole Arabic words and no U+FFFD, so
    genuine Latin text ('élève', 'Straße') stays untouched.
    """
    best = _best_repair(text)
    return (best[0], True) if best else (text, False)


# --- does a decode read as Arabic? --------------------------------------------------

# Letter frequencies of Arabic news text (this project's sample corpus, 63k letters): the
# letters, then the tatweel, in the order of the numbers below.
_FREQ_LETTERS = "اليمونرتةبعدقفسأحجهكشطصإىخزثضئءغذظؤآ" + TATWEEL
_ARABIC_FREQ = dict(zip(_FREQ_LETTERS, (
    0.151, 0.110, 0.072, 0.062, 0.054, 0.053, 0.052, 0.050, 0.038, 0.037, 0.032, 0.029, 0.026, 0.025,
    0.025, 0.020, 0.019, 0.016, 0.015, 0.012, 0.012, 0.012, 0.011, 0.011, 0.009, 0.009, 0.008, 0.007,
    0.006, 0.005, 0.004, 0.004, 0.003, 0.002, 0.001, 0.001, 0.0004,
), strict=True))
_LOGP = {ch: math.log(p) for ch, p in _ARABIC_FREQ.items()}
_RARE_LETTER_LOGP = math.log(1e-4)  # Arabic-script letters outside the table (Persian, Urdu, forms)
# Characters that genuine Arabic text carries besides letters: harakat, Arabic and
# Persian digits and punctuation, directional marks, typographic punctuation.
_NEUTRAL = re.compile(
    f"[{MARK_CHARS}{ARABIC_DIGITS}\u066a-\u066d\u060c\u061b\u061f\u06d4"
    "\u00a0\u00ab\u00bb\u00b0\u00a9\u00ae\u00b7\u2000-\u206f\u20ac\ufeff\u200b-\u200f]"
)
_NON_ASCII_CHAR = re.compile(r"[^\x00-\x7f]")
_ASCII_RUN = re.compile(r"[\x00-\x7f]+")
# A haraka marks the letter before it; one that opens a word is what a wrong
# Arabic codepage makes of a letter (windows-1256 'ي' read as ISO-8859-6 'ٍ').
_HARAKA = re.compile(f"[{MARK_CHARS}]")
_HARAKA_HOST = re.compile(f"[\u0621-\u064a\u0671-\u06d3{MARK_CHARS}]")


def _orphan_harakat(text: str) -> int:
    return sum(1 for m in _HARAKA.finditer(text) if m.start() == 0 or not _HARAKA_HOST.match(text[m.start() - 1]))


_MIN_LETTERS = 8
_MAX_BAD_SHARE = 0.02
_MIN_MEAN_LOGP = -3.6  # genuine Arabic news averages about -3.1; a wrong Arabic codepage scores far lower


@dataclass(frozen=True)
class ArabicFit:
    """How well a text reads as Arabic: letters, foreign characters among them, letter likelihood."""

    letters: int
    bad: int
    logp: float

    @property
    def mean_logp(self) -> float:
        return self.logp / self.letters if self.letters else -math.inf

    @property
    def is_arabic(self) -> bool:
        """Enough Arabic letters, almost no foreign characters, letter frequencies of real Arabic."""
        return (
            self.letters >= _MIN_LETTERS
            and self.bad <= _MAX_BAD_SHARE * (self.letters + self.bad)
            and self.mean_logp >= _MIN_MEAN_LOGP
        )


def arabic_fit(text: str) -> ArabicFit:
    """Score the non-ASCII characters of ``text`` as Arabic.

    Every non-ASCII character is an Arabic letter (scored by its frequency in
    Arabic news), neutral (harakat, Arabic punctuation and digits, typographic
    punctuation) or foreign (Latin-1 letters, other scripts, C1 controls,
    U+FFFD): what a wrong single-byte decode of Arabic bytes produces.
    """
    letters = bad = 0
    logp = 0.0
    counts = Counter(_ASCII_RUN.sub("", text))
    for ch, n in counts.items():
        value = _LOGP.get(ch)
        if value is not None:
            letters += n
            logp += n * value
        elif ARABIC_LETTER.match(ch):
            letters += n
            logp += n * _RARE_LETTER_LOGP
        elif not _NEUTRAL.match(ch):
            bad += n
    if any(_HARAKA.match(ch) for ch in counts):
        bad += _orphan_harakat(text)
    return ArabicFit(letters, bad, logp)


# The single-byte readings of Arabic bytes tried (besides UTF-8) when the label's reading is not Arabic.
_SINGLE_BYTE_ARABIC = ("cp1256", "iso8859-6")
_HIGH_BYTES = bytes(range(0x80, 0x100))
# How much more likely (mean log-probability per letter) another Arabic codepage's reading
# must be to override a label that already names an Arabic codepage.
_OVERRIDE_MARGIN = 0.3


def _mostly_utf8(body: bytes) -> str | None:
    """UTF-8 with its few invalid bytes replaced, when nearly every non-ASCII sequence is valid UTF-8.

    One bad byte in a UTF-8 feed must cost that byte, not the feed. Legacy
    single-byte text almost never forms valid multi-byte sequences, so it fails
    the ratio and goes on to detection.
    """
    text = body.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd") - body.count("\ufffd".encode())
    valid = sum(1 for ch in _NON_ASCII_CHAR.findall(text) if ch != "\ufffd")
    if replaced <= 0 or valid < 3 * replaced:
        return None
    return text


def _decode_as(body: bytes, codec: str) -> str | None:
    text = _strict(body, codec)
    if text is None and codec == "utf-8":
        text = _mostly_utf8(body)
    return text


def _arabic_redecode(body: bytes, text: str, encoding: str) -> tuple[str, str] | None:
    """(text, codec) from the raw bytes when another reading is Arabic and the labelled one is not.

    Bytes that are (nearly all) valid UTF-8 are UTF-8: legacy single-byte text
    almost never forms valid multi-byte sequences, so only their UTF-8 reading
    is tried. Otherwise a reading labelled with one Arabic codepage is compared
    with the other's: both can give Arabic letters, and the letter frequencies
    tell them apart.
    """
    if encoding == "utf-8" or len(body) - len(body.translate(None, _HIGH_BYTES)) < _MIN_LETTERS:
        return None  # every Arabic letter takes a byte >= 0x80 in each of the codecs: too few to be Arabic
    current = arabic_fit(text)
    if current.is_arabic and encoding not in _SINGLE_BYTE_ARABIC:
        return None
    utf8 = _decode_as(body, "utf-8")
    codecs_to_try = [("utf-8", utf8)] if utf8 is not None else [(c, None) for c in _SINGLE_BYTE_ARABIC]
    best: tuple[float, str, str] | None = None
    for codec, candidate in codecs_to_try:
        if codec == encoding:
            continue
        candidate = candidate if candidate is not None else _decode_as(body, codec)
        if candidate is None:
            continue
        fit = arabic_fit(candidate)
        if fit.is_arabic and (best is None or fit.mean_logp > best[0]):
            best = (fit.mean_logp, candidate, codec)
    if best is None or (current.is_arabic and best[0] < current.mean_logp + _OVERRIDE_MARGIN):
        return None
    return best[1], best[2]


# --- decoding -------------------------------------------------------------------


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeError, LookupError):
        return None


def _sniffed_label(body: bytes) -> str | None:
    head = body[:_SNIFF_BYTES]
    match = _XML_PROLOG.match(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def _first_decode(body: bytes, declared: str | None) -> tuple[str, str]:
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace"), encoding.removesuffix("-sig")
    if declared:
        encoding = encoding_alias(declared)
        encoding = _WHATWG_OVERRIDES.get(encoding or "", encoding)
        if encoding and (text := _strict(body, encoding)) is not None:
            return text, encoding
    sniffed = _sniffed_label(body)
    if sniffed:
        encoding = encoding_alias(sniffed)
        encoding = _WHATWG_OVERRIDES.get(encoding or "", encoding)
        # An ASCII-compatible document cannot really be UTF-16 (WHATWG: use UTF-8).
        if encoding and not encoding.startswith(("utf-16", "utf-32")):
            if (text := _strict(body, encoding)) is not None:
                return text, encoding
    if (text := _strict(body, "utf-8")) is not None:
        return text, "utf-8"
    if (text := _mostly_utf8(body)) is not None:
        return text, "utf-8"
    guess = charset_normalizer.from_bytes(body).best()
    if guess is not None:
        encoding = encoding_alias(guess.encoding)
        if encoding and (text := _strict(body, encoding)) is not None:
            return text, encoding
    return body.decode("cp1256", errors="replace"), "cp1256"


def label_codec(label: str | None) -> str | None:
    """The codec a charset label is read with (WHATWG: iso-8859-1 and us-ascii mean windows-1252)."""
    encoding = encoding_alias(label) if label else None
    return _WHATWG_OVERRIDES.get(encoding or "", encoding)


def effective_label(body: bytes, declared: str | None = None) -> str | None:
    """The label a reader would follow: the declared (HTTP) charset, else the XML prolog or <meta>."""
    if declared and encoding_alias(declared):
        return declared
    return _sniffed_label(bytes(body))


def decode_bytes(body: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode page/feed bytes to text; return (text, encoding_used).

    Order: BOM; `declared` (HTTP charset) if it decodes cleanly; <meta charset> /
    XML prolog if it decodes cleanly; UTF-8 strict; UTF-8 with a few invalid
    bytes replaced; charset_normalizer's best guess; cp1256 with replacement.
    Labels iso-8859-1 and us-ascii are read as windows-1252, as browsers do.
    Then, when that text is not plausible Arabic, the bytes are read as UTF-8,
    windows-1256 and ISO-8859-6, and the reading that is Arabic wins (a label
    over the wrong Arabic bytes). Then mojibake repair: where the bytes decode
    cleanly with the repair's target codec, they are re-decoded with it
    (lossless) and that codec is reported; otherwise the text is repaired in
    place and encoding_used reads e.g. 'utf-8+repaired:latin-1>utf-8'.
    """
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError(f"decode_bytes expects bytes, got {type(body).__name__}")
    body = bytes(body)
    text, encoding = _first_decode(body, declared)
    if not text.isascii() and (redecoded := _arabic_redecode(body, text, encoding)) is not None:
        text, encoding = redecoded
    best = _best_repair(text)
    if best is None:
        return text, encoding
    repaired, mode = best
    target = _TARGET[mode]
    if target != encoding:
        redecoded = _strict(body, target)
        if redecoded is not None and _best_repair(redecoded) is None:
            return redecoded, target
    return repaired, f"{encoding}+repaired:{mode}"
