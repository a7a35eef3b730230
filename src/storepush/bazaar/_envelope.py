"""The one reader of Pishkhan's answers: what a 2xx body says.

The transport has already decided that the answer is a 2xx (`_outcome.py`); this decides what
the envelope means, once, for every endpoint:

| `type` | payload | `absent_ok` | result |
|---|---|---|---|
| `success` | present | any | the payload |
| `success` | `null` | yes | `None`: the live store says "no draft" this way |
| `success` | `null` | no | `DecodeError` naming the missing field |
| `success` | missing | any | `DecodeError` naming the missing field |
| `not-exists` | — | yes | `None` (the document's way) |
| anything else | — | any | `APIError` carrying the server's type and message |

The answer returned has the payload field set to the payload or `None`, never `UNSET`.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from .._decode import api_error, decode
from .._errors import DecodeError, excerpt
from .._http import Response
from ._models import Bundle, Envelope, Package, Release

__all__ = ["bundle_of", "package_of", "read_answer", "release_of"]

Payload = Literal["release", "package", "bundle"]


def read_answer(
    response: Response, payload: Payload | None, *, absent_ok: bool = False
) -> Envelope:
    """The envelope of a 2xx answer, checked for `payload` (see the module's table).

    When it returns, `getattr(envelope, payload)` is set, or `absent_ok` was true and the
    answer said there is none (then it is `None`). With `payload` None (a delete), only the
    `type` is checked.
    """
    envelope = decode(
        response.body, Envelope, status=response.status, method=response.method, url=response.url
    )
    if envelope.type == "not-exists" and absent_ok:
        envelope.release = envelope.package = envelope.bundle = None
        return envelope
    if envelope.type != "success":
        raise api_error(
            response.status,
            response.body,
            method=response.method,
            url=response.url,
            hint=f"the answer's type is {envelope.type!r}, not 'success'",
        )
    if payload is None:
        return envelope
    value = getattr(envelope, payload)
    if value is msgspec.UNSET or (value is None and not absent_ok):
        raise DecodeError(
            f"a 'success' answer without its {payload!r}",
            status=response.status,
            method=response.method,
            url=response.url,
            path=f"$.{payload}",
            body_excerpt=excerpt(response.body),
        )
    return envelope


def release_of(response: Response, *, absent_ok: bool = False) -> Release | None:
    """The release of an answer (`None` only with `absent_ok`: there is none)."""
    value = read_answer(response, "release", absent_ok=absent_ok).release
    return value if isinstance(value, Release) else None


def package_of(response: Response) -> Package:
    """The package of an upload's answer."""
    value = read_answer(response, "package").package
    assert isinstance(value, Package)
    return value


def bundle_of(response: Response, *, absent_ok: bool = False) -> tuple[Bundle | None, list[str]]:
    """The bundle of an answer and the store's warnings (`None` only with `absent_ok`)."""
    envelope = read_answer(response, "bundle", absent_ok=absent_ok)
    value = envelope.bundle
    return (value if isinstance(value, Bundle) else None), envelope.warnings
