"""Read the list of feeds to poll: plain text (one URL per line) or OPML, from any Beam filesystem.

The list is read through Beam's ``FileSystems``, so ``gs://`` and ``s3://``
paths work wherever their Beam extras are installed (a cluster launcher reads
the same list as a laptop).
"""
from __future__ import annotations

from apache_beam.io.filesystems import FileSystems
from lxml import etree


class FeedListError(ValueError):
    pass


def _read(path: str) -> bytes:
    try:
        with FileSystems.open(path) as handle:
            return handle.read()
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FeedListError(f"cannot read feed list {path!r}: {reason}") from None


def read_feed_list(path: str) -> list[str]:
    """Feed URLs from a text file (blank lines and # comments skipped) or an OPML file.

    Duplicates are removed keeping the first occurrence; an empty list is an error.
    """
    path = str(path)
    raw = _read(path)
    head = raw.lstrip()[:512].lower()
    if head.startswith(b"<?xml") or b"<opml" in head:
        urls = _opml_urls(raw, path)
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FeedListError(f"feed list {path!r} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
        urls = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    urls = list(dict.fromkeys(u for u in urls if u))
    if not urls:
        raise FeedListError(f"no feed URLs in {path!r}")
    return urls


def _opml_urls(raw: bytes, path: str) -> list[str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(raw, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FeedListError(f"invalid OPML in {path!r}: {exc}") from exc
    return [el.get("xmlUrl", "").strip() for el in root.iter("outline") if el.get("xmlUrl")]
