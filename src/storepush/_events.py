"""What a workflow tells its caller while it runs: one small value per step.

A publish emits [`Event`][storepush.Event]s through its `on_event` callback: the phase it
entered, a human sentence, and (for uploads and waits) which file, which of how many, or how
long until the next check. The command line turns them into progress lines, bars or JSON
lines; a library user may log them. Events never carry a credential.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Event", "OnEvent", "Phase"]

Phase = Literal[
    "checking",  #: reading the store's state
    "waiting-for-lease",  #: another publish of the app runs: waiting for it
    "creating",  #: creating the draft
    "using-draft",  #: using a draft found at the start (resumed, adopted, reused)
    "uploading",  #: uploading file `index` of `total`
    "processing",  #: the store is processing an app bundle
    "restarting",  #: the draft was contested: starting again
    "committing",  #: sending the release for review
    "committed",  #: done: this run committed the release
    "already-committed",  #: done: the build was committed before (or by a twin job)
    "cleaning-up",  #: removing a draft this run created, after a failure
    "waiting-for-review",  #: polling until the release is published
]


@dataclass(frozen=True, slots=True)
class Event:
    """One step of a workflow."""

    phase: Phase
    message: str
    file: str | None = None
    index: int | None = None  #: 1-based position of `file` among `total`
    total: int | None = None
    seconds: float | None = None  #: for waits: until the next check
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"phase": self.phase, "message": self.message}
        for name in ("file", "index", "total", "seconds"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.detail:
            out["detail"] = self.detail
        return out


OnEvent = Callable[[Event], None]
