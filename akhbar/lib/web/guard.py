"""Which URLs may be fetched, and at which address: one parser, one address policy.

Why a module of its own: a server-side request forgery defence only holds when
the URL that is checked is the URL that is connected to. So every URL is parsed
once, here, with the parser the HTTP client itself uses (``urllib3.util.parse_url``),
and anything that two parsers could read differently is refused outright:
a backslash, whitespace or percent sign in the authority, credentials
(``user@``), a port outside 1-65535, a scheme other than http/https, a numeric
host that is not a well-formed IPv4 address. Hosts written as numbers in any
notation (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1``) are read as the
IPv4 address they stand for, the way resolvers and browsers read them, so they
are checked as that address.

``approve`` resolves a host once and checks every address it gets; the client
then connects to one of exactly those addresses (``akhbar.lib.web.http``), so a
DNS answer that changes between the check and the connection (DNS rebinding)
cannot steer it elsewhere.
"""
from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from dataclasses import dataclass

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

__all__ = [
    "AddressPolicy",
    "FetchError",
    "MAX_URL_CHARS",
    "Target",
    "UrlError",
    "approve",
    "parse_ipv4_number",
    "parse_target",
    "refusal",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_CHARS = 8192
_SCHEMES = {"http": 80, "https": 443}
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_HOST_NAME = re.compile(r"[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*\.?")
_NUMERIC_LABEL = re.compile(r"(0[xX][0-9A-Fa-f]*|[0-9]+)")

# Cloud metadata endpoints: refused even when private addresses are allowed
# (fd00:ec2::254 is a ULA, 100.100.100.200 is in the shared 100.64/10 range,
# 192.0.0.192 in the IETF protocol block, which allow_private would otherwise open).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class UrlError(Exception):
    """An error about one URL: ``kind`` is a short stable code used in dead-letter records."""

    def __init__(self, kind: str, url: str, message: str):
        super().__init__(kind, url, message)
        self.kind = kind
        self.url = url
        self.message = message

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class FetchError(UrlError):
    """A fetch that failed.

    Kinds: bad_url, address_refused, dns, connect, timeout, http_status, too_large,
    too_many_redirects, redirect_loop, decode, io. ``url`` is the URL of the hop
    that failed (after a redirect the message also names the original URL).
    """


@dataclass(frozen=True)
class AddressPolicy:
    """Which kinds of address may be contacted besides public ones."""

    allow_loopback: bool = False
    allow_private: bool = False  # RFC 1918, CGNAT, ULA, documentation ranges, ...


@dataclass(frozen=True)
class Target:
    """One URL as the client will fetch it: scheme, host, port and request target."""

    url: str  # the normalized URL (fragment dropped)
    scheme: str  # "http" or "https"
    host: str  # lower-case ASCII (IDNA) name, or the IP literal in its standard form, no brackets
    port: int
    request_target: str  # path and query, percent-encoded: what goes on the request line
    literal: IPAddress | None  # the address when the host is an IP literal

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if isinstance(self.literal, ipaddress.IPv6Address) else self.host
        return host if self.port == _SCHEMES[self.scheme] else f"{host}:{self.port}"


def _bad(url: str, why: str) -> FetchError:
    return FetchError("bad_url", url, f"{why}: {url[:300]!r}")


def _unsafe_in_authority(ch: str) -> bool:
    """Characters that different URL parsers treat differently inside an authority."""
    return ch in "\\%@" or ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def parse_ipv4_number(host: str) -> ipaddress.IPv4Address | None:
    """A host that ends in a number, read as an IPv4 address the way resolvers and browsers do.

    Returns None for host names. Raises ValueError for a numeric host that is not a
    well-formed address (``1.2.3.4.5``, ``0x1g``, ``999``...), following the WHATWG URL
    standard's IPv4 parser: up to four parts, each decimal, octal (leading 0) or hex (0x);
    the last part fills the remaining bytes, so ``127.1`` is 127.0.0.1.
    """
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts = parts[:-1]
    if not _NUMERIC_LABEL.fullmatch(parts[-1]):
        return None
    if len(parts) > 4:
        raise ValueError(f"numeric host {host!r} has more than four parts")
    numbers = []
    for part in parts:
        if part[:2] in ("0x", "0X"):
            digits, radix = part[2:] or "0", 16
        elif len(part) > 1 and part.startswith("0"):
            digits, radix = part[1:], 8
        else:
            digits, radix = part, 10
        try:
            numbers.append(int(digits, radix))
        except ValueError:
            raise ValueError(f"numeric host {host!r} has a malformed part {part!r}") from None
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError(f"numeric host {host!r} is out of range")
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n * 256 ** (3 - i)
    return ipaddress.IPv4Address(value)


def parse_target(url: str) -> Target:
    """Parse and validate a URL to fetch; raise FetchError('bad_url') for anything ambiguous."""
    if not isinstance(url, str):
        raise FetchError("bad_url", repr(url), f"not a URL string: {url!r}")
    url = url.strip(" \t\r\n")
    if not url:
        raise _bad(url, "empty URL")
    if len(url) > MAX_URL_CHARS:
        raise _bad(url, f"URL longer than {MAX_URL_CHARS} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise _bad(url, "URL contains control characters")
    scheme_match = _SCHEME.match(url)
    if scheme_match is None:
        raise _bad(url, "no scheme in URL")
    scheme = scheme_match.group()[:-1].lower()
    if scheme not in _SCHEMES:
        raise _bad(url, f"scheme {scheme!r} not allowed")
    rest = url[scheme_match.end():]
    if not rest.startswith("//"):
        raise _bad(url, "no '//' authority after the scheme")
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    if not authority:
        raise _bad(url, "no host in URL")
    if "@" in authority:
        raise _bad(url, "credentials (user@) in URL")
    unsafe = next((c for c in authority if _unsafe_in_authority(c)), None)
    if unsafe is not None:
        raise _bad(url, f"character {unsafe!r} in the host part")
    try:
        parsed = parse_url(url)
    except (LocationParseError, ValueError, UnicodeError) as exc:
        raise _bad(url, f"unparseable URL ({str(exc)[:200]})") from None
    raw_host = parsed.host or ""
    if not raw_host or parsed.auth is not None:
        raise _bad(url, "no host in URL")
    port = parsed.port if parsed.port is not None else _SCHEMES[scheme]
    if not 1 <= port <= 65535:
        raise _bad(url, f"port {port} out of range")
    literal: IPAddress | None
    if raw_host.startswith("["):
        try:
            literal = ipaddress.IPv6Address(raw_host[1:-1])
        except ValueError:
            raise _bad(url, "malformed IPv6 address") from None
        host = str(literal)
    else:
        host = raw_host.lower()
        if len(host) > 253 or not _HOST_NAME.fullmatch(host):
            raise _bad(url, "malformed host name")
        try:
            literal = parse_ipv4_number(host)
        except ValueError as exc:
            raise _bad(url, str(exc)) from None
        if literal is not None:
            host = str(literal)
        else:
            host = host.rstrip(".")
    normalized = parsed._replace(scheme=scheme, host=f"[{host}]" if ":" in host else host, fragment=None, auth=None)
    return Target(
        url=normalized.url,
        scheme=scheme,
        host=host,
        port=port,
        request_target=parsed.request_uri,
        literal=literal,
    )


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for: mapped, 6to4, NAT64, Teredo."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if any(ip in net for net in _NAT64):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def refusal(ip: IPAddress, policy: AddressPolicy) -> str | None:
    """Why this address must not be contacted, or None if it may be."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "scoped IPv6"
        embedded = _embedded_ipv4(ip)
        for inner in embedded:
            why = refusal(inner, policy)
            if why is not None:
                return f"{why} (embedded in {ip})"
        if embedded and (ip.ipv4_mapped is not None or any(ip in net for net in _NAT64)):
            return None  # an address translated to a public IPv4 address is that address
    if ip in METADATA_ADDRESSES:
        return "cloud metadata"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified or ip in _THIS_NETWORK:
        return "unspecified"
    if ip.is_loopback:
        return None if policy.allow_loopback else "loopback"
    if ip.is_reserved:
        return "reserved"
    # Anything else that is not globally routable: RFC 1918, CGNAT (100.64/10),
    # ULA (fc00::/7), documentation and benchmarking ranges, ...
    if not ip.is_global:
        return None if policy.allow_private else "private"
    return None


def _resolve(host: str, port: int) -> list[str]:
    """getaddrinfo wrapper; a seam so tests can fake DNS without touching the network."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[str] = []
    for info in infos:
        ip = str(info[4][0])
        if ip not in out:
            out.append(ip)
    return out


def approve(target: Target, policy: AddressPolicy, url: str | None = None) -> list[str]:
    """The addresses the client may connect to for ``target``, resolved once; every one is checked.

    Raises FetchError('address_refused') if ANY address is refused (the connector may
    try any of them) and FetchError('dns') when the name does not resolve.
    """
    url = target.url if url is None else url
    if target.literal is not None:
        raw_addresses = [str(target.literal)]
    else:
        try:
            raw_addresses = _resolve(target.host, target.port)
        except UnicodeError as exc:
            raise FetchError("bad_url", url, f"invalid host name {target.host!r}: {exc}") from None
        except OSError as exc:
            raise FetchError("dns", url, f"cannot resolve {target.host!r}: {exc}") from None
    if not raw_addresses:
        raise FetchError("dns", url, f"no addresses for {target.host!r}")
    addresses: list[str] = []
    for raw in raw_addresses:
        try:
            ip = ipaddress.ip_address(raw)
        except ValueError:
            raise FetchError("address_refused", url, f"unparseable address {raw!r} for {target.host!r}") from None
        why = refusal(ip, policy)
        if why is not None:
            raise FetchError("address_refused", url, f"{target.host!r} resolves to {why} address {raw!r}")
        addresses.append(str(ip))
    return addresses
