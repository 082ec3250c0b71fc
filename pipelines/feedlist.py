"""Read the list of feeds to poll: plain text (one URL per line) or OPML."""
from __future__ import annotations

from pathlib import Path

from lxml import etree


class FeedListError(ValueError):
    pass


def read_feed_list(path: str | Path) -> list[str]:
    """Feed URLs from a text file (blank lines and # comments skipped) or an OPML file.

    Duplicates are removed keeping the first occurrence; an empty list is an error.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FeedListError(f"cannot read feed list {str(path)!r}: {exc}") from exc
    head = raw.lstrip()[:512].lower()
    if head.startswith(b"<?xml") or b"<opml" in head:
        urls = _opml_urls(raw, path)
    else:
        urls = [line.split("#", 1)[0].strip() for line in raw.decode("utf-8-sig").splitlines()]
    urls = list(dict.fromkeys(u for u in urls if u))
    if not urls:
        raise FeedListError(f"no feed URLs in {str(path)!r}")
    return urls


def _opml_urls(raw: bytes, path: Path) -> list[str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(raw, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FeedListError(f"invalid OPML in {str(path)!r}: {exc}") from exc
    return [el.get("xmlUrl", "").strip() for el in root.iter("outline") if el.get("xmlUrl")]
