"""storepush: publish Android apps to Cafe Bazaar (Pishkhan) and add-ons to BlueMind MarketPlace.

The public surface is what this module exports; everything in ``storepush._*`` is private.

Every request goes limiter -> retry -> aiohttp through a :class:`Session`; share one session
between many clients (one per app token) to share its connection pool, rate limiters and retry
budget. Errors form one tree rooted at :class:`StorePushError` (see ``storepush._errors``).
"""

from ._config import BAZAAR_BASE_URL, BLUEMIND_BASE_URL, RequestOptions, Timeouts
from ._errors import (
    APIError,
    BadRequestError,
    BundleError,
    ConnectError,
    DecodeError,
    DraftExistsError,
    IntegrityError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PublicationTimeoutError,
    RateLimitError,
    ResponseTooLargeError,
    ServerError,
    StorePushError,
    TimeoutError,
    TransportError,
    ValidationError,
    WorkflowError,
)
from ._http import AiohttpTransport, Request, Response, Transport
from ._limiter import LimiterStats, Limits, RateLimit, TokenBucket
from ._recording import Recorder
from ._retry import RetryBudget, RetryConfig
from ._secrets import Secret, SecretWhitespaceWarning
from ._session import Session, SessionStats
from ._uploads import ProgressCallback
from ._version import __version__
from .bazaar import Architecture, BazaarClient, PublishResult
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
    "ConnectError",
    "DecodeError",
    "DraftExistsError",
    "IntegrityError",
    "LimiterStats",
    "Limits",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PluginSpec",
    "ProgressCallback",
    "PublicationTimeoutError",
    "PublishResult",
    "RateLimit",
    "RateLimitError",
    "Recorder",
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
    "VersionResult",
    "WorkflowError",
    "__version__",
]
