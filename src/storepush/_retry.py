"""Retry policy, with no I/O: when to stop, how long to wait, and the retry budget.

What an answer *means* (retry? unknown outcome?) is decided in `_outcome.py`; this module
decides, for an attempt that may be retried, whether to try again and after how long. The
session plugs these decisions into tenacity as its `stop` and `wait` policies; everything
here is tested with plain values and a fake clock.

* A server's Retry-After wins over backoff, but counts against the call's deadline, and a
  hint longer than `max_retry_after` fails the call at once.
* Otherwise exponential backoff with full jitter (the AWS simulation's winner).
* A session-wide budget (botocore's retry quota) stops retry storms across hundreds of apps;
  retries after a 429 are paced by the rate limiter instead and cost nothing here.
"""

from __future__ import annotations

import email.utils
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from ._errors import ValidationError

__all__ = [
    "RetryBudget",
    "RetryConfig",
    "backoff_delay",
    "parse_retry_after",
    "retry_after_from_headers",
    "stop_reason",
]


def _seconds(name: str, value: object, *, allow_none: bool = False, zero: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(name, f"must be a finite number of seconds, not {value!r}")
    if value < 0 or (value == 0 and not zero):
        raise ValidationError(name, f"must be {'>= 0' if zero else 'positive'}, not {value!r}")


@dataclass(frozen=True, slots=True)
class RetryConfig:
    """How a session (or one call) retries.

    `max_attempts` counts the first attempt. `deadline` (seconds) bounds a whole call,
    retries and waits included (`None`: no deadline); uploads use `upload_deadline` instead,
    which is off by default because a large upload on a slow link legitimately takes long
    (they are bounded by the idle and answer timeouts of `Timeouts` instead).
    `max_retry_after` caps how long a server's Retry-After may make us wait; a longer hint
    fails the call instead.
    """

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 120.0
    deadline: float | None = 300.0
    upload_deadline: float | None = None

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_attempts, bool)
            or not isinstance(self.max_attempts, int)
            or not 1 <= self.max_attempts <= 100
        ):
            raise ValidationError(
                "max_attempts", f"must be an int from 1 to 100, not {self.max_attempts!r}"
            )
        _seconds("backoff_base", self.backoff_base)
        _seconds("backoff_max", self.backoff_max)
        if self.backoff_max < self.backoff_base:
            raise ValidationError("backoff_max", "must be at least backoff_base")
        _seconds("max_retry_after", self.max_retry_after, zero=True)
        _seconds("deadline", self.deadline, allow_none=True)
        _seconds("upload_deadline", self.upload_deadline, allow_none=True)


def stop_reason(
    *,
    attempt: int,
    max_attempts: int,
    retry_after: float | None,
    max_retry_after: float,
    now: float,
    upcoming: float,
    deadline_at: float | None,
) -> str | None:
    """Why to give up after failed attempt number `attempt` (counting from 1), or `None`.

    `upcoming` is the wait before the next attempt; `deadline_at` the call's deadline on the
    same clock as `now`.
    """
    if attempt >= max_attempts:
        return f"gave up after {attempt} attempt{'s' if attempt > 1 else ''}"
    if retry_after is not None and retry_after > max_retry_after:
        return f"the server asked to wait {retry_after:.0f}s, over the {max_retry_after:.0f}s cap"
    if deadline_at is not None and now + upcoming >= deadline_at:
        return f"the call's deadline would pass (stopped after {attempt} attempts)"
    return None


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP-date).

    Returns `None` when the header is absent or unreadable, `0.0` for a date in the past.
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
    """The Retry-After hint of a response, if any (`retry-after-ms` wins when present)."""
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
    """How long to wait before attempt `attempt + 1` (`attempt` counts from 1).

    A server's Retry-After wins. Otherwise exponential backoff with full jitter:
    a uniform draw in `[0, min(cap, base * 2 ** (attempt - 1))]`.
    """
    if retry_after is not None:
        return max(0.0, retry_after)
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return float(ceiling * rand())


@dataclass(slots=True)
class RetryBudget:
    """A session-wide budget for retries, after botocore's retry quota.

    Each retry withdraws `retry_cost` (`timeout_cost` after a timeout); each successful call
    deposits back what its own retries cost, or `success_refund` when it needed none. When the
    budget is empty, failures are no longer retried, so an outage across hundreds of apps does
    not turn into a retry storm.
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
        """A call succeeded after spending `spent` on its retries: pay it back."""
        refund = spent if spent > 0 else self.success_refund
        self.available = min(self.capacity, self.available + refund)
