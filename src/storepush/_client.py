"""What both marketplace clients share: a credential, a base URL and a session they may own.

A client built without ``session=`` creates its own :class:`~storepush.Session` and closes it in
:meth:`aclose` (or at the end of ``async with``). A client given a session never closes it: the
session belongs to whoever created it (Stripe's rule).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from types import TracebackType
from typing import ClassVar, Self, TypeVar

from ._config import RequestOptions, Timeouts, check_base_url
from ._decode import decode
from ._http import Body, Request, Response
from ._limiter import Limits
from ._retry import RetryConfig
from ._secrets import Secret
from ._session import Session

__all__ = ["BaseClient"]

T = TypeVar("T")


class BaseClient:
    """Common machinery of :class:`BazaarClient` and :class:`BlueMindClient`."""

    marketplace: ClassVar[str]
    _secret_header: ClassVar[str]

    def __init__(
        self,
        credential: Secret,
        *,
        base_url: str,
        session: Session | None = None,
        allow_insecure_http: bool = False,
        retry: RetryConfig | None = None,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        verify_tls: bool | ssl.SSLContext = True,
        proxy: str | Secret | None = None,
    ) -> None:
        self._credential = credential
        self._base_url = check_base_url(base_url, allow_insecure=allow_insecure_http)
        self._base = str(self._base_url)
        configures_session = retry or limits or timeouts or verify_tls is not True
        if session is not None and (configures_session or proxy is not None):
            raise ValueError(
                "retry=, limits=, timeouts=, verify_tls= and proxy= configure a new session; "
                "with session= set them on that Session instead"
            )
        self._owns_session = session is None
        self._session = session or Session(
            retry=retry, limits=limits, timeouts=timeouts, verify_tls=verify_tls, proxy=proxy
        )

    @property
    def base_url(self) -> str:
        return str(self._base_url)

    @property
    def session(self) -> Session:
        """The session this client sends through (its own, or the one it was given)."""
        return self._session

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, credential=Secret('***'))"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the session if this client created it; a shared session stays open."""
        if self._owns_session:
            await self._session.aclose()

    def url(self, path: str) -> str:
        return self._base + path

    async def _send(
        self,
        method: str,
        path: str,
        endpoint: str,
        *,
        body: Body = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        safe: bool = False,
        options: RequestOptions | None = None,
        hints: Mapping[int, str] | None = None,
    ) -> Response:
        request = Request(
            method=method,
            url=self.url(path),
            endpoint=endpoint,
            body=body,
            content_type=content_type,
            headers=headers or {},
            secret_headers={self._secret_header: self._credential},
            safe=safe,
        )
        return await self._session.request(
            request,
            marketplace=self.marketplace,
            credential=self._credential,
            options=options,
            hints=hints,
        )

    @staticmethod
    def _decode(response: Response, type_: type[T]) -> T:
        return decode(
            response.body,
            type_,
            status=response.status,
            method=response.method,
            url=response.url,
        )
