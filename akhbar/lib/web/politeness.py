"""Per-host politeness: request spacing, a concurrency cap, robots.txt and Retry-After, in one place.

Why a scheduler and not a sleep before each request: a worker fetches pages of
many hosts at once, and a thread that sleeps for one host's turn must not hold
back the pages of the others. ``HostScheduler`` runs fetch jobs for many hosts on
one small pool of threads, and for each host:

* a request starts at least ``delay`` seconds after the previous request to
  the host started and after its previous response came back (``Turn``):
  ``--host_delay``, raised by the host's robots.txt ``Crawl-delay`` (0 turns
  spacing off);
* at most ``concurrency`` jobs run at once (``--host_concurrency``);
* after a 429, or a 503 with ``Retry-After``, no request starts before the time
  the server asked for (capped by ``--max_retry_after``).

A thread always takes the host whose next request may start first, so one slow
or rate-limited host never blocks the others. ``PoliteClient`` puts the
project's ``HttpClient``, the robots.txt cache and the scheduler together; the
pipeline's page fetches, ``akhbar discover`` and ``akhbar backfill`` all fetch
through it. One ``PoliteClient`` serves a whole worker process; what holds across
processes is the pipeline's business (``transforms/fetch.py`` keys fetches by host).

Hosts are host names (or IP addresses) without the port: two ports of one
machine are one host to be polite to.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

from akhbar.lib.web.guard import parse_target
from akhbar.lib.web.http import FetchError, HttpClient, HttpConfig, HttpResponse, HttpStatusError
from akhbar.lib.web.robots import RobotsCache, RobotsPolicy, RobotsRules

__all__ = [
    "DEFAULT_FETCH_THREADS",
    "DEFAULT_HOST_CONCURRENCY",
    "DEFAULT_HOST_DELAY_S",
    "DEFAULT_MAX_RETRY_AFTER_S",
    "HostScheduler",
    "PoliteClient",
    "PoliteResult",
    "PolitenessConfig",
    "RateLimited",
    "RobotsDisallowed",
    "Turn",
    "host_of",
    "parse_retry_after",
    "retry_delay",
]

T = TypeVar("T")

DEFAULT_HOST_DELAY_S = 1.0
DEFAULT_HOST_CONCURRENCY = 2
DEFAULT_MAX_RETRY_AFTER_S = 300.0
DEFAULT_FETCH_THREADS = 32
RETRY_WITHOUT_HEADER_S = 30.0  # a 429 that does not say how long to wait
IDLE_THREAD_S = 5.0  # a scheduler thread with nothing to do for this long ends


@dataclass(frozen=True)
class PolitenessConfig:
    """How akhbar treats each host it fetches from (the options of the ``fetching`` group)."""

    delay_s: float = DEFAULT_HOST_DELAY_S  # minimum seconds between requests to one host (see Turn); 0: no spacing
    concurrency: int = DEFAULT_HOST_CONCURRENCY  # requests in flight to one host at most
    max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S  # a longer Retry-After is not waited for
    threads: int = DEFAULT_FETCH_THREADS  # fetch threads per worker process, shared by all hosts
    robots: RobotsPolicy = field(default_factory=RobotsPolicy)

    def __post_init__(self) -> None:
        if not (self.delay_s >= 0 and math.isfinite(self.delay_s)):
            raise ValueError(f"host delay must be a finite number >= 0, not {self.delay_s!r}")
        if self.concurrency < 1 or self.threads < 1:
            raise ValueError(f"host concurrency and fetch threads must be >= 1, not {self.concurrency}, {self.threads}")
        if not self.max_retry_after_s >= 0:
            raise ValueError(f"max Retry-After must be >= 0, not {self.max_retry_after_s!r}")


class RateLimited(FetchError):
    """The host asked us to come back later (429/503) and we did not (kind ``rate_limited``)."""

    def __init__(self, url: str, message: str):
        super().__init__("rate_limited", url, message)

    def __reduce__(self):
        return RateLimited, (self.url, self.message)


class RobotsDisallowed(FetchError):
    """robots.txt does not let akhbar fetch the URL (kind ``robots_disallowed``)."""

    def __init__(self, url: str, message: str):
        super().__init__("robots_disallowed", url, message)

    def __reduce__(self):
        return RobotsDisallowed, (self.url, self.message)


def host_of(url: str) -> str:
    """The server a URL's request goes to, for politeness: its Host header (the port when not the default).

    The same unit as robots.txt (RFC 9309: one file per scheme, host and port). Raises FetchError('bad_url').
    """
    return parse_target(url).host_header


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP date (RFC 9110 10.2.3).

    None when absent or unreadable; a date in the past is 0.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # RFC 9110 DIGIT is ASCII: not '²' or '٣'
        # Past any cap anyway; a very long number would overflow a float.
        return float(int(value)) if len(value) <= 12 else 1e12
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def retry_delay(exc: HttpStatusError, now: datetime | None = None) -> float | None:
    """How long the server asked us to wait, or None when ``exc`` is not a rate limit.

    A 429 is one (its ``Retry-After``, else ``RETRY_WITHOUT_HEADER_S``); so is a 503
    that carries a readable ``Retry-After``. Anything else is an ordinary failure.
    """
    asked = parse_retry_after(exc.retry_after, now)
    if exc.status == 429:
        return RETRY_WITHOUT_HEADER_S if asked is None else asked
    if exc.status == 503 and asked is not None:
        return asked
    return None


# ----------------------------------------------------------------------------- scheduler


class _Host:
    __slots__ = ("delay", "hold_until", "in_flight", "last_done", "last_start", "name", "next_at", "queue")

    def __init__(self, name: str, delay: float):
        self.name = name
        self.delay = delay
        self.next_at = 0.0  # monotonic time the next job may start (a reservation made when a job starts)
        self.last_start = -math.inf  # monotonic time the latest request started
        self.last_done = -math.inf  # monotonic time the latest response (or failure) came back
        self.hold_until = 0.0  # monotonic: Retry-After
        self.in_flight = 0
        self.queue: deque[_Job] = deque()


@dataclass
class _Job:
    fn: Callable[[Turn], Any]
    future: Future
    not_before: float  # monotonic


class Turn:
    """A job's right to send requests to its host: ``wait()`` before each request, ``done()`` after it.

    A request starts ``delay`` after the host's previous request started and
    after its previous response came back. The second rule is what the server
    sees: it read the previous request before it answered, so the next one
    reaches it at least ``delay`` later whatever the scheduling of threads on
    either side. Jobs start spaced already, so a job's first request rarely
    waits; ``wait()`` still checks, since a Crawl-delay or a Retry-After may have
    been learnt meanwhile, and a job's later requests (the page after its
    robots.txt) wait for their own slot.
    """

    def __init__(self, scheduler: HostScheduler, host: _Host):
        self._scheduler = scheduler
        self._host = host
        self._open = False  # a request was started and its end not yet recorded

    def wait(self) -> None:
        self.done()
        self._scheduler._wait_for_slot(self._host)
        self._open = True

    def done(self) -> None:
        if self._open:
            self._open = False
            self._scheduler._request_done(self._host)


class HostScheduler:
    """Run jobs for many hosts on ``threads`` threads, each host spaced and capped (see the module docstring)."""

    def __init__(self, delay_s: float = DEFAULT_HOST_DELAY_S, concurrency: int = DEFAULT_HOST_CONCURRENCY,
                 threads: int = DEFAULT_FETCH_THREADS, clock: Callable[[], float] = time.monotonic):
        self._delay = delay_s
        self._concurrency = concurrency
        self._max_threads = threads
        self._clock = clock
        self._cv = threading.Condition()
        self._hosts: dict[str, _Host] = {}
        self._waiting: set[str] = set()  # hosts with queued jobs
        self._live = 0
        self._closed = False

    # -- what callers use ---------------------------------------------------
    def submit(self, host: str, fn: Callable[[Turn], T], not_before: float | None = None) -> Future[T]:
        """Queue ``fn(turn)`` for ``host``; it starts when the host's turn comes (not before wall time ``not_before``)."""
        future: Future[T] = Future()
        with self._cv:
            if self._closed:
                raise RuntimeError("the host scheduler is closed")
            state = self._host(host)
            start = self._clock() + max(0.0, (not_before or 0.0) - time.time())
            state.queue.append(_Job(fn, future, start))
            self._waiting.add(host)
            if self._live < self._max_threads:
                self._live += 1
                threading.Thread(target=self._work, name=f"akhbar-fetch-{self._live}", daemon=True).start()
            self._cv.notify_all()
        return future

    def raise_delay(self, host: str, delay_s: float) -> None:
        """The host asks for more time between requests (robots.txt Crawl-delay)."""
        with self._cv:
            state = self._host(host)
            if delay_s > state.delay:
                state.next_at += delay_s - state.delay
                state.delay = delay_s

    def hold(self, host: str, until: float, shed: Any = None) -> int:
        """No request to ``host`` before wall time ``until`` (Retry-After).

        With ``shed`` (not None), the host's queued jobs are not kept waiting: their
        futures resolve to ``shed`` now, for the caller to retry them later. Returns
        how many were shed.
        """
        shed_jobs: list[_Job] = []
        with self._cv:
            state = self._host(host)
            state.hold_until = max(state.hold_until, self._clock() + max(0.0, until - time.time()))
            if shed is not None:
                shed_jobs = list(state.queue)
                state.queue.clear()
                self._waiting.discard(host)
            self._cv.notify_all()
        for job in shed_jobs:
            if job.future.set_running_or_notify_cancel():
                job.future.set_result(shed)
        return len(shed_jobs)

    def hold_until(self, host: str) -> float:
        """The wall time before which ``host`` gets no request (Retry-After), or 0."""
        with self._cv:
            state = self._hosts.get(host)
            left = (state.hold_until - self._clock()) if state is not None else 0.0
        return time.time() + left if left > 0 else 0.0

    def settle(self) -> None:
        """Wait until every host may be asked again: what runs next (another client) then starts spaced."""
        with self._cv:
            at = max((max(h.last_start + h.delay, h.last_done + h.delay, h.hold_until) for h in self._hosts.values()),
                     default=-math.inf)
            left = at - self._clock()
        if left > 0:
            time.sleep(left)

    def delay_of(self, host: str) -> float:
        with self._cv:
            return self._host(host).delay

    def close(self) -> None:
        """Stop the threads once their current job ends; jobs still queued are cancelled."""
        with self._cv:
            self._closed = True
            queued = [job for state in self._hosts.values() for job in state.queue]
            for state in self._hosts.values():
                state.queue.clear()
            self._waiting.clear()
            self._cv.notify_all()
        for job in queued:
            job.future.cancel()

    # -- inside ----------------------------------------------------------------
    def _host(self, name: str) -> _Host:
        state = self._hosts.get(name)
        if state is None:
            state = self._hosts[name] = _Host(name, self._delay)
        return state

    def _ready_at(self, state: _Host) -> float:
        return max(state.next_at, state.last_done + state.delay, state.hold_until, state.queue[0].not_before)

    def _pick(self) -> tuple[_Host | None, float]:
        """The host whose next job may start first (and has a free slot), and when."""
        best, best_at = None, math.inf
        for name in self._waiting:
            state = self._hosts[name]
            if state.in_flight >= self._concurrency:
                continue
            at = self._ready_at(state)
            if at < best_at:
                best, best_at = state, at
        return best, best_at

    def _take(self) -> tuple[_Host, _Job] | None:
        """Wait for the next job whose turn has come; None when this thread should end."""
        with self._cv:
            while True:
                if self._closed:
                    self._live -= 1
                    return None
                state, at = self._pick()
                now = self._clock()
                if state is None:
                    if not self._cv.wait(IDLE_THREAD_S) and self._pick()[0] is None:
                        self._live -= 1
                        return None
                    continue
                if at > now:
                    self._cv.wait(at - now)
                    continue
                job = state.queue.popleft()
                if not state.queue:
                    self._waiting.discard(state.name)
                state.in_flight += 1
                state.next_at = now + state.delay
                return state, job

    def _work(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                return
            state, job = taken
            turn = Turn(self, state)
            try:
                if job.future.set_running_or_notify_cancel():
                    try:
                        result = job.fn(turn)
                    except BaseException as exc:  # the caller sees it through the future
                        turn.done()
                        job.future.set_exception(exc)
                    else:
                        turn.done()
                        job.future.set_result(result)
            finally:
                with self._cv:
                    state.in_flight -= 1
                    self._cv.notify_all()

    def _request_done(self, state: _Host) -> None:
        with self._cv:
            state.last_done = max(state.last_done, self._clock())
            self._cv.notify_all()

    def _wait_for_slot(self, state: _Host) -> None:
        with self._cv:
            while True:
                now = self._clock()
                at = max(state.last_start + state.delay, state.last_done + state.delay, state.hold_until)
                if at <= now:
                    state.last_start = now
                    state.next_at = max(state.next_at, now + state.delay)
                    return
                self._cv.wait(at - now)


# ----------------------------------------------------------------------------- the client


class _TurnClient:
    """What a job's work sees as its HTTP client: each ``get`` waits for the host's turn and records its end."""

    def __init__(self, client: HttpClient, turn: Turn):
        self._client = client
        self._turn = turn

    def get(self, url: str, **kwargs: Any) -> HttpResponse:
        self._turn.wait()
        try:
            return self._client.get(url, **kwargs)
        finally:
            self._turn.done()


@dataclass(frozen=True)
class PoliteResult(Generic[T]):
    """What a polite fetch came to: exactly one of value, error, disallowed or retry_at is set.

    ``retry_at`` (wall time) means the host rate-limited us and asked us to come
    back then; ``error`` then holds its 429/503.
    """

    value: T | None = None
    error: BaseException | None = None
    disallowed: RobotsDisallowed | None = None
    retry_at: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.disallowed is None and self.retry_at is None


class PoliteClient:
    """The project's HTTP client behind robots.txt and per-host politeness; one per worker process."""

    def __init__(self, http: HttpConfig, config: PolitenessConfig = PolitenessConfig(),
                 clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.client = HttpClient(http)
        self.robots = RobotsCache(self.client, config.robots, http.user_agent, clock)
        self.scheduler = HostScheduler(config.delay_s, config.concurrency, config.threads, clock)

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.scheduler.close()
        self.client.close()

    def submit(self, url: str, work: Callable[[HttpClient, str], T], *, not_before: float | None = None,
               shed_on_hold: bool = False) -> Future[PoliteResult[T]]:
        """Run ``work(client, url)`` when ``url``'s host may be asked, if robots.txt allows it.

        ``work`` sends one request (``client.get``) and may process the answer; the
        future never raises: failures are in the ``PoliteResult``. With
        ``shed_on_hold``, a rate limit hands the host's other queued jobs back at
        once (``retry_at`` set) instead of keeping them waiting. Raises FetchError
        ('bad_url') for a URL that has no host.
        """
        host = host_of(url)

        def job(turn: Turn) -> PoliteResult[T]:
            try:
                verdict = self.robots.verdict(url, before_request=turn.wait)
                if verdict.delay_s:
                    self.scheduler.raise_delay(host, verdict.delay_s)
                if not verdict.allowed:
                    return PoliteResult(disallowed=RobotsDisallowed(url, verdict.reason))
                return PoliteResult(value=work(_TurnClient(self.client, turn), url))
            except HttpStatusError as exc:
                return self._rate_limited(host, url, exc, shed_on_hold)
            except Exception as exc:  # the caller decides; the scheduler thread goes on
                return PoliteResult(error=exc)

        return self.scheduler.submit(host, job, not_before)

    def _rate_limited(self, host: str, url: str, exc: HttpStatusError, shed_on_hold: bool) -> PoliteResult:
        wait = retry_delay(exc)
        if wait is None:
            return PoliteResult(error=exc)
        if wait > self.config.max_retry_after_s:
            return PoliteResult(error=RateLimited(
                url, f"{exc.message} asks to wait {wait:.0f}s, more than --max_retry_after "
                     f"{self.config.max_retry_after_s:.0f}s"))
        until = time.time() + wait
        shed = PoliteResult(error=exc, retry_at=until) if shed_on_hold else None
        self.scheduler.hold(host, until, shed)
        return PoliteResult(error=exc, retry_at=until)

    def site_rules(self, url: str) -> RobotsRules:
        """The robots.txt of ``url``'s origin (even for a host exempt from it), fetched in the host's turn."""
        target = parse_target(url)
        return self.scheduler.submit(
            target.host, lambda turn: self.robots.rules(target, turn.wait, read_exempt=True)).result()

    def get(self, url: str) -> HttpResponse:
        """A polite, synchronous GET (the commands' fetches): waits out one Retry-After, then gives up.

        Raises RobotsDisallowed, RateLimited or the fetch's own FetchError.
        """
        for attempt in range(2):
            result = self.submit(url, lambda client, u: client.get(u)).result()
            if result.disallowed is not None:
                raise result.disallowed
            if result.retry_at is not None and attempt == 0:
                continue  # the host is held until retry_at: the next submit waits for it
            if result.retry_at is not None:
                raise RateLimited(url, f"{result.error} again after waiting for its Retry-After")
            if result.error is not None:
                raise result.error
            return result.value
        raise AssertionError("unreachable")
