"""The shared limiter: each admission decided in Redis by one Lua script, for every process.

A [`RedisLimiter`][storepush._redis_limiter.RedisLimiter] implements the session's
`Limiter` seam. Its buckets have the same keys as the in-process ones, under the coordinator's
prefix: `PREFIX:rl:MARKETPLACE:FINGERPRINT:ENDPOINT` (the credential's one-way fingerprint,
never the credential) and, with `Limits.account`, `PREFIX:rl:MARKETPLACE:account:ACCOUNT_KEY`.
Processes, on any host, that use the same Redis, prefix and keys share those buckets.

Inside one process the callers of a bucket queue in arrival order (an `asyncio.Lock`); only the
head of that queue holds a reservation in Redis, so a process never books more than one slot
ahead per bucket, and a 429 reaches the schedule before the next reservation is made.

`Limits.share_learning` holds through Redis too: a 429 on one credential's bucket lowers the
rate of the same endpoint's buckets of other credentials, in every process, through the
endpoint's learning key `PREFIX:learn:MARKETPLACE:ENDPOINT` (see `storepush._redis_scripts`).

When Redis fails or is slow (see `storepush._redis_link`), an admission falls back at once to
this process's own bucket for the same key (`LimiterRegistry`, the same limits), with one
warning; the shared buckets are used again once Redis answers. The store's quotas still
apply, and a 429 is retried as always: the fallback costs throughput, never correctness. A
request already admitted never waits for Redis: the report of a 429 runs as its own task.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

from ._limiter import Bucket, Clock, LimiterRegistry, LimiterStats, Limits, RateLimit, Sleep
from ._redis_link import RedisLink
from ._redis_scripts import ADMIT, THROTTLE

__all__ = ["RedisBucket", "RedisLimiter", "admission_plan", "learning_key"]

#: Keep an idle bucket's state this long after its last reservation (then Redis drops it).
IDLE_MS = 600_000

#: (bucket id, the Redis time its last admission in this task was decided at, in µs).
_DECIDED: ContextVar[tuple[int, int] | None] = ContextVar("storepush_decided", default=None)


def admission_plan(
    prefix: str, limits: Limits, marketplace: str, credential: str, endpoint: str
) -> list[tuple[str, RateLimit]]:
    """The Redis buckets one request passes through, each with its limit, in order."""
    plan = [(f"{prefix}:rl:{marketplace}:{credential}:{endpoint}", limits.for_endpoint(endpoint))]
    if limits.account is not None:
        plan.append((f"{prefix}:rl:{marketplace}:account:{limits.account_key}", limits.account))
    return plan


def learning_key(prefix: str, limits: Limits, marketplace: str, endpoint: str) -> list[str]:
    """The endpoint's learning key, as the scripts' last key, when learning is shared."""
    if not (limits.adaptive and limits.share_learning):
        return []
    return [f"{prefix}:learn:{marketplace}:{endpoint}"]


def _limit_args(plan: Sequence[tuple[str, RateLimit]], adaptive: bool) -> list[str]:
    args: list[str] = []
    for _, limit in plan:
        args += [repr(float(limit.rate)), str(limit.burst), "1" if adaptive else "0"]
    return args


class RedisBucket:
    """One key's admissions through Redis, with this process's bucket as the fallback."""

    def __init__(
        self,
        owner: RedisLimiter,
        plan: list[tuple[str, RateLimit]],
        fallback: Bucket,
        learning: list[str],
    ) -> None:
        self._owner = owner
        self.keys = [key for key, _ in plan] + learning
        self._limit_args = _limit_args(plan, owner.limits.adaptive)
        self._fallback = fallback
        self._lock = asyncio.Lock()
        self._reports: set[asyncio.Task[None]] = set()
        self.stats = LimiterStats()
        self.shared_admissions = 0  #: admissions Redis decided
        self.local_admissions = 0  #: admissions the fallback decided (Redis failing)
        self.rate: float | None = None  #: the shared rate at the last admission (requests/s)

    def try_acquire(self) -> bool:
        """Never: every admission is decided in Redis (or, while it fails, awaited locally)."""
        return False

    async def acquire(self) -> float:
        clock = self._owner.clock
        start = clock()
        async with self._lock:
            if self._reports:  # our own 429 first reaches the shared schedule
                await asyncio.wait(set(self._reports), timeout=self._owner.link.timeout)
            reply = await self._owner.link.call(
                "admit", ADMIT, self.keys, [str(IDLE_MS), *self._limit_args]
            )
            if reply is None:
                self.local_admissions += 1
                await self._fallback.acquire()
                slept = True  # on the fallback, or on a Redis that did not answer in time
            else:
                wait_us, decided, rate_milli = (int(x) for x in reply)
                self.shared_admissions += 1
                self.rate = rate_milli / 1000
                _DECIDED.set((id(self), decided))
                slept = wait_us > 0
                if slept:
                    await self._owner.sleep(wait_us / 1e6)
        waited = clock() - start
        self.stats.admitted(waited if slept else 0.0)  # a round trip to Redis alone is no wait
        return waited

    def on_throttle(self, retry_after: float | None = None) -> None:
        """Record a 429 in Redis (in its own task: the caller never waits for Redis) and in
        the fallback bucket (so this process has learnt it too, should Redis fail)."""
        self.stats.throttles += 1
        self._fallback.on_throttle(retry_after)
        mine = _DECIDED.get()
        decided = mine[1] if mine is not None and mine[0] == id(self) else -1
        after = -1 if retry_after is None else round(max(0.0, retry_after) * 1e6)
        args = [str(decided), str(after), str(IDLE_MS), *self._limit_args]
        task = asyncio.get_running_loop().create_task(self._report(args))
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    async def _report(self, args: list[str]) -> None:
        await self._owner.link.call("throttle", THROTTLE, self.keys, args)

    def on_success(self) -> None:
        # Recovery is computed in Redis at each admission, from the time since the last 429.
        self._fallback.on_success()

    async def drain(self) -> None:
        """Wait for the 429 reports still in flight (bounded by the link's timeout)."""
        if self._reports:
            with contextlib.suppress(Exception):
                await asyncio.wait(set(self._reports), timeout=self._owner.link.timeout)


class RedisLimiter:
    """The buckets of one session, decided in Redis (see the module docstring)."""

    def __init__(
        self, link: RedisLink, limits: Limits, *, prefix: str, clock: Clock, sleep: Sleep
    ) -> None:
        self.link = link
        self.limits = limits
        self.prefix = prefix
        self.clock = clock
        self.sleep = sleep
        #: this process's own buckets: the fallback while Redis fails
        self.local = LimiterRegistry(limits, clock=clock, sleep=sleep)
        self._buckets: dict[tuple[str, str, str], RedisBucket] = {}

    def bucket(self, marketplace: str, credential: str, endpoint: str) -> RedisBucket:
        key = (marketplace, credential, endpoint)
        found = self._buckets.get(key)
        if found is None:
            plan = admission_plan(self.prefix, self.limits, *key)
            learning = learning_key(self.prefix, self.limits, marketplace, endpoint)
            found = RedisBucket(self, plan, self.local.bucket(*key), learning)
            self._buckets[key] = found
        return found

    def stats(self) -> LimiterStats:
        total = LimiterStats()
        for bucket in self._buckets.values():
            total.add(bucket.stats)
        return total

    def counts(self) -> dict[str, Any]:
        """Admissions decided by Redis and by the local fallback, summed over buckets."""
        return {
            "shared": sum(b.shared_admissions for b in self._buckets.values()),
            "local": sum(b.local_admissions for b in self._buckets.values()),
        }

    async def drain(self) -> None:
        for bucket in list(self._buckets.values()):
            await bucket.drain()

    def __len__(self) -> int:
        return len(self._buckets)
