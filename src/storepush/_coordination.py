"""Cooperation between publishers: one claim per app, narrow enough for any backend.

A publish holds a [`Lease`][storepush._coordination.Lease] on its app (by the credential's
fingerprint, never the credential) from its first read to its commit. A second publisher of
the same app waits for it, with a visible message, up to a deadline (`if_busy="wait"`), or
fails at once (`if_busy="fail"`); then it reads the store's state again and usually finds the
release already committed.

The lease is an optimisation, never the guarantee: a paused process can outlive any lease, and
publishers on other hosts (or other tools) share nothing with us. Correctness rests on the
store-level protocol in `bazaar/_rules.py`, which re-reads the store's state before each write.

[`LocalCoordinator`][storepush._coordination.LocalCoordinator] (the default) coordinates the
processes of one host with `flock` on a file per app: the kernel releases it when its holder
dies, SIGKILL included, so a killed job never leaves a stale lock behind.
[`RedisCoordinator`][storepush.RedisCoordinator] (`storepush._redis`) implements the same
protocol for many hosts, and [`SharedLimits`][storepush._coordination.SharedLimits] as well:
a coordinator that also hands the session its rate limiter, so that limits are shared too.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import os
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, Protocol, runtime_checkable

from ._errors import BusyError
from ._limiter import Clock, Limiter, Limits, Sleep
from ._scrub import get_logger

__all__ = [
    "Coordinator",
    "IfBusy",
    "Lease",
    "LocalCoordinator",
    "NoCoordinator",
    "SharedLimits",
    "busy_error",
    "default_lock_dir",
]

log = get_logger("storepush.coordination")

IfBusy = Literal["wait", "fail"]

#: Called while waiting for a busy app: (seconds waited so far, who holds it, if known).
OnBusy = Callable[[float, str], None]


class Lease(Protocol):
    """A claim on one app, held while a publish runs."""

    @property
    def lost(self) -> bool:
        """True when the claim may have been taken over (a lease that expired)."""
        ...

    async def release(self) -> None: ...


class Coordinator(Protocol):
    """Hands out one lease per key at a time."""

    async def acquire(
        self, key: str, *, if_busy: IfBusy, wait_up_to: float, on_busy: OnBusy | None = None
    ) -> Lease: ...


@runtime_checkable
class SharedLimits(Protocol):
    """A coordinator that shares the rate limits too: the session takes its limiter from it."""

    def limiter(self, limits: Limits, *, clock: Clock, sleep: Sleep) -> Limiter: ...

    async def aclose(self) -> None: ...


@dataclass
class _Held:
    handle: IO[str] | None
    lost: bool = False

    async def release(self) -> None:
        if self.handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


class NoCoordinator:
    """Leases that never wait: for callers that coordinate by other means (or not at all)."""

    async def acquire(
        self, key: str, *, if_busy: IfBusy, wait_up_to: float, on_busy: OnBusy | None = None
    ) -> Lease:
        return _Held(None)


def busy_error(holder: str, waited: float, if_busy: IfBusy) -> BusyError:
    """The refusal of a second publisher: who holds the app, and how long we waited."""
    if if_busy == "fail":  # it did not wait: waiting at all is the remedy
        return BusyError(f"another publish of this app is running ({holder})").with_remedies(
            ("if_busy", "wait", "wait for it"),
        )
    return BusyError(
        f"another publish of this app is running ({holder}) after waiting {waited:.0f}s"
    ).with_remedies(("busy_timeout", None, "wait longer"))


def default_lock_dir() -> Path:
    """`$STOREPUSH_LOCK_DIR`, else `$XDG_RUNTIME_DIR/storepush`, else a per-user temp folder."""
    configured = os.environ.get("STOREPUSH_LOCK_DIR")
    if configured:
        return Path(configured)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "storepush"
    return Path(tempfile.gettempdir()) / f"storepush-locks-{os.getuid()}"


def _holder(handle: IO[str]) -> str:
    with contextlib.suppress(OSError, ValueError):
        handle.seek(0)
        data = json.loads(handle.read() or "{}")
        if isinstance(data, dict) and "pid" in data:
            return f"pid {data['pid']} on {data.get('host', '?')}"
    return "another process"


class LocalCoordinator:
    """One `flock` per app in `lock_dir` (default `default_lock_dir()`), for the processes
    of one host; tasks of one process queue on it too."""

    def __init__(
        self,
        lock_dir: Path | None = None,
        *,
        poll: float = 0.2,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lock_dir = lock_dir
        self._poll = poll
        self._sleep = sleep
        self._clock = clock

    def _open(self, key: str) -> IO[str] | None:
        folder = self.lock_dir or default_lock_dir()
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            return (folder / f"{key}.lock").open("a+", encoding="utf-8")
        except OSError as exc:
            log.warning(
                "cannot use the lock folder %s (%s); publishing without a host lock "
                "(the store-level checks still apply)",
                folder,
                exc.strerror,
            )
            return None

    async def acquire(
        self, key: str, *, if_busy: IfBusy, wait_up_to: float, on_busy: OnBusy | None = None
    ) -> Lease:
        handle = self._open(key)
        if handle is None:
            return _Held(None)
        start = self._clock()
        delay = min(0.05, self._poll)
        told = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    handle.close()
                    raise
            else:
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
                handle.flush()
                return _Held(handle)
            waited = self._clock() - start
            holder = _holder(handle)
            if if_busy == "fail" or waited >= wait_up_to:
                handle.close()
                raise busy_error(holder, waited, if_busy)
            if on_busy is not None and not told:
                on_busy(waited, holder)
                told = True
            await self._sleep(min(delay, max(0.0, wait_up_to - waited)))
            delay = min(self._poll, delay * 2)
