"""The one-method transport seam: send one request, get one response, on aiohttp.

:class:`Transport` is the seam (httpx's ``AsyncBaseTransport``): ``send`` makes exactly one HTTP
exchange. It follows no redirect and retries nothing; the session above it does that. It maps
every aiohttp failure to storepush's own :class:`~storepush.TransportError` tree, telling
whether any byte of the request had left (``sent``), which is what separates a retry that is
safe from an outcome that is unknown.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
from aiohttp import payload as aiohttp_payload

from ._config import DEFAULT_MAX_RESPONSE_BYTES, Timeouts
from ._errors import (
    BuiltinTimeoutError,
    ConnectError,
    ResponseTooLargeError,
    TimeoutError,
    TransportError,
)
from ._proxy import ProxyRoutes
from ._secrets import Secret
from ._version import __version__

__all__ = ["AiohttpTransport", "Body", "Request", "Response", "Transport"]

USER_AGENT = f"storepush/{__version__}"
_READ_CHUNK = 64 * 1024

#: A request body: raw bytes (JSON), or a factory that builds a fresh multipart body for every
#: attempt (an upload is re-read from its path each time, never replayed from a spent stream).
Body = bytes | Callable[[], aiohttp.MultipartWriter | aiohttp_payload.Payload] | None


@dataclass(slots=True)
class Request:
    """One logical call. ``endpoint`` names its rate-limit bucket; ``safe`` says whether it may
    be repeated after a failure of unknown outcome."""

    method: str
    url: str
    endpoint: str
    body: Body = None
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    secret_headers: Mapping[str, Secret] = field(default_factory=dict, repr=False)
    safe: bool = False

    def wire_headers(self) -> dict[str, str]:
        """Every header as sent, secrets revealed: only the transport calls this."""
        out = {"Accept": "application/json", "User-Agent": USER_AGENT, **self.headers}
        if self.content_type is not None:
            out["Content-Type"] = self.content_type
        for name, secret in self.secret_headers.items():
            out[name] = secret.reveal()
        return out


@dataclass(slots=True)
class Response:
    """An HTTP answer with its whole (capped) body."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    method: str
    url: str


class Transport(Protocol):
    """Sends one request and returns its response; raises only :class:`TransportError`."""

    async def send(self, request: Request) -> Response: ...

    async def aclose(self) -> None: ...


class AiohttpTransport:
    """The default transport: one :class:`aiohttp.ClientSession` with a bounded pool.

    The aiohttp session is created on first use. A session passed in by the caller is used as
    it is and never closed here; only the one this transport created is.
    """

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
        self._timeouts = timeouts or Timeouts()
        self._max_connections = max_connections
        self._max_response_bytes = max_response_bytes
        self._ssl: bool | ssl.SSLContext = verify_tls
        self._closed = False
        # sock_connect bounds opening a socket (not waiting for a pooled connection, which a
        # busy batch legitimately does); sock_read is an idle timeout; there is no total.
        self.timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None,
            sock_connect=self._timeouts.connect,
            sock_read=self._timeouts.read_idle,
        )

    def _session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this storepush session is closed")
        if self._http is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections, ssl=self._ssl)
            self._http = aiohttp.ClientSession(connector=connector, auto_decompress=True)
        return self._http

    async def send(self, request: Request) -> Response:
        http = self._session()
        data = request.body() if callable(request.body) else request.body
        method, url = request.method, request.url
        headers = request.wire_headers()
        proxy, proxy_headers = self._proxies.apply(url, headers)
        try:
            async with http.request(
                method,
                url,
                data=data,
                headers=headers,
                allow_redirects=False,
                timeout=self.timeout,
                ssl=self._ssl,
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
        except (ConnectionResetError, aiohttp.ClientError, BuiltinTimeoutError) as exc:
            raise _map_error(exc, method, url) from exc

    async def _read_capped(self, resp: aiohttp.ClientResponse, method: str, url: str) -> bytes:
        cap = self._max_response_bytes
        if resp.content_length is not None and resp.content_length > cap:
            raise ResponseTooLargeError(
                f"response body of {resp.content_length} bytes is over the {cap}-byte cap",
                status=resp.status,
                method=method,
                url=url,
            )
        if resp.content_length is not None:
            return await resp.read()  # known and within the cap: one read
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(_READ_CHUNK):
            size += len(chunk)
            if size > cap:
                raise ResponseTooLargeError(
                    f"response body is over the {cap}-byte cap",
                    status=resp.status,
                    method=method,
                    url=url,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        self._closed = True
        if self._owns_http and self._http is not None:
            await self._http.close()
        self._http = None


def _map_error(exc: BaseException, method: str, url: str) -> TransportError:
    """storepush's error for an aiohttp failure; ``sent`` errs on the side of "maybe sent"."""
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
    """Close ``transport`` even when the calling task is being cancelled."""
    await asyncio.shield(transport.aclose())
