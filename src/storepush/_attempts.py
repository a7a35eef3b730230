"""One call's retry loop: tenacity, with storepush's decisions as its policies.

[`run_attempts`][storepush._attempts.run_attempts] makes a call's first attempt directly and,
only if that attempt failed in a way that may be retried, hands the call to tenacity's loop
([`_Attempts`][storepush._attempts._Attempts], one `AsyncRetrying` per call), seeded with that
failure: every retry decision, wait and sleep is tenacity's. [`_Call`][storepush._attempts._Call]
holds the call's state and plugs the pure decisions of `_retry.py` in as tenacity's `stop`,
`wait` and `retry`. The session (`_session.py`) runs the attempts; this module decides nothing
itself.

Why the first attempt skips tenacity: nearly every call succeeds at once, and a tenacity loop
costs about 13 µs of CPU per call even when nothing is retried (its object, its state, five
action coroutines), a tenth of an exchange with aiohttp on loopback. Seeded with the first
failure, tenacity goes on exactly as if it had made that attempt itself (attempt numbers,
`before_sleep`, `reraise`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from tenacity import AsyncRetrying, DoAttempt, DoSleep, IterState, RetryCallState, _utils

from ._config import RequestOptions
from ._errors import TimeoutError
from ._http import Request
from ._limiter import Bucket, Clock
from ._outcome import Outcome, Verdict
from ._retry import RetryBudget, RetryConfig, backoff_delay, stop_reason
from ._scrub import get_logger
from ._stats import SessionStats, count

__all__ = ["NO_OPTIONS", "_Attempts", "_Call", "_Retry", "deadline_error", "run_attempts"]

T = TypeVar("T")

log = get_logger("storepush")


class _Retry(Exception):
    """Internal: this attempt failed with an outcome that may be retried."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(str(outcome.error))
        self.outcome = outcome


#: Which tenacity action functions are coroutine functions, by code object (see `_Attempts`).
_ASYNC_ACTIONS: dict[object, bool] = {}


def _as_async(fn: Callable[..., Any]) -> Callable[..., Any]:
    async def call(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return call


class _Attempts(AsyncRetrying):
    """tenacity's `AsyncRetrying`, made once per call that needs a retry, its bookkeeping cheap.

    Every retry goes through tenacity's loop (its actions, `DoAttempt`/`DoSleep`, `reraise`);
    the decisions are ours (`_Call.stop`, `.wait`, `.retry`). Because each call has its own
    object, its state needs none of the thread-local indirection tenacity uses to make one
    object shareable (it is not shareable between concurrent tasks anyway); and because our
    policies are plain functions, they are called directly instead of being classified by
    `inspect` on every iteration.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._call_state = IterState()
        self._call_statistics: dict[str, Any] = {}

    @property
    def iter_state(self) -> IterState:
        return self._call_state

    @property
    def statistics(self) -> dict[str, Any]:
        return self._call_statistics

    def _add_action_func(self, fn: Callable[..., Any]) -> None:
        code = getattr(getattr(fn, "__func__", fn), "__code__", None)
        is_async = _ASYNC_ACTIONS.get(code) if code is not None else None
        if is_async is None:
            is_async = _utils.is_coroutine_callable(fn)
            if code is not None:
                _ASYNC_ACTIONS[code] = is_async
        self._call_state.actions.append(fn if is_async else _as_async(fn))

    async def _run_retry(self, retry_state: RetryCallState) -> None:  # type: ignore[override]
        self._call_state.retry_run_result = self.retry(retry_state)

    async def _run_wait(self, retry_state: RetryCallState) -> None:  # type: ignore[override]
        retry_state.upcoming_sleep = self.wait(retry_state)

    async def _run_stop(self, retry_state: RetryCallState) -> None:  # type: ignore[override]
        self._call_statistics["delay_since_first_attempt"] = retry_state.seconds_since_start
        self._call_state.stop_run_result = self.stop(retry_state)

    async def resume(
        self,
        fn: Callable[[_Call], Awaitable[T]],
        call: _Call,
        *,
        failed: Any,
        started: float,
    ) -> T:
        """tenacity's loop (`AsyncRetrying.__call__`), entered after a first attempt that
        raised `failed` (an `exc_info` triple) at a call that began at `started`."""
        self.begin()
        self._call_statistics["start_time"] = started
        state = RetryCallState(retry_object=self, fn=fn, args=(call,), kwargs={})
        state.start_time = started
        state.set_exception(failed)
        while True:
            do = await self.iter(retry_state=state)
            if isinstance(do, DoAttempt):
                try:
                    result = await fn(call)
                except BaseException:
                    state.set_exception(sys.exc_info())  # type: ignore[arg-type]
                else:
                    state.set_result(result)
            elif isinstance(do, DoSleep):
                state.prepare_for_next_attempt()
                await self.sleep(do)  # type: ignore[misc]
            else:
                return do  # type: ignore[no-any-return]


class _Call:
    """One logical call: its policies for tenacity, and what it has spent."""

    __slots__ = (
        "attempts",
        "bucket",
        "budget",
        "clock",
        "config",
        "deadline_at",
        "hints",
        "max_attempts",
        "rand",
        "request",
        "safe",
        "spent",
        "stats",
        "stopped",
    )

    def __init__(
        self,
        request: Request,
        *,
        bucket: Bucket,
        config: RetryConfig,
        budget: RetryBudget,
        stats: SessionStats,
        clock: Clock,
        rand: Callable[[], float],
        options: RequestOptions,
        hints: Mapping[int, str] | None,
    ) -> None:
        self.request = request
        self.bucket = bucket
        self.config = config
        self.budget = budget
        self.stats = stats
        self.clock = clock
        self.rand = rand
        self.hints = hints
        self.safe = options.safe if options.safe is not None else request.safe
        self.max_attempts = options.max_attempts or config.max_attempts
        if options.deadline is not None:
            deadline: float | None = options.deadline
        else:
            deadline = config.upload_deadline if request.upload else config.deadline
        self.deadline_at = None if deadline is None else clock() + deadline
        self.spent = 0
        self.attempts = 0
        self.stopped: str | None = None

    @staticmethod
    def _failure(state: RetryCallState) -> Outcome:
        exc = state.outcome.exception() if state.outcome is not None else None
        assert isinstance(exc, _Retry)
        return exc.outcome

    def retry(self, state: RetryCallState) -> bool:
        """Retry only our own retryable outcomes: never a final error, never cancellation."""
        return state.outcome is not None and isinstance(state.outcome.exception(), _Retry)

    def wait(self, state: RetryCallState) -> float:
        config = self.config
        return backoff_delay(
            state.attempt_number,
            base=config.backoff_base,
            cap=config.backoff_max,
            retry_after=self._failure(state).retry_after,
            rand=self.rand,
        )

    def stop(self, state: RetryCallState) -> bool:
        failure = self._failure(state)
        reason = stop_reason(
            attempt=state.attempt_number,
            max_attempts=self.max_attempts,
            retry_after=failure.retry_after,
            max_retry_after=self.config.max_retry_after,
            now=self.clock(),
            upcoming=state.upcoming_sleep,
            deadline_at=self.deadline_at,
        )
        if reason is None and failure.verdict is Verdict.RETRY:
            cost = self.budget.withdraw(timeout=failure.timed_out)
            if cost == 0:
                count(self.stats, "budget_exhausted")
                reason = "the session's retry budget is spent"
            self.spent += cost
        self.stopped = reason
        return reason is not None

    def announce(self, state: RetryCallState) -> None:
        count(self.stats, "retries")
        log.info(
            "retrying %s %s in %.2fs (attempt %d failed: %s)",
            self.request.method,
            self.request.url,
            state.upcoming_sleep,
            state.attempt_number,
            self._failure(state).error,
        )


NO_OPTIONS = RequestOptions()


async def run_attempts(
    attempt: Callable[[_Call], Awaitable[T]],
    call: _Call,
    *,
    sleep: Callable[[float], Awaitable[None]],
) -> T:
    """Every attempt of `call`: the first directly, the rest through tenacity's loop.

    Raises what the last attempt raised: `_Retry` once tenacity stops (`call.stopped` says
    why), any other exception (a final error, cancellation) as soon as it happens.
    """
    started = time.monotonic()
    try:
        return await attempt(call)
    except _Retry:
        failed = sys.exc_info()
    loop = _Attempts(
        stop=call.stop,
        wait=call.wait,
        retry=call.retry,
        sleep=sleep,
        before_sleep=call.announce,
        reraise=True,
    )
    return await loop.resume(attempt, call, failed=failed, started=started)


def deadline_error(call: _Call, *, sent: bool) -> TimeoutError:
    where = "during the exchange" if sent else "while waiting for the rate limiter"
    return TimeoutError(
        f"the call's deadline passed {where}",
        method=call.request.method,
        url=call.request.url,
        sent=sent,
    )
