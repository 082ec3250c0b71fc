"""Related-article and see-also lines, found from the page's structure rather than its wording.

News sites put links to their other articles in and around the body: a short
paragraph holding a label and a linked headline ("اقرأ أيضاً: ...", "Related:
..."), a label paragraph followed by a linked headline, cards and lists of
linked headlines. The labels come in dozens of wordings in every language; the
shape does not: a short line whose text is mostly links to *other pages of the
same site*, with at most a short label around them.

`PageLines` renders the page's DOM into visual lines once (a block element or a
``<br>`` ends a line, as a browser would break it). `PageLines.related(text)`
classifies the lines an extracted text may hold (those with a link whose text
starts or ends one of its lines) and returns the keys (``text_key``) of the
related lines, their labels and their link texts; `drop_related_lines` removes
the lines of the extracted text that match. Body prose that merely contains a
link is kept: the text around the link is a sentence (words on both sides, or
more than a label's worth of words), not a label. The rule's thresholds are the
constants below; docs/extraction.md states it in full.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from akhbar.core.text import text_key, word_count

__all__ = ["PageLines", "RelatedLines", "drop_related_lines", "related_lines", "site_key", "visible_text"]

# Elements that start a new visual line (HTML's block-level elements and the ones
# CMSs use as blocks), and elements whose text is never page text.
_BLOCK = frozenset(
    "address article aside blockquote body br caption center dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main menu nav ol p pre "
    "section summary table tbody td tfoot th thead tr ul".split()
)
_SKIP = frozenset("script style noscript template svg math iframe object select option textarea button head".split())

# A label is at most this many words (a sentence is longer), a related line at most
# this many (two headlines and a label).
MAX_LABEL_WORDS = 6
MAX_SEPARATED_LABEL_WORDS = 10
MAX_HEADING_WORDS = 8
MAX_LINE_WORDS = 45
MAX_LINE_CHARS = 400
# A linked line this long that ends with a full stop is a sentence, not a headline.
MIN_SENTENCE_WORDS = 15
# A label's length in key characters (spaces and punctuation removed): six words.
MAX_LABEL_CHARS = 40
# Link targets that are files, not article pages.
_ASSET = re.compile(r"\.(?:jpe?g|png|gif|webp|svg|bmp|ico|pdf|docx?|xlsx?|pptx?|zip|rar|mp[34]|m4a|wav|ogg|avi|mov)$", re.I)
# A full stop ends a sentence; an ellipsis ("اقرأ أيضاً..", "Read more…") ends a label.
_SENTENCE_END = re.compile(r"(?<![.…])[.!?؟。！？]\s*[\"'»”’)\]]*\s*$")
# What separates a label from its link: "اقرأ أيضاً: ...", "Related - ...", "» ...".
_LABEL_END = re.compile(r"[:：\-–—|»«›‹>•*،,]\s*$")
# What may end a longer label: a colon, a dash, a bar or an arrow (not a comma or a quote).
_LONG_LABEL_END = re.compile(r"[:：\-–—|›>•]\s*$")
_ANY_WORD = re.compile(r"\w", re.UNICODE)
# Second-level labels under which sites register (example.com.tn, example.co.uk).
_SECOND_LEVEL = frozenset("com net org gov edu ac co or ne go mil info".split())


def site_key(host: str) -> str:
    """The registrable part of a host name: www.assabah.com.tn and m.assabah.com.tn -> assabah.com.tn."""
    host = host.lower().rstrip(".")
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


class _Line:
    """One visual line: its text pieces and links, in order."""

    __slots__ = ("_text", "links", "pieces")

    def __init__(self) -> None:
        self.pieces: list[str] = []
        # (index in pieces, href, texts of the block elements inside the link)
        self.links: list[tuple[int, str, list[str]]] = []
        self._text: str | None = None

    def text(self) -> str:
        if self._text is None:
            self._text = " ".join(" ".join(self.pieces).split())
        return self._text


@dataclass(frozen=True)
class RelatedLines:
    """A page's related-article lines, their labels and their links' texts, as keys
    (``text_key`` without spaces) and as the texts an extracted line holds when it is one."""

    line_keys: frozenset[str]
    link_keys: frozenset[str]
    texts: frozenset[str]  # link and label texts, trimmed: a matching line contains one
    count: int  # related lines found

    def __bool__(self) -> bool:
        return bool(self.line_keys or self.link_keys)


class _Linker:
    """Decides whether an href points to another page of the page's own site."""

    def __init__(self, tree: lxml.html.HtmlElement, url: str | None):
        base = tree.find(".//base[@href]")
        self._base = urljoin(url or "", base.get("href", "")) if base is not None else (url or "")
        # The site is the page URL's and its canonical URL's (an AMP or mirror address
        # links to the site it copies).
        pages = [u for u in (url, *_meta_urls(tree)) if u]
        self._sites = {site_key(host) for u in pages if (host := _hostname(u))}
        self._self = {_page_id(u) for u in pages}
        self._seen: dict[str, bool] = {}

    def is_article_link(self, href: str) -> bool:
        if href not in self._seen:
            self._seen[href] = self._is_article_link(href)
        return self._seen[href]

    def _is_article_link(self, href: str) -> bool:
        href = href.strip()
        if not href or href.startswith("#"):
            return False
        try:
            target = urlsplit(urljoin(self._base, href) if self._base else href)
            host = target.hostname
        except ValueError:
            return False
        if target.scheme and target.scheme not in ("http", "https"):
            return False
        if host:
            if not self._sites:
                if target.scheme:  # an absolute link on a page of unknown site: cannot tell
                    return False
            elif site_key(host) not in self._sites:
                return False
        path = target.path.rstrip("/")
        if not path and not target.query:
            return False  # the home page
        if _ASSET.search(path):
            return False
        return _page_id(target.geturl()) not in self._self


def _meta_urls(tree: lxml.html.HtmlElement) -> list[str]:
    """The page's canonical and og:url addresses."""
    found = tree.xpath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content")
    return [str(u) for u in found if str(u).startswith(("http://", "https://"))]


def _hostname(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _page_id(url: str) -> str:
    """Host and path of a URL, which is what makes a link point to this very page."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return f"{(parts.hostname or '').removeprefix('www.')}{parts.path.rstrip('/')}?{parts.query}"


def _render_lines(root: lxml.html.HtmlElement) -> list[_Line]:
    """The page's visual lines, in document order: a block element or <br> ends a line."""
    lines: list[_Line] = []
    current = _Line()
    block, skip = _BLOCK, _SKIP
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag
        if tag.__class__ is not str:  # an entity or other special node
            tag = ""
        if event == "start":
            if tag in skip:
                walker.skip_subtree()
                continue
            if tag in block and current.pieces:
                lines.append(current)
                current = _Line()
            if tag == "a":
                href = element.get("href")
                if href is not None:
                    walker.skip_subtree()
                    text = " ".join(element.text_content().split())
                    if text:
                        parts = _block_parts(element) if len(element) else []
                        current.links.append((len(current.pieces), href, parts))
                        current.pieces.append(text)
                    continue
            text = element.text
        else:
            if tag in block and current.pieces:
                lines.append(current)
                current = _Line()
            text = element.tail
        if text and not text.isspace():
            current.pieces.append(text)
    if current.pieces:
        lines.append(current)
    return lines


def visible_text(element: lxml.html.HtmlElement) -> str:
    """The element's text without script, style and other non-text elements, whitespace collapsed."""
    pieces: list[str] = []
    walker = etree.iterwalk(element, events=("start", "end"))
    for event, node in walker:
        if event == "start":
            if isinstance(node.tag, str) and node.tag in _SKIP:
                walker.skip_subtree()
            elif node.text:
                pieces.append(node.text)
        elif node is not element and node.tail:
            pieces.append(node.tail)
    return " ".join(" ".join(pieces).split())


def _block_parts(anchor: lxml.html.HtmlElement) -> list[str]:
    """Texts of the block elements inside a link (a card's headline, its teaser), which an
    extractor may print on lines of their own."""
    parts = []
    for child in anchor.iter():
        if isinstance(child.tag, str) and child.tag in _BLOCK and child is not anchor:
            text = " ".join(child.text_content().split())
            if text:
                parts.append(text)
    return parts


@dataclass(frozen=True)
class _Shape:
    """A line split around its links to other articles of the site."""

    text: str
    link_texts: list[str]
    link_parts: list[str]
    before: str  # text before the first article link
    after: str  # text after the last one
    other_links: int  # links elsewhere: other sites, the page itself, anchors


def _shape(line: _Line, linker: _Linker) -> _Shape:
    article = {i for i, href, _ in line.links if linker.is_article_link(href)}
    parts = [p for i, _, ps in line.links if i in article for p in ps]
    first, last = (min(article), max(article)) if article else (len(line.pieces), len(line.pieces))
    return _Shape(
        text=line.text(),
        link_texts=[line.pieces[i] for i in sorted(article)],
        link_parts=parts,
        before=" ".join(" ".join(line.pieces[:first]).split()),
        after=" ".join(" ".join(line.pieces[last + 1 :]).split()) if article else "",
        other_links=len(line.links) - len(article),
    )


def _is_related(shape: _Shape) -> bool:
    """A short line that is mostly links to other articles, with at most a label around them."""
    if not shape.link_texts or shape.other_links > len(shape.link_texts):
        return False
    words = word_count(shape.text)
    if words > MAX_LINE_WORDS:
        return False
    before, after = shape.before, shape.after
    # Text on both sides of the link reads as a sentence with a link in it, unless the
    # text before ends like a label ("اقرأ أيضاً:") and the text after is a short tag ("(فيديو)").
    if before and after and _ANY_WORD.search(after):
        if not _LABEL_END.search(before) or word_count(after) > 3:
            return False
    # Words outside the links (the label, a tag, text between two links): a label's worth,
    # and no more than the links hold.
    # A label that ends with a colon or dash right before the link may be longer.
    linked = sum(word_count(t) for t in shape.link_texts)
    outside = words - linked
    limit = MAX_SEPARATED_LABEL_WORDS if (_LONG_LABEL_END.search(before) and not after) else MAX_LABEL_WORDS
    if outside > limit or outside > linked:
        return False
    # A label that ends a sentence before a link is a sentence ("... أمس. <a>التفاصيل</a>" is not),
    # and so is a long linked line that ends like one (a headline is shorter).
    if before and _SENTENCE_END.search(before) and word_count(before) > 3:
        return False
    return not (words >= MIN_SENTENCE_WORDS and _SENTENCE_END.search(shape.text))


def _is_label(line: _Line, limit: int) -> bool:
    """A short line without links or a sentence end: a heading or label for what follows."""
    if line.links:
        return False
    text = line.text()
    return 0 < word_count(text) <= limit and len(text) <= 80 and not _SENTENCE_END.search(text)


class PageLines:
    """A parsed page rendered into lines once, asked which lines of an extracted text are
    related-article lines. Only lines with a link whose text the extracted text holds are
    classified, which keeps the cost to the kept part of the page."""

    def __init__(self, tree: lxml.html.HtmlElement, url: str | None = None):
        body = tree.find("body")
        self._lines = _render_lines(body if body is not None else tree)
        self._linker = _Linker(tree, url)
        self._related: dict[int, _Shape | None] = {}

    def link_texts(self) -> set[str]:
        """The text of every link on the page, whitespace collapsed."""
        return {line.pieces[j] for line in self._lines for j, _, _ in line.links}

    def _related_shape(self, i: int) -> _Shape | None:
        if not self._lines[i].links:
            return None
        if i not in self._related:
            shape = _shape(self._lines[i], self._linker)
            self._related[i] = shape if _is_related(shape) else None
        return self._related[i]

    def _labels(self, i: int) -> bool:
        """Is line i the label of the related line after it (which has no label of its own),
        or the heading of a run of two or more related lines?"""
        if i + 1 >= len(self._lines) or not _is_label(self._lines[i], MAX_HEADING_WORDS):
            return False
        following = self._related_shape(i + 1)
        if following is None:
            return False
        unlabeled = not following.before and not following.after
        return unlabeled or (i + 2 < len(self._lines) and self._related_shape(i + 2) is not None)

    def related(self, kept: str) -> RelatedLines:
        """The related lines, labels and link texts among the lines `kept` may hold.

        A line before a related line is its label when it is short and link-free and the
        related line carries no label of its own; a heading (up to 8 words) before a run
        of two or more related lines is the list's heading.
        """
        # A related line, its link or its label starts or ends a line of the kept text;
        # a word that a link shares with a sentence does not. Prose lines are too long to matter.
        edges = "\n" + "\n".join(_trim(line) for line in kept.splitlines() if len(line) <= MAX_LINE_CHARS) + "\n"

        def at_edge(text: str) -> str:
            text = _trim(text)
            return text if text and (f"\n{text}" in edges or f"{text}\n" in edges) else ""

        line_keys: set[str] = set()
        link_keys: set[str] = set()
        texts: set[str] = set()
        count = 0
        for i, line in enumerate(self._lines):
            if not line.links:
                # A label or heading the extractor kept, whose related lines it may have dropped.
                if i + 1 == len(self._lines) or not self._lines[i + 1].links or len(line.text()) > 80:
                    continue
                if (label := at_edge(line.text())) and self._labels(i):
                    line_keys.add(_compact(label))
                    texts.add(label)
                continue
            if not any(at_edge(line.pieces[j]) for j, _, _ in line.links):
                continue
            shape = self._related_shape(i)
            if shape is None:
                continue
            count += 1
            line_keys.add(_compact(shape.text))
            for link in (*shape.link_texts, *shape.link_parts):
                link_keys.add(_compact(link))
                texts.add(_trim(link))
        line_keys.discard("")
        link_keys.discard("")
        texts.discard("")
        return RelatedLines(frozenset(line_keys), frozenset(link_keys), frozenset(texts), count)


_NON_WORD_RUN = re.compile(r"[\W_]+")
_NON_WORD_END = re.compile(r"[\W_]+$")


def _trim(text: str) -> str:
    """`text` in NFC (as extractors print it), its whitespace collapsed, without punctuation
    at either end."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    if (lead := _NON_WORD_RUN.match(text)) is not None:
        text = text[lead.end():]
    if text and not text[-1].isalnum() and (tail := _NON_WORD_END.search(text)) is not None:
        text = text[: tail.start()]
    return text


def related_lines(tree: lxml.html.HtmlElement, url: str | None = None, kept: str | None = None) -> RelatedLines:
    """The related-article lines of a parsed page (of those `kept` holds, when given)."""
    pages = PageLines(tree, url)
    if kept is None:
        kept = "\n".join(line.text() for line in pages._lines)
    return pages.related(kept)


def _compact(text: str) -> str:
    """``text_key`` without spaces: an extractor may join a label and its link with or without one."""
    return text_key(text).replace(" ", "")


def drop_related_lines(text: str, related: RelatedLines) -> str:
    """`text` without the lines that are a related line, label or link of the page.

    A line matches when its key is one of them, or when it starts or ends with a
    related link's text and the rest is no longer than a label (the extractor may
    join a label and its link differently than the page's lines do). Only short
    lines that hold one of the related texts are keyed.
    """
    if not related:
        return text
    kept = []
    for line in text.splitlines():
        if len(line) <= MAX_LINE_CHARS and any(t in line for t in related.texts):
            key = _compact(line)
            if key and (key in related.line_keys or key in related.link_keys or _holds_link(key, related.link_keys)):
                continue
        kept.append(line)
    return "\n".join(kept)


def _holds_link(key: str, link_keys: frozenset[str]) -> bool:
    """A line that starts or ends with a related link's text, the rest no longer than a label."""
    for link in link_keys:
        if 2 * len(link) >= len(key) and len(key) - len(link) <= MAX_LABEL_CHARS:
            if key.startswith(link) or key.endswith(link):
                return True
    return False
