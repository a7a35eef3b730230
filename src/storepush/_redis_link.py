"""The one connection to Redis of a coordinator: every call bounded in time, failures told once.

Every call goes through [`RedisLink.call`][storepush._redis_link.RedisLink.call] with a
timeout (the URL's `timeout`, 1 s by default) on top of redis-py's own socket timeouts, and
without redis-py's retries: a caller that gets `None` back uses its local fallback at once
instead of waiting for a Redis that does not answer. After a failure the link is *down* for
`retry_every` seconds (no call is even tried), then the next call tries again. Going down and
coming back are each logged once, as a warning and as an info line; the messages name the
server by its display URL only (never its password) and pass through the scrubber.

redis-py (`storepush[redis]`) is imported only when the first call is made.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ._errors import ValidationError
from ._redis_url import RedisTarget
from ._scrub import get_logger, scrub

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["LinkState", "RedisLink", "next_state", "require_redis_package"]

log = get_logger("storepush.redis")

LinkState = Literal["up", "down"]


def require_redis_package(field: str) -> None:
    """Refuse a Redis URL before any request when redis-py is not installed.

    Raises:
        ValidationError: naming `field`.
    """
    if importlib.util.find_spec("redis") is None:
        raise ValidationError(
            field,
            "needs the redis package, which is not installed",
            "install storepush with its redis extra: pip install 'storepush[redis]'",
        )


def next_state(
    state: LinkState, *, ok: bool | None, now: float, down_until: float, retry_every: float
) -> tuple[LinkState, float, bool]:
    """The link's state after a call (`ok` True or False) or before one (`ok` None).

    Returns `(state, down_until, try_now)`: before a call, `try_now` says whether to send it
    (a down link is tried again once `down_until` has passed); after one, whether the state
    changed (for the one log line per change).
    """
    if ok is None:
        return state, down_until, state == "up" or now >= down_until
    if ok:
        return "up", down_until, state != "up"
    return "down", now + retry_every, state != "down"


class RedisLink:
    """redis-py's asyncio client for one `RedisTarget`, made on first use in the running loop."""

    def __init__(
        self,
        target: RedisTarget,
        *,
        retry_every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        self.retry_every = retry_every
        self._clock = clock
        self._client: Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self.state: LinkState = "up"
        self._down_until = 0.0
        self.failures = 0  #: calls that failed or timed out (for tests and stats)

    @property
    def timeout(self) -> float:
        return self.target.timeout

    def client(self) -> Redis:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            from redis.asyncio import Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            self._client = Redis(
                **self.target.connect_kwargs(),
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                retry=Retry(NoBackoff(), 0),
                decode_responses=True,
                client_name="storepush",
            )
            self._loop = loop
            self._scripts.clear()
        return self._client

    def script(self, name: str, source: str) -> AsyncScript:
        client = self.client()
        found = self._scripts.get(name)
        if found is None:
            found = self._scripts[name] = client.register_script(source)
        return found

    def usable(self) -> bool:
        """Whether a call would be tried now (the link is up, or its pause is over)."""
        _, _, try_now = next_state(
            self.state,
            ok=None,
            now=self._clock(),
            down_until=self._down_until,
            retry_every=self.retry_every,
        )
        return try_now

    def _note(self, ok: bool, what: str, error: BaseException | None = None) -> None:
        self.state, self._down_until, changed = next_state(
            self.state,
            ok=ok,
            now=self._clock(),
            down_until=self._down_until,
            retry_every=self.retry_every,
        )
        if not ok:
            self.failures += 1
        if not changed:
            return
        if ok:
            log.info("Redis at %s answers again: coordination is shared again", self.target.display)
        else:
            reason = "no answer in time" if error is None else scrub(_describe(error))
            log.warning(
                "Redis at %s failed (%s, during %s): this process uses its own rate limits "
                "and host locks until Redis answers again (tried every %.0fs); the store's own "
                "checks still keep every publish exactly once",
                self.target.display,
                reason,
                what,
                self.retry_every,
            )

    async def call(
        self, name: str, source: str, keys: Sequence[str], args: Sequence[str | int | float]
    ) -> Any | None:
        """Run one Lua script; its reply, or `None` when Redis failed or is down.

        Never raises for Redis' sake (cancellation still propagates).
        """
        if not self.usable():
            return None
        try:
            async with asyncio.timeout(self.timeout):
                reply = await self.script(name, source)(keys=list(keys), args=list(args))
        except TimeoutError:
            self._note(False, name)
            return None
        except Exception as exc:  # redis.RedisError, OSError, a TLS failure: all mean "no"
            self._note(False, name, exc)
            return None
        self._note(True, name)
        return reply

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is None or self._loop is not asyncio.get_running_loop():
            return
        try:
            async with asyncio.timeout(self.timeout):
                await client.aclose()
        except Exception as exc:
            log.debug("closing the Redis client: %s", scrub(_describe(exc)))


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
