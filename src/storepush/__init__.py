"""storepush: publish Android apps to Cafe Bazaar (Pishkhan) and add-ons to BlueMind MarketPlace.

The public surface is what this module exports (plus `storepush.bazaar`, `storepush.bluemind`,
`storepush.emulator` and `storepush.testing`); everything in `storepush._*` is private.

Every request goes limiter -> retry -> aiohttp through a [`Session`][storepush.Session]; share
one session between many clients (one per app token) to share its connection pool, rate
limiters and retry budget. Errors form one tree rooted at
[`StorePushError`][storepush.StorePushError] (drawn at the top of `storepush._errors`).

Names are imported on first use (PEP 562): `import storepush` and `storepush --version`
cost next to nothing; `from storepush import Session` loads what it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._exports import public_module as _public_module
from ._version import __version__

if TYPE_CHECKING:
    from ._config import (
        BAZAAR_BASE_URL,
        BLUEMIND_BASE_URL,
        RequestOptions,
        Timeouts,
    )
    from ._coordination import (
        Coordinator,
        Lease,
        LocalCoordinator,
        NoCoordinator,
    )
    from ._errors import (
        APIError,
        BadRequestError,
        BundleError,
        BusyError,
        ConcurrentPublishError,
        ConnectError,
        DecodeError,
        DraftExistsError,
        FileChangedError,
        IntegrityError,
        NotFoundError,
        OutcomeUnknownError,
        PermissionDeniedError,
        PublicationTimeoutError,
        RateLimitError,
        Remedy,
        ResponseTooLargeError,
        ServerError,
        StorePushError,
        TimeoutError,
        TransportError,
        ValidationError,
        VersionCodeError,
        VersionExistsError,
        WorkflowError,
    )
    from ._events import (
        Event,
        OnEvent,
    )
    from ._http import (
        AiohttpTransport,
        Request,
        Response,
        Transport,
    )
    from ._limiter import (
        LimiterStats,
        Limits,
        RateLimit,
        TokenBucket,
    )
    from ._recording import (
        Recorder,
    )
    from ._redis import (
        RedisCoordinator,
    )
    from ._retry import (
        RetryBudget,
        RetryConfig,
    )
    from ._secrets import (
        Secret,
        SecretWhitespaceWarning,
    )
    from ._session import (
        Session,
        SessionStats,
    )
    from ._uploads import (
        ProgressCallback,
    )
    from .bazaar import (
        Architecture,
        BazaarClient,
        PublishPlan,
        PublishResult,
    )
    from .bluemind import (
        BlueMindClient,
        PluginSpec,
        VersionResult,
    )

#: Where each public name lives (imported on first use).
_WHERE: dict[str, str] = {
    "BAZAAR_BASE_URL": "_config",
    "BLUEMIND_BASE_URL": "_config",
    "RequestOptions": "_config",
    "Timeouts": "_config",
    "APIError": "_errors",
    "BadRequestError": "_errors",
    "BundleError": "_errors",
    "BusyError": "_errors",
    "ConcurrentPublishError": "_errors",
    "ConnectError": "_errors",
    "DecodeError": "_errors",
    "DraftExistsError": "_errors",
    "FileChangedError": "_errors",
    "IntegrityError": "_errors",
    "NotFoundError": "_errors",
    "OutcomeUnknownError": "_errors",
    "PermissionDeniedError": "_errors",
    "PublicationTimeoutError": "_errors",
    "RateLimitError": "_errors",
    "Remedy": "_errors",
    "ResponseTooLargeError": "_errors",
    "ServerError": "_errors",
    "StorePushError": "_errors",
    "TimeoutError": "_errors",
    "TransportError": "_errors",
    "ValidationError": "_errors",
    "VersionCodeError": "_errors",
    "VersionExistsError": "_errors",
    "WorkflowError": "_errors",
    "AiohttpTransport": "_http",
    "Request": "_http",
    "Response": "_http",
    "Transport": "_http",
    "Architecture": "bazaar",
    "BazaarClient": "bazaar",
    "PublishPlan": "bazaar",
    "PublishResult": "bazaar",
    "BlueMindClient": "bluemind",
    "PluginSpec": "bluemind",
    "VersionResult": "bluemind",
    "Coordinator": "_coordination",
    "Lease": "_coordination",
    "LocalCoordinator": "_coordination",
    "NoCoordinator": "_coordination",
    "Event": "_events",
    "OnEvent": "_events",
    "LimiterStats": "_limiter",
    "Limits": "_limiter",
    "RateLimit": "_limiter",
    "TokenBucket": "_limiter",
    "ProgressCallback": "_uploads",
    "Recorder": "_recording",
    "RedisCoordinator": "_redis",
    "RetryBudget": "_retry",
    "RetryConfig": "_retry",
    "Secret": "_secrets",
    "SecretWhitespaceWarning": "_secrets",
    "Session": "_session",
    "SessionStats": "_session",
}

__all__ = [
    "BAZAAR_BASE_URL",
    "BLUEMIND_BASE_URL",
    "APIError",
    "AiohttpTransport",
    "Architecture",
    "BadRequestError",
    "BazaarClient",
    "BlueMindClient",
    "BundleError",
    "BusyError",
    "ConcurrentPublishError",
    "ConnectError",
    "Coordinator",
    "DecodeError",
    "DraftExistsError",
    "Event",
    "FileChangedError",
    "IntegrityError",
    "Lease",
    "LimiterStats",
    "Limits",
    "LocalCoordinator",
    "NoCoordinator",
    "NotFoundError",
    "OnEvent",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PluginSpec",
    "ProgressCallback",
    "PublicationTimeoutError",
    "PublishPlan",
    "PublishResult",
    "RateLimit",
    "RateLimitError",
    "Recorder",
    "RedisCoordinator",
    "Remedy",
    "Request",
    "RequestOptions",
    "Response",
    "ResponseTooLargeError",
    "RetryBudget",
    "RetryConfig",
    "Secret",
    "SecretWhitespaceWarning",
    "ServerError",
    "Session",
    "SessionStats",
    "StorePushError",
    "TimeoutError",
    "Timeouts",
    "TokenBucket",
    "Transport",
    "TransportError",
    "ValidationError",
    "VersionCodeError",
    "VersionExistsError",
    "VersionResult",
    "WorkflowError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use; public classes report `storepush` as
    their module, as httpx does (see `_exports.public_module`)."""
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{where}", __name__), name)
    if _public_module(value, "storepush"):
        value.__module__ = "storepush"
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
