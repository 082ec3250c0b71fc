"""Lexical clean-up of an extracted text: the second signal after the structural one.

`akhbar.lib.related` removes related-article lines by their shape on the page;
the rules here catch what is recognisable by its wording once the text is out of
the page: Arabic "شاهد/اقرأ أيضاً" lines (with or without a link), share and
follow lines, a lone "إعلان", comment-form headings (which cut the rest) and
related-news / most-read headings with their headline lists. Patterns are folded
with ``normalize_arabic``, so spelling variants match.
"""

from __future__ import annotations

import re

from akhbar.core.text import normalize_arabic

__all__ = ["strip_arabic_boilerplate"]


# Bullets, arrows, dashes and quotes that sites put before "read also" links.
_LEAD = re.compile(r"^[\W\d_]+")


def _pattern(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A line pattern, folded like the lines it is matched against (see ``_normalize``)."""
    return re.compile(normalize_arabic(pattern), flags)


_SEP = r"[\s:：\-–—|»«›‹>•*.،]*"

_SEE_ALSO = _pattern(r"^(?:شاهد|شاهدوا|اقرا|اقراوا|طالع|طالعوا)\s+(?:ايضا|كذلك)(?=\W|$)")
_SEE_ALSO_SEPARATED = _pattern(_SEE_ALSO.pattern + r"\s*[:：\-–—|»«]")
_SEE_ALSO_BARE = _pattern(_SEE_ALSO.pattern + _SEP + "$")
_HEADING_END = _SEP + r"(?:\(\d+\))?" + _SEP + "$"
_RELATED_HEADING = _pattern(
    r"^(?:"
    r"(?:اخبار|مواضيع|موضوعات|مقالات|قصص|تقارير)\s+(?:ذات\s+صل[ةه]|متعلق[ةه]|مشابه[ةه])"
    r"|الاكثر\s+(?:قراء[ةه]|مشاهد[ةه]|تداولا|تعليقا|شيوعا)"
    r"|(?:قد\s+)?(?:يهمك|يعجبك|يهمكم)(?:\s+ايضا)?"
    r"|اخترنا\s+لك|المزيد\s+من\s+الاخبار"
    r")" + _HEADING_END
)
_COMMENT_HEADING = _pattern(
    r"^(?:"
    r"(?:اضف|اضاف[ةه]|اترك|اكتب|ارسل)\s+(?:تعليقا|تعليق|تعليقك)(?:\s+جديدا?)?"
    r"|(?:ال)?تعليقات|عدد\s+التعليقات|شارك\s+برايك"
    r")" + _HEADING_END
)
_SHARE = _pattern(
    r"^(?:شارك|شاركوا|شاركي|مشارك[ةه])"
    r"(?:\s+(?:المقال|الخبر|الموضوع|هذا\s+الخبر|هذا\s+المقال|هذه\s+الصفح[ةه]))?"
    r"\s*(?:على|عبر)(?=\W|$)"
)
_SOCIAL = _pattern(
    r"فيسبوك|فيس\s*بوك|تويتر|واتساب|واتس\s*اب|تلغرام|تيليجرام|انستغرام|يوتيوب|لينكد"
    r"|facebook|twitter|whatsapp|telegram|instagram|youtube",
    re.I,
)
_FOLLOW = _pattern(r"^(?:تابعونا|تابعنا|تابعوا|تابعوني)\s*(?:على|عبر|في)(?=\W|$)")
_AD = _pattern(r"^(?:اعلان|اعلانات|مساح[ةه]\s+اعلاني[ةه]|advertisement)" + _SEP + "$", re.I)
# A full stop ends a sentence; an ellipsis ("اقرأ أيضاً..") ends a label or a cut teaser.
# Longer lines are prose: a see-also line is a label and a headline, a heading is short.
_PROSE_CHARS = 250
# Headings, share, follow and advertisement lines are at most this long (see _is_headline_like).
_SHORT_CHARS = 160
_SENTENCE_END = re.compile(r"(?<![.…])[.!?؟]\s*[\"'»”)]?\s*$")


def _normalize(line: str) -> str:
    """Fold the spellings a pattern must not care about (``normalize_arabic``: tanween and
    other diacritics, tatweel, hamza seats, ya and ta marbuta, presentation forms, bidi
    marks), then the bullets before the line. The patterns are folded the same way."""
    line = _LEAD.sub("", normalize_arabic(line).strip())
    return re.sub(r"\s+", " ", line).strip().lower()


def _is_headline_like(line: str) -> bool:
    """Short line without a sentence end: a list item or link, not body prose."""
    stripped = line.strip()
    return len(stripped) <= 160 and not _SENTENCE_END.search(stripped)


def _is_see_also(norm: str, raw: str) -> bool:
    # "شاهد أيضا المواطنون ..." can be prose; a separator or a headline shape is a link.
    if not _SEE_ALSO.match(norm):
        return False
    return bool(_SEE_ALSO_SEPARATED.match(norm)) or _is_headline_like(raw)


def _is_noise_line(norm: str) -> bool:
    if _AD.match(norm):
        return True
    if _SHARE.match(norm) and (len(norm) <= 60 or _SOCIAL.search(norm)):
        return True
    return bool(_FOLLOW.match(norm)) and len(norm) <= 150


def _skip_list(lines: list[str], start: int, limit: int = 12) -> int:
    """Index after the run of headline-like lines starting at `start`."""
    i, taken = start, 0
    while i < len(lines) and taken < limit:
        if lines[i].strip():
            if not _is_headline_like(lines[i]):
                break
            taken += 1
        i += 1
    return i


def _starts_trailing_block(kept: list[str], rest: list[str]) -> bool:
    """After a related-news heading and its list: is what follows page furniture
    (only headline-like lines, or less than half as much text as the article
    so far) rather than more article?"""
    rest = [ln for ln in rest if ln.strip()]
    if all(_is_headline_like(ln) for ln in rest):
        return True
    return 2 * sum(map(len, rest)) < sum(map(len, kept))


def strip_arabic_boilerplate(text: str) -> str:
    """Line-level cleanup of Arabic page boilerplate after trafilatura.

    Drops "شاهد/اقرأ أيضاً" link lines (a bare marker also takes the link lines
    right after it), share/follow lines and a lone "إعلان". A comment heading
    ("أضف تعليقاً", "التعليقات") cuts everything after it: comments come last and
    are excluded anyway. A related-news / most-read heading ("أخبار ذات صلة",
    "الأكثر قراءة") drops its headline list, and everything after it when that
    is a trailing block (see _starts_trailing_block); mid-article, the article
    continues. Spelling variants (hamza, tanween, tatweel, ة/ه) and trailing
    colons, dashes or counts all match.
    """
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        raw = lines[i]
        if len(raw) > _SHORT_CHARS:
            # Only a "شاهد أيضاً: <headline>" line is this long; its start tells.
            if len(raw) > _PROSE_CHARS or not _SEE_ALSO_SEPARATED.match(_normalize(raw[:60])):
                out.append(raw)
            i += 1
            continue
        norm = _normalize(raw)
        if not norm:
            # Keep blank lines and figures; drop bare symbols (a lone "»" from a link).
            if not raw.strip() or any(ch.isdigit() for ch in raw):
                out.append(raw)
            i += 1
        elif _COMMENT_HEADING.match(norm):
            break
        elif _RELATED_HEADING.match(norm):
            i = _skip_list(lines, i + 1)
            if _starts_trailing_block(out, lines[i:]):
                break
        elif _is_see_also(norm, raw):
            # A bare marker ("شاهد أيضاً:") heads a list of links on the next lines.
            bare = _SEE_ALSO_BARE.match(norm)
            i = _skip_list(lines, i + 1, limit=5) if bare else i + 1
        elif _is_noise_line(norm):
            i += 1
        else:
            out.append(raw)
            i += 1
    return _tidy("\n".join(out))


def _tidy(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines()]
    return "\n".join(ln for ln in lines if ln)


