"""Main-text extraction for Arabic news pages.

trafilatura finds the article body well, but on Arabic sites it keeps inline
"شاهد أيضاً:" link lines and comment-form headings, and sometimes related-news
lists (see docs: beam-notes "Extraction"). `strip_arabic_boilerplate` removes
those line by line after trafilatura.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

import lxml.html
import trafilatura
from lxml import etree

from akhbar.core.text import normalize_arabic

__all__ = ["ExtractedPage", "ExtractionError", "extract_article", "strip_arabic_boilerplate"]

# A 10 MB page extracts in a few seconds; beyond this the tail is cut (article
# text sits near the top, the tail of a huge page is scripts and listings).
DEFAULT_MAX_CHARS = 10_000_000
# On pages above this size trafilatura's metadata pass (author, licence, ...) and
# its justext/readability fallbacks dominate the run time (35 s on a 10 MB link
# farm); there it runs once, in fast mode, and title/date come from our lookups.
_LARGE_PAGE_CHARS = 2_000_000


@dataclass(frozen=True)
class ExtractedPage:
    text: str  # main article text, paragraphs joined by "\n"
    title: str | None
    published: datetime | None  # tz-aware UTC; a date-only value is midnight UTC
    method: str  # "trafilatura" or "trafilatura+fallback" (recall mode / <p> runs)


class ExtractionError(Exception):
    """No article-like text could be extracted from a page."""


# --- Arabic boilerplate ---------------------------------------------------------

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
_SENTENCE_END = re.compile(r"[.!?؟…]\s*[\"'»”)]?\s*$")


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


# --- metadata -------------------------------------------------------------------

_DATE_META = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "date",
    "dc.date.issued",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
)


def _parse_datetime(value: str) -> datetime | None:
    """ISO-8601 value -> aware UTC datetime; naive values are taken as UTC."""
    value = value.strip()
    if not value:
        return None
    if value[-1] in "Zz":  # Python 3.10's fromisoformat does not read "Z"
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value[:10]), time())
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


_JSONLD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')


def _published_from_tree(tree: lxml.html.HtmlElement) -> datetime | None:
    """Publication time from <meta>, JSON-LD and <time datetime>, which carry a
    time zone (htmldate, via trafilatura, gives a date only)."""
    metas: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        content = meta.get("content")
        if key and content and key not in metas:
            metas[key] = content
    for key in _DATE_META:
        if key in metas and (parsed := _parse_datetime(metas[key])):
            return parsed
    for script in tree.xpath("//script[@type='application/ld+json']"):
        found = _JSONLD_DATE.search(script.text or "")
        if found and (parsed := _parse_datetime(found.group(1))):
            return parsed
    for node in tree.iter("time"):
        if node.get("datetime") and (parsed := _parse_datetime(node.get("datetime", ""))):
            return parsed
    return None


# --- extraction ---------------------------------------------------------------

_HTML_MARKER = re.compile(
    r"<\s*(?:!doctype\s+html|html|head|body|meta|title|div|p|article|h[1-6]|section|main)\b", re.I
)
_COMMON = dict(
    include_comments=False,
    include_tables=False,
    include_images=False,
    include_links=False,
    output_format="python",
)


def _parse(html: str, where: str) -> lxml.html.HtmlElement:
    if "\x00" in html[:4096] or not _HTML_MARKER.search(html[:65536]):
        raise ExtractionError(f"not an HTML document: {where}")
    # lxml rejects str input that carries an encoding declaration.
    html = re.sub(r"^\ufeff?\s*<\?xml[^>]*\?>", "", html, count=1)
    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as err:
        raise ExtractionError(f"unparsable HTML in {where}: {err}") from err
    return tree


def _run_trafilatura(
    tree: lxml.html.HtmlElement, url: str | None, **options: bool
) -> tuple[str, str | None, str | None]:
    """(text, title, date) from trafilatura; empty text when it finds nothing."""
    doc = trafilatura.bare_extraction(tree, url=url, **_COMMON, **options)
    if doc is None:
        return "", None, None
    return doc.text or "", doc.title, doc.date


def _link_texts(tree: lxml.html.HtmlElement) -> set[str]:
    return {" ".join(a.text_content().split()) for a in tree.iter("a")} - {""}


def _prose_length(text: str, link_texts: set[str]) -> int:
    """Characters in sentence-like lines (6+ words, not a link's text): menus and
    headline lists, which trafilatura's recall mode returns, are not an article."""
    return sum(
        len(line)
        for line in text.splitlines()
        if len(line.split()) >= 6 and " ".join(line.split()) not in link_texts
    )


def _paragraph_text(p: lxml.html.HtmlElement) -> str:
    """Text of a <p>, or "" when it is mostly link text (a headline list item)."""
    text = " ".join(p.text_content().split())
    linked = sum(len(" ".join(a.text_content().split())) for a in p.iter("a"))
    return "" if linked * 2 > len(text) else text


def _longest_paragraph_run(tree: lxml.html.HtmlElement) -> str:
    """Text of the container holding the most <p> text: a last resort for pages
    that trafilatura rejects (e.g. bodies it deems too short or link-heavy)."""
    best, best_len = "", 0
    for parent in dict.fromkeys(p.getparent() for p in tree.iter("p")):
        if parent is None:
            continue
        paras = [_paragraph_text(p) for p in parent.findall("p")]
        paras = [p for p in paras if p]
        size = sum(map(len, paras))
        if size > best_len:
            best, best_len = "\n".join(paras), size
    return best


def extract_article(
    html: str,
    url: str | None = None,
    *,
    min_chars: int = 80,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> ExtractedPage:
    """Main text of an Arabic news page with page boilerplate removed.

    trafilatura (precision mode, no comments/tables) then Arabic line cleanup. If
    fewer than `min_chars` characters of prose (lines of 6+ words) remain, it tries
    trafilatura's recall mode, then the largest run of non-link <p> text, and
    `method` says so. HTML longer than `max_chars` characters (not bytes) is cut
    there first (lxml recovers the truncated markup), which keeps a 10 MB page to
    a few seconds. `title` is trafilatura's, else og:title / <h1> / <title>;
    `published` comes from <meta>, JSON-LD or <time> (with time zone), else
    trafilatura's htmldate (date only, midnight UTC). On pages over 2M characters
    trafilatura runs once, in fast mode, without metadata or the recall retry.
    Raises ExtractionError when nothing article-like remains.
    """
    where = repr(url) if url else "page"
    if not isinstance(html, str):
        raise TypeError(f"extract_article expects str HTML, got {type(html).__name__} for {where}")
    if not html.strip():
        raise ExtractionError(f"empty document: {where}")
    html = html[:max_chars]
    tree = _parse(html, where)
    published = _published_from_tree(tree)
    small = len(html) <= _LARGE_PAGE_CHARS

    links = _link_texts(tree)
    opts = {"with_metadata": small, "fast": not small}

    text, title, date_str = _run_trafilatura(tree, url, favor_precision=True, **opts)
    text = strip_arabic_boilerplate(text)
    method = "trafilatura"
    if small and _prose_length(text, links) < min_chars:
        recall, r_title, r_date = _run_trafilatura(tree, url, favor_recall=True, **opts)
        recall = strip_arabic_boilerplate(recall)
        title, date_str = title or r_title, date_str or r_date
        if _prose_length(recall, links) > _prose_length(text, links):
            text, method = recall, "trafilatura+fallback"
    if _prose_length(text, links) < min_chars:
        runs = strip_arabic_boilerplate(_longest_paragraph_run(tree))
        if _prose_length(runs, links) > _prose_length(text, links):
            text, method = runs, "trafilatura+fallback"
    if (found := _prose_length(text, links)) < min_chars:
        raise ExtractionError(
            f"no main text found in {where}: {found} chars of prose after cleanup, need {min_chars}"
        )
    if published is None and date_str:
        published = _parse_datetime(date_str)
    return ExtractedPage(text=text, title=title or _title_from_tree(tree), published=published, method=method)


def _title_from_tree(tree: lxml.html.HtmlElement) -> str | None:
    for xpath in ("//meta[@property='og:title']/@content", "//h1", "//title"):
        found = tree.xpath(xpath)
        if found:
            value = found[0] if isinstance(found[0], str) else found[0].text_content()
            value = " ".join(value.split())
            if value:
                return value
    return None
