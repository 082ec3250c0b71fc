"""Main-text extraction of news pages, tuned for Arabic sites.

One parse per page (lxml, comments and processing instructions dropped: a
``<!-- -->`` between two text nodes otherwise cuts the text after it), then:

1. trafilatura finds the body: first its main extractor alone (``fast``), and
   the full cascade (readability/justext comparison, recall retry) only when
   that result fails the checks below; tables are kept (some sites lay the
   body out in one), comments are not.
2. `akhbar.lib.related` drops related-article and see-also lines, decided on
   the page's structure (short lines that are mostly links to other articles
   of the same site, their labels, lists of them), in any wording.
3. `akhbar.lib.boilerplate` drops what its Arabic wording gives away (see-also
   and share lines, comment and related-news headings).

The checks a result must pass cannot be met by boilerplate alone: it must hold
``min_chars`` characters of prose (lines of six or more words, counted
script-aware so Chinese or Japanese pages pass), and it must cover most of the
page's largest block of paragraph prose. A paywall notice or a "for personal
use only" line is prose, but it does not cover the article's paragraphs, so
the next mode is tried: the full cascade, then trafilatura's recall mode, then
that paragraph block itself.
"""

from __future__ import annotations

import copy
import functools
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import Extractor

from akhbar.core.text import detect_language, text_key, word_count
from akhbar.lib.boilerplate import strip_arabic_boilerplate
from akhbar.lib.pagemeta import page_published, page_title
from akhbar.lib.related import PageLines, drop_related_lines, visible_text
from akhbar.lib.web.charset import decode_bytes

__all__ = [
    "ExtractedPage",
    "ExtractionError",
    "extract_article",
    "extract_bytes",
    "extract_tree",
    "parse_html",
    "strip_arabic_boilerplate",
]

# A 10 MB page extracts in a few seconds; beyond this the tail is cut (article
# text sits near the top, the tail of a huge page is scripts and listings).
DEFAULT_MAX_CHARS = 10_000_000
# Above this size only the fast pass runs: trafilatura's comparison with
# readability/justext dominates the run time on a multi-megabyte link farm.
_LARGE_PAGE_CHARS = 2_000_000
# A result must hold this share of the tokens of the page's largest paragraph block.
MIN_COVERAGE = 0.5
# A result of which more than this share was related-article lines is a listing page
# or a sidebar that the extractor took for the body.
MAX_LISTING = 0.3


@dataclass(frozen=True)
class ExtractedPage:
    text: str  # main article text, paragraphs joined by "\n"
    title: str | None
    published: datetime | None  # tz-aware UTC; a date-only value is midnight UTC
    # "trafilatura" (the fast pass), "trafilatura+fallback" (the full cascade, recall
    # mode or the page's largest paragraph block)
    method: str

    @property
    def language(self) -> str:
        """"ar" when most letters of the title and text are Arabic, else "other" (detect_language)."""
        return detect_language(f"{self.title or ''}\n{self.text}")


class ExtractionError(Exception):
    """No article-like text could be extracted from a page."""


# --- parsing --------------------------------------------------------------------

_HTML_MARKER = re.compile(
    r"<\s*(?:!doctype\s+html|html|head|body|meta|title|div|p|article|h[1-6]|section|main)\b", re.I
)
_XML_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>")
# Comments and processing instructions are not page text, and an HtmlComment node
# in the tree breaks trafilatura's readability fallback.
_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False, default_doctype=False)


def parse_html(html: str, where: str = "page") -> lxml.html.HtmlElement:
    """The page's element tree, without comments; ExtractionError when it is not HTML."""
    if "\x00" in html[:4096] or not _HTML_MARKER.search(html[:65536]):
        raise ExtractionError(f"not an HTML document: {where}")
    # lxml rejects str input that carries an encoding declaration.
    html = _XML_DECLARATION.sub("", html, count=1)
    try:
        return lxml.html.document_fromstring(html, parser=_PARSER)
    except (etree.ParserError, ValueError) as err:
        raise ExtractionError(f"unparsable HTML in {where}: {err}") from err


# --- trafilatura ----------------------------------------------------------------

@functools.cache
def _extractor(fast: bool = False, favor_recall: bool = False) -> Extractor:
    """trafilatura's options for one mode, built once per process (building them reads its
    configuration each time): comments off, tables on, no metadata (read from our tree)."""
    return Extractor(
        output_format="python", fast=fast, recall=favor_recall, comments=False, tables=True,
        images=False, links=False, with_metadata=False,
    )


def _trafilatura(tree: lxml.html.HtmlElement, url: str | None, **mode: bool) -> str:
    """trafilatura's main text in one mode; "" when it finds none."""
    options = copy.copy(_extractor(**mode))
    options.url = options.source = url
    doc = trafilatura.bare_extraction(tree, options=options)
    return (doc.text or "") if doc is not None else ""


# --- checks ---------------------------------------------------------------------


def _prose_length(text: str, link_texts: set[str]) -> int:
    """Characters in sentence-like lines (six words or more, counted script-aware, and
    not a link's text): menus and headline lists are not an article."""
    return sum(
        len(line)
        for line in text.splitlines()
        if word_count(line) >= 6 and " ".join(line.split()) not in link_texts
    )


def _paragraph_text(p: lxml.html.HtmlElement) -> str:
    """Text of a <p>, or "" when it is mostly link text (a headline list item)."""
    text = visible_text(p)
    linked = sum(len(visible_text(a)) for a in p.iter("a"))
    return "" if linked * 2 > len(text) else text


def _largest_paragraph_block(tree: lxml.html.HtmlElement) -> str:
    """Text of the element whose <p> children hold the most non-link text: on a news
    page, the article's paragraphs. The reference the checks compare with, and the
    last resort when trafilatura finds nothing article-like."""
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


def _coverage(text: str, reference: Counter[str]) -> float:
    """Share of the reference's tokens (with multiplicity) that `text` holds."""
    total = sum(reference.values())
    if not total:
        return 1.0
    found = Counter(text_key(text).split())
    return sum((reference & found).values()) / total


@dataclass(frozen=True)
class _Candidate:
    text: str  # cleaned
    method: str
    listing: float  # share of the raw text that was related-article lines


def _candidate(raw: str, method: str, lines: PageLines) -> _Candidate:
    """A cleaned extraction: without the page's related-article lines, then without lexical boilerplate."""
    without_related = drop_related_lines(raw, lines.related(raw))
    listing = 1 - len(without_related) / len(raw) if raw else 0.0
    return _Candidate(strip_arabic_boilerplate(without_related), method, listing)


class _Checks:
    """The checks a candidate must pass, for one page. None of them is met by boilerplate
    prose alone (see the module docstring)."""

    def __init__(self, min_chars: int, link_texts: set[str], block: str):
        self.min_chars = min_chars
        self.link_texts = link_texts
        self.block = block  # the page's largest paragraph block
        self._reference: Counter[str] | None = None  # its tokens, when first needed
        self._prose: dict[str, int] = {}

    def prose(self, text: str) -> int:
        if text not in self._prose:
            self._prose[text] = _prose_length(text, self.link_texts)
        return self._prose[text]

    def misses_block(self, text: str) -> bool:
        """True when the page's paragraph block is larger than `text` and `text` holds
        less than half of it: the extractor kept something else than the article."""
        if len(self.block) <= len(text):
            return False
        if self._reference is None:
            self._reference = Counter(text_key(self.block).split())
        return _coverage(text, self._reference) < MIN_COVERAGE

    def score(self, candidate: _Candidate) -> tuple[bool, bool, bool, int]:
        """Enough prose, the paragraph block covered, not mostly a listing of other
        articles, then the amount of prose: a candidate passes with the first three."""
        prose = self.prose(candidate.text)
        return (
            prose >= self.min_chars,
            not self.misses_block(candidate.text),
            candidate.listing <= MAX_LISTING,
            prose,
        )

    def passes(self, candidate: _Candidate) -> bool:
        return all(self.score(candidate)[:3])


# --- extraction -----------------------------------------------------------------


def extract_article(
    html: str,
    url: str | None = None,
    *,
    min_chars: int = 80,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> ExtractedPage:
    """Main text of a news page with page boilerplate removed (see the module docstring).

    HTML longer than `max_chars` characters (not bytes) is cut there first (lxml
    recovers the truncated markup). `title` is og:title / twitter:title / <h1> /
    <title>; `published` comes from <meta>, JSON-LD or <time> (with time zone), else
    htmldate (date only, midnight UTC). Raises ExtractionError when nothing
    article-like remains.
    """
    where = repr(url) if url else "page"
    if not isinstance(html, str):
        raise TypeError(f"extract_article expects str HTML, got {type(html).__name__} for {where}")
    if not html.strip():
        raise ExtractionError(f"empty document: {where}")
    html = html[:max_chars]
    return extract_tree(parse_html(html, where), url, min_chars=min_chars, full=len(html) <= _LARGE_PAGE_CHARS)


def extract_bytes(body: bytes, url: str | None = None, charset: str | None = None, **options: int) -> ExtractedPage:
    """`extract_article` on a page's bytes, decoded as the pipeline decodes fetched pages
    (`charset`: the HTTP header's, if any; see ``akhbar.lib.web.charset.decode_bytes``)."""
    html, _encoding = decode_bytes(body, charset)
    return extract_article(html, url, **options)


def extract_tree(
    tree: lxml.html.HtmlElement, url: str | None = None, *, min_chars: int = 80, full: bool = True
) -> ExtractedPage:
    """`extract_article` on a parsed page (`parse_html`); the tree is not modified.

    With ``full=False`` (huge pages) only the fast pass and the paragraph block run.
    """
    where = repr(url) if url else "page"
    lines = PageLines(tree, url)
    checks = _Checks(min_chars, lines.link_texts(), _largest_paragraph_block(tree))

    best = _candidate(_trafilatura(tree, url, fast=True), "trafilatura", lines)
    if not checks.passes(best):
        candidates = [best]
        for mode in [{"fast": False}, {"fast": False, "favor_recall": True}] if full else []:
            candidates.append(_candidate(_trafilatura(tree, url, **mode), "trafilatura+fallback", lines))
            if checks.passes(candidates[-1]):
                break
        best = max(candidates, key=checks.score)
        if not checks.passes(best):
            block = _candidate(checks.block, "trafilatura+fallback", lines)
            if checks.score(block) > checks.score(best):
                best = block
    text = best.text
    if (found := checks.prose(text)) < min_chars:
        raise ExtractionError(
            f"no main text found in {where}: {found} chars of prose after cleanup, need {min_chars}"
        )
    return ExtractedPage(
        text=_tidy(text), title=page_title(tree), published=page_published(tree, url), method=best.method
    )


_CELL_EDGES = re.compile(r"^\|\s*|\s*\|$")


def _tidy(text: str) -> str:
    """Whitespace collapsed, blank lines dropped, and table rows without their outer bars
    ("| paragraph |" from a body laid out in a table reads as the paragraph)."""
    lines = (_CELL_EDGES.sub("", " ".join(line.split())) for line in text.splitlines())
    return "\n".join(line for line in lines if line)
