"""Coordination through Redis: one set of rate limits and one publisher per app, across hosts.

[`RedisCoordinator`][storepush.RedisCoordinator] is both halves of the coordination seam:
the per-app lease (`Coordinator`, `storepush._redis_lease`) and the rate limiter
(`SharedLimits`, `storepush._redis_limiter`). Both talk to Redis through one
`storepush._redis_link.RedisLink`: one connection pool, a timeout on every call, and one
warning when Redis fails (then this process falls back to its own limits and host locks until
Redis answers again).

`coordination_for_session` is how a [`Session`][storepush.Session] chooses its coordination:
what it was given, else a Redis URL from the command line, the environment or a manifest
(`storepush._redis_url.choose_redis_url`), else the host's own locks and limits.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Mapping

from ._coordination import Coordinator, IfBusy, Lease, LocalCoordinator, OnBusy
from ._errors import ValidationError
from ._limiter import Clock, Limits, Sleep
from ._redis_lease import RedisLeases
from ._redis_limiter import RedisLimiter
from ._redis_link import RedisLink, require_redis_package
from ._redis_url import RedisTarget, Source, ambient_url, choose_redis_url, parse_redis_url
from ._secrets import Secret

__all__ = ["RedisCoordinator", "coordination_for_session"]

#: The setting each source of a Redis URL is known by, for error messages.
_FIELDS: dict[Source, str] = {
    "explicit": "coordination",
    "command line": "--redis-url",
    "environment": "STOREPUSH_REDIS_URL",
    "manifest": "defaults.redis_url",
    "none": "coordination",
}


class RedisCoordinator:
    """Leases and rate limits shared through one Redis by every process and host that uses it.

    `url` is `redis://[[user]:password@]host[:port][/db]` or `rediss://...` (TLS), a string or
    a [`Secret`][storepush.Secret]; its query string may set `prefix`, `lease_ttl`, `timeout`,
    `ssl_ca_certs` and `ssl_cert_reqs` (see the guide's "Running many jobs at once"). The
    keyword arguments override the URL's options. `fallback` is the lease coordinator used
    while Redis fails (default: this host's `LocalCoordinator`).

    Give it to `Session(coordination=...)`, or let the session make one from a URL. Close it
    with `aclose` (a session closes the ones it made).

    Raises:
        ValidationError: the URL cannot be used, or `storepush[redis]` is not installed.
    """

    def __init__(
        self,
        url: str | Secret,
        *,
        prefix: str | None = None,
        lease_ttl: float | None = None,
        timeout: float | None = None,
        retry_every: float = 5.0,
        fallback: Coordinator | None = None,
        field: str = "coordination",
    ) -> None:
        require_redis_package(field)
        target = parse_redis_url(url, field=field)
        for name, seconds in (("lease_ttl", lease_ttl), ("timeout", timeout)):
            if seconds is not None and not (
                isinstance(seconds, int | float) and math.isfinite(seconds) and seconds > 0
            ):
                raise ValidationError(name, f"must be seconds > 0, not {seconds!r}")
        if prefix is not None and (not prefix or not prefix.isascii() or " " in prefix):
            raise ValidationError("prefix", "must be a printable name without spaces")
        target = dataclasses.replace(
            target,
            prefix=target.prefix if prefix is None else prefix,
            lease_ttl=target.lease_ttl if lease_ttl is None else float(lease_ttl),
            timeout=target.timeout if timeout is None else float(timeout),
        )
        self.target: RedisTarget = target
        self.link = RedisLink(target, retry_every=retry_every)
        self.leases = RedisLeases(
            self.link,
            prefix=target.prefix,
            ttl=target.lease_ttl,
            fallback=fallback or LocalCoordinator(),
            clock=time.monotonic,
        )
        self._limiters: list[RedisLimiter] = []

    @property
    def prefix(self) -> str:
        return self.target.prefix

    async def acquire(
        self, key: str, *, if_busy: IfBusy, wait_up_to: float, on_busy: OnBusy | None = None
    ) -> Lease:
        """The lease on `key` (see `storepush._redis_lease`)."""
        return await self.leases.acquire(
            key, if_busy=if_busy, wait_up_to=wait_up_to, on_busy=on_busy
        )

    def limiter(self, limits: Limits, *, clock: Clock, sleep: Sleep) -> RedisLimiter:
        """A session's rate limiter, its buckets in Redis under this coordinator's prefix."""
        made = RedisLimiter(self.link, limits, prefix=self.prefix, clock=clock, sleep=sleep)
        self._limiters.append(made)
        return made

    async def aclose(self) -> None:
        """Let the 429 reports in flight finish (bounded), then close the connection pool."""
        for limiter in self._limiters:
            await limiter.drain()
        await self.link.aclose()

    def __repr__(self) -> str:
        return f"RedisCoordinator({self.target.display!r}, prefix={self.prefix!r})"


def coordination_for_session(
    coordination: Coordinator | str | Secret | None,
    environ: Mapping[str, str] = os.environ,
) -> tuple[Coordinator, bool]:
    """The coordinator a new session uses, and whether the session made it (and closes it).

    A coordinator given is used as it is. A URL (string or `Secret`) makes a
    `RedisCoordinator`. With neither, `choose_redis_url` picks the command line's
    `--redis-url`, then `STOREPUSH_REDIS_URL`; with neither of them the host's
    `LocalCoordinator`. (A manifest's `redis_url` comes in as a URL given: see
    `storepush._redis_url.manifest_redis_url`.)

    Raises:
        ValidationError: a URL that cannot be used, naming the setting it came from.
    """
    if coordination is not None and not isinstance(coordination, str | Secret):
        return coordination, False
    source, url = choose_redis_url(coordination, ambient=ambient_url(), environ=environ)
    if url is None:
        return LocalCoordinator(), True
    return RedisCoordinator(url, field=_FIELDS[source]), True
