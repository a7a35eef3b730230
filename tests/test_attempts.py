"""One call's retry policies, as tenacity sees them: stop, wait, retry."""

from __future__ import annotations

import asyncio

import pytest

from storepush import RetryBudget, RetryConfig, ServerError
from storepush._attempts import NO_OPTIONS, _Call, _Retry, run_attempts
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


async def test_retries_go_through_tenacity_until_the_attempt_limit(
    clock: FakeClock,
) -> None:
    call = make_call(clock, attempts=3)
    tried: list[int] = []

    async def attempt(c: _Call) -> str:
        tried.append(1)
        raise failing(Verdict.RETRY)

    with pytest.raises(_Retry):
        await run_attempts(attempt, call, sleep=clock.sleep)
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

    assert await run_attempts(attempt, call, sleep=clock.sleep) == "ok"
    assert clock.sleeps == [7.0]


async def test_a_spent_budget_stops_retries_but_not_paced_429s(clock: FakeClock) -> None:
    call = make_call(clock, attempts=5, budget=RetryBudget(capacity=0))

    async def attempt(c: _Call) -> str:
        raise failing(Verdict.RETRY)

    with pytest.raises(_Retry):
        await run_attempts(attempt, call, sleep=clock.sleep)
    assert call.stopped == "the session's retry budget is spent"


async def test_cancellation_is_never_retried(clock: FakeClock) -> None:
    call = make_call(clock)

    async def attempt(c: _Call) -> str:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await run_attempts(attempt, call, sleep=clock.sleep)
    assert clock.sleeps == []


async def test_a_first_attempt_that_succeeds_never_builds_a_tenacity_loop(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_loop(**kwargs: object) -> None:
        raise AssertionError("tenacity was built for a call that needed no retry")

    monkeypatch.setattr("storepush._attempts._Attempts", no_loop)
    call = make_call(clock)

    async def attempt(c: _Call) -> str:
        return "ok"

    assert await run_attempts(attempt, call, sleep=clock.sleep) == "ok"


async def test_a_final_error_on_the_first_attempt_is_raised_as_it_is(clock: FakeClock) -> None:
    call = make_call(clock)
    error = ServerError("HTTP 400", status=400, method="GET", url="https://x/y")

    async def attempt(c: _Call) -> str:
        raise error

    with pytest.raises(ServerError) as raised:
        await run_attempts(attempt, call, sleep=clock.sleep)
    assert raised.value is error
    assert clock.sleeps == []


async def test_tenacity_takes_over_after_the_first_failure_as_if_it_had_made_it(
    clock: FakeClock,
) -> None:
    call = make_call(clock, attempts=4)
    outcomes = [failing(Verdict.RETRY), failing(Verdict.RETRY)]
    seen: list[int] = []

    async def attempt(c: _Call) -> str:
        seen.append(len(seen) + 1)
        if outcomes:
            raise outcomes.pop()
        return "ok"

    assert await run_attempts(attempt, call, sleep=clock.sleep) == "ok"
    assert seen == [1, 2, 3]
    assert clock.sleeps == [0.5, 1.0]  # attempt 1's wait, then attempt 2's: numbering kept
    assert call.stats.retries == 2  # before_sleep announced both
