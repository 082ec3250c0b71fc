"""robots.txt: the parser's RFC 9309 behaviour, and the cache's reading of statuses, TTLs and delays."""
from __future__ import annotations

import threading
import urllib.robotparser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from protego import Protego

from akhbar.lib.web.guard import parse_target
from akhbar.lib.web.http import HttpClient, HttpConfig
from akhbar.lib.web.robots import (
    ERROR_TTL_S,
    MAX_CRAWL_DELAY_S,
    ROBOTS_MAX_BYTES,
    RobotsCache,
    RobotsPolicy,
    robots_token,
)

UA = "akhbar/0.1 (+https://github.com/akhbar-news/akhbar)"


class RobotsServer:
    """/robots.txt answers with ``status`` and ``body``; every request is counted."""

    def __init__(self, status: int = 200, body: bytes = b""):
        self.status, self.body, self.hits = status, body, 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                return

            def do_GET(self):
                server.hits += 1
                # One snapshot: the test may change the answer as soon as the headers reached the client,
                # and a body longer than the Content-Length sent would corrupt the kept-alive connection.
                status, body = server.status, server.body
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture()
def robots_server():
    server = RobotsServer()
    yield server
    server.close()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _cache(policy: RobotsPolicy = RobotsPolicy(), clock=None) -> RobotsCache:
    return RobotsCache(HttpClient(HttpConfig(allow_loopback=True, read_timeout=3)), policy, UA, clock or Clock())


def test_the_token_is_the_user_agents_first_word():
    assert robots_token(UA) == "akhbar"
    assert robots_token("My-Bot_2/1.0") == "my-bot_"
    with pytest.raises(ValueError):
        robots_token("(compatible) akhbar")


# The cases where urllib.robotparser and RFC 9309 part ways: why akhbar reads robots.txt with Protego.
RFC_CASES = [
    # (robots.txt, path, allowed by RFC 9309)
    ("User-agent: *\nDisallow: /*.pdf$\n", "/files/report.pdf", False),  # wildcards and end anchors
    ("User-agent: *\nDisallow: /*.pdf$\n", "/files/report.pdf?x=1", True),
    ("User-agent: *\nDisallow: /\nAllow: /news/\n", "/news/1.html", True),  # the longest match wins
    ("User-agent: *\nDisallow: /news/private\nAllow: /news/\n", "/news/private/1", False),
    ("User-agent: *\nAllow: /news/\nDisallow: /news/private\n", "/news/private/1", False),  # not the first match
    ("User-agent: *\nDisallow: /news/*/print\n", "/news/2026/print", False),
    ("User-agent: akhbarbot\nDisallow: /\n", "/news/1.html", True),  # a group for another product token
]


@pytest.mark.parametrize(("text", "path", "allowed"), RFC_CASES)
def test_protego_follows_rfc_9309_where_the_standard_library_does_not(text, path, allowed):
    assert Protego.parse(text).can_fetch("https://n.example" + path, "akhbar") is allowed


def test_the_standard_library_gets_those_cases_wrong():
    """Why not urllib.robotparser (see akhbar/lib/web/robots.py); if it ever agrees, reconsider."""
    wrong = 0
    for text, path, allowed in RFC_CASES:
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(text.splitlines())
        wrong += parser.can_fetch("akhbar", "https://n.example" + path) is not allowed
    assert wrong == 4


def test_rules_crawl_delay_and_sitemaps_are_read(robots_server):
    robots_server.body = (b"User-agent: *\nDisallow: /\n\nUser-agent: akhbar\nDisallow: /private/\nCrawl-delay: 2.5\n"
                          b"Sitemap: https://n.example/news-sitemap.xml\n")
    cache = _cache()
    allowed = cache.verdict(robots_server.url + "/news/1.html")
    assert allowed.allowed and allowed.delay_s == 2.5
    refused = cache.verdict(robots_server.url + "/private/x?y=1")
    assert not refused.allowed and refused.reason.endswith("disallows /private/x?y=1 for akhbar")
    assert cache.rules(parse_target(robots_server.url)).sitemaps == ["https://n.example/news-sitemap.xml"]
    assert robots_server.hits == 1, "read once, then cached"


def test_a_huge_crawl_delay_is_capped_and_request_rate_counts(robots_server):
    robots_server.body = b"User-agent: akhbar\nCrawl-delay: 86400\n"
    assert _cache().verdict(robots_server.url + "/").delay_s == MAX_CRAWL_DELAY_S
    robots_server.body = b"User-agent: akhbar\nRequest-rate: 1/5\n"
    assert _cache().verdict(robots_server.url + "/").delay_s == 5.0


@pytest.mark.parametrize(("status", "allowed", "state"), [
    (404, True, "absent"), (410, True, "absent"), (401, True, "absent"),
    (429, False, "unreachable"), (500, False, "unreachable"), (503, False, "unreachable"),
])
def test_statuses_are_read_as_rfc_9309_says(robots_server, status, allowed, state):
    robots_server.status = status
    cache = _cache()
    verdict = cache.verdict(robots_server.url + "/news/1.html")
    assert verdict.allowed is allowed
    assert cache.rules(parse_target(robots_server.url)).state == state
    if not allowed:
        assert "unreachable" in verdict.reason


def test_an_unreachable_host_is_asked_again_sooner_than_a_readable_one(robots_server):
    clock = Clock()
    robots_server.status = 500
    cache = _cache(RobotsPolicy(ttl_s=24 * 3600), clock)
    assert not cache.verdict(robots_server.url + "/a").allowed
    robots_server.status, robots_server.body = 200, b"User-agent: *\nAllow: /\n"
    clock.now += ERROR_TTL_S - 1
    assert not cache.verdict(robots_server.url + "/a").allowed, "still cached"
    clock.now += 2
    assert cache.verdict(robots_server.url + "/a").allowed
    robots_server.body = b"User-agent: *\nDisallow: /\n"
    clock.now += 23 * 3600
    assert cache.verdict(robots_server.url + "/a").allowed, "a readable file is kept for the TTL"
    clock.now += 3600
    assert not cache.verdict(robots_server.url + "/a").allowed
    assert robots_server.hits == 3


def test_only_the_first_part_of_a_huge_file_is_read(robots_server):
    robots_server.body = b"User-agent: akhbar\nDisallow: /a\n" + b"#" * ROBOTS_MAX_BYTES + b"\nDisallow: /b\n"
    cache = _cache()
    assert not cache.verdict(robots_server.url + "/a").allowed
    assert cache.verdict(robots_server.url + "/b").allowed


def test_an_unresolvable_or_refused_host_gets_no_verdict():
    cache = RobotsCache(HttpClient(HttpConfig()), RobotsPolicy(), UA, Clock())  # loopback not allowed
    verdict = cache.verdict("http://127.0.0.1:9/page")
    assert verdict.allowed, "the page's own fetch reports address_refused"
    assert cache.rules(parse_target("http://127.0.0.1:9/")).state == "unknown"


def test_exempt_hosts_are_not_read(robots_server):
    robots_server.body = b"User-agent: *\nDisallow: /\n"
    cache = _cache(RobotsPolicy(exempt_hosts=frozenset({"127.0.0.1"})))
    assert cache.verdict(robots_server.url + "/x").allowed
    assert robots_server.hits == 0
    assert not cache.rules(parse_target(robots_server.url), read_exempt=True).allows(
        parse_target(robots_server.url + "/x"), "akhbar")
    assert _cache(RobotsPolicy(obey=False)).verdict(robots_server.url + "/x").allowed
