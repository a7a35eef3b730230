"""The one-method transport seam: send one request, get one response, on aiohttp.

[`Transport`][storepush.Transport] is the seam (httpx's `AsyncBaseTransport`): `send` makes
exactly one HTTP exchange. It follows no redirect and retries nothing; the session above it
does that. It maps every aiohttp failure to storepush's own `TransportError` tree, telling
whether any byte of the request had left (`sent`), which is what separates a retry that is
safe from an outcome that is unknown.

Every attempt is bounded in time and memory, whatever the server does:

- a per-attempt watchdog: while an upload is sent, each chunk must leave within
  `Timeouts.read_idle`; once the request is sent, the whole answer must arrive within
  `Timeouts.answer` (a trickle of one byte a second is cut off); waiting for a free pooled
  connection is not counted;
- the body cap holds for *decoded* bytes: storepush decompresses gzip/deflate itself, never
  producing more than the cap, so a compressed bomb costs at most the cap in memory;
- a file that changes while it is uploaded fails the attempt with `IntegrityError`, not with
  a connection error that would look like an unknown outcome.
"""

from __future__ import annotations

import asyncio
import contextvars
import ssl
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from aiohttp import payload as aiohttp_payload

from ._config import DEFAULT_MAX_RESPONSE_BYTES, Timeouts
from ._errors import (
    BuiltinTimeoutError,
    ConnectError,
    DecodeError,
    IntegrityError,
    ResponseTooLargeError,
    TimeoutError,
    TransportError,
)
from ._proxy import ProxyRoutes
from ._secrets import Secret
from ._version import __version__

__all__ = ["AiohttpTransport", "Body", "Request", "Response", "Transport", "Watchdog"]

USER_AGENT = f"storepush/{__version__}"
_ACCEPT_ENCODING = "gzip, deflate"

#: A request body: raw bytes (JSON), or a factory that builds a fresh multipart body for every
#: attempt (an upload is re-read from its path each time, never replayed from a spent stream).
Body = bytes | Callable[[], aiohttp.MultipartWriter | aiohttp_payload.Payload] | None


@dataclass(slots=True)
class Request:
    """One logical call. `endpoint` names its rate-limit bucket; `safe` says whether it may
    be repeated after a failure of unknown outcome; `upload` marks a streamed file body."""

    method: str
    url: str
    endpoint: str
    body: Body = None
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    secret_headers: Mapping[str, Secret] = field(default_factory=dict, repr=False)
    safe: bool = False
    upload: bool = False

    def wire_headers(self) -> dict[str, str]:
        """Every header as sent, secrets revealed: only the transport calls this."""
        out = {
            "Accept": "application/json",
            "Accept-Encoding": _ACCEPT_ENCODING,
            "User-Agent": USER_AGENT,
            **self.headers,
        }
        if self.content_type is not None:
            out["Content-Type"] = self.content_type
        for name, secret in self.secret_headers.items():
            out[name] = secret.reveal()
        return out


@dataclass(slots=True)
class Response:
    """An HTTP answer with its whole (capped, decoded) body."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    method: str
    url: str


class Transport(Protocol):
    """Sends one request and returns its response; raises only `TransportError`
    (and `IntegrityError` when a file changed while it was being sent)."""

    async def send(self, request: Request) -> Response: ...

    async def aclose(self) -> None: ...


class Watchdog:
    """The time limits of one attempt, moved forward as the attempt makes progress.

    The transport creates one per attempt and makes it visible to the upload payload through a
    context variable; the payload reports each chunk that left and the end of the body. Its one
    timer also holds the call's deadline (`CALL_DEADLINE`): no phase may run past it.
    """

    __slots__ = (
        "_answer",
        "_deadline",
        "_idle",
        "_timer",
        "at_deadline",
        "phase",
        "sent",
        "socket_transport",
    )

    def __init__(self, timeouts: Timeouts, deadline: float | None = None) -> None:
        self._idle = timeouts.read_idle
        self._answer = timeouts.answer
        self._deadline = deadline
        self._timer: asyncio.Timeout | None = None
        self.phase = "waiting for a connection"
        self.sent = False
        self.at_deadline = deadline is not None
        #: the connection's transport, once one is obtained: aborted if the attempt is cut off
        self.socket_transport: asyncio.BaseTransport | None = None

    def _move(self, seconds: float) -> None:
        if self._timer is not None:
            when = asyncio.get_running_loop().time() + seconds
            deadline = self._deadline
            self.at_deadline = deadline is not None and when >= deadline
            self._timer.reschedule(deadline if self.at_deadline else when)

    def abort(self) -> None:
        """Drop the connection at once: an attempt cut off mid-body leaves it unusable, and a
        graceful close would wait on a slow peer for bytes nobody wants any more."""
        transport = self.socket_transport
        if transport is not None and not transport.is_closing():
            abort = getattr(transport, "abort", None)
            if abort is not None:
                abort()

    def connected(self) -> None:
        """The request is about to be written: from now on something may have been sent."""
        self.sent = True
        self.phase = "waiting for the answer"
        self._move(self._answer)

    def chunk_sent(self) -> None:
        """A chunk of the body left: the next one has `read_idle` seconds."""
        self.phase = "sending the body"
        self._move(self._idle)

    def body_sent(self) -> None:
        """The whole body left: the answer has `answer` seconds to arrive."""
        self.phase = "waiting for the answer"
        self._move(self._answer)

    def describe(self) -> str:
        if self.at_deadline:
            return f"the call's deadline passed while {self.phase}"
        if self.phase == "sending the body":
            return f"a chunk of the upload did not leave within {self._idle:g}s (stalled link)"
        if self.phase == "waiting for the answer":
            return f"no complete answer within {self._answer:g}s of sending the request"
        return "timed out before the request was sent"


#: The watchdog of the attempt running in this task (and in the body writer it spawns).
CURRENT_WATCHDOG: contextvars.ContextVar[Watchdog | None] = contextvars.ContextVar(
    "storepush_watchdog", default=None
)
#: The loop time by which the current call must be over (set by the session per attempt, for
#: transports that declare `honours_deadline`).
CALL_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "storepush_call_deadline", default=None
)


class _WatchedRequest(aiohttp.ClientRequest):
    """aiohttp's request, telling the watchdog when a connection has been obtained."""

    async def send(self, conn: Any) -> aiohttp.ClientResponse:
        watchdog = CURRENT_WATCHDOG.get()
        if watchdog is not None:
            watchdog.socket_transport = getattr(conn, "transport", None)
            watchdog.connected()
        return await super().send(conn)


def _decoder(encoding: str, method: str, url: str, status: int) -> Any:
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return _Deflate()
    raise DecodeError(
        f"the answer uses Content-Encoding {encoding!r}, which storepush did not ask for",
        status=status,
        method=method,
        url=url,
    )


class _Deflate:
    """`deflate` as servers send it: zlib-wrapped, or (wrongly, but often) raw."""

    def __init__(self) -> None:
        self._inner: Any = None
        self.unconsumed_tail = b""

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._inner is None:
            self._inner = zlib.decompressobj(zlib.MAX_WBITS)
            try:
                out: bytes = self._inner.decompress(data, max_length)
            except zlib.error:
                self._inner = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self._inner.decompress(data, max_length)
        else:
            out = self._inner.decompress(data, max_length)
        self.unconsumed_tail = self._inner.unconsumed_tail
        return out

    def flush(self) -> bytes:
        return b"" if self._inner is None else bytes(self._inner.flush())


class AiohttpTransport:
    """The default transport: one `aiohttp.ClientSession` with a bounded pool.

    The aiohttp session is created on first use. A session passed in by the caller is used as
    it is and never closed here; only the one this transport created is.
    """

    #: It bounds each exchange by the call's deadline itself (`CALL_DEADLINE`).
    honours_deadline = True

    def __init__(
        self,
        http: aiohttp.ClientSession | None = None,
        *,
        timeouts: Timeouts | None = None,
        max_connections: int = 100,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        verify_tls: bool | ssl.SSLContext = True,
        proxies: ProxyRoutes | None = None,
    ) -> None:
        self._proxies = proxies or ProxyRoutes()
        self._http = http
        self._owns_http = http is None
        self.timeouts = timeouts or Timeouts()
        self._max_connections = max_connections
        self._max_response_bytes = max_response_bytes
        self._ssl: bool | ssl.SSLContext = verify_tls
        self._closed = False
        # sock_connect bounds opening a socket (not waiting for a pooled connection, which a
        # busy batch legitimately does); sock_read is an idle timeout; the watchdog does the
        # rest (see the module docstring); there is no fixed total.
        self.timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None,
            sock_connect=self.timeouts.connect,
            sock_read=self.timeouts.read_idle,
        )

    def _session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this storepush session is closed")
        if self._http is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections, ssl=self._ssl)
            self._http = aiohttp.ClientSession(connector=connector, request_class=_WatchedRequest)
        return self._http

    async def send(self, request: Request) -> Response:
        http = self._session()
        data = request.body() if callable(request.body) else request.body
        method, url = request.method, request.url
        headers = request.wire_headers()
        proxy, proxy_headers = self._proxies.apply(url, headers)
        deadline = CALL_DEADLINE.get()
        watchdog = Watchdog(self.timeouts, deadline)
        token = CURRENT_WATCHDOG.set(watchdog)
        try:
            async with asyncio.timeout(deadline) as timer:
                watchdog._timer = timer
                if not issubclass(http._request_class, _WatchedRequest):
                    watchdog.connected()  # a caller's session: no hook, so count from now
                async with http.request(
                    method,
                    url,
                    data=data,
                    headers=headers,
                    allow_redirects=False,
                    timeout=self.timeout,
                    ssl=self._ssl,
                    auto_decompress=False,
                    proxy=proxy,
                    proxy_headers=proxy_headers,
                ) as resp:
                    body = await self._read_capped(resp, method, url)
                    return Response(resp.status, resp.headers, body, method, url)
        except aiohttp.ClientHttpProxyError as exc:
            if exc.status != 407:
                raise _map_error(exc, method, url) from exc
            # The proxy refused the tunnel's credentials: an answer like a plain-HTTP proxy's
            # 407, which is final (nothing reached the server; repeating cannot help).
            return Response(407, exc.headers or {}, b"", method, url)
        except asyncio.CancelledError:
            watchdog.abort()
            raise
        except BuiltinTimeoutError as exc:
            if isinstance(exc, aiohttp.ClientError):
                raise _map_error(exc, method, url) from exc
            watchdog.abort()
            raise TimeoutError(
                watchdog.describe(), method=method, url=url, sent=watchdog.sent
            ) from exc
        except (ConnectionResetError, aiohttp.ClientError) as exc:
            changed = _integrity_cause(exc)
            if changed is not None:
                raise changed from None
            raise _map_error(exc, method, url) from exc
        finally:
            CURRENT_WATCHDOG.reset(token)

    async def _read_capped(self, resp: aiohttp.ClientResponse, method: str, url: str) -> bytes:
        cap = self._max_response_bytes
        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        length = resp.content_length

        def too_large(what: str) -> ResponseTooLargeError:
            return ResponseTooLargeError(
                f"{what} is over the {cap}-byte cap; it was refused, not buffered",
                status=resp.status,
                method=method,
                url=url,
            )

        if encoding in ("", "identity"):
            if length is not None:
                if length > cap:
                    raise too_large(f"a response body of {length} bytes")
                return await resp.read()  # known and within the cap: one read
            decoder = None
        else:
            decoder = _decoder(encoding, method, url, resp.status)
        out = bytearray()
        async for chunk in resp.content.iter_any():
            if decoder is not None:
                chunk = decoder.decompress(chunk, cap + 1 - len(out))
                if decoder.unconsumed_tail:
                    raise too_large("the decoded response body")
            out += chunk
            if len(out) > cap:
                raise too_large("the decoded response body" if decoder else "the response body")
        if decoder is not None:
            out += decoder.flush()
            if len(out) > cap:
                raise too_large("the decoded response body")
        return bytes(out)

    async def aclose(self) -> None:
        self._closed = True
        if self._owns_http and self._http is not None:
            await self._http.close()
        self._http = None


def _integrity_cause(exc: BaseException) -> IntegrityError | None:
    """The `IntegrityError` a payload raised, which aiohttp wraps as a connection error."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, IntegrityError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _map_error(exc: BaseException, method: str, url: str) -> TransportError:
    """storepush's error for an aiohttp failure; `sent` errs on the side of "maybe sent"."""
    if isinstance(exc, aiohttp.ClientHttpProxyError):  # the CONNECT failed: nothing was sent
        reason = f"the proxy refused the tunnel: {exc.status} {exc.message}"
        return ConnectError(reason, method=method, url=url, sent=False)
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return ConnectError(
            f"cannot connect to the proxy: {exc.os_error}", method=method, url=url, sent=False
        )
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return TimeoutError("timed out while connecting", method=method, url=url, sent=False)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(f"cannot connect: {exc.os_error}", method=method, url=url, sent=False)
    if isinstance(exc, aiohttp.ServerTimeoutError | BuiltinTimeoutError):
        return TimeoutError(
            "no data moved within the idle timeout", method=method, url=url, sent=True
        )
    name = type(exc).__name__
    return TransportError(f"connection failed ({name}: {exc})", method=method, url=url, sent=True)


async def cancel_safe_close(transport: Transport) -> None:
    """Close `transport` even when the calling task is being cancelled."""
    await asyncio.shield(transport.aclose())
