"""The one mechanism for a write whose answer is ambiguous: act, probe the state, judge.

A write that may or may not have happened (`OutcomeUnknownError`: a lost answer, a reset, a
5xx), or that the server refused with a 400 which the state may explain (an earlier attempt
that did act; another publisher), is never repeated blindly and never judged by the server's
message. [`settle`][storepush._settle.settle] reads the state with `probe` and lets a pure
`judge` decide: done (with the value the state shows), act again, or fail. It is bounded.

Both marketplaces' workflows use it for every write they make.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ._errors import BadRequestError, OutcomeUnknownError, StorePushError, WorkflowError
from ._scrub import get_logger

__all__ = ["MAX_SETTLE", "Ambiguous", "Settled", "settle", "settle_bound"]

log = get_logger("storepush.settle")

#: How many times one write is tried before a workflow gives up on it.
MAX_SETTLE = 6


def settle_bound(api: object) -> int:
    """How many times a workflow tries one write whose answer was ambiguous: as many as the
    session's `RetryConfig.max_attempts` allows for any other call, never fewer than
    `MAX_SETTLE` (a client without a session, such as a test double, gets `MAX_SETTLE`)."""
    retry = getattr(getattr(api, "session", None), "retry", None)
    attempts = getattr(retry, "max_attempts", None)
    return max(MAX_SETTLE, attempts) if isinstance(attempts, int) else MAX_SETTLE


T = TypeVar("T")
S = TypeVar("S")

#: The answers that the state, read again, may explain.
Ambiguous = OutcomeUnknownError | BadRequestError


@dataclass(frozen=True, slots=True)
class Settled(Generic[T]):
    """A judge's verdict: `done` with `value`, `error` to raise, or neither (act again)."""

    done: bool = False
    value: T | None = None
    error: BaseException | None = None

    @classmethod
    def ok(cls, value: T) -> Settled[T]:
        return cls(True, value)

    @classmethod
    def again(cls) -> Settled[T]:
        return cls()

    @classmethod
    def fail(cls, error: BaseException) -> Settled[T]:
        return cls(error=error)


async def settle(
    act: Callable[[], Awaitable[T]],
    probe: Callable[[], Awaitable[S]],
    judge: Callable[[S, Ambiguous], Settled[T]],
    *,
    what: str,
    bound: int = MAX_SETTLE,
    on_settle: Callable[[], None] | None = None,
) -> T:
    """`await act()`; after an ambiguous failure, `judge(await probe(), error)` decides."""
    last: Ambiguous | None = None
    for _ in range(bound):
        try:
            return await act()
        except (OutcomeUnknownError, BadRequestError) as exc:
            last = exc
            if on_settle is not None:
                on_settle()
            log.info("%s: %s; reading the state to settle it", what, exc)
            verdict = judge(await probe(), exc)
        if verdict.done:
            return verdict.value  # type: ignore[return-value]
        if verdict.error is not None:
            raise verdict.error
    raise WorkflowError(f"could not {what}: {_last(last)}, on each of {bound} tries") from last


def _last(error: StorePushError | None) -> str:
    if error is None:
        return "no answer"
    if isinstance(error, OutcomeUnknownError) and error.status is not None:
        return f"the server answered {error.status}"
    return str(error)
