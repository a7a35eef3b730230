"""Configuration shared by both marketplaces: base URLs, timeouts, per-call options.

Everything here is checked when it is built, so bad configuration fails with a
[`ValidationError`][storepush.ValidationError] before any request is sent.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

from yarl import URL

from ._errors import ValidationError

__all__ = [
    "BAZAAR_BASE_URL",
    "BLUEMIND_BASE_URL",
    "RequestOptions",
    "Timeouts",
    "check_base_url",
    "is_loopback_host",
]

BAZAAR_BASE_URL = "https://api.pishkhan.cafebazaar.ir/v1"
BLUEMIND_BASE_URL = "https://marketplace.blue-mind.net"

#: A response body over this size is refused, not buffered.
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024


def _positive(name: str, value: float | None, *, allow_none: bool) -> None:
    if value is None:
        if not allow_none:
            raise ValidationError(name, "is required")
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(name, f"must be a number of seconds, not {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValidationError(name, "must be a positive, finite number of seconds")


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Timeouts of every attempt of every request.

    - `connect`: to open a connection (waiting for a free connection of the pool is not
      counted: a busy batch does that legitimately).
    - `read_idle`: the longest silence while reading an answer, and the longest a chunk of an
      upload may take to leave (so an upload slower than about 1 MiB per `read_idle` seconds
      is cut off). It is *not* a total: a 1 GB upload over a slow link is never cut off while
      it keeps moving.
    - `answer`: from the moment the request has been sent, the whole answer (headers and
      body) must arrive within this time, however slowly it trickles.

    A whole call (its retries and waits included) is bounded by
    [`RetryConfig`][storepush.RetryConfig]'s `deadline`.
    """

    connect: float = 10.0
    read_idle: float = 60.0
    answer: float = 120.0

    def __post_init__(self) -> None:
        _positive("timeouts.connect", self.connect, allow_none=False)
        _positive("timeouts.read_idle", self.read_idle, allow_none=False)
        _positive("timeouts.answer", self.answer, allow_none=False)


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """Per-call overrides: attempts, an overall deadline in seconds, and whether the call is safe
    to repeat (a call marked `safe=True` is retried after failures of unknown outcome)."""

    max_attempts: int | None = None
    deadline: float | None = None
    safe: bool | None = None

    def __post_init__(self) -> None:
        if self.max_attempts is not None and (
            isinstance(self.max_attempts, bool)
            or not isinstance(self.max_attempts, int)
            or self.max_attempts < 1
        ):
            raise ValidationError("max_attempts", "must be an int >= 1")
        _positive("deadline", self.deadline, allow_none=True)


def is_loopback_host(host: str | None) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(value: str | URL, *, field: str = "base_url", allow_insecure: bool) -> URL:
    """Parse and check a base URL: absolute http(s), no credentials, query or fragment.

    `http://` is accepted only for loopback hosts unless `allow_insecure` is set.
    """
    try:
        url = URL(str(value))
    except (TypeError, ValueError) as exc:
        raise ValidationError(field, f"is not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValidationError(
            field, "must be an absolute http(s) URL", "for example https://host/path"
        )
    if url.user or url.password:
        raise ValidationError(field, "must not contain credentials", "pass them as the token")
    if url.query_string or url.fragment:
        raise ValidationError(field, "must not have a query or a fragment")
    if url.scheme == "http" and not allow_insecure and not is_loopback_host(url.host):
        raise ValidationError(
            field,
            f"plain http to a non-loopback host ({url.host}) would expose the credential",
            "use https, or pass allow_insecure_http=True if you really mean it",
        )
    return url.with_path(url.path.rstrip("/"))
