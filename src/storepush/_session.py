"""The session: every request of both marketplaces goes limiter -> retry -> transport.

A :class:`Session` owns one transport (one aiohttp session, bounded pool), one registry of
rate-limit buckets and one retry budget. Hundreds of marketplace clients (one per Pishkhan token)
can share it; that is how a batch stays within the server's quotas and the connection pool.
Nothing is created at import or construction time: the aiohttp session is opened on first use.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Self

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type
from yarl import URL

from ._config import DEFAULT_MAX_RESPONSE_BYTES, RequestOptions, Timeouts
from ._decode import api_error
from ._errors import (
    APIError,
    BuiltinTimeoutError,
    OutcomeUnknownError,
    StorePushError,
    TimeoutError,
    TransportError,
)
from ._http import AiohttpTransport, Request, Response, Transport, cancel_safe_close
from ._limiter import Clock, LimiterRegistry, Limits, Sleep, TokenBucket
from ._proxy import PROXY_AUTH_HINT, proxy_routes
from ._retry import (
    Decision,
    RetryBudget,
    RetryConfig,
    backoff_delay,
    decide_on_error,
    decide_on_status,
    retry_after_from_headers,
)
from ._scrub import get_logger
from ._secrets import Secret

__all__ = ["Session", "SessionStats", "redirect_target", "track_calls"]

log = get_logger("storepush")

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5


@dataclass(slots=True)
class SessionStats:
    """What a session has done so far. Read it any time; it is a snapshot."""

    requests: int = 0  #: HTTP exchanges sent (attempts, redirects included)
    retries: int = 0  #: attempts that were repeats of an earlier one
    throttled: int = 0  #: 429 answers seen
    outcome_unknown: int = 0  #: calls that ended in OutcomeUnknownError
    budget_exhausted: int = 0  #: retries refused because the retry budget was empty
    limiter_waits: int = 0  #: admissions that had to wait for the rate limiter
    limiter_waited_seconds: float = 0.0  #: total time spent waiting for it


#: Counters of the workflow running in the current task (see :func:`track_calls`).
_CALL_STATS: ContextVar[SessionStats | None] = ContextVar("storepush_call_stats", default=None)


@contextmanager
def track_calls() -> Iterator[SessionStats]:
    """Count the requests, retries and 429s of the code inside, in this task only.

    A session shared by hundreds of concurrent publishes can still tell each one what *it*
    cost: the counters live in a context variable, which every asyncio task copies.
    """
    stats = SessionStats()
    token = _CALL_STATS.set(stats)
    try:
        yield stats
    finally:
        _CALL_STATS.reset(token)


def _count(session_stats: SessionStats, field_name: str) -> None:
    setattr(session_stats, field_name, getattr(session_stats, field_name) + 1)
    local = _CALL_STATS.get()
    if local is not None:
        setattr(local, field_name, getattr(local, field_name) + 1)


def redirect_target(method: str, url: str, location: str | None) -> str | None:
    """Where a redirect may be followed to, or ``None`` when it must not be followed.

    Only GET and HEAD follow redirects, and only to the same origin (scheme, host, port): a
    credential header must never reach another origin, and a POST body must never be dropped.
    """
    if method not in ("GET", "HEAD") or not location:
        return None
    base = URL(url)
    try:
        target = base.join(URL(location))
    except ValueError:
        return None
    if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
        return None
    return str(target)


class _Retry(Exception):
    """Internal: this attempt failed in a way that may be retried."""

    def __init__(
        self,
        error: StorePushError,
        *,
        retry_after: float | None = None,
        throttle: bool = False,
        timeout: bool = False,
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after
        self.throttle = throttle
        self.timeout = timeout


class _Call:
    """One logical call's retry state: what the stop and wait decisions need."""

    __slots__ = (
        "bucket",
        "deadline_at",
        "hints",
        "max_attempts",
        "request",
        "safe",
        "session",
        "spent",
    )

    def __init__(
        self,
        session: Session,
        request: Request,
        *,
        bucket: TokenBucket,
        safe: bool,
        max_attempts: int,
        deadline_at: float | None,
        hints: Mapping[int, str] | None,
    ) -> None:
        self.session = session
        self.request = request
        self.bucket = bucket
        self.safe = safe
        self.max_attempts = max_attempts
        self.deadline_at = deadline_at
        self.hints = hints
        self.spent = 0

    def stop(self, failure: _Retry, attempt: int, upcoming: float) -> bool:
        """Whether to give up after ``attempt`` failed (with ``upcoming`` seconds to wait)."""
        session = self.session
        if attempt >= self.max_attempts:
            return True
        if failure.retry_after is not None and failure.retry_after > session.retry.max_retry_after:
            return True
        if self.deadline_at is not None and session.clock() + upcoming > self.deadline_at:
            return True
        if failure.throttle:
            return False  # paced by the limiter, not charged to the budget
        cost = session.budget.withdraw(timeout=failure.timeout)
        if cost == 0:
            _count(session._stats, "budget_exhausted")
            log.warning(
                "retry budget exhausted; not retrying %s %s", self.request.method, self.request.url
            )
            return True
        self.spent += cost
        return False

    def wait(self, failure: _Retry, attempt: int) -> float:
        retry = self.session.retry
        return backoff_delay(
            attempt,
            base=retry.backoff_base,
            cap=retry.backoff_max,
            retry_after=failure.retry_after,
            rand=self.session._rand,
        )

    def announce(self, failure: _Retry, attempt: int, delay: float) -> None:
        _count(self.session._stats, "retries")
        log.info(
            "retrying %s %s in %.2fs (attempt %d failed: %s)",
            self.request.method,
            self.request.url,
            delay,
            attempt,
            failure,
        )


class Session:
    """Connection pool, rate limiters and retry budget, shared by marketplace clients.

    Use it as ``async with storepush.Session() as session:`` and pass it to each client. Pass
    ``http=`` to use an :class:`aiohttp.ClientSession` of your own: storepush uses it and never
    closes it. ``verify_tls`` can be turned off only by passing it explicitly.

    `proxy` (`http://[user:password@]host:port`, a string or a `Secret`) sends every request
    through that forward proxy. Without it, the command line's `--proxy` applies, else the
    environment's `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY`, read when the session
    is made. Proxy credentials are secrets: never shown, scrubbed from every message.
    """

    def __init__(
        self,
        *,
        http: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        limits: Limits | None = None,
        retry: RetryConfig | None = None,
        budget: RetryBudget | None = None,
        timeouts: Timeouts | None = None,
        max_connections: int = 100,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        verify_tls: bool | ssl.SSLContext = True,
        proxy: str | Secret | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if http is not None and transport is not None:
            raise ValueError("pass http= or transport=, not both")
        if proxy is not None and transport is not None:
            raise ValueError("proxy= configures storepush's own transport: not with transport=")
        self._owns_transport = transport is None
        self._transport: Transport = transport or AiohttpTransport(
            http,
            timeouts=timeouts,
            max_connections=max_connections,
            max_response_bytes=max_response_bytes,
            verify_tls=verify_tls,
            proxies=proxy_routes(proxy, os.environ),
        )
        self.retry = retry or RetryConfig()
        self.budget = budget or RetryBudget()
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self.limiters = LimiterRegistry(limits or Limits(), clock=clock, sleep=sleep)
        self._stats = SessionStats()

    @property
    def clock(self) -> Clock:
        """The session's monotonic clock (injectable for tests)."""
        return self._clock

    @property
    def sleep(self) -> Sleep:
        """The session's sleep (injectable for tests)."""
        return self._sleep

    @property
    def stats(self) -> SessionStats:
        """A snapshot of the counters (limiter figures summed over every bucket)."""
        limiter = self.limiters.stats()
        return replace(
            self._stats,
            limiter_waits=limiter.waits,
            limiter_waited_seconds=limiter.waited_seconds,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close what this session created (never a caller's aiohttp session or transport)."""
        if self._owns_transport:
            await cancel_safe_close(self._transport)

    async def request(
        self,
        request: Request,
        *,
        marketplace: str,
        credential: Secret,
        options: RequestOptions | None = None,
        hints: Mapping[int, str] | None = None,
    ) -> Response:
        """Send ``request`` through the limiter with retries; return a 2xx response.

        Raises :class:`APIError` subclasses for error answers, :class:`TransportError` when no
        answer came, :class:`OutcomeUnknownError` when an unsafe call may have acted.
        ``hints`` adds an explanation per status to the error message.
        """
        opts = options or RequestOptions()
        deadline = opts.deadline if opts.deadline is not None else self.retry.deadline
        call = _Call(
            self,
            request,
            bucket=self.limiters.bucket(marketplace, credential.fingerprint, request.endpoint),
            safe=opts.safe if opts.safe is not None else request.safe,
            max_attempts=opts.max_attempts or self.retry.max_attempts,
            deadline_at=None if deadline is None else self._clock() + deadline,
            hints=hints,
        )
        # The first attempt runs bare: building a tenacity loop costs more than the request
        # itself on a fast network, and most calls succeed at once.
        try:
            response = await self._attempt(call)
        except _Retry as failure:
            response = await self._retry(call, failure)
        call.bucket.on_success()
        self.budget.deposit(call.spent)
        return response

    async def _retry(self, call: _Call, failure: _Retry) -> Response:
        """Attempts 2..N, through one tenacity loop made for this call."""
        delay = call.wait(failure, 1)
        if call.stop(failure, 1, delay):
            raise failure.error from failure.error.__cause__
        call.announce(failure, 1, delay)
        await self._sleep(delay)

        def failed(state: RetryCallState) -> _Retry:
            exc = state.outcome.exception() if state.outcome else None
            assert isinstance(exc, _Retry)
            return exc

        retrying = AsyncRetrying(
            stop=lambda s: call.stop(failed(s), s.attempt_number + 1, s.upcoming_sleep),
            wait=lambda s: call.wait(failed(s), s.attempt_number + 1),
            retry=retry_if_exception_type(_Retry),
            sleep=self._sleep,
            before_sleep=lambda s: call.announce(failed(s), s.attempt_number + 1, s.upcoming_sleep),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(call)
        except _Retry as final:
            raise final.error from final.error.__cause__
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _attempt(self, call: _Call) -> Response:
        request, bucket, safe, deadline_at = call.request, call.bucket, call.safe, call.deadline_at
        method, url = request.method, request.url
        started = self._clock()
        try:
            if deadline_at is None:
                await bucket.acquire()
                response = await self._send_following(request)
            else:
                async with asyncio.timeout(max(0.0, deadline_at - self._clock())):
                    await bucket.acquire()
                    response = await self._send_following(request)
        except TransportError as exc:
            log.debug("%s %s failed: %s", method, url, type(exc).__name__)
            if decide_on_error(sent=exc.sent, safe=safe) is Decision.RETRY:
                raise _Retry(exc, timeout=isinstance(exc, TimeoutError)) from exc
            _count(self._stats, "outcome_unknown")
            raise OutcomeUnknownError(
                f"the outcome is unknown: {exc}", method=method, url=url, status=None
            ) from exc
        except BuiltinTimeoutError as exc:
            expired = TimeoutError("the call's deadline passed", method=method, url=url, sent=True)
            if not safe:
                _count(self._stats, "outcome_unknown")
                raise OutcomeUnknownError(
                    "the call's deadline passed before an answer came; the outcome is unknown",
                    method=method,
                    url=url,
                    status=None,
                ) from expired
            raise expired from exc

        status = response.status
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %d in %.3fs", method, url, status, self._clock() - started)
        if status < 300:
            return response
        hint = (call.hints or {}).get(status) or (PROXY_AUTH_HINT if status == 407 else "")
        if status in _REDIRECTS:
            raise APIError(
                f"redirect to {response.headers.get('location')!r} not followed "
                "(a POST/DELETE is never redirected, nor any call to another origin; "
                "check base_url and the path's trailing slash)",
                status=status,
                method=method,
                url=url,
            )
        retry_after = retry_after_from_headers(response.headers)
        error = api_error(
            status, response.body, method=method, url=url, retry_after=retry_after, hint=hint
        )
        if status == 429:
            _count(self._stats, "throttled")
            bucket.on_throttle(retry_after)
            raise _Retry(error, retry_after=retry_after, throttle=True)
        decision = decide_on_status(status, safe=safe)
        if decision is Decision.RETRY:
            raise _Retry(error)
        if decision is Decision.UNKNOWN:
            _count(self._stats, "outcome_unknown")
            raise OutcomeUnknownError(
                f"the server answered {status}; it may have acted before failing",
                method=method,
                url=url,
                status=status,
            ) from error
        raise error

    async def _send_following(self, request: Request) -> Response:
        """One attempt, following same-origin GET redirects (each one a fresh exchange)."""
        for _ in range(_MAX_REDIRECTS + 1):
            _count(self._stats, "requests")
            response = await self._transport.send(request)
            if response.status not in _REDIRECTS:
                return response
            target = redirect_target(request.method, request.url, response.headers.get("location"))
            if target is None:
                return response
            log.debug("following redirect %s -> %s", request.url, target)
            request = replace(request, url=target)
        return response
