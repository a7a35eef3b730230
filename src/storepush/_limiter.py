"""Client-side rate limiting: an adaptive FIFO token bucket per marketplace, credential, endpoint.

The bucket admits callers strictly in arrival order (one lock, held while the head of the queue
waits), never more than ``burst`` at once and ``rate`` per second on average. With ``adaptive``
on, a 429 pauses the bucket (for the server's Retry-After when it gives one) and lowers its rate
multiplicatively; successes bring it back along botocore's CUBIC curve, so a batch finds an
undocumented server quota by itself and then stays just under it.

With `Limits(account=...)` every request also passes one bucket per marketplace that all the
session's credentials and endpoints share (an agency's apps under one account quota).

The seam: a session asks a [`Limiter`][storepush._limiter.Limiter] for the
[`Bucket`][storepush._limiter.Bucket] of each request. `LimiterRegistry` keeps them in this
process (the default); `storepush._redis_limiter` decides each admission in Redis, shared by
every process and host on the same prefix.

Clock and sleep are injectable: tests run on a fake clock in no real time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "Bucket",
    "Limiter",
    "LimiterRegistry",
    "LimiterStats",
    "Limits",
    "RateLimit",
    "TokenBucket",
    "cubic_rate",
]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# botocore's adaptive-mode constants.
_BETA = 0.7
_SCALE = 0.4
_MIN_RATE = 0.25
_SMOOTH = 0.8
_MEASURE_BUCKET = 0.5
# Tolerance on a whole token: without it a deficit smaller than the clock's resolution makes a
# waiter sleep for less than one ulp of the clock, forever.
_EPSILON = 1e-9
# Admissions a bucket needs before its measured rate is trusted.
_MIN_HISTORY = 10

#: When this task's last admission was decided, and by which bucket: a 429 for a request
#: admitted before the bucket's last lowering carries no news (it was sent at the old rate),
#: so it pauses but does not lower again. Many 429s of one burst would otherwise compound.
_ADMITTED: ContextVar[tuple[int, float] | None] = ContextVar("storepush_admitted", default=None)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``rate`` requests per second on average, at most ``burst`` back to back."""

    rate: float
    burst: int = 1

    def __post_init__(self) -> None:
        if not (isinstance(self.rate, int | float) and math.isfinite(self.rate) and self.rate > 0):
            raise ValueError("rate must be a positive, finite number of requests per second")
        if isinstance(self.burst, bool) or not isinstance(self.burst, int) or self.burst < 1:
            raise ValueError("burst must be an int >= 1")


@dataclass(frozen=True, slots=True)
class Limits:
    """Rate limits of a session: a default, overrides per endpoint name, and adaptation.

    Endpoint names are those of the clients' path constants (``"upload"``, ``"last-published"``,
    ``"plugin_version"``…). The default (5/s, burst 5, per credential and endpoint) is safe for
    services that publish no quota; ``adaptive`` lets each bucket find the real one. Pishkhan's
    ``bundle-status`` is held to one call a minute, as the store asks.

    ``share_learning``: a 429 on one credential's bucket lowers the rate of every bucket of the
    same marketplace and endpoint (and of those created later), which then recover along the
    same curve. Quotas are per credential but alike for all, so a batch of 300 apps pays for
    the lesson a few times, not 300 times.

    A 429 also teaches that the quota's burst is smaller than assumed: a throttled bucket (and
    every bucket that adopts its lesson) sends one request at a time at its lowered rate until
    it is back at its ceiling, when its configured burst returns.

    ``account``: when set, every request also passes one bucket per marketplace shared by all
    credentials and endpoints, named ``account_key``: an account quota that the store applies
    to several app tokens at once. In this process by default; across processes and hosts
    with Redis coordination, where processes with the same ``account_key`` share it.
    """

    default: RateLimit = field(default_factory=lambda: RateLimit(5.0, 5))
    per_endpoint: Mapping[str, RateLimit] = field(
        default_factory=lambda: {"bundle-status": RateLimit(1 / 60, 1)}
    )
    adaptive: bool = True
    share_learning: bool = True
    account: RateLimit | None = None
    account_key: str = "default"

    def __post_init__(self) -> None:
        key = self.account_key
        if not isinstance(key, str) or not key or not key.isascii() or not key.isprintable():
            raise ValueError("account_key must be a non-empty printable ASCII name")
        if any(ch.isspace() for ch in key):
            raise ValueError("account_key must not contain whitespace")

    def for_endpoint(self, endpoint: str) -> RateLimit:
        return self.per_endpoint.get(endpoint, self.default)


@dataclass(slots=True)
class LimiterStats:
    """Counters of one bucket, or summed over a session's buckets."""

    acquired: int = 0
    waits: int = 0
    waited_seconds: float = 0.0
    throttles: int = 0

    def admitted(self, waited: float) -> None:
        """Count one admission that waited `waited` seconds (0: none)."""
        self.acquired += 1
        if waited > 0:
            self.waits += 1
            self.waited_seconds += waited

    def add(self, other: LimiterStats) -> None:
        self.acquired += other.acquired
        self.waits += other.waits
        self.waited_seconds += other.waited_seconds
        self.throttles += other.throttles


class Bucket(Protocol):
    """What a session needs of the limiter for one request: admission, and what came of it."""

    @property
    def stats(self) -> LimiterStats: ...

    def try_acquire(self) -> bool:
        """Admit now without awaiting, if that can be decided locally; else False."""
        ...

    async def acquire(self) -> float:
        """Wait for admission; return the seconds waited."""
        ...

    def on_throttle(self, retry_after: float | None = None) -> None:
        """The server answered 429 to the request just admitted."""
        ...

    def on_success(self) -> None:
        """A request through this bucket succeeded."""
        ...


class Limiter(Protocol):
    """Hands a session the bucket of each (marketplace, credential fingerprint, endpoint)."""

    def bucket(self, marketplace: str, credential: str, endpoint: str) -> Bucket: ...

    def stats(self) -> LimiterStats: ...

    def __len__(self) -> int: ...


def cubic_rate(elapsed: float, *, last_max: float, beta: float = _BETA) -> float:
    """The CUBIC rate ``elapsed`` seconds after a throttle at ``last_max`` requests/s.

    Starts at ``beta * last_max``, flattens out at ``last_max`` after ``K`` seconds, then probes
    above it slowly: ``W(t) = C (t - K)^3 + W_max`` with ``K = cbrt(W_max (1 - beta) / C)``.
    """
    k = (last_max * (1 - beta) / _SCALE) ** (1 / 3)
    return float(_SCALE * (elapsed - k) ** 3 + last_max)


class TokenBucket:
    """An async FIFO token bucket with an injectable clock; optionally adaptive."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        adaptive: bool = True,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        on_learn: Callable[[float, float], None] | None = None,
    ) -> None:
        self._on_learn = on_learn
        self._ceiling = float(limit.rate)
        self._rate = float(limit.rate)
        self._configured_burst = self._burst = float(limit.burst)
        self._adaptive = adaptive
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(limit.burst)
        self._last = clock()
        self._paused_until = -math.inf
        self._lock = asyncio.Lock()
        self.stats = LimiterStats()
        # CUBIC state
        self._last_max = self._rate
        self._last_throttle: float | None = None
        # measured admission rate (EWMA over half-second buckets), as botocore does
        self._measured = 0.0
        self._bucket_start = self._last
        self._bucket_count = 0

    @property
    def rate(self) -> float:
        """The current fill rate (requests per second)."""
        return self._rate

    @property
    def paused_for(self) -> float:
        """Seconds left in a pause after a 429, or 0."""
        return max(0.0, self._paused_until - self._clock())

    def _refill(self, now: float) -> None:
        elapsed = now - self._last
        if elapsed > 0:
            self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
            self._last = now

    def _measure(self, now: float) -> None:
        self._bucket_count += 1
        span = now - self._bucket_start
        if span >= _MEASURE_BUCKET:
            current = self._bucket_count / span
            self._measured = current * _SMOOTH + self._measured * (1 - _SMOOTH)
            self._bucket_count = 0
            self._bucket_start = now

    def try_acquire(self) -> bool:
        """Take a token now if one is there and nobody waits ahead (no await, no lock)."""
        if self._lock.locked():
            return False
        now = self._clock()
        self._refill(now)
        if now < self._paused_until or self._tokens < 1.0 - _EPSILON:
            return False
        self._tokens -= 1.0
        self._measure(now)
        self.stats.acquired += 1
        _ADMITTED.set((id(self), now))
        return True

    async def acquire(self) -> float:
        """Wait for a token in arrival order; returns the seconds spent waiting."""
        start = self._clock()
        if self.try_acquire():
            return 0.0
        async with self._lock:
            while True:
                now = self._clock()
                self._refill(now)
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                if self._tokens >= 1.0 - _EPSILON:
                    self._tokens -= 1.0
                    break
                await self._sleep((1.0 - self._tokens) / self._rate)
            now = self._clock()
            self._measure(now)
        _ADMITTED.set((id(self), now))
        waited = now - start
        self.stats.admitted(waited)
        return waited

    def on_throttle(self, retry_after: float | None = None) -> None:
        """The server answered 429: pause, and (adaptive) lower the rate and the burst."""
        now = self._clock()
        self._refill(now)
        self.stats.throttles += 1
        if self._adaptive and not self._stale(now):
            # botocore's measured rate means something only once a bucket has a history; a
            # bucket that sent two requests would "measure" a rate far below the real quota.
            measured = self._measured if self.stats.acquired >= _MIN_HISTORY else 0.0
            base = min(measured, self._rate) if measured > 0 else self._rate
            self._lower(base, now)
            self._tokens = min(self._tokens, 0.0)
            if self._on_learn is not None:
                self._on_learn(self._last_max, now)
        pause = retry_after if retry_after is not None else 1.0 / self._rate
        self._paused_until = max(self._paused_until, now + pause)

    def _stale(self, now: float) -> bool:
        """Whether the refused request was admitted before this bucket's last lowering."""
        mine = _ADMITTED.get()
        if mine is None or mine[0] != id(self) or self._last_throttle is None:
            return False  # not known: take it as news
        return mine[1] < self._last_throttle

    def _lower(self, last_max: float, since: float) -> None:
        self._last_max, self._last_throttle = last_max, since
        self._rate = max(_MIN_RATE, last_max * _BETA)
        self._burst = 1.0

    def adopt(self, last_max: float, since: float) -> None:
        """A peer bucket was throttled at ``last_max`` at time ``since``: follow its curve from
        now, when it is below this bucket's own (adaptive only).

        The rate drops and the burst is one, as after a 429 of this bucket's own, but there is
        no pause: this bucket has not been refused anything. A bucket that has sent nothing
        keeps one token (the server has counted nothing for its credential yet); one that has
        sent requests spends what it saved.
        """
        if not self._adaptive:
            return
        now = self._clock()
        theirs = min(self._ceiling, max(_MIN_RATE, cubic_rate(now - since, last_max=last_max)))
        if theirs >= self._rate:
            return
        self._refill(now)
        self._last_max, self._last_throttle = last_max, since
        self._rate = theirs
        self._burst = 1.0
        self._tokens = min(self._tokens, 1.0 if self.stats.acquired == 0 else 0.0)

    def on_success(self) -> None:
        """A request through this bucket succeeded: (adaptive) climb back towards the ceiling,
        where the configured burst returns."""
        if not self._adaptive or self._last_throttle is None or self._rate >= self._ceiling:
            return
        now = self._clock()
        target = cubic_rate(now - self._last_throttle, last_max=self._last_max)
        if self._measured > 0:
            target = min(target, 2.0 * self._measured)
        self._rate = min(self._ceiling, max(_MIN_RATE, target, self._rate))
        if self._rate >= self._ceiling:
            self._burst = self._configured_burst


class _Chain:
    """An endpoint bucket, then the account bucket: one admission through both."""

    __slots__ = ("account", "clock", "first", "stats")

    def __init__(self, first: TokenBucket, account: TokenBucket, clock: Clock) -> None:
        self.first = first
        self.account = account
        self.clock = clock
        self.stats = LimiterStats()

    def try_acquire(self) -> bool:
        """No admission without awaiting: a token taken from one bucket could not be given
        back if the other had none."""
        return False

    async def acquire(self) -> float:
        start = self.clock()
        await self.first.acquire()
        await self.account.acquire()  # last, so the account's token is spent just before sending
        waited = self.clock() - start
        self.stats.admitted(waited)
        return waited

    def on_throttle(self, retry_after: float | None = None) -> None:
        # The answer does not say which quota refused: both buckets take the lesson.
        self.stats.throttles += 1
        self.first.on_throttle(retry_after)
        self.account.on_throttle(retry_after)

    def on_success(self) -> None:
        self.first.on_success()
        self.account.on_success()


class LimiterRegistry:
    """The buckets of one session, created on first use and shared by every task.

    Keys are ``(marketplace, credential fingerprint, endpoint)``: never the credential itself.
    With `Limits.account` set, each key's bucket is chained with its marketplace's account
    bucket.
    """

    def __init__(self, limits: Limits, *, clock: Clock, sleep: Sleep) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._chains: dict[tuple[str, str, str], _Chain] = {}
        self._accounts: dict[str, TokenBucket] = {}
        self._groups: dict[tuple[str, str], list[TokenBucket]] = {}
        #: Per (marketplace, endpoint): the last lesson, as (rate at the 429, when).
        self._learned: dict[tuple[str, str], tuple[float, float]] = {}

    def bucket(self, marketplace: str, credential: str, endpoint: str) -> Bucket:
        """The admission of one key: its endpoint bucket, chained with the account's if any."""
        account = self.limits.account
        if account is None:
            return self.endpoint_bucket(marketplace, credential, endpoint)
        key = (marketplace, credential, endpoint)
        chain = self._chains.get(key)
        if chain is None:
            shared = self._accounts.get(marketplace)
            if shared is None:
                shared = self._accounts[marketplace] = TokenBucket(
                    account, adaptive=self.limits.adaptive, clock=self._clock, sleep=self._sleep
                )
            first = self.endpoint_bucket(marketplace, credential, endpoint)
            chain = self._chains[key] = _Chain(first, shared, self._clock)
        return chain

    def account_bucket(self, marketplace: str) -> TokenBucket | None:
        """The account bucket of `marketplace`, once a request has used it."""
        return self._accounts.get(marketplace)

    def endpoint_bucket(self, marketplace: str, credential: str, endpoint: str) -> TokenBucket:
        """The token bucket of one (marketplace, credential fingerprint, endpoint)."""
        key = (marketplace, credential, endpoint)
        found = self._buckets.get(key)
        if found is None:
            group = (marketplace, endpoint)
            share = self.limits.adaptive and self.limits.share_learning
            found = TokenBucket(
                self.limits.for_endpoint(endpoint),
                adaptive=self.limits.adaptive,
                clock=self._clock,
                sleep=self._sleep,
                on_learn=(lambda top, since: self._learn(group, top, since)) if share else None,
            )
            if share and group in self._learned:
                found.adopt(*self._learned[group])
            self._buckets[key] = found
            self._groups.setdefault(group, []).append(found)
        return found

    def _learn(self, group: tuple[str, str], last_max: float, since: float) -> None:
        known = self._learned.get(group)
        if known is not None and self._curve(*known) <= self._curve(last_max, since):
            return
        self._learned[group] = (last_max, since)
        for peer in self._groups.get(group, []):
            peer.adopt(last_max, since)

    def _curve(self, last_max: float, since: float) -> float:
        return max(_MIN_RATE, cubic_rate(self._clock() - since, last_max=last_max))

    def learned_rate(self, marketplace: str, endpoint: str) -> float | None:
        """The rate the last 429 on an endpoint teaches a new bucket now (it recovers along
        the same curve as the throttled one), if a 429 taught anything."""
        known = self._learned.get((marketplace, endpoint))
        if known is None:
            return None
        return min(self.limits.for_endpoint(endpoint).rate, self._curve(*known))

    def stats(self) -> LimiterStats:
        total = LimiterStats()
        handed_out: Mapping[tuple[str, str, str], Bucket] = (
            self._chains if self.limits.account is not None else self._buckets
        )
        for bucket in handed_out.values():
            total.add(bucket.stats)
        return total

    def __len__(self) -> int:
        return len(self._buckets)
