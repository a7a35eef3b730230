"""What a session counts, in total and per workflow (task-local, through a context variable)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["SessionStats", "count", "track_calls"]


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


#: Counters of the workflow running in the current task (see `track_calls`).
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


def count(session_stats: SessionStats, field_name: str) -> None:
    setattr(session_stats, field_name, getattr(session_stats, field_name) + 1)
    local = _CALL_STATS.get()
    if local is not None:
        setattr(local, field_name, getattr(local, field_name) + 1)
