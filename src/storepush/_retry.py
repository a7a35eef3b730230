"""Retry decisions, with no I/O: what to retry, how long to wait, and the retry budget.

The transport (``_transport.py``) asks these functions and carries their answers out through
tenacity; everything here is tested with plain values and a fake clock.

Rules (the OpenAI/Anthropic SDKs' status classes, made safe for non-idempotent calls):

* 429 is always retried: the server refused the request, so it did not act.
* Connect errors are always retried: nothing was sent.
* 408, 500, 502, 503, 504, idle-read timeouts and dropped connections are retried only for
  requests that are safe to repeat (GET, or a call marked ``safe``). For any other request they
  mean the outcome is unknown, and the caller gets :class:`~storepush.OutcomeUnknownError`.
* Anything else (400, 403, 404, other 4xx) is final.
"""

from __future__ import annotations

import email.utils
import enum
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "Decision",
    "RetryBudget",
    "RetryConfig",
    "backoff_delay",
    "decide_on_error",
    "decide_on_status",
    "parse_retry_after",
]

#: Statuses that mean "try again" for a request that is safe to repeat.
TRANSIENT_STATUSES = frozenset({408, 500, 502, 503, 504})
#: Statuses that leave the outcome of an unsafe request unknown.
AMBIGUOUS_STATUSES = TRANSIENT_STATUSES


class Decision(enum.Enum):
    """What to do with one attempt's outcome."""

    DONE = "done"  #: hand the answer (success or final error) to the caller
    RETRY = "retry"  #: wait, then send again
    UNKNOWN = "unknown"  #: do not resend; raise OutcomeUnknownError


@dataclass(frozen=True, slots=True)
class RetryConfig:
    """How a session (or one call) retries.

    ``max_attempts`` counts the first attempt. ``deadline`` (seconds) bounds a whole call,
    retries and waits included; ``None`` means no overall deadline. ``max_retry_after`` caps how
    long a server's Retry-After may make us wait; a longer hint fails the call instead.
    """

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 120.0
    deadline: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or self.max_attempts < 1:
            raise ValueError("max_attempts must be an int >= 1")
        if self.backoff_base <= 0 or self.backoff_max < self.backoff_base:
            raise ValueError("need 0 < backoff_base <= backoff_max")
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError("deadline must be positive seconds or None")


def decide_on_status(status: int, *, safe: bool) -> Decision:
    """Classify an HTTP status for a request that is (or is not) safe to repeat."""
    if status == 429:
        return Decision.RETRY
    if status in TRANSIENT_STATUSES:
        return Decision.RETRY if safe else Decision.UNKNOWN
    return Decision.DONE


def decide_on_error(*, sent: bool, safe: bool) -> Decision:
    """Classify a transport failure: ``sent`` tells whether any byte left before it failed."""
    if not sent or safe:
        return Decision.RETRY
    return Decision.UNKNOWN


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date).

    Returns ``None`` when the header is absent or unreadable, ``0.0`` for a date in the past.
    Never raises.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = now or datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def retry_after_from_headers(headers: Mapping[str, str]) -> float | None:
    """The Retry-After hint of a response, if any (``retry-after-ms`` wins when present)."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms)
        except ValueError:
            value = -1.0
        if math.isfinite(value) and value >= 0:
            return value / 1000.0
    return parse_retry_after(headers.get("retry-after"))


def backoff_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rand: Callable[[], float] = random.random,
) -> float:
    """How long to wait before attempt ``attempt + 1`` (``attempt`` counts from 1).

    A server's Retry-After wins. Otherwise exponential backoff with full jitter:
    a uniform draw in ``[0, min(cap, base * 2 ** (attempt - 1))]``.
    """
    if retry_after is not None:
        return max(0.0, retry_after)
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return float(ceiling * rand())


@dataclass(slots=True)
class RetryBudget:
    """A session-wide budget for retries, after botocore's retry quota.

    Each retry withdraws ``retry_cost`` (``timeout_cost`` after a timeout); each successful call
    deposits back what its own retries cost, or ``success_refund`` when it needed none. When the
    budget is empty, failures are no longer retried, so an outage across hundreds of apps does
    not turn into a retry storm. Retries after a 429 are paced by the rate limiter instead and
    cost nothing here.
    """

    capacity: int = 500
    retry_cost: int = 5
    timeout_cost: int = 10
    success_refund: int = 1
    available: int = -1

    def __post_init__(self) -> None:
        if self.available < 0:
            self.available = self.capacity

    def withdraw(self, *, timeout: bool) -> int:
        """Take the cost of one retry; returns what was taken, or 0 when the budget is empty."""
        cost = self.timeout_cost if timeout else self.retry_cost
        if cost > self.available:
            return 0
        self.available -= cost
        return cost

    def deposit(self, spent: int) -> None:
        """A call succeeded after spending ``spent`` on its retries: pay it back."""
        refund = spent if spent > 0 else self.success_refund
        self.available = min(self.capacity, self.available + refund)
