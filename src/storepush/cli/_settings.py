"""The command line's settings: one table of keys, one precedence rule, checked before any request.

Every run setting has a manifest key, a flag and (most of them) an environment variable, and is
resolved by one pure function, [`resolve`][storepush.cli._settings.resolve]:

    flag  >  environment  >  manifest (the item, then its `[defaults]`)  >  default

An empty environment variable counts as unset (CI systems often set `X=""` for an empty input).
Every value is checked where it comes from, so an error names what the user typed: the flag
(`--busy-timeout`), the variable (`STOREPUSH_BUSY_TIMEOUT`) or the manifest's line and key.

This module imports nothing heavy: `--help`, `--version` and argument errors stay fast.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from .._errors import ValidationError

if TYPE_CHECKING:
    from .._retry import RetryConfig

__all__ = [
    "BUSY_TIMEOUT",
    "CONCURRENCY",
    "DEADLINE",
    "IF_BUSY",
    "IF_DRAFT_EXISTS",
    "MAX_ATTEMPTS",
    "POLL_INTERVAL",
    "PROGRESS",
    "SETTINGS",
    "TIMEOUT",
    "WAIT_DEADLINE",
    "IfBusy",
    "IfDraftExists",
    "ProgressMode",
    "Setting",
    "busy_policy",
    "draft_policy",
    "parse_count",
    "parse_seconds",
    "resolve",
    "retry_config",
]

T = TypeVar("T")
Scope = Literal["item", "defaults", "none"]


class IfDraftExists(enum.StrEnum):
    """What to do when the app has a draft holding another build's packages."""

    FAIL = "fail"
    REUSE = "reuse"
    REPLACE = "replace"


class IfBusy(enum.StrEnum):
    """What to do when another publish of the same app runs on this host."""

    WAIT = "wait"
    FAIL = "fail"


DraftPolicy = Literal["fail", "reuse", "replace"]
BusyPolicy = Literal["wait", "fail"]
_DRAFT: dict[IfDraftExists, DraftPolicy] = {
    IfDraftExists.FAIL: "fail",
    IfDraftExists.REUSE: "reuse",
    IfDraftExists.REPLACE: "replace",
}
_BUSY: dict[IfBusy, BusyPolicy] = {IfBusy.WAIT: "wait", IfBusy.FAIL: "fail"}


def draft_policy(value: IfDraftExists) -> DraftPolicy:
    """The library's spelling of a draft policy."""
    return _DRAFT[value]


def busy_policy(value: IfBusy) -> BusyPolicy:
    """The library's spelling of a busy policy."""
    return _BUSY[value]


class ProgressMode(enum.StrEnum):
    """How progress is shown on stderr while a command runs."""

    AUTO = "auto"  #: a bar on a terminal, plain lines otherwise
    BAR = "bar"
    PLAIN = "plain"
    JSONL = "jsonl"
    OFF = "off"


def _number(value: object, where: str, kind: type[int] | type[float]) -> float:
    if isinstance(value, bool):
        raise ValidationError(where, f"must be a number, not {value!r}")
    if isinstance(value, str):
        try:
            return kind(value.strip())
        except ValueError:
            raise ValidationError(where, f"must be a number, not {value!r}") from None
    if isinstance(value, int | float):
        return value
    raise ValidationError(where, f"must be a number, not {type(value).__name__}")


def parse_seconds(value: object, where: str, *, zero: bool = False) -> float:
    """A finite number of seconds: positive, or `>= 0` when `zero`."""
    seconds = float(_number(value, where, float))
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not zero):
        bound = "0 or more" if zero else "more than 0"
        raise ValidationError(
            where, f"must be a number of seconds, {bound}, and finite; not {value!r}"
        )
    return seconds


def parse_count(value: object, where: str, *, low: int, high: int) -> int:
    """A whole number from `low` to `high`."""
    number = _number(value, where, int)
    if isinstance(number, float) and not number.is_integer():
        raise ValidationError(where, f"must be a whole number, not {value!r}")
    count = int(number)
    if not low <= count <= high:
        raise ValidationError(where, f"must be from {low} to {high}, not {value!r}")
    return count


E = TypeVar("E", bound=enum.StrEnum)


def _choice(kind: type[E]) -> Callable[[object, str], E]:
    def parse(value: object, where: str) -> E:
        if isinstance(value, kind):
            return value
        if isinstance(value, str):
            for member in kind:
                if member.value == value.strip():
                    return member
        allowed = ", ".join(m.value for m in kind)
        raise ValidationError(where, f"must be one of {allowed}; not {value!r}")

    return parse


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One run setting: its names in the manifest, on the command line and in the environment.

    `scope` says where a manifest may set it: in each item (and `[defaults]`), in `[defaults]`
    only (it configures the whole run), or not at all.
    """

    key: str
    flag: str
    env: str | None
    default: T
    parse: Callable[[object, str], T]
    scope: Scope
    what: str
    shown_default: str = ""

    def help(self) -> str:
        """The flag's help text: what it does, its variable and its default."""
        parts = [self.what]
        if self.env:
            parts.append(f"Env {self.env}.")
        parts.append(f"Default: {self.default_text()}.")
        return " ".join(parts)

    def default_text(self) -> str:
        if self.shown_default:
            return self.shown_default
        value: object = self.default
        if isinstance(value, enum.Enum):
            return str(value.value)
        if isinstance(value, float) and value.is_integer():
            return f"{int(value)} s"
        return str(value)


def resolve(
    setting: Setting[T],
    *,
    flag: object = None,
    environ: Mapping[str, str],
    manifest: object = None,
    where: str = "",
    default: T | None = None,
) -> T:
    """The value of `setting`: from the flag, else the environment, else the manifest (`where`
    names its line and key), else `default` (or the setting's own default). Each is checked."""
    if flag is not None:
        return setting.parse(flag, setting.flag)
    raw = environ.get(setting.env) if setting.env else None
    if raw is not None and raw.strip() and setting.env:
        return setting.parse(raw, setting.env)
    if manifest is not None:
        return setting.parse(manifest, where or setting.key)
    return setting.default if default is None else default


def _seconds(value: object, where: str) -> float:
    return parse_seconds(value, where)


def _seconds_or_none(value: object, where: str) -> float | None:
    return parse_seconds(value, where)


def _seconds_zero(value: object, where: str) -> float:
    return parse_seconds(value, where, zero=True)


def _attempts(value: object, where: str) -> int:
    return parse_count(value, where, low=1, high=100)


def _concurrency(value: object, where: str) -> int:
    return parse_count(value, where, low=1, high=1000)


IF_DRAFT_EXISTS: Setting[IfDraftExists] = Setting(
    "if_draft_exists",
    "--if-draft-exists",
    "STOREPUSH_IF_DRAFT_EXISTS",
    IfDraftExists.FAIL,
    _choice(IfDraftExists),
    "item",
    "A draft holding another build's packages: fail, reuse it (add this build), or replace "
    "it. An empty draft, or one holding this build, is always resumed.",
)
IF_BUSY: Setting[IfBusy] = Setting(
    "if_busy",
    "--if-busy",
    "STOREPUSH_IF_BUSY",
    IfBusy.WAIT,
    _choice(IfBusy),
    "item",
    "Another publish of the same app runs on this host: wait for it, or fail at once.",
)
BUSY_TIMEOUT: Setting[float] = Setting(
    "busy_timeout",
    "--busy-timeout",
    "STOREPUSH_BUSY_TIMEOUT",
    1800.0,
    _seconds_zero,
    "item",
    "Seconds --if-busy wait waits for the other publish.",
)
MAX_ATTEMPTS: Setting[int] = Setting(
    "max_attempts",
    "--max-attempts",
    "STOREPUSH_MAX_ATTEMPTS",
    5,
    _attempts,
    "defaults",
    "Attempts per call, the first included (1 to 100).",
    shown_default="5 (batch: 8)",
)
TIMEOUT: Setting[float | None] = Setting(
    "timeout",
    "--timeout",
    "STOREPUSH_TIMEOUT",
    None,
    _seconds_or_none,
    "defaults",
    "Seconds one call may take, its retries and waits included; when given, uploads too.",
    shown_default="300 s a call; uploads are bounded only by the idle timeout",
)
DEADLINE: Setting[float | None] = Setting(
    "deadline",
    "--deadline",
    "STOREPUSH_DEADLINE",
    None,
    _seconds_or_none,
    "defaults",
    "Seconds the whole command may take; then it stops as on Ctrl-C and exits 1.",
    shown_default="none",
)
POLL_INTERVAL: Setting[float] = Setting(
    "poll_interval",
    "--poll-interval",
    "STOREPUSH_POLL_INTERVAL",
    30.0,
    _seconds,
    "none",
    "Seconds between the first checks of --wait (then it backs off, up to 300 s).",
)
WAIT_DEADLINE: Setting[float] = Setting(
    "wait_deadline",
    "--wait-deadline",
    "STOREPUSH_WAIT_DEADLINE",
    3600.0,
    _seconds,
    "none",
    "Seconds --wait may take.",
)
PROGRESS: Setting[ProgressMode] = Setting(
    "progress",
    "--progress",
    "STOREPUSH_PROGRESS",
    ProgressMode.AUTO,
    _choice(ProgressMode),
    "defaults",
    "Progress on stderr: auto (a bar on a terminal, else plain lines), bar, plain "
    "(timestamped lines), jsonl (events as JSON lines) or off.",
)
CONCURRENCY: Setting[int] = Setting(
    "concurrency",
    "--concurrency",
    "STOREPUSH_CONCURRENCY",
    8,
    _concurrency,
    "defaults",
    "Batch items in flight at once (1 to 1000).",
)

#: Every run setting, in the order the docs list them.
SETTINGS: tuple[Setting[Any], ...] = (
    IF_DRAFT_EXISTS,
    IF_BUSY,
    BUSY_TIMEOUT,
    MAX_ATTEMPTS,
    TIMEOUT,
    DEADLINE,
    POLL_INTERVAL,
    WAIT_DEADLINE,
    PROGRESS,
    CONCURRENCY,
)


def retry_config(max_attempts: int, timeout: float | None) -> RetryConfig:
    """The session's retry policy: `--timeout`, when given, bounds uploads as well."""
    from .._retry import RetryConfig

    if timeout is None:
        return RetryConfig(max_attempts=max_attempts)
    return RetryConfig(max_attempts=max_attempts, deadline=timeout, upload_deadline=timeout)
