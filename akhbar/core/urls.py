"""Canonical article URLs and the article id: one spelling per article.

The canonical URL decides identity (``article_id`` is its hash), so it must be
the same on every runner and every rerun. It lower-cases scheme and host,
drops ``www.``/``amp.`` host prefixes, default ports, fragments, tracking
parameters and AMP variants, sorts the query, normalizes percent-encoding (so
raw and encoded Arabic paths agree) and drops the trailing slash.
"""
from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

__all__ = ["InvalidURL", "absolute_http_url", "article_id", "canonical_url", "resolve_link"]

# Query parameters that only track the click, never select content.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl",
        "ref", "ref_src", "ref_url", "referrer", "cmpid", "ocid", "spm", "share", "from", "at_medium",
        "at_campaign", "ito", "xtor", "ncid", "sr_share", "s_cid", "amp", "outputtype",
    }
)
_TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


class InvalidURL(ValueError):
    """A URL that has no canonical form (bad port, broken IPv6 brackets, ...)."""

    kind = "bad_url"  # the dead-letter error kind


def absolute_http_url(value: str | None) -> bool:
    """Whether ``value`` is an absolute http(s) URL with a host: the only URLs an article may have."""
    if not value:
        return False
    try:
        parts = urlsplit(value.strip())
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def resolve_link(link: str | None, base: str | None) -> str | None:
    """A feed link made absolute against its base (``xml:base``, the feed's URL); None if unusable.

    ``/news/1`` in the feed at ``https://a.example/rss`` is ``https://a.example/news/1``; a
    link that stays relative, or is not http(s) (``javascript:``, ``mailto:``), is no link.
    """
    if not link or not link.strip():
        return None
    try:
        resolved = urljoin(base or "", link.strip())
    except ValueError:
        return None
    return resolved if absolute_http_url(resolved) else None


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES)


def _strip_amp_path(path: str) -> str:
    """AMP variants of a page: /amp/x, /x/amp, /x/amp/, /x.amp.html, /x.amp."""
    segments = [s for s in path.split("/")]
    segments = [s for i, s in enumerate(segments) if not (s.lower() == "amp" and i > 0)]
    path = "/".join(segments)
    path = re.sub(r"\.amp(\.html?)?$", lambda m: m.group(1) or "", path, flags=re.IGNORECASE)
    return path or "/"


def canonical_url(url: str) -> str:
    """One spelling per article URL.

    Lower-cases scheme and host, drops ``www.``/``amp.`` host prefixes, default
    ports, fragments, tracking parameters and AMP variants, sorts the query,
    normalizes percent-encoding (so raw and encoded Arabic paths agree) and
    drops the trailing slash. http and https stay apart: merging them is
    the reader's choice, not ours. Raises ``InvalidURL`` (a ValueError) for a
    URL that cannot be read, such as port 99999 or ``http://[::1/x``.
    """
    if not isinstance(url, str):
        raise InvalidURL(f"not a URL: {url!r}")
    try:
        return _canonical(url)
    except ValueError as exc:  # bad port, broken brackets, unencodable characters
        raise InvalidURL(f"no canonical form for URL {url[:300]!r}: {exc}") from None


def _canonical(url: str) -> str:
    parts = urlsplit(url.strip())
    if any(c == "\\" or c.isspace() or ord(c) < 0x20 for c in parts.netloc):
        # Parsers disagree on where such a host ends (http://a\\@b/): it cannot name one article.
        raise ValueError(f"ambiguous host part {parts.netloc[:100]!r}")
    port = parts.port
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    for prefix in ("www.", "amp."):
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe=_PATH_SAFE)
    path = _strip_amp_path(path)
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    if not path:
        path = "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query), doseq=True), ""))


def article_id(canonical: str) -> str:
    """Stable id of an article: a hash of its canonical URL, the same on every runner and rerun."""
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:20]
