"""Turning response bodies into msgspec Structs, and error answers into typed exceptions.

Decoders are built once per type and cached. Every failure becomes a
[`DecodeError`][storepush.DecodeError] carrying msgspec's path (`$.release.packages[0].apk_size`),
the status, and a short excerpt of the body; never a `KeyError` or `AttributeError`.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from ._errors import (
    APIError,
    BadRequestError,
    DecodeError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    excerpt,
)
from ._scrub import scrub

__all__ = ["ErrorEnvelope", "api_error", "convert", "decode"]

T = TypeVar("T")

_PATH = re.compile(r" - at `(\$[^`]*)`$")


class ErrorEnvelope(msgspec.Struct):
    """The error shape both services use as far as it is known: `{type, message}`."""

    type: str | None = None
    message: str | None = None
    detail: str | None = None


_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}


def _decoder(type_: Any) -> msgspec.json.Decoder[Any]:
    found = _DECODERS.get(type_)
    if found is None:
        found = _DECODERS[type_] = msgspec.json.Decoder(type_)
    return found


def _shape_error(
    exc: msgspec.ValidationError, body: bytes, *, status: int, method: str, url: str
) -> DecodeError:
    text = str(exc)
    match = _PATH.search(text)
    return DecodeError(
        f"unexpected response shape: {text}",
        status=status,
        method=method,
        url=url,
        path=match.group(1) if match else None,
        body_excerpt=excerpt(body),
    )


def convert(data: Any, type_: type[T], *, body: bytes, status: int, method: str, url: str) -> T:
    """Convert already-decoded JSON `data` into `type_` or raise `DecodeError`."""
    try:
        return msgspec.convert(data, type_)
    except msgspec.ValidationError as exc:
        raise _shape_error(exc, body, status=status, method=method, url=url) from exc


def decode(body: bytes, type_: type[T], *, status: int, method: str, url: str) -> T:
    """Decode `body` into `type_` or raise `DecodeError`."""
    try:
        result: T = _decoder(type_).decode(body)
    except msgspec.ValidationError as exc:
        raise _shape_error(exc, body, status=status, method=method, url=url) from exc
    except msgspec.DecodeError as exc:
        raise DecodeError(
            f"response is not valid JSON: {exc}",
            status=status,
            method=method,
            url=url,
            body_excerpt=excerpt(body),
        ) from exc
    return result


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def read_envelope(body: bytes) -> ErrorEnvelope | None:
    """The `{type, message}` of a body, or `None` when it is not such a JSON object."""
    try:
        return _decoder(ErrorEnvelope).decode(body)  # type: ignore[no-any-return]
    except msgspec.DecodeError:  # ValidationError is a subclass
        return None


def api_error(
    status: int,
    body: bytes,
    *,
    method: str,
    url: str,
    retry_after: float | None = None,
    hint: str = "",
) -> APIError:
    """The typed `APIError` for an error answer (status >= 300, or a failed envelope)."""
    envelope = read_envelope(body)
    error_type = envelope.type if envelope else None
    server_message = (envelope.message or envelope.detail) if envelope else None
    if server_message is not None:
        server_message = scrub(server_message)
    if status >= 500:
        cls: type[APIError] = ServerError
    else:
        cls = _BY_STATUS.get(status, APIError)
    summary = server_message or f"HTTP {status}"
    if hint:
        summary = f"{summary}. {hint}"
    kwargs: dict[str, Any] = {
        "status": status,
        "method": method,
        "url": url,
        "error_type": error_type,
        "server_message": server_message,
        "body_excerpt": excerpt(body),
    }
    if cls is RateLimitError:
        return RateLimitError(summary, retry_after=retry_after, **kwargs)
    return cls(summary, **kwargs)
