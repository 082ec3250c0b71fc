"""The project's one HTTP client: every feed and article page goes through here.

Why a wrapper instead of bare urllib3: feed URLs come from third parties, so each
fetch must be bounded (timeouts, a cap on the *decoded* body, a redirect budget)
and must not be steerable into our own network (SSRF guard on every hop).
Failures surface as :class:`FetchError` with a short stable ``kind`` that the
pipeline writes into dead-letter records; retries are left to the pipeline's own
backoff, so urllib3 retries are disabled.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

import urllib3
from urllib3 import exceptions as u3exc

__all__ = [
    "FetchError",
    "HttpClient",
    "HttpConfig",
    "HttpResponse",
    "check_url_allowed",
]

_CHUNK = 64 * 1024
# Bodies of responses we discard (redirects, errors) are drained up to this size so
# the keep-alive connection can be reused; anything larger just closes the socket.
_DRAIN_LIMIT = 64 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Cloud metadata endpoints: refused even when private addresses are allowed
# (fd00:ec2::254 is in the ULA range, which allow_private would otherwise open).
_METADATA_IPS = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


@dataclass(frozen=True)
class HttpConfig:
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    max_bytes: int = 10 * 1024 * 1024  # cap on the DECODED body (after gzip/deflate)
    max_redirects: int = 5
    user_agent: str = "akhbar/0.1 (+https://github.com/akhbar-news/akhbar)"
    allow_loopback: bool = False
    allow_private: bool = False  # RFC1918, CGNAT, ULA etc.


class FetchError(Exception):
    """kind is a short stable code used in dead-letter records.

    Kinds: bad_url, address_refused, dns, connect, timeout, http_status, too_large,
    too_many_redirects, redirect_loop, decode, io. ``url`` is the URL of the hop
    that failed (after a redirect the message also names the original URL).
    """

    def __init__(self, kind: str, url: str, message: str):
        super().__init__(kind, url, message)
        self.kind = kind
        self.url = url
        self.message = message

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(frozen=True)
class HttpResponse:
    url: str  # final URL after redirects
    status: int  # 200 (any 2xx), or 304 when not modified
    headers: dict[str, str]  # lower-cased names
    body: bytes  # decoded from Content-Encoding; b"" for 304
    content_type: str | None  # media type without params, lower-case
    charset: str | None  # charset param of Content-Type, if any
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        """True for a 304: the caller keeps its cached copy."""
        return self.status == 304


# --------------------------------------------------------------------------- guard


def _resolve(host: str, port: int) -> list[str]:
    """getaddrinfo wrapper; a seam so tests can fake DNS without touching the network."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[str] = []
    for info in infos:
        ip = str(info[4][0])
        if ip not in out:
            out.append(ip)
    return out


def _refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, config: HttpConfig) -> str | None:
    """Why this address must not be contacted, or None if it may be."""
    if isinstance(ip, ipaddress.IPv6Address):
        # Check embedded IPv4 forms (::ffff:a.b.c.d, 6to4) as the IPv4 they stand for.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            why = _refusal(embedded, config)
            if why is not None:
                return f"{why} (embedded in {ip})"
            if ip.ipv4_mapped is not None:
                return None
    if ip in _METADATA_IPS:
        return "cloud metadata"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return None if config.allow_loopback else "loopback"
    if ip.is_reserved:
        return "reserved"
    # Anything else that is not globally routable: RFC1918, CGNAT (100.64/10),
    # ULA (fc00::/7), documentation and benchmarking ranges, ...
    if not ip.is_global:
        return None if config.allow_private else "private"
    return None


def check_url_allowed(url: str, config: HttpConfig) -> list[str]:
    """Refuse URLs we must never fetch; return the host's resolved IPs.

    Raises FetchError('bad_url') unless the scheme is http/https with a host, and
    FetchError('address_refused') if ANY resolved address is loopback (unless
    allow_loopback), private/shared/ULA (unless allow_private), or - always -
    link-local (incl. cloud metadata 169.254.169.254 and fd00:ec2::254), multicast,
    unspecified, reserved, or an IPv4-mapped/6to4 IPv6 form of those. Checking
    every address (not just the first) matters because the connector may try any.

    Only the IPs are checked: a DNS answer that changes between this check and
    urllib3's own connect (DNS rebinding) is out of scope.
    """
    if not isinstance(url, str) or any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise FetchError("bad_url", str(url), f"URL contains control characters: {url!r}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise FetchError("bad_url", url, f"unparseable URL {url!r}: {e}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError("bad_url", url, f"scheme {parts.scheme!r} not allowed in {url!r}")
    host = parts.hostname
    if not host:
        raise FetchError("bad_url", url, f"no host in {url!r}")
    if port is None:
        port = 443 if scheme == "https" else 80
    try:
        ips = _resolve(host, port)
    except UnicodeError as e:
        raise FetchError("bad_url", url, f"invalid host name {host!r}: {e}") from None
    except OSError as e:
        raise FetchError("dns", url, f"cannot resolve {host!r}: {e}") from None
    if not ips:
        raise FetchError("dns", url, f"no addresses for {host!r}")
    for raw in ips:
        try:
            ip = ipaddress.ip_address(raw.split("%", 1)[0])  # drop IPv6 zone id
        except ValueError:
            raise FetchError("address_refused", url, f"unparseable address {raw!r} for {host!r}") from None
        why = _refusal(ip, config)
        if why is not None:
            raise FetchError("address_refused", url, f"{host!r} resolves to {why} address {raw!r}")
    return ips


# -------------------------------------------------------------------------- client


def _parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """('text/html', 'utf-8') from 'text/html; charset="UTF-8"'; Nones when absent."""
    if not value:
        return None, None
    media, _, params = value.partition(";")
    media = media.strip().lower() or None
    charset = None
    for param in params.split(";"):
        name, eq, val = param.partition("=")
        if eq and name.strip().lower() == "charset":
            charset = val.strip().strip("\"'").strip().lower() or None
            break
    return media, charset


def _discard(resp: urllib3.BaseHTTPResponse) -> None:
    """Free the connection: drain small leftovers for keep-alive, else close it."""
    try:
        remaining = getattr(resp, "length_remaining", None)
        if remaining is not None and remaining <= _DRAIN_LIMIT:
            resp.drain_conn()
        else:
            resp.close()
    finally:
        resp.release_conn()


class HttpClient:
    """Thread-safe (one urllib3.PoolManager) client; create once per worker."""

    def __init__(self, config: HttpConfig = HttpConfig()):
        self.config = config
        self._pool = urllib3.PoolManager(
            num_pools=32,
            maxsize=4,
            retries=False,
            timeout=urllib3.Timeout(connect=config.connect_timeout, read=config.read_timeout),
        )

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pool.clear()

    def check(self, url: str) -> list[str]:
        """The per-hop guard; every URL (first and each redirect target) passes here."""
        return check_url_allowed(url, self.config)

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> HttpResponse:
        """GET with conditional headers; raises FetchError for everything that is not a usable 200/304."""
        headers = {"User-Agent": self.config.user_agent, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified

        self.check(url)  # before any parsing below: validates type, scheme, host, addresses
        current = urldefrag(url)[0]
        seen = {current}
        hops = 0
        while True:
            where = repr(current) if hops == 0 else f"{current!r} (redirected from {url!r})"
            resp = self._request(current, headers, where)
            status = resp.status
            if status in _REDIRECT_STATUSES:
                location = resp.headers.get("location")
                _discard(resp)
                if not location:
                    raise FetchError("http_status", current, f"HTTP {status} without Location from {where}")
                target = urldefrag(urljoin(current, location.strip()))[0]
                if target in seen:
                    raise FetchError("redirect_loop", target, f"redirect loop back to {target!r} from {where}")
                hops += 1
                if hops > self.config.max_redirects:
                    raise FetchError(
                        "too_many_redirects",
                        target,
                        f"more than {self.config.max_redirects} redirects fetching {url!r} (next: {target!r})",
                    )
                self.check(target)  # a public URL must not bounce us into 127.0.0.1 or metadata
                seen.add(target)
                current = target
                continue
            return self._finish(resp, current, where, etag, last_modified)

    def _request(self, url: str, headers: dict[str, str], where: str) -> urllib3.BaseHTTPResponse:
        try:
            return self._pool.request(
                "GET",
                url,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=True,
            )
        except u3exc.MaxRetryError as e:  # not expected with retries=False; unwrap anyway
            raise self._map_error(e.reason or e, url, where, during="connect") from None
        except (u3exc.HTTPError, OSError, ValueError) as e:
            raise self._map_error(e, url, where, during="connect") from None

    @staticmethod
    def _map_error(e: BaseException, url: str, where: str, *, during: str) -> FetchError:
        """urllib3/socket exception -> stable kind. Order matters: NewConnectionError
        subclasses ConnectTimeoutError in urllib3 2.x."""
        if isinstance(e, u3exc.NameResolutionError):
            return FetchError("dns", url, f"cannot resolve host of {where}: {e}")
        if isinstance(e, u3exc.NewConnectionError):
            return FetchError("connect", url, f"cannot connect to {where}: {e}")
        if isinstance(e, (u3exc.TimeoutError, socket.timeout)):
            return FetchError("timeout", url, f"timed out ({during}) fetching {where}: {e}")
        if isinstance(e, u3exc.DecodeError):
            return FetchError("decode", url, f"cannot decode body of {where}: {e}")
        if isinstance(e, u3exc.LocationValueError):
            return FetchError("bad_url", url, f"invalid URL {where}: {e}")
        if during == "connect" and isinstance(e, (u3exc.SSLError, u3exc.ProtocolError, ConnectionError)):
            return FetchError("connect", url, f"connection failed for {where}: {e}")
        return FetchError("io", url, f"{type(e).__name__} during {during} of {where}: {e}")

    def _finish(
        self,
        resp: urllib3.BaseHTTPResponse,
        url: str,
        where: str,
        etag: str | None,
        last_modified: str | None,
    ) -> HttpResponse:
        status = resp.status
        hdrs = {name.lower(): resp.headers[name] for name in resp.headers}
        if status == 304:
            _discard(resp)
            body = b""
        elif 200 <= status < 300:
            body = self._read_body(resp, url, where, hdrs)
        else:
            _discard(resp)
            raise FetchError("http_status", url, f"HTTP {status} from {where}")
        media, charset = _parse_content_type(hdrs.get("content-type"))
        return HttpResponse(
            url=url,
            status=status,
            headers=hdrs,
            body=body,
            content_type=media,
            charset=charset,
            # On 304 servers may omit validators; keep the caller's so its state survives.
            etag=hdrs.get("etag") or (etag if status == 304 else None),
            last_modified=hdrs.get("last-modified") or (last_modified if status == 304 else None),
        )

    def _read_body(self, resp: urllib3.BaseHTTPResponse, url: str, where: str, hdrs: dict[str, str]) -> bytes:
        """Stream and cap the decoded body; a gzip bomb stops at max_bytes + one chunk."""
        cap = self.config.max_bytes
        declared = hdrs.get("content-length", "").split(",")[0].strip()
        if declared.isdigit() and int(declared) > cap:
            resp.close()
            resp.release_conn()
            raise FetchError("too_large", url, f"Content-Length {declared} exceeds {cap} bytes for {where}")
        chunks: list[bytes] = []
        total = 0
        ok = False
        try:
            while True:
                chunk = resp.read(_CHUNK, decode_content=True)
                if not chunk:
                    break
                total += len(chunk)
                if total > cap:
                    raise FetchError("too_large", url, f"body exceeds {cap} bytes (decoded) for {where}")
                chunks.append(chunk)
            ok = True
        except FetchError:
            raise
        except (u3exc.HTTPError, OSError) as e:
            raise self._map_error(e, url, where, during="body read") from None
        finally:
            if not ok:
                resp.close()  # never drain an oversized/broken body
            resp.release_conn()
        return b"".join(chunks)
