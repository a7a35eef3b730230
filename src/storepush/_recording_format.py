"""The recording format: one JSON object per exchange, read back with line numbers.

Written by `storepush._recording` (`Session(record=...)`, `storepush --record FILE`), read by
`storepush emulator check-recording`. The structs below are the format: both sides use them.

## The format (version 1)

One JSON object per line, UTF-8, in the order the exchanges *finished*:

| key | value |
|---|---|
| `format` | `1` |
| `time` | when the request started, UTC, ISO 8601 (`2026-01-31T12:00:00.123Z`) |
| `marketplace` | `"bazaar"`, `"bluemind"` (from the credential header) or `null` |
| `credential` | the credential's fingerprint (16 hex digits of its SHA-256), or `null` |
| `credential_header` | the header that carried it (`CAFEBAZAAR-PISHKHAN-API-SECRET`, `api-key`) |
| `method`, `path`, `query` | the URL's absolute path (`/v1/apps/releases/upload/`) and query |
| `request` | `{"headers": {...}, "body": BODY or null}` |
| `response` | `{"status", "headers", "size", "excerpt", "json"?}` or `null` (no answer) |
| `error` | `{"type", "message", "sent"}` when no usable answer came, else `null` |
| `elapsed` | seconds from sending to the whole answer (or the failure) |
| `withheld` | `true` on a line cut down because it still held a credential form, else `false` |

`BODY` is `{"kind": "json", "size", "json"}`, `{"kind": "bytes", "content_type", "size"}`,
`{"kind": "stream", "content_type", "size"}` or `{"kind": "multipart", "content_type",
"parts": [PART, ...]}`. A `PART` has `name`, `filename` and `content_type`, then either `size`
and `sha1` (a file; no `sha1` when the file did not go out whole) and, for Android packages,
`android: {"kind": "apk" | "aab", "package", "version_code", "version_name", "abis"}`; or
`value`, or `json` when the value is JSON (a text part). Inside `BODY`, `PART` and `android`,
keys without a value are left out. The response's `excerpt` is its first 2,000 characters
(scrubbed before the cut); `json` is the parsed body when it is JSON of at most 1 MiB.
Readers ignore keys they do not know.
"""

from __future__ import annotations

import os
from typing import Any

import msgspec

from ._errors import ValidationError

__all__ = [
    "FORMAT",
    "AndroidInfo",
    "Body",
    "ErrorRecord",
    "Exchange",
    "Part",
    "RequestRecord",
    "ResponseRecord",
    "load_recording",
]

FORMAT = 1


class AndroidInfo(msgspec.Struct, omit_defaults=True):
    """What a replay needs of an uploaded APK or AAB (never its bytes)."""

    kind: str
    package: str | None = None
    version_code: int | None = None
    version_name: str | None = None
    abis: list[str] = msgspec.field(default_factory=list)


class Part(msgspec.Struct, omit_defaults=True):
    """One part of a multipart body: a file (size, SHA-1) or a text field (its value)."""

    name: str | None = None
    filename: str | None = None
    content_type: str | None = None
    size: int | None = None
    sha1: str | None = None
    value: str | None = None
    json: Any | msgspec.UnsetType = msgspec.UNSET
    android: AndroidInfo | None = None


class Body(msgspec.Struct, omit_defaults=True):
    """A request body's summary: `kind` is `json`, `bytes`, `stream` or `multipart`."""

    kind: str
    content_type: str | None = None
    size: int | None = None
    json: Any | msgspec.UnsetType = msgspec.UNSET
    parts: list[Part] = msgspec.field(default_factory=list)


class RequestRecord(msgspec.Struct):
    headers: dict[str, str]
    body: Body | None = None


class ResponseRecord(msgspec.Struct, omit_defaults=True):
    status: int
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    size: int = 0
    excerpt: str = ""
    json: Any | msgspec.UnsetType = msgspec.UNSET


class ErrorRecord(msgspec.Struct):
    type: str
    message: str
    sent: bool | None = None


class Exchange(msgspec.Struct, kw_only=True):
    """One line of a recording."""

    format: int
    time: str
    method: str
    path: str
    query: str = ""
    marketplace: str | None = None
    credential: str | None = None
    credential_header: str | None = None
    request: RequestRecord | None = None
    response: ResponseRecord | None = None
    error: ErrorRecord | None = None
    elapsed: float = 0.0
    withheld: bool = False


_DECODER = msgspec.json.Decoder(Exchange)


def load_recording(path: str | os.PathLike[str]) -> list[tuple[int, Exchange]]:
    """Every exchange of the recording at `path`, with its line number; blank lines skipped.

    Raises:
        ValidationError: naming `FILE:LINE` for a line that is not a version-1 exchange, or
            the file alone when it cannot be read or holds no exchange.
    """
    name = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        raise ValidationError(name, f"cannot be read ({exc.strerror})") from None
    out: list[tuple[int, Exchange]] = []
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        where = f"{name}:{number}"
        try:
            fmt = msgspec.json.decode(raw, type=dict).get("format")
        except msgspec.DecodeError as exc:
            raise ValidationError(where, f"not a JSON object ({exc})") from None
        if fmt != FORMAT:
            raise ValidationError(
                where,
                f"format {fmt!r} is not one this storepush reads",
                f"expected format {FORMAT}",
            )
        try:
            out.append((number, _DECODER.decode(raw)))
        except msgspec.ValidationError as exc:
            raise ValidationError(where, str(exc)) from None
    if not out:
        raise ValidationError(name, "holds no exchange", "record one with --record FILE")
    return out
