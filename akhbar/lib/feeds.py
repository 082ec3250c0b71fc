"""Feed bytes -> FeedItems: our own decoding, an entity check, then feedparser.

Bytes are fetched by the project's HTTP client (timeouts, size cap, address
guard) and only then parsed here: feedparser has no timeout of its own. The
bytes are decoded here, not by feedparser (``akhbar.lib.web.charset``: a wrong
or missing label over Arabic bytes is detected, and one invalid byte in a
UTF-8 feed costs that byte only), and feedparser gets UTF-8.

Each entry is read faithfully: links are resolved against ``xml:base`` and the
feed's URL; a GUID is a URL only when it is written as an absolute http(s) URL
(feedparser copies any RSS ``<guid>`` into ``link`` when there is no
``<link>``); plain-text fields keep their angle brackets and have their
entities decoded; dates are the published, else updated, else created date.
What a feed's poller remembers between polls (validators, content hash,
backoff, the entries it saw last) is ``FeedState``.
"""
from __future__ import annotations

import calendar
import codecs
import hashlib
import html
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from xml.parsers import expat

import feedparser
import lxml.html

from akhbar.core.urls import absolute_http_url, resolve_link
from akhbar.lib.web.charset import decode_bytes, effective_label, label_codec, repair_mojibake
from akhbar.lib.web.http import HttpConfig
from akhbar.schemas.records import FeedItem

# A feed never needs its own entity declarations; refusing them defuses
# entity-expansion ("billion laughs") payloads before feedparser runs. What counts
# is the DOCTYPE's internal subset as an XML parser reads it (any encoding, any
# length), not the text: an item that merely mentions "<!ENTITY" is fine.
_PROLOG_CHUNK = 64 * 1024
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_ELEMENT_START = re.compile(r"<[A-Za-z_:]")
_CHARREF = re.compile(rb"&#([xX][0-9A-Fa-f]+|[0-9]+);")
_TEXT_ENTITY = re.compile(r"<!ENTITY\s+(?:%\s*)?([^\s>]*)")
# The encoding pseudo-attribute of the XML declaration, rewritten once the text is decoded.
_PROLOG_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")
_PLAIN_TEXT_TYPES = frozenset({"text/plain", "text"})
_SPACES = re.compile(r"[ \t\xa0]+")


class FeedError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class PollConfig:
    http: HttpConfig = HttpConfig()
    interval_s: float = 300.0
    max_backoff_s: float = 3600.0
    remember_entries: int = 5000


@dataclass
class FeedState:
    """What a feed's poller remembers between polls."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    failures: int = 0
    next_due: float = 0.0
    seen: OrderedDict[str, float] = field(default_factory=OrderedDict)

    def remember(self, key: str, now: float, limit: int, keep: int = 0) -> None:
        """Mark ``key`` seen now: the most recently seen entries are the ones kept.

        Called on every sighting, so an entry still in the feed never ages out;
        ``keep`` (the size of the current feed) raises the limit so that a feed
        longer than ``limit`` does not evict its own entries on every poll.
        """
        self.seen[key] = now
        self.seen.move_to_end(key)
        while len(self.seen) > max(limit, keep):
            self.seen.popitem(last=False)


@dataclass(frozen=True)
class ParsedFeed:
    outlet: str | None
    items: list[FeedItem]
    bozo: str | None
    charset_repaired: bool


def plain_text(value: str | None) -> str | None:
    """A plain-text feed field: entities decoded (``Q&amp;A``), angle brackets kept as written."""
    if not value or not value.strip():
        return None
    lines = [_SPACES.sub(" ", line).strip() for line in html.unescape(value).split("\n")]
    return "\n".join(line for line in lines if line) or None


def fragment_text(fragment: str | None) -> str | None:
    """Plain text of an HTML fragment from a feed (summary/content), one line per block."""
    if not fragment or not fragment.strip():
        return None
    if "<" not in fragment:
        return plain_text(fragment)
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except Exception:
        return re.sub(r"<[^>]+>", " ", fragment).strip() or None
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter("p", "div", "li", "h1", "h2", "h3", "h4", "blockquote"):
        block.tail = "\n" + (block.tail or "")
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in root.text_content().split("\n")]
    return "\n".join(line for line in lines if line) or None


def _struct_to_utc(value) -> datetime | None:
    # feedparser normalizes every date it understands to a UTC struct_time.
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
    except (OverflowError, ValueError, TypeError):
        return None


def field_text(value: str | None, content_type: str | None) -> str | None:
    """The text of one feed field, by its declared type: plain text as written, HTML without its tags."""
    if (content_type or "").lower() in _PLAIN_TEXT_TYPES:
        return plain_text(value)
    return fragment_text(value)


def _repair(text: str | None) -> tuple[str | None, bool]:
    if not text:
        return text, False
    return repair_mojibake(text)


class _PrologEnd(Exception):
    """Raised from expat's handlers: the prolog is read (root element reached, or an entity found)."""


def _expat_entity(body: bytes, encoding: str | None = None) -> str | None:
    """The first entity the DOCTYPE declares, as expat reads the prolog; None if it declares none.

    Stops at the root element's start tag, after which no declaration can come.
    Raises expat.ExpatError when the prolog itself is not well-formed XML.
    """
    found: list[str] = []

    def on_entity(name, is_parameter, *_rest) -> None:
        found.append(("%" if is_parameter else "") + name)
        raise _PrologEnd

    def on_start(*_args) -> None:
        raise _PrologEnd

    parser = expat.ParserCreate(encoding)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)  # never read an external DTD
    parser.EntityDeclHandler = on_entity
    parser.StartElementHandler = on_start
    try:
        for start in range(0, len(body), _PROLOG_CHUNK):
            parser.Parse(body[start : start + _PROLOG_CHUNK], False)
        parser.Parse(b"", True)
    except _PrologEnd:
        pass
    return found[0] if found else None


def _python_decode(body: bytes) -> str:
    """The document as text, for encodings expat does not know: BOM, else declaration, else UTF-8."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace")
    declared = _XML_ENCODING.match(body)
    try:
        return body.decode(declared.group(1).decode("ascii") if declared else "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def declared_entity(body: bytes) -> str | None:
    """The first XML entity the feed's DOCTYPE declares (internal subset), or None.

    Read by expat (Python's own XML parser, the one defusedxml guards the same way),
    in the document's encoding; an encoding expat does not know is decoded by Python
    first. A prolog that is not XML at all is searched as text up to the first element.
    """
    body = body.lstrip(b" \t\r\n") if body[:1].isspace() else body
    try:
        return _expat_entity(body)
    except expat.ExpatError as exc:
        if exc.code != expat.errors.codes[expat.errors.XML_ERROR_UNKNOWN_ENCODING]:
            return _textual_entity(_python_decode(body))
    except (ValueError, LookupError):  # pyexpat refuses multi-byte encodings it has no table for
        pass
    text = _python_decode(body)
    try:
        return _expat_entity(text.encode("utf-8"), encoding="utf-8")
    except expat.ExpatError:
        return _textual_entity(text)


def _textual_entity(text: str) -> str | None:
    """Fallback for a prolog expat cannot read: a declaration before the first element."""
    first_element = _ELEMENT_START.search(text)
    head = text if first_element is None else text[: first_element.start()]
    match = _TEXT_ENTITY.search(head)
    return None if match is None else (match.group(1) or "?")


def _valid_charref(match: re.Match) -> bytes:
    digits = match.group(1)
    try:
        code = int(digits[1:], 16) if digits[:1] in (b"x", b"X") else int(digits)
    except ValueError:
        return b"&#xFFFD;"
    return match.group(0) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else b"&#xFFFD;"


def _replace_invalid_charrefs(body: bytes) -> bytes:
    """``&#xD800;``, ``&#x110000;`` and the like become U+FFFD: feedparser raises on them."""
    return _CHARREF.sub(_valid_charref, body) if b"&#" in body else body


def _charset_param(content_type: str | None) -> str | None:
    for param in (content_type or "").split(";")[1:]:
        name, eq, value = param.partition("=")
        if eq and name.strip().lower() == "charset":
            return value.strip().strip("\"'").strip() or None
    return None


def decode_feed(body: bytes, content_type: str | None) -> tuple[bytes, bool]:
    """Feed bytes -> (UTF-8 bytes for feedparser, whether the label was overridden or text repaired).

    We decode, not feedparser: its fallbacks re-decode a whole feed as another
    charset for one bad byte, and trust a wrong label over Arabic bytes.
    """
    declared = _charset_param(content_type)
    text, encoding = decode_bytes(body, declared)
    label = label_codec(effective_label(body, declared))
    repaired = "+repaired" in encoding or (label is not None and label != encoding)
    text = _PROLOG_ENCODING.sub(r"\1\2utf-8\2", text.lstrip("\ufeff"), count=1)
    return text.encode("utf-8"), repaired


def _published(entry) -> datetime | None:
    """Publication time: published, else updated, else created (dcterms:created, Atom 0.3 created)."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = _struct_to_utc(entry.get(key))
        if value is not None:
            return value
    return None


def _entry_link(entry, base: str, feed_text: str) -> str | None:
    """The entry's article URL, absolute, or None.

    The link is the entry's own link element resolved against ``xml:base``
    (already applied by feedparser) and the feed's URL. A link that feedparser
    copied from an RSS ``<guid>`` counts only when the GUID is written in the
    feed as an absolute http(s) URL: a GUID like ``1001`` is an id, not a path.
    """
    alternates = [
        link.get("href") for link in entry.get("links", [])
        if link.get("href") and link.get("rel", "alternate") == "alternate"
    ]
    link = entry.get("link")
    own = link if link in alternates else (alternates[0] if alternates else None)
    resolved = resolve_link(own, base)
    if resolved is not None:
        return resolved
    guid = (entry.get("id") or "").strip()
    if absolute_http_url(guid) and (guid in feed_text or html.escape(guid, quote=False) in feed_text):
        return guid
    return None


def parse_feed(body: bytes, feed_url: str, content_type: str | None, read_at: datetime,
               base_url: str | None = None) -> ParsedFeed:
    """Parse feed bytes into FeedItems; raise FeedError when nothing usable is there.

    ``base_url`` is where the feed was read from after redirects (default
    ``feed_url``): relative links resolve against it.
    """
    entity = declared_entity(body)
    if entity is not None:
        raise FeedError("xml_entities", f"feed {feed_url!r} declares the XML entity {entity!r}; refused")
    utf8, repaired = decode_feed(body, content_type)
    feed_text = utf8.decode("utf-8")
    try:
        parsed = feedparser.parse(_replace_invalid_charrefs(utf8),
                                  response_headers={"content-type": "application/xml; charset=utf-8"},
                                  sanitize_html=True, resolve_relative_uris=True)
    except Exception as exc:  # feedparser's own bugs on hostile input must not escape as anything else
        raise FeedError("feed_parse", f"feedparser failed on {feed_url!r}: {type(exc).__name__}: {exc}") from None
    bozo = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        bozo = f"{type(exc).__name__}: {exc}"
    if not parsed.entries:
        if bozo and not isinstance(parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride):
            raise FeedError("feed_parse", f"no entries in {feed_url!r}: {bozo}")
        if not parsed.get("feed") or parsed.get("version", "") == "":
            raise FeedError("not_a_feed", f"{feed_url!r} is not an RSS or Atom feed")
    outlet, r0 = _repair(field_text(parsed.feed.get("title"), _type(parsed.feed, "title_detail")))
    repaired = repaired or r0
    base = base_url or feed_url
    items: list[FeedItem] = []
    for entry in parsed.entries:
        title, r1 = _repair(field_text(entry.get("title"), _type(entry, "title_detail")))
        summary, r2 = _repair(field_text(entry.get("summary"), _type(entry, "summary_detail")))
        contents = [c for c in entry.get("content", []) if c.get("value")]
        longest = max(contents, key=lambda c: len(c.get("value"))) if contents else None
        content, r3 = _repair(field_text(longest.get("value"), longest.get("type")) if longest else None)
        if content and summary and content.strip() == summary.strip():
            content = None
        repaired = repaired or r1 or r2 or r3
        items.append(
            FeedItem(
                feed_url=feed_url,
                outlet=outlet,
                guid=((entry.get("id") or "").strip() or None),
                link=_entry_link(entry, base, feed_text),
                title=title,
                summary=summary,
                content=content,
                published=_published(entry),
                read_at=read_at,
            )
        )
    return ParsedFeed(outlet=outlet, items=items, bozo=bozo, charset_repaired=repaired)


def _type(node, detail: str) -> str | None:
    return (node.get(detail) or {}).get("type")


def entry_key(item: FeedItem) -> str:
    """What identifies an entry within its feed across polls."""
    if item.guid:
        return "g:" + item.guid
    if item.link:
        return "l:" + item.link
    digest = hashlib.sha1(f"{item.title}\x1f{item.summary}".encode("utf-8", "surrogatepass")).hexdigest()
    return "h:" + digest


def backoff_delay(failures: int, config: PollConfig) -> timedelta:
    """Exponential backoff after consecutive failures, capped: a dead feed is not hammered."""
    return timedelta(seconds=min(config.interval_s * (2 ** max(failures - 1, 0)), config.max_backoff_s))
