"""The host scheduler, Retry-After and the polite client, on real threads and a loopback site."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from akhbar.lib.web.http import HttpConfig, HttpStatusError
from akhbar.lib.web.politeness import (
    RETRY_WITHOUT_HEADER_S,
    HostScheduler,
    PoliteClient,
    PolitenessConfig,
    RateLimited,
    RobotsDisallowed,
    host_of,
    parse_retry_after,
    retry_delay,
)
from akhbar.lib.web.robots import RobotsPolicy
from akhbar.sample.site import NewsSite

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
LOOPBACK = HttpConfig(allow_loopback=True, read_timeout=5)


@pytest.mark.parametrize(("value", "seconds"), [
    ("2", 2.0), (" 120 ", 120.0), ("0", 0.0),
    (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
    ("Tue, 24 Nov 2026 08:00:30 GMT", 30.0),
    (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),  # a date in the past: now
    (None, None), ("", None), ("soon", None), ("-5", None), ("1.5", None), ("Tue, 99 Foo 2026", None),
    ("\u00b2", None), ("\u0663", None), ("9" * 400, 1e12),  # only ASCII digits; a huge wait is still a number
])
def test_retry_after_is_seconds_or_an_http_date(value, seconds):
    assert parse_retry_after(value, NOW) == seconds


@given(st.text(max_size=80))
def test_any_retry_after_header_is_a_wait_or_none(value):
    result = parse_retry_after(value, NOW)
    assert result is None or result >= 0


def test_429_and_503_with_retry_after_are_rate_limits_other_statuses_are_not():
    assert retry_delay(HttpStatusError("u", "m", 429, "7"), NOW) == 7
    assert retry_delay(HttpStatusError("u", "m", 429, None), NOW) == RETRY_WITHOUT_HEADER_S
    assert retry_delay(HttpStatusError("u", "m", 503, "3"), NOW) == 3
    assert retry_delay(HttpStatusError("u", "m", 503, None), NOW) is None
    assert retry_delay(HttpStatusError("u", "m", 500, "3"), NOW) is None


def test_hosts_are_names_without_ports():
    assert host_of("https://127.0.0.1/b") == host_of("https://127.0.0.1:443/c") == "127.0.0.1"
    assert host_of("http://127.0.0.1:8080/a") == host_of("http://127.0.0.1:8080/z") == "127.0.0.1:8080"
    assert host_of("http://127.0.0.1:8080/a") != host_of("http://127.0.0.1:8081/a")  # two servers, two queues
    assert host_of("https://News.Example/x") == "news.example"


def _record(log: list, lock: threading.Lock, host: str, duration: float = 0.0):
    def job(turn):
        turn.wait()
        with lock:
            log.append((host, time.monotonic()))
        time.sleep(duration)
        turn.done()
        return host

    return job


def test_requests_to_one_host_are_spaced_and_other_hosts_are_not_held_back():
    scheduler = HostScheduler(delay_s=0.2, concurrency=2, threads=4)
    log: list = []
    lock = threading.Lock()
    started = time.monotonic()
    futures = [scheduler.submit("a", _record(log, lock, "a")) for _ in range(5)]
    futures += [scheduler.submit("b", _record(log, lock, "b")) for _ in range(5)]
    assert [f.result(timeout=10) for f in futures] == ["a"] * 5 + ["b"] * 5
    for host in ("a", "b"):
        times = [t for h, t in log if h == host]
        assert min(b - a for a, b in zip(times, times[1:])) >= 0.2
    # Both hosts ran side by side: about 4 delays in all, not 9.
    assert time.monotonic() - started < 9 * 0.2


def test_at_most_concurrency_jobs_of_one_host_run_at_once():
    scheduler = HostScheduler(delay_s=0, concurrency=2, threads=8)
    running, peak = [0], [0]
    lock = threading.Lock()

    def job(turn):
        turn.wait()
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    futures = [scheduler.submit("a", job) for _ in range(10)]
    for future in futures:
        future.result(timeout=10)
    assert peak[0] == 2


def test_a_hold_keeps_the_host_waiting_and_can_hand_back_its_queue():
    scheduler = HostScheduler(delay_s=0, concurrency=1, threads=2)
    log: list = []
    lock = threading.Lock()
    scheduler.hold("a", time.time() + 0.5)
    started = time.monotonic()
    scheduler.submit("a", _record(log, lock, "a")).result(timeout=5)
    assert log[0][1] - started >= 0.45
    # Shedding: the queued jobs resolve at once to the value given, without running.
    gate = threading.Event()
    blocker = scheduler.submit("a", lambda turn: gate.wait(5))
    queued = [scheduler.submit("a", _record(log, lock, "a")) for _ in range(3)]
    time.sleep(0.05)
    assert scheduler.hold("a", time.time() + 60, shed="later") == 3
    assert [f.result(timeout=1) for f in queued] == ["later"] * 3
    gate.set()
    blocker.result(timeout=5)
    assert len(log) == 1


def test_not_before_and_raised_delay():
    scheduler = HostScheduler(delay_s=0, concurrency=1, threads=2)
    log: list = []
    lock = threading.Lock()
    started = time.monotonic()
    scheduler.submit("a", _record(log, lock, "a"), not_before=time.time() + 0.3).result(timeout=5)
    assert log[0][1] - started >= 0.28
    scheduler.raise_delay("a", 0.3)
    scheduler.submit("a", _record(log, lock, "a")).result(timeout=5)
    assert log[1][1] - log[0][1] >= 0.3
    assert scheduler.delay_of("a") == 0.3


def test_a_closed_scheduler_cancels_what_is_queued():
    scheduler = HostScheduler(delay_s=5, concurrency=1, threads=1)
    first = scheduler.submit("a", lambda turn: turn.wait())
    later = scheduler.submit("a", lambda turn: turn.wait())
    first.result(timeout=5)
    scheduler.close()
    assert later.cancelled()
    with pytest.raises(RuntimeError):
        scheduler.submit("a", lambda turn: None)


def test_bad_politeness_settings_are_refused():
    with pytest.raises(ValueError):
        PolitenessConfig(delay_s=-1)
    with pytest.raises(ValueError):
        PolitenessConfig(concurrency=0)
    with pytest.raises(ValueError):
        PolitenessConfig(delay_s=float("nan"))


def test_the_polite_client_obeys_robots_and_waits_out_one_retry_after():
    robots = "User-agent: akhbar\nDisallow: /news/1.html\n"
    with NewsSite(pages=3, robots=robots, rate_limit={"/news/2.html": "1"}) as site, \
            PoliteClient(LOOPBACK, PolitenessConfig(delay_s=0)) as polite:
        with pytest.raises(RobotsDisallowed) as refused:
            polite.get(site.url + "/news/1.html")
        assert refused.value.kind == "robots_disallowed"
        started = time.monotonic()
        assert polite.get(site.url + "/news/2.html").status == 200
        assert time.monotonic() - started >= 1.0
        assert [r.path for r in site.requests] == ["/robots.txt", "/news/2.html", "/news/2.html"]


def test_a_retry_after_past_the_cap_is_a_rate_limited_error():
    with NewsSite(pages=1, robots=None, rate_limit={"/news/0.html": "3600"}) as site, \
            PoliteClient(LOOPBACK, PolitenessConfig(delay_s=0, max_retry_after_s=10)) as polite:
        with pytest.raises(RateLimited) as limited:
            polite.get(site.url + "/news/0.html")
    assert "3600s" in str(limited.value) and limited.value.kind == "rate_limited"


def test_a_host_the_operator_has_permission_for_is_fetched_without_robots():
    with NewsSite(pages=1, robots="User-agent: *\nDisallow: /\n") as site:
        config = PolitenessConfig(delay_s=0, robots=RobotsPolicy(exempt_hosts=frozenset({site.url.split("://")[1]})))
        with PoliteClient(LOOPBACK, config) as polite:
            assert polite.get(site.url + "/news/0.html").status == 200
        assert [r.path for r in site.requests] == ["/news/0.html"], "robots.txt was not even read"
