"""storepush: publish Android apps to Cafe Bazaar (Pishkhan) and add-ons to BlueMind MarketPlace.

The public surface is what this module exports (plus `storepush.bazaar`, `storepush.bluemind`,
`storepush.emulator` and `storepush.testing`); everything in `storepush._*` is private.

Every request goes limiter -> retry -> aiohttp through a [`Session`][storepush.Session]; share
one session between many clients (one per app token) to share its connection pool, rate
limiters and retry budget. Errors form one tree rooted at
[`StorePushError`][storepush.StorePushError] (drawn at the top of `storepush._errors`).
"""

from ._config import BAZAAR_BASE_URL, BLUEMIND_BASE_URL, RequestOptions, Timeouts
from ._coordination import Coordinator, Lease, LocalCoordinator, NoCoordinator
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
from ._events import Event, OnEvent
from ._exports import public_module as _public_module
from ._http import AiohttpTransport, Request, Response, Transport
from ._limiter import LimiterStats, Limits, RateLimit, TokenBucket
from ._recording import Recorder
from ._redis import RedisCoordinator
from ._retry import RetryBudget, RetryConfig
from ._secrets import Secret, SecretWhitespaceWarning
from ._session import Session, SessionStats
from ._uploads import ProgressCallback
from ._version import __version__
from .bazaar import Architecture, BazaarClient, PublishPlan, PublishResult
from .bluemind import BlueMindClient, PluginSpec, VersionResult

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

# As httpx does: public names report the module users import them from, so errors print as
# `storepush.ValidationError`, not as the private module that defines them. Classes with
# class-level annotations (dataclasses, msgspec Structs) keep theirs: their annotations are
# resolved in the module named by `__module__`.
for _name in __all__:
    _value = globals()[_name]
    if _public_module(_value, "storepush"):
        _value.__module__ = "storepush"
del _name, _value
