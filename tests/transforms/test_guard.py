"""The address guard and the client agree on every URL, and connect only where they checked.

Every server here listens on 127.0.0.1 and counts the connections it accepts;
``tests.network.fake_network`` records every connection the client asks for
and refuses anything outside 127.0.0.0/8. A refusal is proven by "no
connection was attempted", not only by the error kind.
"""
from __future__ import annotations

import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit

import pytest
import trustme
from hypothesis import example, given, settings
from hypothesis import strategies as st

from akhbar.lib.web.guard import AddressPolicy, FetchError, parse_ipv4_number, parse_target, refusal
from akhbar.lib.web.http import HttpClient, HttpConfig, check_url_allowed
from tests.network import PUBLIC_IP, FakeNetwork, fake_network

pytestmark = pytest.mark.timeout(60)

SECRET = "سر داخلي لا يجوز أن يخرج".encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        server: RecordingServer = self.server  # type: ignore[assignment]
        with server.lock:
            server.requests.append((self.path, self.headers.get("Host")))
        path = urlsplit(self.path)
        if path.path == "/redirect":
            location = unquote(path.query.removeprefix("to="))
            self.send_response(302)
            # Raw bytes on the wire, as a hostile server would send them.
            self.send_header("Location", location.encode("utf-8").decode("latin-1"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = SECRET if path.path == "/secret" else b"public page"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RecordingServer(ThreadingHTTPServer):
    """A loopback HTTP(S) server that records every connection it accepts and every request."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext | None = None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.connections = 0
        self.requests: list[tuple[str, str | None]] = []
        self.server_names: list[str | None] = []
        if context is not None:
            context.sni_callback = self._on_sni
            self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def _on_sni(self, _sock, name, _context) -> None:
        with self.lock:
            self.server_names.append(name)

    def reset(self) -> RecordingServer:
        with self.lock:
            self.connections = 0
            self.requests.clear()
            self.server_names.clear()
        return self

    def get_request(self):
        request = super().get_request()
        with self.lock:
            self.connections += 1
        return request

    @property
    def port(self) -> int:
        return self.server_address[1]


def _serve(context: ssl.SSLContext | None = None) -> Iterator[RecordingServer]:
    server = RecordingServer(context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def _victim() -> Iterator[RecordingServer]:
    yield from _serve()


@pytest.fixture(scope="module")
def _public() -> Iterator[RecordingServer]:
    yield from _serve()


@pytest.fixture
def victim(_victim: RecordingServer) -> RecordingServer:
    """The inside service an attacker wants to reach, on 127.0.0.1."""
    return _victim.reset()


@pytest.fixture
def public(_public: RecordingServer) -> RecordingServer:
    """The server that stands in for a public host."""
    return _public.reset()


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNetwork]:
    with fake_network(monkeypatch) as network:
        yield network


def _client(**overrides: object) -> HttpClient:
    settings_: dict[str, object] = {"connect_timeout": 2.0, "read_timeout": 2.0}
    settings_.update(overrides)
    return HttpClient(HttpConfig(**settings_))


def _refused(client: HttpClient, url: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        client.get(url)
    return info.value


# Loopback, private, link-local, metadata and reserved addresses in every notation.
# {port} is the victim's port: a client that connected would reach it.
INWARD_HOSTS = [
    "127.0.0.1:{port}",
    "2130706433:{port}",  # decimal
    "017700000001:{port}",  # octal
    "0x7f000001:{port}",  # hex
    "0x7f.0.0.1:{port}",
    "0177.0.0.1:{port}",
    "0177.0.0.01:{port}",
    "127.1:{port}",  # short forms
    "127.0.1:{port}",
    "127.000.000.001:{port}",
    "127.0.0.1.:{port}",  # trailing dot
    "127.1.2.3:{port}",
    "localhost:{port}",  # a name that resolves to loopback
    "[::1]:{port}",
    "[::ffff:127.0.0.1]:{port}",  # IPv4-mapped
    "[::ffff:7f00:1]:{port}",
    "[::127.0.0.1]:{port}",  # IPv4-compatible
    "[2002:7f00:1::]:{port}",  # 6to4
    "[64:ff9b::7f00:1]:{port}",  # NAT64
    "[0:0:0:0:0:ffff:127.0.0.1]:{port}",
    "0.0.0.0:{port}",
    "0:{port}",
    "[::]:{port}",
    "169.254.169.254",  # cloud metadata
    "2852039166",
    "0xa9fea9fe",
    "0251.0376.0251.0376",
    "169.254.43518",
    "[::ffff:169.254.169.254]",
    "[64:ff9b::a9fe:a9fe]",
    "[fd00:ec2::254]",
    "100.100.100.200",
    "10.0.0.1",  # private
    "10.1",
    "0x0a000001",
    "172.16.5.4",
    "192.168.1.1",
    "3232235777",  # 192.168.1.1
    "100.64.0.1",
    "[fc00::1]",
    "[fe80::1]",
    "224.0.0.1",  # multicast
    "[ff02::1]",
    "240.0.0.1",  # reserved
    "255.255.255.255",
]


@pytest.mark.parametrize("host", INWARD_HOSTS)
def test_inward_addresses_are_refused_without_a_connection(host, victim, net) -> None:
    net.answer("localhost", ["127.0.0.1"])
    url = f"http://{host.format(port=victim.port)}/secret"
    with _client() as client:
        err = _refused(client, url)
    assert err.kind == "address_refused", err
    assert net.attempts == []
    assert victim.connections == 0


@pytest.mark.parametrize("host", INWARD_HOSTS)
def test_redirects_to_inward_addresses_are_refused_without_a_connection(host, victim, public, net) -> None:
    net.answer("localhost", ["127.0.0.1"])
    net.answer("news.test", [PUBLIC_IP])
    net.route((PUBLIC_IP, 80), ("127.0.0.1", public.port))
    target = f"http://{host.format(port=victim.port)}/secret"
    with _client() as client:
        err = _refused(client, f"http://news.test/redirect?to={quote(target, safe='')}")
    assert err.kind == "address_refused", err
    assert net.attempts == [(PUBLIC_IP, 80)]
    assert public.requests and victim.connections == 0


# URLs that two parsers could read differently, or that no fetch should ever use.
AMBIGUOUS_URLS = [
    "http://127.0.0.1:{port}\\@1.1.1.1/x",  # the guard once saw 1.1.1.1, the client 127.0.0.1
    "http://1.1.1.1\\@127.0.0.1:{port}/x",
    "http://127.0.0.1:{port}\\\\@1.1.1.1/x",
    "http://1.1.1.1@127.0.0.1:{port}/x",  # credentials
    "http://user:pass@127.0.0.1:{port}/x",
    "http://1.1.1.1 @127.0.0.1:{port}/x",
    "http://1.1.1.1%40127.0.0.1:{port}/x",
    "http://%31%32%37.0.0.1:{port}/x",  # percent-encoded host
    "http://127.0.0.1\t:{port}/x",
    "http://127.0.0.1\u3000:{port}/x",
    "http://127.0.0.1\u200f:{port}/x",
    "http://127.0.0.1:99999/x",  # bad ports
    "http://127.0.0.1:0/x",
    "http://127.0.0.1:-1/x",
    "http://127.0.0.1:{port}:{port}/x",
    "http://[::1/x",
    "http://[::1]x/",
    "http://[127.0.0.1]/x",
    "http://[fe80::1%25lo]:{port}/x",
    "http://1.2.3.4.5/x",  # malformed numeric hosts
    "http://256.0.0.1/x",
    "http://0x1g.0.0.1/x",
    "http://127.0.0.099/x",
    "http://4294967296/x",
    "http://example.123/x",
    "http:/127.0.0.1:{port}/x",  # no authority
    "http:127.0.0.1:{port}/x",
    "http:///127.0.0.1:{port}/x",
    "https:\\\\127.0.0.1:{port}/x",
    "//127.0.0.1:{port}/x",
    "ftp://127.0.0.1:{port}/x",
    "file:///etc/passwd",
    "gopher://127.0.0.1:{port}/_x",
    "javascript:alert(1)",
    "data:text/html,x",
    "http://",
    "http://:{port}/x",
    "",
    "not a url",
    "http://127.0.0.1:{port}/x\r\nX-Injected: 1",
    "http://a" + "a" * 9000 + ".example/",
]


@pytest.mark.parametrize("url", AMBIGUOUS_URLS)
def test_ambiguous_urls_are_bad_without_a_connection(url, victim, net) -> None:
    url = url.format(port=victim.port)
    with _client(allow_loopback=True, allow_private=True) as client:  # even with every range opened
        err = _refused(client, url)
    assert err.kind == "bad_url", err
    with pytest.raises(FetchError) as info:
        check_url_allowed(url, HttpConfig(allow_loopback=True))
    assert info.value.kind == "bad_url"
    assert net.attempts == [] and net.lookups == []
    assert victim.connections == 0


@pytest.mark.parametrize("url", [u for u in AMBIGUOUS_URLS if u.startswith("http")][:12])
def test_redirects_to_ambiguous_urls_are_bad_without_a_connection(url, victim, public, net) -> None:
    net.answer("news.test", [PUBLIC_IP])
    net.route((PUBLIC_IP, 80), ("127.0.0.1", public.port))
    target = url.format(port=victim.port)
    location = quote(target, safe="")
    with _client(allow_loopback=True) as client:
        err = _refused(client, f"http://news.test/redirect?to={location}")
    assert err.kind == "bad_url", err
    assert net.attempts == [(PUBLIC_IP, 80)]
    assert victim.connections == 0


def test_dns_rebinding_cannot_reach_loopback(victim, public, net) -> None:
    """The name answers a public address first and 127.0.0.1 afterwards: only the first is ever used."""
    net.answer("rebind.test", [PUBLIC_IP], ["127.0.0.1"])
    net.route((PUBLIC_IP, victim.port), ("127.0.0.1", public.port))
    with _client() as client:
        for _ in range(3):  # each fetch resolves once and connects to what it checked
            response = client.get(f"http://rebind.test:{victim.port}/secret")
            assert response.body == SECRET  # served by the stand-in public server
            net.answer("rebind.test", [PUBLIC_IP], ["127.0.0.1"])
    assert victim.connections == 0
    assert {host for host, _port in net.attempts} == {PUBLIC_IP}, net.attempts
    assert public.requests[0] == ("/secret", f"rebind.test:{victim.port}")  # the Host header names the host


def test_rebinding_to_loopback_on_the_next_fetch_is_refused(victim, net) -> None:
    net.answer("rebind.test", ["127.0.0.1"])
    with _client() as client:
        err = _refused(client, f"http://rebind.test:{victim.port}/secret")
    assert err.kind == "address_refused"
    assert net.attempts == [] and victim.connections == 0


def test_a_name_with_any_inward_address_is_refused(victim, net) -> None:
    net.answer("mixed.test", [PUBLIC_IP, "10.0.0.1"])
    with _client() as client:
        assert _refused(client, f"http://mixed.test:{victim.port}/").kind == "address_refused"
    assert net.attempts == []


def test_the_next_approved_address_is_tried_when_one_does_not_answer(public, net) -> None:
    other_public = "93.184.216.35"
    net.answer("two.test", [PUBLIC_IP, other_public])
    net.route((other_public, 80), ("127.0.0.1", public.port))  # the first address refuses connections
    with _client() as client:
        assert client.get("http://two.test/page").body == b"public page"
    assert net.attempts == [(PUBLIC_IP, 80), (other_public, 80)]


@pytest.fixture(scope="module")
def tls_ca():
    return trustme.CA()


def _tls_context(ca, *names: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*names).configure_cert(context)
    return context


def test_https_connects_to_the_checked_address_with_sni_certificate_and_host(tls_ca, net, tmp_path) -> None:
    ca_file = tmp_path / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(ca_file))
    for server in _serve(_tls_context(tls_ca, "news.test")):
        net.answer("news.test", [PUBLIC_IP])
        net.route((PUBLIC_IP, 443), ("127.0.0.1", server.port))
        with _client(ca_certs=str(ca_file)) as client:
            response = client.get("https://news.test/page")
            again = client.get("https://news.test/redirect?to=/secret")
        assert response.body == b"public page"
        assert again.body == SECRET and again.url == "https://news.test/secret"
        assert server.server_names and set(server.server_names) == {"news.test"}  # SNI
        assert {host for _path, host in server.requests} == {"news.test"}  # Host header, default port omitted
        assert {host for host, _port in net.attempts} == {PUBLIC_IP}


def test_https_certificate_for_another_name_is_refused(tls_ca, net, tmp_path) -> None:
    ca_file = tmp_path / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(ca_file))
    for server in _serve(_tls_context(tls_ca, "other.test")):
        net.answer("news.test", [PUBLIC_IP])
        net.route((PUBLIC_IP, 443), ("127.0.0.1", server.port))
        with _client(ca_certs=str(ca_file)) as client:
            err = _refused(client, "https://news.test/page")
        assert err.kind == "connect"
        assert server.requests == []


def test_https_with_an_untrusted_certificate_is_refused(tls_ca, net) -> None:
    for server in _serve(_tls_context(tls_ca, "news.test")):
        net.answer("news.test", [PUBLIC_IP])
        net.route((PUBLIC_IP, 443), ("127.0.0.1", server.port))
        with _client() as client:  # the system store does not trust the test CA
            assert _refused(client, "https://news.test/page").kind == "connect"
        assert server.requests == []


# ------------------------------------------------------------------------ the parser


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("1.2.3", "1.2.0.3"),
        ("0x", "0.0.0.0"),
        ("8.8.8.8.", "8.8.8.8"),
        ("news.example", None),
        ("123.example", None),
    ],
)
def test_numeric_hosts_are_read_as_resolvers_read_them(host: str, expected: str | None) -> None:
    got = parse_ipv4_number(host)
    assert (None if got is None else str(got)) == expected


def test_target_keeps_the_host_for_tls_and_the_header() -> None:
    target = parse_target("HTTPS://News.Example.:8443/a b/خبر?q=ا#frag")
    assert (target.scheme, target.host, target.port) == ("https", "news.example", 8443)
    assert target.host_header == "news.example:8443"
    assert target.request_target == "/a%20b/%D8%AE%D8%A8%D8%B1?q=%D8%A7"
    assert parse_target("http://[2606:4700::1111]/").host_header == "[2606:4700::1111]"
    assert parse_target("http://0x5db8d822/").host == "93.184.216.34"


def test_public_addresses_pass_in_every_form() -> None:
    policy = AddressPolicy()
    for raw in ("93.184.216.34", "::ffff:93.184.216.34", "64:ff9b::5db8:d822", "2002:5db8:d822::1", "2606:4700::1111"):
        assert refusal(ipaddress.ip_address(raw), policy) is None, raw


_URL_CHARS = st.sampled_from(list("aZ09.-_:@[]/\\?#% \t\u3000\u200f%@0xX:") + ["127", "::1", "1.1.1.1", "ا"])


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "ftp", "", "http:", "https:/"]),
    authority=st.lists(_URL_CHARS, max_size=12).map("".join),
    rest=st.sampled_from(["", "/", "/x?y=1", "\\x", "#f", "?q"]),
)
@example(scheme="http", authority="127.0.0.1:80\\@1.1.1.1", rest="/x")
@example(scheme="http", authority="1.1.1.1&@127.0.0.1", rest="/")
def test_an_accepted_url_has_one_reading(scheme: str, authority: str, rest: str) -> None:
    """Whatever the text, the parser either refuses it as bad_url or yields a host every parser agrees on."""
    url = f"{scheme}://{authority}{rest}"
    try:
        target = parse_target(url)
    except FetchError as exc:
        assert exc.kind == "bad_url"
        return
    split = urlsplit(url)
    assert split.hostname is not None
    numeric = parse_ipv4_number(split.hostname.rstrip(".")) if ":" not in split.hostname else None
    expected = str(numeric) if numeric is not None else split.hostname.rstrip(".")
    if ":" in expected:
        expected = str(ipaddress.IPv6Address(expected))
    if expected.isascii():
        assert target.host == expected
    else:
        assert target.host.startswith("xn--"), target.host  # IDNA, as sent to DNS and in TLS
    assert target.port == (split.port or {"http": 80, "https": 443}[target.scheme])


def test_an_ipv6_answer_is_connected_as_checked(public, net) -> None:
    v6 = "2606:4700::1111"
    net.answer("v6.test", [v6])
    net.route((v6, 80), ("127.0.0.1", public.port))
    net.route((v6, 8080), ("127.0.0.1", public.port))
    with _client() as client:
        assert client.get("http://v6.test/a").body == b"public page"
        assert client.get(f"http://[{v6}]:8080/b").body == b"public page"
    assert net.attempts == [(v6, 80), (v6, 8080)]
    assert [host for _path, host in public.requests] == ["v6.test", f"[{v6}]:8080"]
