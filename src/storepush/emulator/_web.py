"""What the server and every route module share: request keys, ready answers, error envelopes.

Routes and the server both import from here (and never from each other), so the import graph
runs one way: `_server` -> routes -> `_web` -> `_rules`/`_quirks`.

The error envelopes are the two stores' shapes. Pishkhan documents `{"type", "message"}` for
every answer. BlueMind documents no error body; the emulator answers as Django REST framework
does (`{"detail": ...}`), or with Django's HTML error page when the `bluemind_errors` quirk says
`html` (see `_quirks.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import msgspec
from aiohttp import web

from ._faults import FaultDecision, html_error
from ._quirks import Quirks
from ._rules import Refusal, slash_redirect

__all__ = [
    "ADMIN",
    "BLUEMIND_PREFIX",
    "ENDPOINT",
    "FAULT",
    "MARKETPLACE",
    "MAX_UPLOAD",
    "PISHKHAN_PREFIX",
    "WHO",
    "Dropped",
    "Gate",
    "Reply",
    "acted_or",
    "bluemind_error",
    "canonical",
    "error_response",
    "html_reply",
    "json_response",
    "marketplace_of",
    "pishkhan_error",
    "tolerant",
]

#: Where each part of the emulator lives. Pishkhan's live base URL ends in `/v1`.
ADMIN = "/_emulator"
PISHKHAN_PREFIX = "/v1"
BLUEMIND_PREFIX = "/addons"
MAX_UPLOAD = 4 * 1024**3

# What the middleware logs of each request, set by the handlers and the gate.
MARKETPLACE = web.RequestKey("marketplace", str)
WHO = web.RequestKey("who", str)
ENDPOINT = web.RequestKey("endpoint", str)
FAULT = web.RequestKey("fault", str)


class Dropped(Exception):
    """The emulator closed the connection on purpose (a fault)."""


class Reply(Exception):
    """Raise a ready response from anywhere in a handler."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


class Gate(Protocol):
    """What a route module needs of the server: the gate, the clock and the quirks."""

    @property
    def quirks(self) -> Quirks: ...

    clock: Callable[[], float]

    async def gate(
        self,
        request: web.Request,
        *,
        endpoint: str,
        credential: str | None,
        mutating: bool = False,
        upload: bool = False,
    ) -> FaultDecision: ...


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON answer, encoded with msgspec."""
    return web.Response(
        status=status,
        body=msgspec.json.encode(body),
        content_type="application/json",
        headers=headers,
    )


def html_reply(status: int) -> Reply:
    """A front end's HTML error page (what a 5xx from nginx looks like)."""
    return Reply(web.Response(status=status, text=html_error(status), content_type="text/html"))


def acted_or(decision: FaultDecision, response: web.Response) -> web.Response:
    """The real answer, or (an "acted, then failed" fault) a 5xx after the change was made."""
    if decision.kind == "acted":
        raise html_reply(decision.status)
    return response


def marketplace_of(path: str) -> str | None:
    """Which store a request path belongs to: `bazaar`, `bluemind`, or `None` (admin, other)."""
    stripped = "/" + path.lstrip("/")
    if stripped == PISHKHAN_PREFIX or stripped.startswith(PISHKHAN_PREFIX + "/"):
        return "bazaar"
    if stripped == BLUEMIND_PREFIX or stripped.startswith(BLUEMIND_PREFIX + "/"):
        return "bluemind"
    return None


def pishkhan_error(
    status: int, error_type: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Pishkhan's documented envelope: `{"type": ..., "message": ...}`."""
    return json_response(status, {"type": error_type, "message": message}, headers)


_DJANGO_TITLES = {
    400: "Bad Request (400)",
    403: "403 Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
}


def bluemind_error(
    status: int, message: str, quirks: Quirks, headers: Mapping[str, str] | None = None
) -> web.Response:
    """BlueMind's error body: DRF's `{"detail": ...}`, or Django's HTML page (a quirk)."""
    if quirks.bluemind_errors == "html":
        title = _DJANGO_TITLES.get(status, f"Error ({status})")
        page = f'<!doctype html>\n<html lang="en">\n<head>\n  <title>{title}</title>\n</head>\n'
        page += f"<body>\n  <h1>{title}</h1><p>{message}</p>\n</body>\n</html>\n"
        return web.Response(status=status, text=page, content_type="text/html", headers=headers)
    return json_response(status, {"detail": message}, headers)


def error_response(
    path: str,
    refusal: Refusal,
    quirks: Quirks,
    *,
    marketplace: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A refusal in the envelope of the store the request was for (by path, unless known)."""
    store = marketplace or marketplace_of(path)
    if store == "bluemind":
        return bluemind_error(refusal.status, refusal.message, quirks, headers)
    if store == "bazaar":
        return pishkhan_error(refusal.status, refusal.error_type, refusal.message, headers)
    return json_response(refusal.status, {"error": refusal.message}, headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def tolerant(path: str) -> str:
    """A route pattern for `path` that also matches it with a doubled leading slash and with
    or without its trailing slash; `canonical` then decides what such a request gets."""
    return "/{lead:/*}" + path.strip("/") + "{slash:/?}"


def canonical(gate: Gate, handler: Handler, *, either_slash: bool = False) -> Handler:
    """Serve `handler` at its canonical path (doubled leading slash collapsed, trailing slash
    present, unless `either_slash`); elsewhere answer as `slash_redirect` decides."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        lead = request.match_info.get("lead", "")
        slash = request.match_info.get("slash", "")
        if lead or not (slash or either_slash):
            target = slash_redirect(request.method, request.path, gate.quirks)
            if target is not None:
                query = request.query_string
                location = target + ("?" + query if query else "")
                return web.Response(status=301, headers={"Location": location})
        return await handler(request)

    return wrapped
