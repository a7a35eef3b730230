"""Server quotas: token buckets on the emulator's clock, at three scopes, and the 429s they cause.

- **per credential and endpoint** (`Quotas.default`, `Quotas.per_endpoint`): one bucket for each
  Pishkhan token or BlueMind key and each endpoint, as a store that throttles one endpoint in a
  short time (the documented 429) would;
- **per account** (`Quotas.account`): one bucket shared by every token of a Pishkhan account
  (an agency's many apps), across all endpoints. Which tokens form an account is set with
  `Emulator(accounts=...)`, `--account NAME=TOKEN,...` or `POST /_emulator/accounts`;
- **per BlueMind key** (`Quotas.key`): one bucket per API key across all BlueMind endpoints.

A call is admitted only when every bucket that applies has a token; a refused call takes none,
so one bucket running dry does not drain the others. `ThrottleCounts` keeps how many 429s each
app, user and account got, by cause, for `GET /_emulator/quotas`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Quota", "Quotas", "ServerQuotas", "Throttle", "ThrottleCounts", "quota_from_json"]


@dataclass(frozen=True)
class Quota:
    """At most `burst` calls at once and `rate` per second, per bucket."""

    rate: float
    burst: int = 1

    def __post_init__(self) -> None:
        if not self.rate > 0 or self.burst < 1:
            raise ValueError("a quota needs rate > 0 and burst >= 1")

    def to_json(self) -> dict[str, float | int]:
        return {"rate": self.rate, "burst": self.burst}


@dataclass
class Quotas:
    """Server quotas: `None` anywhere means unlimited at that scope.

    `default` and `per_endpoint` hold per credential and endpoint (both stores); `account` per
    Pishkhan account (all its tokens, all endpoints); `key` per BlueMind API key (all
    endpoints). `retry_after` adds a `Retry-After` header to quota 429s (the live service
    documents none, so it is off by default).
    """

    default: Quota | None = None
    per_endpoint: dict[str, Quota] = field(default_factory=dict)
    retry_after: bool = False
    account: Quota | None = None
    key: Quota | None = None

    def for_endpoint(self, endpoint: str) -> Quota | None:
        return self.per_endpoint.get(endpoint, self.default)

    def to_json(self) -> dict[str, Any]:
        def one(q: Quota | None) -> dict[str, float | int] | None:
            return None if q is None else q.to_json()

        return {
            "default": one(self.default),
            "per_endpoint": {k: q.to_json() for k, q in self.per_endpoint.items()},
            "account": one(self.account),
            "key": one(self.key),
            "retry_after": self.retry_after,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Quotas:
        """The inverse of `to_json` (missing keys are unlimited).

        Raises:
            ValueError: an unknown key or a malformed quota.
        """
        unknown = set(data) - {"default", "per_endpoint", "account", "key", "retry_after"}
        if unknown:
            raise ValueError(f"unknown quota settings: {sorted(unknown)}")
        per_endpoint = data.get("per_endpoint") or {}
        if not isinstance(per_endpoint, Mapping):
            raise ValueError("per_endpoint is an object of endpoint name -> quota")
        return cls(
            default=quota_from_json(data.get("default")),
            per_endpoint={str(k): q for k, v in per_endpoint.items() if (q := quota_from_json(v))},
            account=quota_from_json(data.get("account")),
            key=quota_from_json(data.get("key")),
            retry_after=bool(data.get("retry_after", False)),
        )


def quota_from_json(value: Any) -> Quota | None:
    """`{"rate": R, "burst": B}` (burst optional) or `null`.

    Raises:
        ValueError: anything else.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping) or "rate" not in value:
        raise ValueError("a quota is {rate, burst} or null")
    try:
        return Quota(rate=float(value["rate"]), burst=int(value.get("burst", 1)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad quota {dict(value)!r}: {exc}") from None


@dataclass(frozen=True)
class Throttle:
    """A refused call: the seconds until it would be admitted, and the scope that refused."""

    wait: float
    scope: str  # "endpoint" | "account" | "key"


class ServerQuotas:
    """Token buckets for every scope, on the server's clock."""

    def __init__(self, quotas: Quotas, clock: Callable[[], float]) -> None:
        self.quotas = quotas
        self._clock = clock
        self._buckets: dict[tuple[str, ...], list[float]] = {}

    def _applicable(
        self, credential: str, endpoint: str, marketplace: str, account: str | None
    ) -> list[tuple[str, tuple[str, ...], Quota]]:
        found: list[tuple[str, tuple[str, ...], Quota]] = []
        per_call = self.quotas.for_endpoint(endpoint)
        if per_call is not None:
            found.append(("endpoint", ("endpoint", credential, endpoint), per_call))
        if account is not None and marketplace == "bazaar" and self.quotas.account is not None:
            found.append(("account", ("account", account), self.quotas.account))
        if marketplace == "bluemind" and self.quotas.key is not None:
            found.append(("key", ("key", credential), self.quotas.key))
        return found

    def admit(
        self,
        credential: str,
        endpoint: str,
        *,
        marketplace: str = "bazaar",
        account: str | None = None,
    ) -> Throttle | None:
        """`None` when the call is within every quota that applies (and takes a token from
        each); else how long until it would be, and which scope is short."""
        now = self._clock()
        levels: list[tuple[list[float], float]] = []
        short: Throttle | None = None
        for scope, key, quota in self._applicable(credential, endpoint, marketplace, account):
            bucket = self._buckets.setdefault(key, [float(quota.burst), now])
            tokens = min(float(quota.burst), bucket[0] + (now - bucket[1]) * quota.rate)
            bucket[0], bucket[1] = tokens, now
            levels.append((bucket, tokens))
            if tokens < 1.0:
                wait = (1.0 - tokens) / quota.rate
                if short is None or wait > short.wait:
                    short = Throttle(wait, scope)
        if short is None:
            for bucket, tokens in levels:
                bucket[0] = tokens - 1.0
        return short


class ThrottleCounts:
    """How many 429s the emulator answered: per app (package name), per BlueMind user, per
    account, and per cause (`endpoint`, `account`, `key` quotas, or a seeded `fault`)."""

    def __init__(self) -> None:
        self.apps: dict[str, int] = {}
        self.users: dict[str, int] = {}
        self.accounts: dict[str, int] = {}
        self.causes: dict[str, int] = {}

    def record(self, *, marketplace: str, who: str, account: str | None, cause: str) -> None:
        table = self.users if marketplace == "bluemind" else self.apps
        table[who] = table.get(who, 0) + 1
        if account is not None:
            self.accounts[account] = self.accounts.get(account, 0) + 1
        self.causes[cause] = self.causes.get(cause, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.causes.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "apps": dict(self.apps),
            "users": dict(self.users),
            "accounts": dict(self.accounts),
            "causes": dict(self.causes),
        }
