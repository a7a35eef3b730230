"""The exceptions storepush raises.

Every exception derives from `StorePushError`; none exposes an aiohttp type (the
original exception, where there is one, is chained as `__cause__`). No message, attribute
or `repr` ever holds a token or an API key.

    StorePushError
    ├── ValidationError          bad input, found before any request was sent
    ├── APIError                 the server answered, and the answer is an error
    │   ├── BadRequestError          400
    │   ├── PermissionDeniedError    403
    │   ├── NotFoundError            404
    │   ├── RateLimitError           429 (`retry_after`)
    │   └── ServerError              5xx
    ├── TransportError           no usable answer reached us
    │   ├── ConnectError             the connection could not be made (nothing was sent)
    │   └── TimeoutError             connect, idle-read or deadline timeout
    ├── OutcomeUnknownError      a non-repeatable call may or may not have acted
    ├── DecodeError              a response does not have the expected shape
    │   └── ResponseTooLargeError    a response body over the size cap
    └── WorkflowError            a publish workflow cannot go on safely
        ├── DraftExistsError         an uncommitted release of other packages exists
        ├── VersionCodeError         a version code is not above the store's (refused early)
        ├── ConcurrentPublishError   another publisher changed the draft we were filling
        ├── BusyError                another publish of the app holds its lease
        ├── VersionExistsError       a BlueMind version is listed with another package
        ├── IntegrityError           the server stored something other than what we sent
        │   └── FileChangedError         a local file changed while it was being uploaded
        ├── BundleError              Bazaar failed to process an app bundle (state `E`)
        └── PublicationTimeoutError  a wait for publication (or a bundle) passed its deadline

The workflows (`publish`, `publish_version`) catch `OutcomeUnknownError`, read the
server's state and continue exactly once; direct callers of the low-level methods decide
themselves.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

__all__ = [
    "APIError",
    "BadRequestError",
    "BundleError",
    "BusyError",
    "ConcurrentPublishError",
    "ConnectError",
    "DecodeError",
    "DraftExistsError",
    "FileChangedError",
    "IntegrityError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PublicationTimeoutError",
    "RateLimitError",
    "Remedy",
    "ResponseTooLargeError",
    "ServerError",
    "StorePushError",
    "TimeoutError",
    "TransportError",
    "ValidationError",
    "VersionCodeError",
    "VersionExistsError",
    "WorkflowError",
]

_EXCERPT_CHARS = 300


def excerpt(body: bytes, limit: int = _EXCERPT_CHARS) -> str:
    """A short, printable excerpt of a response body, credentials removed.

    The body is scrubbed *before* it is cut, so a secret straddling the cut cannot survive
    as a fragment.
    """
    from ._scrub import scrub

    text = scrub(body[: limit * 8].decode("utf-8", errors="replace"))
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


@dataclass(frozen=True, slots=True)
class Remedy:
    """One way out of an error: an option of the call (its library name), a value, an effect.

    The library spells it as a keyword argument (`if_draft_exists='reuse'`); the command line
    spells the same remedy as its own flag (`--if-draft-exists reuse`).
    """

    option: str
    value: str | None
    effect: str

    def python(self) -> str:
        value = "..." if self.value is None else repr(self.value)
        return f"pass {self.option}={value} to {self.effect}"


class StorePushError(Exception):
    """The root of every error storepush raises.

    When the session gave up retrying a call, `attempts` says how many attempts were made and
    `stopped` why it stopped; both show in the message. `remedies` lists the options that
    would get past the error (see [`Remedy`][storepush.Remedy]).
    """

    attempts: int | None = None
    stopped: str | None = None
    remedies: tuple[Remedy, ...] = ()

    def with_remedies(self, *items: tuple[str, str | None, str]) -> Self:
        """Attach remedies `(option, value, effect)`; returns `self`."""
        self.remedies = tuple(Remedy(*item) for item in items)
        return self

    def describe(self, spell: Callable[[Remedy], str] = Remedy.python) -> str:
        """The message, with remedies spelled by `spell` (the CLI spells its flags)."""
        text = self._detail()
        if self.stopped:
            text += f" ({self.stopped})"
        if self.remedies:
            text += ". Fix: " + "; or ".join(spell(r) for r in self.remedies)
        return text

    def gave_up(self, attempts: int, reason: str) -> StorePushError:
        """Record that retrying stopped after `attempts` for `reason`; returns `self`."""
        self.attempts = attempts
        self.stopped = reason
        return self

    def _detail(self) -> str:
        return super().__str__()

    def __str__(self) -> str:
        return self.describe()


class ValidationError(StorePushError, ValueError):
    """Bad input, found before any request was sent.

    `field` names the offending argument (or manifest key), `fix` says what to do.
    """

    def __init__(self, field: str, problem: str, fix: str = "") -> None:
        self.field = field
        self.problem = problem
        self.fix = fix
        message = f"{field}: {problem}"
        if fix:
            message += f" ({fix})"
        super().__init__(message)


class _ResponseError(StorePushError):
    """What an error about one HTTP answer carries: status, method, URL and a body excerpt."""

    def __init__(
        self, message: str, *, status: int, method: str, url: str, body_excerpt: str = ""
    ) -> None:
        self.status = status
        self.method = method
        self.url = url
        self.body_excerpt = body_excerpt
        super().__init__(message)

    def _excerpt_helps(self) -> bool:
        return bool(self.body_excerpt)

    def _detail(self) -> str:
        text = f"{self.args[0]} [{self.status} on {self.method} {self.url}]"
        if self._excerpt_helps():
            text += f" body: {self.body_excerpt!r}"
        return text


class APIError(_ResponseError):
    """The server answered with an error status, or with an error envelope on a 2xx."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str,
        url: str,
        error_type: str | None = None,
        server_message: str | None = None,
        body_excerpt: str = "",
    ) -> None:
        self.error_type = error_type
        self.server_message = server_message
        super().__init__(message, status=status, method=method, url=url, body_excerpt=body_excerpt)

    def _excerpt_helps(self) -> bool:
        # the server's own message says more than a slice of its body
        return self.server_message is None and bool(self.body_excerpt)


class BadRequestError(APIError):
    """400: the server refused the request; `server_message` says why."""


class PermissionDeniedError(APIError):
    """403: the credential is not accepted for this resource."""


class NotFoundError(APIError):
    """404: no such resource (or a wrong `base_url`)."""


class RateLimitError(APIError):
    """429: too many requests. `retry_after` is the server's hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)  # type: ignore[arg-type]


class ServerError(APIError):
    """5xx: the server failed."""


class TransportError(StorePushError):
    """No usable answer reached us. `sent` tells whether any byte of the request left."""

    def __init__(self, message: str, *, method: str, url: str, sent: bool) -> None:
        self.method = method
        self.url = url
        self.sent = sent
        super().__init__(f"{message} [{method} {url}]")


class ConnectError(TransportError):
    """The connection could not be made, so nothing was sent."""


class TimeoutError(TransportError):  # shadows the builtin on purpose: the documented name
    """A connect, idle-read or per-call deadline timeout."""


# The builtin is still needed inside this package; keep a handle that survives the shadowing.
BuiltinTimeoutError = builtins.TimeoutError


class OutcomeUnknownError(StorePushError):
    """A call that is not safe to repeat may or may not have acted on the server.

    Raised instead of a blind retry when a POST or DELETE timed out after it was sent, lost its
    connection, or got a 500/502/503/504. Read the server's state before deciding what next;
    the publish workflows do exactly that. `status` is the HTTP status when there was one.
    """

    def __init__(self, message: str, *, method: str, url: str, status: int | None) -> None:
        self.method = method
        self.url = url
        self.status = status
        super().__init__(f"{message} [{method} {url}]")


class DecodeError(_ResponseError):
    """A response does not have the expected shape.

    `path` is msgspec's location of the problem (for example
    `$.release.packages[0].apk_size`) when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str,
        url: str,
        path: str | None = None,
        body_excerpt: str = "",
    ) -> None:
        self.path = path
        super().__init__(message, status=status, method=method, url=url, body_excerpt=body_excerpt)


class ResponseTooLargeError(DecodeError):
    """A response body is larger than the configured cap; it was refused, not buffered."""


class WorkflowError(StorePushError):
    """A publish workflow cannot go on without risking a duplicate or a loss."""


class DraftExistsError(WorkflowError):
    """The app already has an uncommitted release holding other packages, and the draft
    policy is `"fail"`."""


class VersionCodeError(WorkflowError):
    """A package's version code is not above one already committed or published for its
    architecture (a re-run of an older job, or a rebuild with the same version code).
    Refused before anything is changed."""


class BusyError(WorkflowError):
    """Another publish of the same app holds its lease and `if_busy` is `"fail"`, or the
    wait for it passed its deadline."""


class VersionExistsError(WorkflowError):
    """A BlueMind plugin already lists this version with a different package; a listed
    version cannot be replaced."""


class ConcurrentPublishError(WorkflowError):
    """Another publisher changed this app's draft while this run was using it (a different
    build uploaded into it, or the draft deleted or replaced). Nothing of ours was committed."""


class IntegrityError(WorkflowError):
    """The server reports a size or SHA-1 other than the file we sent."""


class FileChangedError(IntegrityError):
    """A local file changed (shrank, grew, was rewritten) while it was being uploaded.

    Never retried: the bytes no longer match what was checked. Nothing that changed is
    committed, and a publish removes a draft it created for it.
    """


class BundleError(WorkflowError):
    """Bazaar reported an app bundle as failed (state `E`); `errors` lists its reasons."""

    def __init__(self, message: str, errors: list[str]) -> None:
        self.errors = errors
        super().__init__(message)


class PublicationTimeoutError(WorkflowError, BuiltinTimeoutError):
    """A wait for a release to be published (or a bundle to be processed) ran out of time."""


# Errors print as the public name users catch (`storepush.ValidationError`), even when raised
# before anything was looked up on the lazily loaded `storepush` package.
for _name in __all__:
    globals()[_name].__module__ = "storepush"
del _name
