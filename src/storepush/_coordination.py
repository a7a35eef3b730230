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
dies, SIGKILL included, so a killed job never leaves a stale lock behind. A Redis-backed
coordinator for many hosts implements the same protocol.
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
from typing import IO, Literal, Protocol

from ._errors import BusyError
from ._scrub import get_logger

__all__ = [
    "Coordinator",
    "IfBusy",
    "Lease",
    "LocalCoordinator",
    "NoCoordinator",
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
                how = "" if if_busy == "fail" else f" after waiting {waited:.0f}s"
                raise BusyError(
                    f"another publish of this app is running ({holder}){how}",
                ).with_remedies(
                    ("if_busy", "wait", "wait for it"),
                    ("busy_timeout", None, "wait longer"),
                )
            if on_busy is not None and not told:
                on_busy(waited, holder)
                told = True
            await self._sleep(min(delay, max(0.0, wait_up_to - waited)))
            delay = min(self._poll, delay * 2)
