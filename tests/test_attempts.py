"""One call's retry policies, as tenacity sees them: stop, wait, retry."""

from __future__ import annotations

import asyncio

import pytest

from storepush import RetryBudget, RetryConfig, ServerError
from storepush._attempts import NO_OPTIONS, _Attempts, _Call, _Retry
from storepush._http import Request
from storepush._limiter import RateLimit, TokenBucket
from storepush._outcome import Outcome, Verdict
from storepush._stats import SessionStats

from .conftest import FakeClock


def make_call(clock: FakeClock, *, attempts: int = 3, budget: RetryBudget | None = None) -> _Call:
    return _Call(
        Request("GET", "https://x/y", "last-published", safe=True),
        bucket=TokenBucket(RateLimit(100, 100), clock=clock, sleep=clock.sleep),
        config=RetryConfig(max_attempts=attempts, backoff_base=0.5, backoff_max=4, deadline=60),
        budget=budget or RetryBudget(),
        stats=SessionStats(),
        clock=clock,
        rand=lambda: 1.0,
        options=NO_OPTIONS,
        hints=None,
    )


def failing(verdict: Verdict, retry_after: float | None = None) -> _Retry:
    error = ServerError("HTTP 503", status=503, method="GET", url="https://x/y")
    return _Retry(Outcome(verdict, error, retry_after=retry_after))


async def test_every_attempt_goes_through_tenacity_until_the_attempt_limit(
    clock: FakeClock,
) -> None:
    call = make_call(clock, attempts=3)
    tried: list[int] = []

    async def attempt(c: _Call) -> str:
        tried.append(1)
        raise failing(Verdict.RETRY)

    loop = _Attempts(
        stop=call.stop, wait=call.wait, retry=call.retry, sleep=clock.sleep, reraise=True
    )
    with pytest.raises(_Retry):
        await loop(attempt, call)
    assert len(tried) == 3
    assert call.stopped == "gave up after 3 attempts"
    assert clock.sleeps == [0.5, 1.0]  # full jitter at its ceiling (rand = 1)


async def test_retry_after_is_the_wait(clock: FakeClock) -> None:
    call = make_call(clock)
    outcomes = [failing(Verdict.THROTTLED, retry_after=7.0)]

    async def attempt(c: _Call) -> str:
        if outcomes:
            raise outcomes.pop()
        return "ok"

    loop = _Attempts(
        stop=call.stop, wait=call.wait, retry=call.retry, sleep=clock.sleep, reraise=True
    )
    assert await loop(attempt, call) == "ok"
    assert clock.sleeps == [7.0]


async def test_a_spent_budget_stops_retries_but_not_paced_429s(clock: FakeClock) -> None:
    call = make_call(clock, attempts=5, budget=RetryBudget(capacity=0))

    async def attempt(c: _Call) -> str:
        raise failing(Verdict.RETRY)

    loop = _Attempts(
        stop=call.stop, wait=call.wait, retry=call.retry, sleep=clock.sleep, reraise=True
    )
    with pytest.raises(_Retry):
        await loop(attempt, call)
    assert call.stopped == "the session's retry budget is spent"


async def test_cancellation_is_never_retried(clock: FakeClock) -> None:
    call = make_call(clock)

    async def attempt(c: _Call) -> str:
        raise asyncio.CancelledError

    loop = _Attempts(
        stop=call.stop, wait=call.wait, retry=call.retry, sleep=clock.sleep, reraise=True
    )
    with pytest.raises(asyncio.CancelledError):
        await loop(attempt, call)
    assert clock.sleeps == []
