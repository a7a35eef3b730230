from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storepush import ValidationError
from storepush._retry import (
    RetryBudget,
    RetryConfig,
    backoff_delay,
    parse_retry_after,
    retry_after_from_headers,
    stop_reason,
)


def test_retry_after_seconds_and_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now) == pytest.approx(30.0)
    earlier = format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(earlier, now=now) == 0.0
    for bad in (None, "", "soon", "-3", "nan", "inf"):
        assert parse_retry_after(bad) is None


def test_retry_after_ms_header_wins() -> None:
    assert retry_after_from_headers({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_from_headers({"retry-after-ms": "x", "retry-after": "9"}) == 9.0
    assert retry_after_from_headers({}) is None


@given(st.text(max_size=60))
def test_retry_after_never_raises_and_is_non_negative(value: str) -> None:
    result = parse_retry_after(value)
    assert result is None or result >= 0.0


@given(st.integers(min_value=0, max_value=10**9))
def test_retry_after_integers_round_trip(seconds: int) -> None:
    assert parse_retry_after(str(seconds)) == float(seconds)


def test_backoff_full_jitter_bounds() -> None:
    assert backoff_delay(1, base=0.5, cap=30, rand=lambda: 1.0) == 0.5
    assert backoff_delay(4, base=0.5, cap=30, rand=lambda: 1.0) == 4.0
    assert backoff_delay(20, base=0.5, cap=30, rand=lambda: 1.0) == 30.0
    assert backoff_delay(3, base=0.5, cap=30, rand=lambda: 0.0) == 0.0
    assert backoff_delay(3, base=0.5, cap=30, retry_after=12.0, rand=lambda: 0.5) == 12.0


@given(st.integers(min_value=1, max_value=200), st.floats(min_value=0, max_value=1))
def test_backoff_never_exceeds_cap(attempt: int, draw: float) -> None:
    assert 0.0 <= backoff_delay(attempt, base=0.5, cap=30.0, rand=lambda: draw) <= 30.0


def test_budget_withdraws_and_refunds() -> None:
    budget = RetryBudget(capacity=12, retry_cost=5, timeout_cost=10)
    assert budget.withdraw(timeout=False) == 5
    assert budget.withdraw(timeout=False) == 5
    assert budget.withdraw(timeout=False) == 0  # 2 left: empty for practical purposes
    budget.deposit(10)
    assert budget.available == 12
    assert budget.withdraw(timeout=True) == 10
    budget.deposit(0)
    assert budget.available == 3


def test_retry_config_validates() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryConfig(max_attempts=0)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryConfig(max_attempts=True)
    with pytest.raises(ValueError, match="backoff"):
        RetryConfig(backoff_base=5, backoff_max=1)
    with pytest.raises(ValueError, match="deadline"):
        RetryConfig(deadline=0)


STOP_TABLE = [
    # attempt, max, retry_after, now, upcoming, deadline_at -> reason starts with (or None)
    (1, 5, None, 0.0, 1.0, None, None),
    (4, 5, None, 0.0, 1.0, None, None),
    (5, 5, None, 0.0, 1.0, None, "gave up after 5 attempts"),
    (1, 1, None, 0.0, 0.0, None, "gave up after 1 attempt"),
    (1, 5, 119.0, 0.0, 119.0, None, None),
    (1, 5, 121.0, 0.0, 121.0, None, "the server asked to wait 121s, over the 120s cap"),
    (2, 5, 119.0, 200.0, 119.0, 300.0, "the call's deadline would pass"),
    (2, 5, None, 299.0, 0.5, 300.0, None),
    (2, 5, None, 299.6, 0.5, 300.0, "the call's deadline would pass"),
]


@pytest.mark.parametrize(
    ("attempt", "maximum", "retry_after", "now", "upcoming", "deadline_at", "expected"),
    STOP_TABLE,
)
def test_stop_reason_table(
    attempt: int,
    maximum: int,
    retry_after: float | None,
    now: float,
    upcoming: float,
    deadline_at: float | None,
    expected: str | None,
) -> None:
    reason = stop_reason(
        attempt=attempt,
        max_attempts=maximum,
        retry_after=retry_after,
        max_retry_after=120.0,
        now=now,
        upcoming=upcoming,
        deadline_at=deadline_at,
    )
    if expected is None:
        assert reason is None
    else:
        assert reason is not None
        assert reason.startswith(expected)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"max_attempts": 101}, "max_attempts"),
        ({"backoff_base": 0}, "backoff_base"),
        ({"backoff_base": 2.0, "backoff_max": 1.0}, "backoff_max"),
        ({"deadline": -5}, "deadline"),
        ({"deadline": float("nan")}, "deadline"),
        ({"upload_deadline": 0}, "upload_deadline"),
        ({"max_retry_after": -1}, "max_retry_after"),
    ],
)
def test_retry_config_refuses_bad_values_with_the_field(
    kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        RetryConfig(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
