"""A pretend internet for tests: fake DNS answers and public addresses served from 127.0.0.1.

Tests never leave 127.0.0.0/8. ``FakeNetwork`` replaces two things only: the
guard's resolver seam (``akhbar.lib.web.guard._resolve``) with a table of DNS
answers (a list of answers per name is served in turn, to simulate rebinding),
and urllib3's socket connector, which records every connection attempt, sends
a "public" address to the loopback server that stands in for it, connects to
127.0.0.0/8 as usual, and refuses anything else without touching the network.
Everything above the socket (the guard, the client, TLS, the pipeline) is real.
"""
from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import urllib3.util.connection

import akhbar.lib.web.guard as guard

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
PUBLIC_IP = "93.184.216.34"  # stands for any public address; never contacted


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class FakeNetwork:
    def __init__(self) -> None:
        self.dns: dict[str, list[list[str]]] = {}
        self.routes: dict[tuple[str, int], tuple[str, int]] = {}
        self.attempts: list[tuple[str, int]] = []  # every (host, port) a connection was asked for
        self.lookups: list[str] = []
        self._lock = threading.Lock()
        self._real_connect = urllib3.util.connection.create_connection

    def answer(self, name: str, *answers: list[str]) -> None:
        """DNS for ``name``: the first lookup gets answers[0], the next answers[1], ... (the last repeats)."""
        self.dns[name] = [list(a) for a in answers]

    def route(self, public: tuple[str, int], loopback: tuple[str, int]) -> None:
        """Connections to ``public`` (ip, port) reach the loopback server at ``loopback``."""
        self.routes[public] = loopback

    def resolve(self, host: str, port: int) -> list[str]:
        with self._lock:
            self.lookups.append(host)
            answers = self.dns.get(host)
            if answers is None:
                if _is_ip(host):
                    return [host.strip("[]")]
                raise OSError(f"fake DNS has no answer for {host!r}")
            return answers.pop(0) if len(answers) > 1 else answers[0]

    def connect(self, address, timeout=None, source_address=None, socket_options=None):
        host, port = address
        with self._lock:
            self.attempts.append((host, port))
        ip = host if _is_ip(host) else self.resolve(host, port)[0]
        destination = self.routes.get((ip, port), (ip, port))
        if ipaddress.ip_address(destination[0].strip("[]")) not in LOOPBACK:
            raise ConnectionRefusedError(f"fake network: {destination[0]} is outside 127.0.0.0/8")
        return self._real_connect(destination, timeout, source_address, socket_options)


@contextmanager
def fake_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNetwork]:
    net = FakeNetwork()
    monkeypatch.setattr(guard, "_resolve", net.resolve)
    monkeypatch.setattr(urllib3.util.connection, "create_connection", net.connect)
    yield net
