from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storepush._retry import (
    Decision,
    RetryBudget,
    RetryConfig,
    backoff_delay,
    decide_on_error,
    decide_on_status,
    parse_retry_after,
    retry_after_from_headers,
)


@pytest.mark.parametrize("safe", [True, False])
def test_429_is_always_retried(safe: bool) -> None:
    assert decide_on_status(429, safe=safe) is Decision.RETRY


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_transient_statuses_retry_only_when_safe(status: int) -> None:
    assert decide_on_status(status, safe=True) is Decision.RETRY
    assert decide_on_status(status, safe=False) is Decision.UNKNOWN


@pytest.mark.parametrize("status", [200, 201, 400, 401, 403, 404, 409, 422, 501])
def test_other_statuses_are_final(status: int) -> None:
    assert decide_on_status(status, safe=True) is Decision.DONE
    assert decide_on_status(status, safe=False) is Decision.DONE


def test_transport_errors() -> None:
    assert decide_on_error(sent=False, safe=False) is Decision.RETRY
    assert decide_on_error(sent=True, safe=True) is Decision.RETRY
    assert decide_on_error(sent=True, safe=False) is Decision.UNKNOWN


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
