"""Extraction of files and URLs named by a user: what ``akhbar extract`` runs.

Each input gives one record (a dict that prints as one JSON object): the page's
title, text, publication time, extraction method and language, or the reason it
failed. URLs are fetched with the project's HTTP client, so its timeouts, size
cap and address guard apply; files are read as bytes and decoded like fetched
pages. Many inputs run in one process, sharing one client.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from akhbar.lib.extract import ExtractedPage, ExtractionError, extract_bytes
from akhbar.lib.web.http import FetchError, HttpClient, HttpConfig

__all__ = ["extract_inputs", "is_url", "page_record"]

STDIN = "-"


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def page_record(page: ExtractedPage) -> dict:
    """The JSON-ready fields of an extracted page."""
    return {
        "title": page.title,
        "text": page.text,
        "published": page.published.isoformat() if page.published else None,
        "method": page.method,
        "language": page.language,
    }


def _extract_one(source: str, client: HttpClient, url: str | None) -> dict:
    if is_url(source):
        response = client.get(source)
        page = extract_bytes(response.body, url or response.url, response.charset)
        return {"input": source, "url": url or response.url, **page_record(page)}
    body = sys.stdin.buffer.read() if source == STDIN else Path(source).read_bytes()
    return {"input": source, "url": url, **page_record(extract_bytes(body, url))}


def extract_inputs(sources: Iterable[str], http: HttpConfig = HttpConfig(), url: str | None = None) -> Iterator[dict]:
    """One record per input, in order. A failed input gives ``{"input", "error"}``, where the
    error starts with its kind: ``fetch/<kind>`` (see FetchError), ``extraction``, ``read``.
    `url` is the page's address for a file input (it decides which links are the site's own)."""
    with HttpClient(http) as client:
        for source in sources:
            try:
                yield _extract_one(source, client, url)
            except FetchError as exc:
                yield {"input": source, "error": f"fetch/{exc}"}
            except ExtractionError as exc:
                yield {"input": source, "error": f"extraction: {exc}"}
            except OSError as exc:
                yield {"input": source, "error": f"read: {exc.strerror or exc}: {source}"}
