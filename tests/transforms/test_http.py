"""HttpClient and the address guard against a real loopback server with fault routes.

Only 127.0.0.1 / localhost servers started here are ever contacted; every other
address in this file is an IP literal that the guard must refuse before connecting.
"""

from __future__ import annotations

import gzip
import ipaddress
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest

import akhbar.lib.web.guard as guard
from akhbar.lib.web.http import FetchError, HttpClient, HttpConfig, HttpResponse, check_url_allowed
from akhbar.sample.faults import ETAG, ETAG_BODY, LAST_MODIFIED, MIB, gzip_bomb_bytes, handle_fault
from tests.network import PUBLIC_IP, fake_network

pytestmark = pytest.mark.timeout(30)

ARABIC_PAGE = (
    '<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>خبر</title></head>'
    "<body><p>افتتح وزير الثقافة معرض الكتاب الدولي بمشاركة ثلاثمائة دار نشر.</p></body></html>"
).encode()


class _CountingWriter:
    """Wraps the handler's wfile to count bytes that actually left the server."""

    def __init__(self, inner):
        self.inner = inner
        self.count = 0

    def write(self, data: bytes) -> int:
        n = self.inner.write(data)
        self.count += len(data)
        return n

    def flush(self) -> None:
        self.inner.flush()

    def close(self) -> None:
        self.inner.close()

    @property
    def closed(self) -> bool:
        return self.inner.closed


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so draining/closing connections is exercised
    disable_nagle_algorithm = True  # avoid 40 ms delayed-ACK stalls on keep-alive hops

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        server = self.server
        with server.lock:
            server.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        counter = self.wfile = _CountingWriter(self.wfile)
        try:
            if not handle_fault(self, self.path):
                self._normal_route()
        finally:
            self.wfile = counter.inner
            with server.lock:
                server.sent[self.path] = counter.count

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _normal_route(self) -> None:
        if self.path == "/ok":
            self._send(
                200,
                ARABIC_PAGE,
                {
                    "Content-Type": 'Text/HTML; Charset="UTF-8"',
                    "ETag": '"v1"',
                    "Last-Modified": "Tue, 02 Jan 2024 10:00:00 GMT",
                    "X-Akhbar-Test": "yes",
                },
            )
        elif self.path == "/gzip":
            self._send(200, gzip.compress(ARABIC_PAGE), {"Content-Type": "text/html", "Content-Encoding": "gzip"})
        elif self.path == "/deflate":
            self._send(200, zlib.compress(ARABIC_PAGE), {"Content-Type": "text/html", "Content-Encoding": "deflate"})
        elif self.path == "/bad-gzip":
            self._send(200, b"this is not gzip at all" * 10, {"Content-Encoding": "gzip"})
        elif self.path == "/no-location":
            self._send(302, b"", {})
        elif self.path == "/relative-redirect":
            self._send(301, b"", {"Location": "ok"})
        else:
            self._send(404, b"no such route", {"Content-Type": "text/plain"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        super().__init__(("127.0.0.1", 0), handler)
        self.lock = threading.Lock()
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.sent: dict[str, int] = {}

    @property
    def port(self) -> int:
        return self.server_address[1]

    def paths(self) -> list[str]:
        with self.lock:
            return [p for p, _ in self.seen]

    def reset(self) -> None:
        with self.lock:
            self.seen.clear()
            self.sent.clear()

    def wait_sent(self, path: str, timeout: float = 5.0) -> int:
        """Bytes the handler wrote for `path`, once it has finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if path in self.sent:
                    return self.sent[path]
            time.sleep(0.01)
        raise AssertionError(f"handler for {path!r} did not finish")


def _start(handler: type[BaseHTTPRequestHandler]) -> Iterator[_Server]:
    srv = _Server(handler)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def _module_server() -> Iterator[_Server]:
    gzip_bomb_bytes(50)  # warm the module-level cache outside any measurement
    yield from _start(_Handler)


@pytest.fixture
def server(_module_server: _Server) -> _Server:
    _module_server.reset()
    return _module_server


@pytest.fixture
def base(server: _Server) -> str:
    return f"http://127.0.0.1:{server.port}"


def _client(**overrides: object) -> HttpClient:
    settings: dict[str, object] = {"allow_loopback": True, "connect_timeout": 2.0, "read_timeout": 2.0}
    settings.update(overrides)
    return HttpClient(HttpConfig(**settings))


@pytest.fixture
def client() -> Iterator[HttpClient]:
    c = _client()
    yield c
    c.close()


def _fetch_error(client: HttpClient, url: str, **kwargs: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        client.get(url, **kwargs)
    return info.value


# ------------------------------------------------------------------ plain fetches


def test_ok_200_headers_and_charset(client: HttpClient, server: _Server, base: str) -> None:
    resp = client.get(base + "/ok")
    assert isinstance(resp, HttpResponse)
    assert resp.status == 200 and not resp.not_modified
    assert resp.url == base + "/ok"
    assert resp.body == ARABIC_PAGE
    assert resp.content_type == "text/html"
    assert resp.charset == "utf-8"
    assert resp.etag == '"v1"'
    assert resp.last_modified == "Tue, 02 Jan 2024 10:00:00 GMT"
    assert resp.headers["x-akhbar-test"] == "yes"
    assert all(name == name.lower() for name in resp.headers)
    (_, sent_headers), = server.seen
    assert sent_headers["user-agent"] == HttpConfig().user_agent
    assert sent_headers["accept-encoding"] == "gzip, deflate"
    assert "if-none-match" not in sent_headers and "if-modified-since" not in sent_headers


@pytest.mark.parametrize("code", [404, 500])
def test_error_status_is_http_status(client: HttpClient, base: str, code: int) -> None:
    err = _fetch_error(client, f"{base}/fault/{code}")
    assert err.kind == "http_status"
    assert str(code) in err.message
    assert err.url == f"{base}/fault/{code}"
    assert str(err) == f"http_status: {err.message}"
    # the drained keep-alive connection is still usable
    assert client.get(base + "/ok").status == 200


def test_unknown_route_404(client: HttpClient, base: str) -> None:
    assert _fetch_error(client, base + "/fault/nope").kind == "http_status"


@pytest.mark.parametrize("path", ["/gzip", "/deflate"])
def test_compressed_page_is_decoded(client: HttpClient, base: str, path: str) -> None:
    resp = client.get(base + path)
    assert resp.headers["content-encoding"] in ("gzip", "deflate")
    assert resp.body == ARABIC_PAGE


def test_corrupt_gzip_is_decode_error(client: HttpClient, base: str) -> None:
    assert _fetch_error(client, base + "/bad-gzip").kind == "decode"


@pytest.mark.parametrize("protocol", ["HTTP/1.1", "HTTP/1.0"])
def test_body_without_content_length(protocol: str) -> None:
    handler = type("H", (_Handler,), {"protocol_version": protocol})
    for srv in _start(handler):
        with _client() as c:
            resp = c.get(f"http://127.0.0.1:{srv.port}/fault/no-length")
        assert resp.status == 200
        assert resp.body == "<p>جسم بلا طول معلن</p>\n".encode() * 4
        assert "content-length" not in resp.headers


# ------------------------------------------------------------------------- limits


def test_read_timeout(server: _Server, base: str) -> None:
    with _client(read_timeout=0.3) as c:
        start = time.monotonic()
        err = _fetch_error(c, base + "/fault/slow?seconds=3")
        elapsed = time.monotonic() - start
    assert err.kind == "timeout"
    assert elapsed < 2.0
    server.wait_sent("/fault/slow?seconds=3")  # handler notices the disconnect and ends early


def test_slow_within_timeout_is_ok(base: str) -> None:
    with _client(read_timeout=2.0) as c:
        assert c.get(base + "/fault/slow?seconds=0.2").status == 200


def test_huge_refused_by_content_length(client: HttpClient, server: _Server, base: str) -> None:
    with _client(max_bytes=MIB) as c:
        start = time.monotonic()
        err = _fetch_error(c, base + "/fault/huge")
        elapsed = time.monotonic() - start
    assert err.kind == "too_large"
    assert "Content-Length" in err.message
    assert elapsed < 2.0
    assert server.wait_sent("/fault/huge") < 20 * MIB  # we hung up long before the end
    assert client.get(base + "/ok").status == 200  # server survived the disconnect


def test_huge_without_length_stops_streaming_at_cap(client: HttpClient, server: _Server, base: str) -> None:
    path = "/fault/huge?mb=20&length=0"
    with _client(max_bytes=MIB) as c:
        err = _fetch_error(c, base + path)
    assert err.kind == "too_large"
    assert "Content-Length" not in err.message  # this was the streaming cap, not the header
    assert server.wait_sent(path) < 20 * MIB
    assert client.get(base + "/ok").status == 200


def test_gzip_bomb_stopped_without_inflating(base: str) -> None:
    assert len(gzip_bomb_bytes(50)) < MIB  # tiny on the wire, 50 MiB inflated
    with _client(max_bytes=MIB) as c:
        tracemalloc.start()
        try:
            err = _fetch_error(c, base + "/fault/gzip-bomb?mb=50")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert err.kind == "too_large"
    assert peak < 8 * MIB, f"peak {peak} bytes: body was inflated far past the cap"


def test_gzip_bomb_over_default_cap(base: str) -> None:
    with _client() as c:  # default max_bytes = 10 MiB
        assert _fetch_error(c, base + "/fault/gzip-bomb?mb=50").kind == "too_large"


# ---------------------------------------------------------------------- redirects


def test_redirect_loop(client: HttpClient, server: _Server, base: str) -> None:
    err = _fetch_error(client, base + "/fault/redirect-loop")
    assert err.kind == "redirect_loop"
    assert server.paths() == ["/fault/redirect-loop", "/fault/redirect-loop?hop=b"]


def test_too_many_redirects(server: _Server, base: str) -> None:
    with _client(max_redirects=5) as c:
        err = _fetch_error(c, base + "/fault/redirect-chain?n=10")
    assert err.kind == "too_many_redirects"
    assert len(server.paths()) == 6  # the original request + 5 followed hops, no more


@pytest.mark.parametrize("n", [1, 5])
def test_redirect_chain_within_cap(server: _Server, base: str, n: int) -> None:
    with _client(max_redirects=5) as c:
        resp = c.get(f"{base}/fault/redirect-chain?n={n}")
    assert resp.status == 200
    assert resp.body == b"ok"
    assert resp.url == f"{base}/fault/redirect-chain?n=0"
    assert len(server.paths()) == n + 1


def test_relative_location_resolved(client: HttpClient, base: str) -> None:
    resp = client.get(base + "/relative-redirect")
    assert resp.url == base + "/ok"
    assert resp.body == ARABIC_PAGE


def test_redirect_without_location(client: HttpClient, base: str) -> None:
    assert _fetch_error(client, base + "/no-location").kind == "http_status"


def test_redirect_to_metadata_refused_before_contact(client: HttpClient, server: _Server, base: str) -> None:
    target = "http://169.254.169.254/latest/meta-data/"
    err = _fetch_error(client, f"{base}/fault/redirect-to?url={quote(target, safe='')}")
    assert err.kind == "address_refused"
    assert err.url == target
    assert len(server.paths()) == 1


@pytest.mark.parametrize(
    "target_host",
    ["127.0.0.1:{port}", "[::1]:{port}", "[::ffff:127.0.0.1]:{port}", "10.0.0.1", "169.254.169.254"],
)
def test_public_url_redirecting_inward_is_refused(
    server: _Server, monkeypatch: pytest.MonkeyPatch, target_host: str
) -> None:
    """'public.test' is a public host (fake DNS, served from loopback); its redirect points inward."""
    with fake_network(monkeypatch) as net:
        net.answer("public.test", [PUBLIC_IP])
        net.route((PUBLIC_IP, server.port), ("127.0.0.1", server.port))
        target = f"http://{target_host.format(port=server.port)}/ok"
        with HttpClient(HttpConfig(connect_timeout=2.0, read_timeout=2.0)) as c:  # loopback NOT allowed
            err = _fetch_error(c, f"http://public.test:{server.port}/fault/redirect-to?url={quote(target, safe='')}")
    assert err.kind == "address_refused"
    assert err.url == target
    assert "/ok" not in server.paths()
    assert len(server.paths()) == 1  # the first (allowed) hop really was fetched
    assert net.attempts == [(PUBLIC_IP, server.port)]  # connected to the checked address only


# -------------------------------------------------------------- conditional GET


def test_conditional_get_304(client: HttpClient, server: _Server, base: str) -> None:
    first = client.get(base + "/fault/etag")
    assert first.status == 200 and first.body == ETAG_BODY
    assert first.etag == ETAG and first.last_modified == LAST_MODIFIED
    assert first.content_type == "application/rss+xml"

    again = client.get(base + "/fault/etag", etag=first.etag, last_modified=first.last_modified)
    assert again.status == 304 and again.not_modified
    assert again.body == b""
    assert again.etag == ETAG
    _, sent = server.seen[-1]
    assert sent["if-none-match"] == ETAG
    assert sent["if-modified-since"] == LAST_MODIFIED

    assert client.get(base + "/fault/etag", last_modified=LAST_MODIFIED).not_modified
    changed = client.get(base + "/fault/etag", etag='"something-else"')
    assert changed.status == 200 and changed.body == ETAG_BODY


# ------------------------------------------------------------- connection + guard


def test_connection_refused_is_connect() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with _client() as c:
        err = _fetch_error(c, f"http://127.0.0.1:{port}/")
    assert err.kind == "connect"


def test_dns_failure_is_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(guard, "_resolve", no_dns)
    with pytest.raises(FetchError) as info:
        check_url_allowed("http://feeds.invalid/rss", HttpConfig())
    assert info.value.kind == "dns"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_refused_by_default_before_connecting(server: _Server, host: str) -> None:
    with HttpClient() as c:
        err = _fetch_error(c, f"http://{host}:{server.port}/ok")
    assert err.kind == "address_refused"
    assert "loopback" in err.message
    assert server.paths() == []


REFUSED_BY_DEFAULT = [
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "[fe80::1]",
    "[fc00::1]",
    "[fd00:ec2::254]",
    "[::1]",
    "127.0.0.1",
    "0.0.0.0",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[::ffff:10.0.0.1]",
    "224.0.0.1",
    "[ff02::1]",
    "240.0.0.1",
    "255.255.255.255",
]


@pytest.mark.parametrize("host", REFUSED_BY_DEFAULT)
def test_guard_refuses(host: str) -> None:
    url = f"http://{host}:8080/feed.xml"
    with pytest.raises(FetchError) as info:
        check_url_allowed(url, HttpConfig())
    assert info.value.kind == "address_refused"
    assert info.value.url == url


@pytest.mark.parametrize(
    "host",
    ["169.254.169.254", "[fe80::1]", "[fd00:ec2::254]", "0.0.0.0", "[::]", "224.0.0.1", "[::ffff:169.254.169.254]"],
)
def test_guard_always_refuses_even_when_everything_allowed(host: str) -> None:
    with pytest.raises(FetchError) as info:
        check_url_allowed(f"http://{host}/", HttpConfig(allow_loopback=True, allow_private=True))
    assert info.value.kind == "address_refused"


@pytest.mark.parametrize(
    ("host", "config"),
    [
        ("127.0.0.1", HttpConfig(allow_loopback=True)),
        ("[::1]", HttpConfig(allow_loopback=True)),
        ("[::ffff:127.0.0.1]", HttpConfig(allow_loopback=True)),
        ("10.0.0.1", HttpConfig(allow_private=True)),
        ("172.16.5.4", HttpConfig(allow_private=True)),
        ("192.168.1.1", HttpConfig(allow_private=True)),
        ("100.64.0.1", HttpConfig(allow_private=True)),
        ("[fc00::1]", HttpConfig(allow_private=True)),
        ("93.184.216.34", HttpConfig()),
        ("[2606:4700::1111]", HttpConfig()),
    ],
)
def test_guard_allows(host: str, config: HttpConfig) -> None:
    ips = check_url_allowed(f"https://{host}/rss", config)
    assert [ipaddress.ip_address(ip) for ip in ips] == [ipaddress.ip_address(host.strip("[]"))]


def test_loopback_does_not_open_private() -> None:
    with pytest.raises(FetchError) as info:
        check_url_allowed("http://10.0.0.1/", HttpConfig(allow_loopback=True))
    assert info.value.kind == "address_refused"


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "127.1"])
def test_obfuscated_ipv4_loopback_refused(host: str) -> None:
    """Read as the IPv4 address they stand for by the guard itself, whatever libc does."""
    with pytest.raises(FetchError) as info:
        check_url_allowed(f"http://{host}/", HttpConfig())
    assert info.value.kind == "address_refused"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/feed.xml",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/",
        "http:///no-host",
        "http://",
        "https://:443/x",
        "not a url",
        "",
        "http://127.0.0.1:99999/",
        "http://127.0.0.1/\r\nX-Injected: 1",
    ],
)
def test_bad_url(url: str) -> None:
    with pytest.raises(FetchError) as info:
        check_url_allowed(url, HttpConfig(allow_loopback=True))
    assert info.value.kind == "bad_url"
    with pytest.raises(FetchError) as info:
        HttpClient(HttpConfig(allow_loopback=True)).get(url)
    assert info.value.kind == "bad_url"


def test_server_saw_no_request_for_bad_or_refused(server: _Server) -> None:
    with HttpClient() as c:
        for url in (f"ftp://127.0.0.1:{server.port}/", f"http://[::ffff:127.0.0.1]:{server.port}/ok"):
            with pytest.raises(FetchError):
                c.get(url)
    assert server.paths() == []
    assert server.sent == {}
