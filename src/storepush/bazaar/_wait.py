"""Waiting for Pishkhan: until a release is published, until a bundle is processed.

Both depend only on the read endpoints (`last_published`, `last_committed`, `bundle_status`),
poll on an injectable clock and sleep, and tell a caller what they are waiting for
(`on_wait(seconds until the next check)`), so that a long wait is never silent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from .._errors import BundleError, PublicationTimeoutError, ValidationError, WorkflowError
from ._models import Bundle, Release

__all__ = ["wait_for_bundle", "wait_for_publication"]

OnWait = Callable[[float], None]


class _Reads(Protocol):
    async def last_committed(self) -> Release | None: ...

    async def last_published(self) -> Release | None: ...


class _BundleReads(Protocol):
    async def bundle_status(self) -> Bundle | None: ...


def _seconds(name: str, value: object, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ValidationError(name, f"must be a number of seconds, not {value!r}")
    if value < 0 or (value == 0 and not allow_zero) or value == float("inf"):
        raise ValidationError(name, f"must be positive and finite, not {value!r}")
    return float(value)


async def wait_for_publication(
    api: _Reads,
    sha1s: frozenset[str] | None = None,
    *,
    deadline: float = 3600.0,
    interval: float = 30.0,
    max_interval: float = 300.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_wait: OnWait | None = None,
) -> Release:
    """Poll `last_published` until a release holding `sha1s` appears (default: the last
    committed release's packages); back off from `interval` to `max_interval`; raise
    `PublicationTimeoutError` after `deadline` seconds."""
    deadline = _seconds("deadline", deadline)
    interval = _seconds("interval", interval)
    max_interval = max(interval, _seconds("max_interval", max_interval))
    if sha1s is None:
        committed = await api.last_committed()
        if committed is None or not committed.packages:
            raise WorkflowError("there is no committed release to wait for")
        sha1s = committed.sha1s
    wanted = frozenset(s.lower() for s in sha1s)
    end = clock() + deadline
    delay = interval
    while True:
        published = await api.last_published()
        if published is not None and wanted and wanted <= published.sha1s:
            return published
        remaining = end - clock()
        if remaining <= 0:
            raise PublicationTimeoutError(
                f"the release was not published within {deadline:.0f}s "
                "(it may be in review, or rejected)"
            )
        pause = min(delay, remaining)
        if on_wait is not None:
            on_wait(pause)
        await sleep(pause)
        delay = min(max_interval, delay * 1.5)


async def wait_for_bundle(
    api: _BundleReads,
    *,
    deadline: float = 2700.0,
    interval: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_wait: OnWait | None = None,
) -> Bundle:
    """Poll `bundle_status` until `D`; raise `BundleError` on `E`.

    With `interval` None the pace is the `bundle-status` rate limit's (one call a minute by
    default, as the store asks): one rule, kept in one place.
    """
    deadline = _seconds("deadline", deadline)
    end = clock() + deadline
    while True:
        bundle = await api.bundle_status()
        if bundle is None:
            raise WorkflowError("there is no app bundle being processed")
        if bundle.state == "D":
            return bundle
        if bundle.state == "E":
            raise BundleError(
                "Bazaar failed to process the app bundle: " + "; ".join(bundle.errors or ["?"]),
                list(bundle.errors),
            )
        remaining = end - clock()
        if remaining <= 0:
            raise PublicationTimeoutError(
                f"the app bundle was not processed within {deadline:.0f}s (state {bundle.state})"
            )
        if on_wait is not None:
            on_wait(min(interval or 60.0, remaining))
        await sleep(min(interval, remaining) if interval else 0.0)
