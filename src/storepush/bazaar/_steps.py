"""The small parts a publish is made of: its files, its signals, its pauses."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .._errors import BadRequestError
from .._files import file_sha1
from .._uploads import FileIdentity

__all__ = [
    "COMMIT_GRACE",
    "CONTEST_PAUSE",
    "LocalFile",
    "Recheck",
    "Rejudge",
    "Restart",
    "contest_pause",
    "finish_on_interrupt",
]

T = TypeVar("T")

#: How long a creator waits, after deleting a contested draft, before it creates a new one.
CONTEST_PAUSE = 3.0


async def contest_pause() -> None:
    await asyncio.sleep(CONTEST_PAUSE)


#: On an interrupt (Ctrl-C, SIGTERM), a commit already sent may take this long to finish,
#: so that the run can tell whether it landed.
COMMIT_GRACE = 10.0


async def finish_on_interrupt(call: Coroutine[Any, Any, T], grace: float) -> T:
    """Await `call`; if the caller is cancelled meanwhile, give `call` up to `grace` seconds
    to finish before the cancellation goes on (a commit half-sent is worse than a late stop)."""
    task = asyncio.ensure_future(call)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            task.cancel()
        raise


class Recheck(Exception):
    """Internal: the draft changed under an upload or commit; read it again and re-judge."""


class Restart(Exception):
    """Internal: we deleted a contested draft of ours; start again from the top."""


class Rejudge(Exception):
    """Internal: the store refused our create (a draft was there), so the state changed
    since the start's reads: judge it from the start again."""

    def __init__(self, refusal: BadRequestError | None = None, *, explained: bool = True) -> None:
        super().__init__()
        self.refusal = refusal
        #: whether a draft was there when the state was read after the refusal
        self.explained = explained


@dataclass
class LocalFile:
    """One file of this build: what the rules need to know of it."""

    label: str
    path: Path
    identity: FileIdentity
    version_code: int | None
    abis: frozenset[str]
    sha1: str | None = None

    async def hash(self) -> str:
        """This file's SHA-1, taken now (only when the rules need it before an upload)."""
        if self.sha1 is None:
            self.sha1 = await file_sha1(self.path, self.identity)
        return self.sha1
