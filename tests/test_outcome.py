"""The one decision about an answer or a failure: a table, one row per case."""

from __future__ import annotations

import pytest

from storepush import (
    APIError,
    BadRequestError,
    ConnectError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TimeoutError,
    TransportError,
)
from storepush._outcome import MAX_REDIRECTS, Verdict, judge_answer, judge_failure

URL = "https://api.example/v1/apps/releases/"

ANSWERS = [
    # status, headers, safe, verdict, error type
    (200, {}, True, Verdict.SUCCESS, None),
    (201, {}, False, Verdict.SUCCESS, None),
    (204, {}, False, Verdict.SUCCESS, None),
    (429, {}, True, Verdict.THROTTLED, RateLimitError),
    (429, {"retry-after": "3"}, False, Verdict.THROTTLED, RateLimitError),
    (408, {}, True, Verdict.RETRY, APIError),
    (500, {}, True, Verdict.RETRY, ServerError),
    (502, {}, True, Verdict.RETRY, ServerError),
    (503, {}, True, Verdict.RETRY, ServerError),
    (504, {}, True, Verdict.RETRY, ServerError),
    (408, {}, False, Verdict.UNKNOWN, OutcomeUnknownError),
    (500, {}, False, Verdict.UNKNOWN, OutcomeUnknownError),
    (503, {}, False, Verdict.UNKNOWN, OutcomeUnknownError),
    (400, {}, True, Verdict.FAIL, BadRequestError),
    (400, {}, False, Verdict.FAIL, BadRequestError),
    (401, {}, False, Verdict.FAIL, APIError),
    (403, {}, True, Verdict.FAIL, PermissionDeniedError),
    (404, {}, True, Verdict.FAIL, NotFoundError),
    (409, {}, False, Verdict.FAIL, APIError),
    (422, {}, False, Verdict.FAIL, APIError),
    (501, {}, True, Verdict.FAIL, ServerError),
    (301, {"location": "/x/"}, False, Verdict.FAIL, APIError),
    (307, {"location": "https://other.example/"}, True, Verdict.FAIL, APIError),
]


@pytest.mark.parametrize(("status", "headers", "safe", "verdict", "error"), ANSWERS)
def test_answer_table(
    status: int,
    headers: dict[str, str],
    safe: bool,
    verdict: Verdict,
    error: type[Exception] | None,
) -> None:
    method = "GET" if safe else "POST"
    outcome = judge_answer(status, headers, b'{"type": "x"}', method=method, url=URL, safe=safe)
    assert outcome.verdict is verdict
    if error is None:
        assert outcome.error is None
    else:
        assert type(outcome.error) is error


def test_retry_after_travels_with_a_throttle() -> None:
    outcome = judge_answer(429, {"retry-after": "7"}, b"", method="GET", url=URL, safe=True)
    assert outcome.retry_after == 7.0
    assert isinstance(outcome.error, RateLimitError)
    assert outcome.error.retry_after == 7.0


def test_unknown_outcome_keeps_the_server_error_as_its_cause() -> None:
    outcome = judge_answer(503, {}, b"<html>", method="POST", url=URL, safe=False)
    assert isinstance(outcome.error, OutcomeUnknownError)
    assert outcome.error.status == 503
    assert isinstance(outcome.error.__cause__, ServerError)


@pytest.mark.parametrize(
    ("method", "location", "followed", "says"),
    [
        ("POST", "/v1/apps/releases/", 0, "a POST is never redirected"),
        ("DELETE", "/v1/apps/releases/", 0, "a DELETE is never redirected"),
        ("GET", "https://evil.example/steal", 0, "another origin"),
        ("GET", None, 0, "without a Location"),
        ("GET", "/loop", MAX_REDIRECTS, "redirect loop: 5 redirects followed"),
    ],
)
def test_redirects_that_are_not_followed_say_why(
    method: str, location: str | None, followed: int, says: str
) -> None:
    headers = {"location": location} if location else {}
    outcome = judge_answer(
        302, headers, b"", method=method, url=URL, safe=True, redirects_followed=followed
    )
    assert outcome.verdict is Verdict.FAIL
    assert says in str(outcome.error)


FAILURES = [
    # error, safe, verdict, timed out
    (ConnectError("refused", method="POST", url=URL, sent=False), False, Verdict.RETRY, False),
    (TimeoutError("connect", method="POST", url=URL, sent=False), False, Verdict.RETRY, True),
    (TimeoutError("idle", method="GET", url=URL, sent=True), True, Verdict.RETRY, True),
    (TimeoutError("idle", method="POST", url=URL, sent=True), False, Verdict.UNKNOWN, True),
    (TransportError("reset", method="GET", url=URL, sent=True), True, Verdict.RETRY, False),
    (TransportError("reset", method="POST", url=URL, sent=True), False, Verdict.UNKNOWN, False),
]


@pytest.mark.parametrize(("error", "safe", "verdict", "timed_out"), FAILURES)
def test_failure_table(
    error: TransportError, safe: bool, verdict: Verdict, timed_out: bool
) -> None:
    outcome = judge_failure(error, safe=safe)
    assert outcome.verdict is verdict
    assert outcome.timed_out is timed_out
    if verdict is Verdict.UNKNOWN:
        assert isinstance(outcome.error, OutcomeUnknownError)
        assert outcome.error.__cause__ is error
    else:
        assert outcome.error is error
