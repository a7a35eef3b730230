"""A narrow hook under aiohttp's HTTP parser: requests it cannot parse get the store's envelope.

A token pasted into a CI secret with its trailing newline, sent raw, breaks the header line:
aiohttp's parser refuses the request before any handler runs, and answers a plain-text 400
that echoes the broken header, token included. The field evidence reports that the live store
answers `403 {"type": "access_forbidden", ...}` to such a request. This module makes the
emulator do the same, and never echo the header:

- `EnvelopeHandler` (a `RequestHandler`) remembers the last two pieces of bytes received on
  its connection (references, no copies) and, when parsing fails, asks `parse_error_answer`;
- `EnvelopeRunner` (an `AppRunner`) serves the application with that handler.

`parse_error_answer` is the decision, pure: on a Pishkhan path, a broken credential header line
is a 403 `access_forbidden`, anything else a 400 `bad_request`; on a BlueMind path the same
statuses with BlueMind's body; elsewhere a plain 400 without the echo.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from ._quirks import Quirks
from ._rules import Refusal, bad_request
from ._web import error_response, marketplace_of

__all__ = ["EnvelopeHandler", "EnvelopeRunner", "parse_error_answer"]

log = logging.getLogger("storepush.emulator")

_REQUEST_LINE = re.compile(rb"(?:^|\n)[A-Z]{3,10} (\S+) HTTP/1\.[01]\r?\n")
_CREDENTIAL_LINE = re.compile(
    rb"(?im)^(cafebazaar-pishkhan-api-secret|api-key)[ \t]*:[^\r\n]*(\r\n|\r|\n|$)"
)
_FORBIDDEN = {
    "bazaar": Refusal(
        403, "access_forbidden", "You do not have permission to perform this action."
    ),
    "bluemind": Refusal(403, "forbidden", "Invalid or missing API key."),
}


def parse_error_answer(received: bytes, quirks: Quirks) -> web.Response:
    """The answer to a request aiohttp could not parse, given the bytes received up to the
    failure (the failing request's head is at their end)."""
    lines = list(_REQUEST_LINE.finditer(received))
    head = received[lines[-1].start() :] if lines else received
    path = lines[-1].group(1).decode("latin-1") if lines else ""
    store = marketplace_of(path) if path else None
    credentials = list(_CREDENTIAL_LINE.finditer(head))
    if store is None and credentials:
        name = credentials[-1].group(1).lower()
        store = "bazaar" if name.startswith(b"cafebazaar") else "bluemind"
    if store is None:
        response = web.Response(status=400, text="400 Bad Request\n\nThe request was malformed.")
    else:
        broken = any(m.group(2) != b"\r\n" for m in credentials)
        refusal = _FORBIDDEN[store] if broken else bad_request("The request is malformed.")
        response = error_response(path, refusal, quirks, marketplace=store)
    response.force_close()
    return response


class EnvelopeHandler(RequestHandler):
    """aiohttp's request handler, answering unparseable requests with `parse_error_answer`."""

    _previous = b""
    _latest = b""
    quirks_of: Callable[[], Quirks] = Quirks

    def data_received(self, data: bytes) -> None:
        self._previous, self._latest = self._latest, data
        super().data_received(data)

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status != 400 or not isinstance(exc, HttpProcessingError):
            return super().handle_error(request, status, exc, message)
        # The parser's message quotes the broken line, which may hold a credential: not logged.
        log.debug("unparseable request: %s", type(exc).__name__)
        return parse_error_answer(self._previous + self._latest, self.quirks_of())


class _EnvelopeServer(web.Server):
    def __init__(self, *args: Any, quirks_of: Callable[[], Quirks], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._quirks_of = quirks_of

    def __call__(self) -> RequestHandler:
        handler = EnvelopeHandler(self, loop=self._loop, **self._kwargs)
        handler.quirks_of = self._quirks_of
        return handler


class EnvelopeRunner(web.AppRunner):
    """An `AppRunner` whose connections use `EnvelopeHandler`; `quirks_of` gives the quirks
    in force when an answer is made (the error body's shape is a quirk)."""

    def __init__(
        self, app: web.Application, *, quirks_of: Callable[[], Quirks], **kwargs: Any
    ) -> None:
        super().__init__(app, **kwargs)
        self._quirks_of = quirks_of

    async def _make_server(self) -> web.Server:
        base = await super()._make_server()
        return _EnvelopeServer(
            base.request_handler,
            request_factory=base.request_factory,
            handler_cancellation=base.handler_cancellation,
            loop=base._loop,
            quirks_of=self._quirks_of,
            **base._kwargs,
        )
