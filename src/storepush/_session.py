"""The session: every request of both marketplaces goes limiter -> retry -> transport.

A [`Session`][storepush.Session] owns one transport (one aiohttp session, bounded pool), one
registry of rate-limit buckets and one retry budget. Hundreds of marketplace clients (one per
Pishkhan token) can share it; that is how a batch stays within the server's quotas and the
connection pool. Nothing is created at import or construction time.

One call is one run of `_attempts.run_attempts`: its first attempt directly, every retry
through one tenacity loop. What an answer means is decided by `_outcome.judge_answer` /
`judge_failure`; when to stop and how long to wait by `_retry.stop_reason` /
`backoff_delay`. This module only carries those decisions out.
"""

from __future__ import annotations

import asyncio
import os
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import TracebackType
from typing import Self

import aiohttp

from ._attempts import NO_OPTIONS, _Call, _Retry, deadline_error, run_attempts
from ._config import DEFAULT_MAX_RESPONSE_BYTES, RequestOptions, Timeouts
from ._coordination import Coordinator, SharedLimits
from ._errors import BuiltinTimeoutError, TransportError
from ._http import (
    CALL_DEADLINE,
    AiohttpTransport,
    Request,
    Response,
    Transport,
    cancel_safe_close,
)
from ._limiter import Clock, Limiter, LimiterRegistry, Limits, Sleep
from ._outcome import MAX_REDIRECTS, REDIRECTS, Outcome, Verdict, judge_answer, judge_failure
from ._outcome import redirect_target as redirect_target
from ._proxy import PROXY_AUTH_HINT, proxy_routes
from ._recording import Recorder, install
from ._redis import coordination_for_session
from ._retry import RetryBudget, RetryConfig
from ._scrub import get_logger
from ._secrets import Secret
from ._stats import SessionStats, count, track_calls

__all__ = ["Session", "SessionStats", "redirect_target", "track_calls"]

log = get_logger("storepush")


class Session:
    """Connection pool, rate limiters and retry budget, shared by marketplace clients.

    Use it as `async with storepush.Session() as session:` and pass it to each client. Pass
    `http=` to use an `aiohttp.ClientSession` of your own: storepush uses it and never closes
    it. `verify_tls` can be turned off only by passing it explicitly. `coordination` hands
    out the per-app leases publishes hold, and may share the rate limits too: a
    [`RedisCoordinator`][storepush.RedisCoordinator], or a Redis URL (`redis://...`,
    `rediss://...`) to make one from. Without it, the command line's `--redis-url` applies,
    else `STOREPUSH_REDIS_URL`, else a `flock` per app and limits in this process (the guide's
    "Running many jobs at once").
    `record=` (a path, or a [Recorder][storepush.Recorder] to share) appends every exchange
    to a JSON-lines file, credentials removed (the guide's "Recording and replay" page).

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
        coordination: Coordinator | str | Secret | None = None,
        record: str | os.PathLike[str] | Recorder | None = None,
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
        self._transport, self._owns_transport = install(
            self._transport, record, owns_transport=self._owns_transport
        )
        self._transport_bounds_deadline = bool(getattr(self._transport, "honours_deadline", False))
        self.retry = retry or RetryConfig()
        self.budget = budget or RetryBudget()
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        #: who else is publishing the same app: one lease per app while a publish runs
        self.coordination: Coordinator
        self.coordination, self._owns_coordination = coordination_for_session(coordination)
        self.limiters: Limiter = (
            self.coordination.limiter(limits or Limits(), clock=clock, sleep=sleep)
            if isinstance(self.coordination, SharedLimits)
            else LimiterRegistry(limits or Limits(), clock=clock, sleep=sleep)
        )
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
        """Close what this session created (never a caller's aiohttp session, transport or
        coordinator)."""
        if self._owns_transport:
            await cancel_safe_close(self._transport)
        if self._owns_coordination and isinstance(self.coordination, SharedLimits):
            await self.coordination.aclose()

    async def request(
        self,
        request: Request,
        *,
        marketplace: str,
        credential: Secret,
        options: RequestOptions | None = None,
        hints: Mapping[int, str] | None = None,
    ) -> Response:
        """Send `request` through the limiter with retries; return a 2xx response.

        Raises `APIError` subclasses for error answers, `TransportError` when no answer came,
        `OutcomeUnknownError` when an unsafe call may have acted. `hints` adds an explanation
        per status to the error message.
        """
        call = _Call(
            request,
            bucket=self.limiters.bucket(marketplace, credential.fingerprint, request.endpoint),
            config=self.retry,
            budget=self.budget,
            stats=self._stats,
            clock=self._clock,
            rand=self._rand,
            options=options or NO_OPTIONS,
            hints=hints,
        )
        try:
            response = await run_attempts(self._attempt, call, sleep=self._sleep)
        except _Retry as final:
            error = final.outcome.error
            assert error is not None
            raise error.gave_up(call.attempts, call.stopped or "gave up") from error.__cause__
        call.bucket.on_success()
        self.budget.deposit(call.spent)
        return response

    async def _attempt(self, call: _Call) -> Response:
        """One attempt: admission, the exchange (redirects followed), and its verdict."""
        request = call.request
        method, url = request.method, request.url
        call.attempts += 1
        remaining = None if call.deadline_at is None else call.deadline_at - self._clock()
        sending = False
        try:
            if not call.bucket.try_acquire():
                async with asyncio.timeout(remaining):
                    waited = await call.bucket.acquire()
                log.debug("%s %s waited %.3fs for the rate limiter", method, url, waited)
                remaining = None if call.deadline_at is None else call.deadline_at - self._clock()
            started = self._clock()
            sending = True
            if remaining is not None and remaining <= 0:
                raise BuiltinTimeoutError
            if self._transport_bounds_deadline:
                deadline = (
                    None if remaining is None else asyncio.get_running_loop().time() + remaining
                )
                token = CALL_DEADLINE.set(deadline)
                try:
                    response, followed = await self._send_following(request)
                finally:
                    CALL_DEADLINE.reset(token)
            else:
                async with asyncio.timeout(remaining):
                    response, followed = await self._send_following(request)
        except BuiltinTimeoutError:
            outcome = judge_failure(deadline_error(call, sent=sending), safe=call.safe)
        except TransportError as exc:
            log.debug("%s %s failed: %s", method, url, type(exc).__name__)
            outcome = judge_failure(exc, safe=call.safe)
        else:
            status = response.status
            if log.isEnabledFor(10):
                log.debug("%s %s -> %d in %.3fs", method, url, status, self._clock() - started)
            if status < 300:
                return response
            outcome = judge_answer(
                status,
                response.headers,
                response.body,
                method=method,
                url=url,
                safe=call.safe,
                hint=(call.hints or {}).get(status) or (PROXY_AUTH_HINT if status == 407 else ""),
                redirects_followed=followed,
            )
        return self._carry_out(call, outcome)

    def _carry_out(self, call: _Call, outcome: Outcome) -> Response:
        verdict = outcome.verdict
        if verdict is Verdict.THROTTLED:
            count(self._stats, "throttled")
            call.bucket.on_throttle(outcome.retry_after)
        if verdict in (Verdict.RETRY, Verdict.THROTTLED):
            raise _Retry(outcome)
        if verdict is Verdict.UNKNOWN:
            count(self._stats, "outcome_unknown")
        assert outcome.error is not None
        raise outcome.error

    async def _send_following(self, request: Request) -> tuple[Response, int]:
        """One attempt, following same-origin GET redirects (each one a fresh exchange)."""
        followed = 0
        while True:
            count(self._stats, "requests")
            response = await self._transport.send(request)
            if response.status not in REDIRECTS or followed >= MAX_REDIRECTS:
                return response, followed
            target = redirect_target(request.method, request.url, response.headers.get("location"))
            if target is None:
                return response, followed
            log.debug("following redirect %s -> %s", request.url, target)
            request = replace(request, url=target)
            followed += 1
