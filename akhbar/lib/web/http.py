"""The project's one HTTP client: every feed and article page goes through here.

Why a wrapper instead of bare urllib3: feed URLs come from third parties, so each
fetch must be bounded (timeouts, a cap on the *decoded* body, a redirect budget)
and must not be steerable into our own network. Every hop (the first URL and
each redirect target) is parsed and checked by ``akhbar.lib.web.guard``, its host
is resolved once, and the connection goes to exactly an address that was
checked: the TLS server name (SNI), the certificate check and the Host header
still use the URL's host name. Failures surface as :class:`FetchError` with a
short stable ``kind`` that the pipeline writes into dead-letter records; retries
are left to the pipeline's own backoff, so urllib3 retries are disabled.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin

import urllib3
from urllib3 import exceptions as u3exc

from akhbar.lib.web.guard import AddressPolicy, FetchError, Target, approve, parse_target

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
# A host with several approved addresses: the next one is tried when a connection fails.
_MAX_ADDRESSES_TRIED = 3


@dataclass(frozen=True)
class HttpConfig:
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    max_bytes: int = 10 * 1024 * 1024  # cap on the DECODED body (after gzip/deflate)
    max_redirects: int = 5
    user_agent: str = "akhbar/0.1 (+https://github.com/akhbar-news/akhbar)"
    allow_loopback: bool = False
    allow_private: bool = False  # RFC1918, CGNAT, ULA etc.
    ca_certs: str | None = None  # a PEM file of trusted CAs instead of the system store

    @property
    def policy(self) -> AddressPolicy:
        return AddressPolicy(allow_loopback=self.allow_loopback, allow_private=self.allow_private)


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


def check_url_allowed(url: str, config: HttpConfig) -> list[str]:
    """Refuse URLs we must never fetch; return the addresses the client may connect to.

    Raises FetchError('bad_url') for anything but an unambiguous http(s) URL with a
    host (see ``guard.parse_target``), and FetchError('address_refused') if ANY resolved
    address is loopback (unless allow_loopback), private/shared/ULA (unless
    allow_private), or - always - link-local (incl. cloud metadata), multicast,
    unspecified, reserved, or an IPv6 form (mapped, 6to4, NAT64, Teredo) of those.
    """
    return approve(parse_target(url), config.policy, url if isinstance(url, str) else None)


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
    """Thread-safe (one urllib3.PoolManager) client; create once per worker.

    Connection pools are keyed by the approved address, port and TLS server name,
    so a keep-alive connection is only reused for the address it was opened to.
    """

    def __init__(self, config: HttpConfig = HttpConfig()):
        self.config = config
        pool_kw: dict[str, object] = {}
        if config.ca_certs:
            pool_kw["ca_certs"] = config.ca_certs
        self._pool = urllib3.PoolManager(
            num_pools=32,
            maxsize=4,
            retries=False,
            timeout=urllib3.Timeout(connect=config.connect_timeout, read=config.read_timeout),
            **pool_kw,
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

        target = parse_target(url)  # before anything else: validates type, scheme, host, port
        current = urldefrag(url.strip())[0]
        seen = {target.url}
        hops = 0
        while True:
            where = repr(current) if hops == 0 else f"{current!r} (redirected from {url!r})"
            addresses = approve(target, self.config.policy, current)
            resp = self._request(target, addresses, headers, current, where)
            status = resp.status
            if status in _REDIRECT_STATUSES:
                location = resp.headers.get("location")
                _discard(resp)
                if not location:
                    raise FetchError("http_status", current, f"HTTP {status} without Location from {where}")
                location = location.strip(" ")
                if any(ord(c) < 0x20 or ord(c) == 0x7F for c in location):
                    # urljoin would silently drop tabs and newlines: refuse instead of guessing.
                    raise FetchError("bad_url", location, f"control characters in the redirect from {where}")
                following = urldefrag(urljoin(current, location))[0]
                next_target = parse_target(following)  # the same rules on every hop
                if next_target.url in seen:
                    raise FetchError("redirect_loop", following, f"redirect loop back to {following!r} from {where}")
                hops += 1
                if hops > self.config.max_redirects:
                    raise FetchError(
                        "too_many_redirects",
                        following,
                        f"more than {self.config.max_redirects} redirects fetching {url!r} (next: {following!r})",
                    )
                seen.add(next_target.url)
                target, current = next_target, following
                continue
            return self._finish(resp, current, where, etag, last_modified)

    def _request(
        self, target: Target, addresses: list[str], headers: dict[str, str], url: str, where: str
    ) -> urllib3.BaseHTTPResponse:
        """Send the request to an approved address; the Host header and TLS name stay the URL's host."""
        headers = {**headers, "Host": target.host_header}
        pool_kwargs = {"server_hostname": target.host} if target.scheme == "https" else None
        failure: BaseException | None = None
        for address in addresses[:_MAX_ADDRESSES_TRIED]:
            pool = self._pool.connection_from_host(address, target.port, target.scheme, pool_kwargs=pool_kwargs)
            try:
                return pool.urlopen(
                    "GET",
                    target.request_target,
                    headers=headers,
                    redirect=False,
                    retries=False,
                    assert_same_host=False,
                    preload_content=False,
                    decode_content=True,
                )
            except (u3exc.NewConnectionError, u3exc.ConnectTimeoutError) as exc:
                failure = exc  # the next approved address may answer
            except u3exc.MaxRetryError as exc:  # not expected with retries=False; unwrap anyway
                raise self._map_error(exc.reason or exc, url, where, during="connect") from None
            except (u3exc.HTTPError, OSError, ValueError) as exc:
                raise self._map_error(exc, url, where, during="connect") from None
        assert failure is not None
        raise self._map_error(failure, url, where, during="connect") from None

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
