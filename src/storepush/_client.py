"""What both marketplace clients share: a credential, a base URL and a session they may own.

A client built without `session=` creates its own [`Session`][storepush.Session] and closes it
in `aclose` (or at the end of `async with`). A client given a session never closes it: the
session belongs to whoever created it (Stripe's rule).

Configuration comes from the arguments, else the environment, else the defaults (as the
OpenAI and Stripe SDKs do): `BazaarClient()` reads `STOREPUSH_BAZAAR_TOKEN` and
`STOREPUSH_BAZAAR_BASE_URL`; `BlueMindClient()` reads `STOREPUSH_BLUEMIND_API_KEY` and
`STOREPUSH_BLUEMIND_BASE_URL`.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from types import TracebackType
from typing import ClassVar, Self, TypeVar

from ._config import RequestOptions, Timeouts, check_base_url
from ._decode import decode
from ._errors import ValidationError
from ._http import Body, Request, Response
from ._limiter import Limits
from ._retry import RetryConfig
from ._secrets import Secret, as_secret
from ._session import Session
from ._wire import Endpoint

__all__ = ["BaseClient"]

T = TypeVar("T")


class BaseClient:
    """Common machinery of `BazaarClient` and `BlueMindClient`."""

    marketplace: ClassVar[str]
    _secret_header: ClassVar[str]
    #: the argument's name, the environment variable and the default base URL
    _credential_field: ClassVar[str]
    _credential_env: ClassVar[str]
    _base_url_env: ClassVar[str]
    _default_base_url: ClassVar[str]

    def __init__(
        self,
        credential: str | Secret | None = None,
        *,
        base_url: str | None = None,
        session: Session | None = None,
        allow_insecure_http: bool = False,
        retry: RetryConfig | None = None,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        verify_tls: bool | ssl.SSLContext = True,
        proxy: str | Secret | None = None,
    ) -> None:
        self._credential = self._resolve_credential(credential)
        from_env = None if base_url else os.environ.get(self._base_url_env)
        url = base_url or from_env or self._default_base_url
        field = self._base_url_env if from_env else "base_url"
        self._base_url = check_base_url(url, field=field, allow_insecure=allow_insecure_http)
        self._base = str(self._base_url)
        configures_session = retry or limits or timeouts or verify_tls is not True
        if session is not None and (configures_session or proxy is not None):
            raise ValidationError(
                "session",
                "retry=, limits=, timeouts=, verify_tls= and proxy= configure a new session",
                "with session= set them on that Session instead",
            )
        self._owns_session = session is None
        self._session = session or Session(
            retry=retry, limits=limits, timeouts=timeouts, verify_tls=verify_tls, proxy=proxy
        )

    @classmethod
    def _resolve_credential(cls, credential: str | Secret | None) -> Secret:
        if credential is not None:
            return as_secret(credential, field=cls._credential_field)
        value = os.environ.get(cls._credential_env)
        if value is None:
            raise ValidationError(
                cls._credential_field,
                f"none was given and {cls._credential_env} is not set",
                f"pass {cls._credential_field}=..., or export {cls._credential_env}",
            )
        return Secret(value, field=cls._credential_env)

    @property
    def base_url(self) -> str:
        return str(self._base_url)

    @property
    def credential_fingerprint(self) -> str:
        """A one-way fingerprint of the credential (never the credential)."""
        return self._credential.fingerprint

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
        endpoint: Endpoint,
        *,
        path_args: Mapping[str, object] | None = None,
        body: Body = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        options: RequestOptions | None = None,
        hints: Mapping[int, str] | None = None,
    ) -> Response:
        request = Request(
            method=endpoint.method,
            url=self.url(endpoint.url_path(**(path_args or {}))),
            endpoint=endpoint.name,
            body=body,
            content_type=content_type,
            headers=headers or {},
            secret_headers={self._secret_header: self._credential},
            safe=endpoint.safe,
            upload=endpoint.upload,
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
