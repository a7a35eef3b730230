"""The shared lease per app: a Redis key with a TTL, renewed while the publish runs.

`PREFIX:lease:KEY` (KEY is `bazaar-FINGERPRINT`: never the credential) holds its owner's
value, a random token with the owner's pid and host. It is taken with `SET NX PX` and lives
`lease_ttl` seconds (30 by default) unless renewed; a task renews it every third of that while
the publish runs, so a killed job's lease expires by itself within one TTL. Renewal and release
are Lua scripts that act only when the key still holds the owner's token: an owner whose lease
expired (a process paused for longer than the TTL) can never delete or extend a successor's.

A second publisher waits, polling with backoff up to a second and telling its caller once who
holds it (`if_busy="wait"`, up to `wait_up_to`), or fails at once with `BusyError`.

The lease is an optimisation: when it expires under a stalled holder, the store-level protocol
(`bazaar/_rules.py`, which re-reads the store's state before each write) still keeps one
release. When Redis fails at acquire, the host's own lock (`LocalCoordinator`) is used
instead, with the link's warning. Renewal failures never touch the publish: the lease is then
marked `lost` (with a warning) once it may have expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from typing import Literal

from ._coordination import Coordinator, IfBusy, Lease, OnBusy, busy_error
from ._redis_link import RedisLink
from ._redis_scripts import LEASE_ACQUIRE, LEASE_RELEASE, LEASE_RENEW
from ._scrub import get_logger

__all__ = ["RedisLease", "RedisLeases", "describe_holder", "renewal_verdict"]

log = get_logger("storepush.redis")

Renewal = Literal["renewed", "taken", "unsure", "expired"]


def describe_holder(value: str) -> str:
    """Who holds a lease, from its stored value (`pid N on HOST`), for messages."""
    with contextlib.suppress(ValueError, TypeError):
        data = json.loads(value)
        if isinstance(data, dict) and "pid" in data:
            return f"pid {data['pid']} on {data.get('host', '?')}"
    return "another process"


def renewal_verdict(reply: int | None, *, since_ok: float, ttl: float) -> Renewal:
    """What one renewal attempt means: `reply` is the script's (1 or 0), or `None` when Redis
    failed; `since_ok` is the time since the last renewal that worked.

    `renewed`: ours for another TTL. `taken`: no longer ours (it expired; perhaps another holds
    it now). `unsure`: Redis failed, but the lease cannot have expired yet. `expired`: Redis
    failed for longer than the TTL, so the lease may be gone.
    """
    if reply is None:
        return "expired" if since_ok >= ttl else "unsure"
    return "renewed" if reply else "taken"


class RedisLease:
    """One held lease: renewed in the background until released."""

    def __init__(self, link: RedisLink, key: str, value: str, ttl: float, clock: Clock) -> None:
        self._link = link
        self.key = key
        self._value = value
        self._ttl = ttl
        self._clock = clock
        self._ok_at = clock()
        self._lost = False
        self._released = False
        self._renewer = asyncio.get_running_loop().create_task(self._renew_forever())

    @property
    def lost(self) -> bool:
        """True once the lease may have been taken over (it expired while we held it)."""
        return self._lost

    @property
    def ttl_ms(self) -> int:
        return max(1, round(self._ttl * 1000))

    async def _renew_forever(self) -> None:
        told = False
        while not self._released:
            await asyncio.sleep(self._ttl / 3)
            reply = await self._link.call(
                "lease_renew", LEASE_RENEW, [self.key], [self._value, self.ttl_ms]
            )
            verdict = renewal_verdict(
                None if reply is None else int(reply),
                since_ok=self._clock() - self._ok_at,
                ttl=self._ttl,
            )
            if verdict == "renewed":
                self._ok_at = self._clock()
            elif verdict == "unsure":
                continue
            else:
                self._lost = True
                if not told:
                    told = True
                    why = "was taken over" if verdict == "taken" else "may have expired"
                    log.warning(
                        "the lease on this app %s (was this process paused for more than "
                        "%.0fs?); carrying on: the store-level checks still keep one release",
                        why,
                        self._ttl,
                    )
                if verdict == "taken":
                    return

    async def release(self) -> None:
        """Stop renewing and delete the key if it is still ours (never a successor's)."""
        if self._released:
            return
        self._released = True
        self._renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._renewer
        await self._link.call("lease_release", LEASE_RELEASE, [self.key], [self._value])


Clock = Callable[[], float]


class RedisLeases:
    """Hands out `RedisLease`s; falls back to `fallback` (the host's locks) when Redis fails."""

    def __init__(
        self,
        link: RedisLink,
        *,
        prefix: str,
        ttl: float,
        fallback: Coordinator,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        poll: float = 1.0,
    ) -> None:
        self._link = link
        self._prefix = prefix
        self._ttl = ttl
        self._fallback = fallback
        self._clock = clock
        self._sleep = sleep
        self._poll = poll

    def _value(self) -> str:
        return json.dumps(
            {"token": secrets.token_hex(16), "pid": os.getpid(), "host": socket.gethostname()}
        )

    async def acquire(
        self, key: str, *, if_busy: IfBusy, wait_up_to: float, on_busy: OnBusy | None = None
    ) -> Lease:
        redis_key = f"{self._prefix}:lease:{key}"
        value = self._value()
        ttl_ms = max(1, round(self._ttl * 1000))
        start = self._clock()
        delay = 0.05
        told = False
        while True:
            reply = await self._link.call(
                "lease_acquire", LEASE_ACQUIRE, [redis_key], [value, ttl_ms]
            )
            if reply is None:  # Redis failed: the host's lock, for what is left of the wait
                left = max(0.0, wait_up_to - (self._clock() - start))
                return await self._fallback.acquire(
                    key, if_busy=if_busy, wait_up_to=left, on_busy=None if told else on_busy
                )
            taken, holder_value, left_ms = int(reply[0]), str(reply[1]), int(reply[2])
            if taken:
                return RedisLease(self._link, redis_key, value, self._ttl, self._clock)
            waited = self._clock() - start
            holder = describe_holder(holder_value)
            if if_busy == "fail" or waited >= wait_up_to:
                raise busy_error(holder, waited, if_busy)
            if on_busy is not None and not told:
                on_busy(waited, holder)
                told = True
            pause = min(delay, max(0.0, wait_up_to - waited))
            if left_ms > 0:  # never sleep past the moment the lease would expire
                pause = min(pause, left_ms / 1000 + 0.01)
            await self._sleep(pause)
            delay = min(self._poll, delay * 2)
