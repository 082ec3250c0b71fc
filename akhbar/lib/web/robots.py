"""robots.txt: fetched through akhbar's HTTP client, cached per origin, read by Protego (RFC 9309).

Why Protego and not ``urllib.robotparser``: the standard library's parser
predates RFC 9309. It ignores ``*`` and ``$`` in paths (so ``Disallow: /*.pdf$``
blocks nothing), applies the first matching rule instead of the longest one
(so ``Allow: /news/`` after ``Disallow: /`` is never reached), and matches
user agents by substring. Protego (Scrapy's parser) follows the RFC on all
three, reads ``Crawl-delay``, ``Request-rate`` and ``Sitemap:`` lines, and is
maintained. ``bench/robots_parsers.py`` runs the cases side by side.

The rules are matched against akhbar's own product token: the first word of
the User-Agent (``akhbar`` in ``akhbar/0.1 (+https://...)``). How a response
is read follows RFC 9309 section 2.3.1:

* 2xx: the file is parsed (its first ``ROBOTS_MAX_BYTES``, as the RFC allows);
* 4xx other than 429 ("unavailable"): no rules, every page may be fetched;
* 429, 5xx, a timeout or a broken connection ("unreachable"): nothing on the
  origin may be fetched until the file is read again (after ``ERROR_TTL_S``);
* a refused address, a bad URL or an unknown host: no verdict; the page's own
  fetch then fails with the same, more precise, error.

A file is kept ``ttl_s`` seconds (RFC 9309 asks for at most 24 hours).
Operators who have a site's permission name its host in ``exempt_hosts``
(``--ignore_robots``); its robots.txt is then not fetched at all.
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from protego import Protego

from akhbar.lib.web.guard import Target, parse_target
from akhbar.lib.web.http import FetchError, HttpClient, HttpStatusError

__all__ = [
    "DEFAULT_TTL_S",
    "ERROR_TTL_S",
    "MAX_CRAWL_DELAY_S",
    "ROBOTS_MAX_BYTES",
    "RobotsCache",
    "RobotsPolicy",
    "RobotsRules",
    "RobotsVerdict",
    "origin_of",
    "robots_token",
]

ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB
DEFAULT_TTL_S = 24 * 3600.0
ERROR_TTL_S = 600.0  # an unreachable robots.txt is asked for again after this long
MAX_CRAWL_DELAY_S = 60.0  # a larger Crawl-delay is read as this (one page a minute)
_NO_VERDICT_KINDS = frozenset({"address_refused", "bad_url", "dns"})
_TOKEN = re.compile(r"[A-Za-z_-]+")


def robots_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against: ``akhbar`` for ``akhbar/0.1 (+https://...)``."""
    match = _TOKEN.match(user_agent.strip())
    if match is None:
        raise ValueError(f"the User-Agent {user_agent!r} does not start with a product token (letters, '-', '_')")
    return match.group().lower()


def origin_of(target: Target) -> str:
    """``scheme://host[:port]``: what one robots.txt governs (RFC 9309 section 2.3)."""
    return f"{target.scheme}://{target.host_header}"


def _path_and_query(target: Target) -> str:
    return target.request_target or "/"


@dataclass(frozen=True)
class RobotsPolicy:
    """Whether and how robots.txt is obeyed."""

    obey: bool = True
    exempt_hosts: frozenset[str] = frozenset()  # host names (or host:port) the operator has permission to crawl
    ttl_s: float = DEFAULT_TTL_S

    def exempts(self, target: Target) -> bool:
        return not self.obey or target.host in self.exempt_hosts or f"{target.host}:{target.port}" in self.exempt_hosts


@dataclass(frozen=True)
class RobotsRules:
    """One origin's robots.txt as read at one time.

    ``state``: ``parsed``, ``absent`` (4xx: no rules), ``unreachable`` (every page
    disallowed), ``exempt`` (the operator's permission), or ``unknown`` (the file
    could not be asked for: the page's own fetch reports why).
    """

    origin: str
    state: str
    detail: str
    read_at: float
    parser: Protego | None = field(default=None, compare=False)

    def allows(self, target: Target, token: str) -> bool:
        if self.state == "unreachable":
            return False
        if self.parser is None:
            return True
        return bool(self.parser.can_fetch(target.url, token))

    def delay_s(self, token: str) -> float:
        """The delay the file asks of ``token`` between requests: Crawl-delay or Request-rate, capped."""
        if self.parser is None:
            return 0.0
        delay = float(self.parser.crawl_delay(token) or 0.0)
        rate = self.parser.request_rate(token)
        if rate is not None and rate.requests:
            delay = max(delay, rate.seconds / rate.requests)
        return min(max(delay, 0.0), MAX_CRAWL_DELAY_S)

    @property
    def sitemaps(self) -> list[str]:
        return list(self.parser.sitemaps) if self.parser is not None else []


@dataclass(frozen=True)
class RobotsVerdict:
    allowed: bool
    delay_s: float  # Crawl-delay for this origin (0 when none)
    reason: str  # why a page is disallowed, for its fetch_error; "" when allowed


class RobotsCache:
    """robots.txt per origin for one worker process; thread-safe, one fetch per origin at a time."""

    def __init__(self, client: HttpClient, policy: RobotsPolicy, user_agent: str,
                 clock: Callable[[], float] = time.monotonic):
        self._client = client
        self._policy = policy
        self.token = robots_token(user_agent)
        self._clock = clock
        self._rules: dict[str, RobotsRules] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.fetches = 0  # robots.txt requests sent, for tests and counters

    def cached(self, origin: str) -> RobotsRules | None:
        """The origin's rules if they are still fresh, else None (without fetching)."""
        rules = self._rules.get(origin)
        if rules is None:
            return None
        ttl = self._policy.ttl_s if rules.state in ("parsed", "absent") else min(ERROR_TTL_S, self._policy.ttl_s)
        return rules if self._clock() - rules.read_at < ttl else None

    def rules(self, target: Target, before_request: Callable[[], None] = lambda: None,
              read_exempt: bool = False) -> RobotsRules:
        """The rules for ``target``'s origin, fetched if not cached; ``before_request()`` runs before a fetch.

        An exempt host's file is not fetched, unless ``read_exempt`` (backfill reads its Sitemap: lines).
        """
        origin = origin_of(target)
        if self._policy.exempts(target) and not read_exempt:
            return RobotsRules(origin, "exempt", "exempt by --ignore_robots", self._clock())
        rules = self.cached(origin)
        if rules is not None:
            return rules
        with self._guard:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:
            rules = self.cached(origin)  # another thread may have fetched it meanwhile
            if rules is None:
                before_request()
                rules = self._fetch(origin)
                self._rules[origin] = rules
        return rules

    def verdict(self, url: str, before_request: Callable[[], None] = lambda: None) -> RobotsVerdict:
        """May ``url`` be fetched by akhbar, and with which Crawl-delay? Raises FetchError('bad_url')."""
        target = parse_target(url)
        rules = self.rules(target, before_request)
        if rules.allows(target, self.token):
            return RobotsVerdict(True, rules.delay_s(self.token), "")
        if rules.state == "unreachable":
            reason = f"robots.txt of {rules.origin} is unreachable ({rules.detail}): nothing there may be fetched"
        else:
            reason = f"robots.txt of {rules.origin} disallows {_path_and_query(target)} for {self.token}"
        return RobotsVerdict(False, rules.delay_s(self.token), reason)

    def _fetch(self, origin: str) -> RobotsRules:
        url = origin + "/robots.txt"
        self.fetches += 1
        now = self._clock()
        try:
            response = self._client.get(url)
        except HttpStatusError as exc:
            if 400 <= exc.status < 500 and exc.status != 429:
                return RobotsRules(origin, "absent", f"HTTP {exc.status}", now)
            return RobotsRules(origin, "unreachable", f"HTTP {exc.status}", now)
        except FetchError as exc:
            state = "unknown" if exc.kind in _NO_VERDICT_KINDS else "unreachable"
            return RobotsRules(origin, state, str(exc), now)
        text = response.body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
        try:
            parser = Protego.parse(text)
        except Exception as exc:  # a parser bug on hostile input must not stop the crawl of the host
            return RobotsRules(origin, "absent", f"unparseable ({type(exc).__name__}: {exc})", now)
        return RobotsRules(origin, "parsed", f"{len(response.body)} bytes", now, parser)
