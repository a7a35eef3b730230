"""What one HTTP answer, or one failure to get one, means. No I/O.

This is the only place where a status code or a transport failure is turned into a decision;
the session carries the decision out, the marketplace envelope readers take it from there:

| what happened | safe to repeat | verdict |
|---|---|---|
| 2xx | any | `SUCCESS`: the envelope reader decides what the body says |
| 429 | any | `THROTTLED`: the server refused, so it did not act; pace, then send again |
| 408, 500, 502, 503, 504 | yes | `RETRY` |
| 408, 500, 502, 503, 504 | no | `UNKNOWN`: it may have acted; never resend, read the state |
| a redirect that was not followed | any | `FAIL`, saying why it was not followed |
| any other status | any | `FAIL` with the typed `APIError` |
| nothing was sent (connect error, limiter wait) | any | `RETRY` |
| sent, then dropped / timed out / deadline passed | yes | `RETRY` |
| sent, then dropped / timed out / deadline passed | no | `UNKNOWN` |

Redirects are followed (by the session) only for GET and HEAD, and only to the same origin:
[`redirect_target`][storepush._outcome.redirect_target] decides.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from yarl import URL

from ._decode import api_error
from ._errors import APIError, OutcomeUnknownError, StorePushError, TimeoutError, TransportError
from ._retry import retry_after_from_headers

__all__ = [
    "MAX_REDIRECTS",
    "REDIRECTS",
    "TRANSIENT_STATUSES",
    "Outcome",
    "Verdict",
    "judge_answer",
    "judge_failure",
    "redirect_target",
]

#: Statuses that mean "try again" for a request that is safe to repeat (and "maybe acted"
#: for one that is not).
TRANSIENT_STATUSES = frozenset({408, 500, 502, 503, 504})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5


class Verdict(enum.Enum):
    """What to do with one attempt's outcome."""

    SUCCESS = "success"  #: a 2xx: hand it to the envelope reader
    RETRY = "retry"  #: wait, then send again
    THROTTLED = "throttled"  #: 429: pace through the limiter, then send again
    UNKNOWN = "unknown"  #: do not resend; the caller must read the state
    FAIL = "fail"  #: final: raise `error`


@dataclass(frozen=True, slots=True)
class Outcome:
    """A verdict, the error that goes with it, and what the retry policy needs to know."""

    verdict: Verdict
    error: StorePushError | None = None
    retry_after: float | None = None
    timed_out: bool = False


SUCCESS = Outcome(Verdict.SUCCESS)


def redirect_target(method: str, url: str, location: str | None) -> str | None:
    """Where a redirect may be followed to, or `None` when it must not be followed.

    Only GET and HEAD follow redirects, and only to the same origin (scheme, host, port): a
    credential header must never reach another origin, and a POST body must never be dropped.
    """
    if method not in ("GET", "HEAD") or not location:
        return None
    base = URL(url)
    try:
        target = base.join(URL(location))
    except ValueError:
        return None
    if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
        return None
    return str(target)


def _redirect_problem(method: str, url: str, location: str | None, followed: int) -> str:
    if followed >= MAX_REDIRECTS:
        return f"redirect loop: {followed} redirects followed, still redirected to {location!r}"
    if not location:
        return "a redirect without a Location header"
    if method not in ("GET", "HEAD"):
        return (
            f"the server redirected this {method} to {location!r}; a {method} is never "
            "redirected (its body would be dropped): check base_url and the path's trailing slash"
        )
    return (
        f"redirect to another origin ({location!r}) not followed: the credential must not "
        "leave its origin; check base_url"
    )


def judge_answer(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    method: str,
    url: str,
    safe: bool,
    hint: str = "",
    redirects_followed: int = 0,
) -> Outcome:
    """The outcome of an answer with `status`, for a call that is (or is not) `safe`."""
    if status < 300:
        return SUCCESS
    if status in REDIRECTS:
        problem = _redirect_problem(method, url, headers.get("location"), redirects_followed)
        return Outcome(Verdict.FAIL, APIError(problem, status=status, method=method, url=url))
    retry_after = retry_after_from_headers(headers)
    error = api_error(status, body, method=method, url=url, retry_after=retry_after, hint=hint)
    if status == 429:
        return Outcome(Verdict.THROTTLED, error, retry_after=retry_after)
    if status in TRANSIENT_STATUSES:
        if safe:
            return Outcome(Verdict.RETRY, error, retry_after=retry_after)
        unknown = OutcomeUnknownError(
            f"the server answered {status}; it may have acted before failing",
            method=method,
            url=url,
            status=status,
        )
        unknown.__cause__ = error
        return Outcome(Verdict.UNKNOWN, unknown)
    return Outcome(Verdict.FAIL, error)


def judge_failure(error: TransportError, *, safe: bool) -> Outcome:
    """The outcome of an attempt that got no usable answer (`error.sent`: a byte left)."""
    timed_out = isinstance(error, TimeoutError)
    if not error.sent or safe:
        return Outcome(Verdict.RETRY, error, timed_out=timed_out)
    unknown = OutcomeUnknownError(
        f"the outcome is unknown: {error}", method=error.method, url=error.url, status=None
    )
    unknown.__cause__ = error
    return Outcome(Verdict.UNKNOWN, unknown, timed_out=timed_out)
