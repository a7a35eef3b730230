"""Ctrl-C, SIGTERM and the run's deadline: stop cleanly, say what was done, exit 130/143/1.

CI runners cancel a job with SIGTERM; people press Ctrl-C. Both, and the `--deadline` timer,
cancel the command's task. Cancellation stops new work (a batch starts no further item), lets a
commit already sent finish briefly (the library gives it a grace period), and unwinds every
`async with`, so each file and connection is closed. Then the command prints one paragraph,
built from the events it received (what was committed, what was left as a draft), ending with
"re-run the same command to resume"; with `--json`, one JSON document with `"interrupted": true`.

A second signal during that unwinding cancels again, at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import signal
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "Interrupted",
    "Journey",
    "Outcome",
    "Stop",
    "outcome_of",
    "summary",
    "supervise",
]

T = TypeVar("T")

#: The exit code after a signal: 128 + its number, as shells report it.
EXIT_SIGINT = 130
EXIT_SIGTERM = 143
EXIT_DEADLINE = 1


@dataclass(frozen=True)
class Stop:
    """Why a command stopped early: a signal's name, or `deadline` (after `seconds`)."""

    reason: str
    seconds: float | None = None

    @property
    def exit_code(self) -> int:
        return {"SIGINT": EXIT_SIGINT, "SIGTERM": EXIT_SIGTERM}.get(self.reason, EXIT_DEADLINE)

    def describe(self) -> str:
        if self.reason == "deadline":
            return f"the run's deadline ({self.seconds:g} s) passed"
        if self.reason == "SIGINT":
            return "interrupted (Ctrl-C)"
        return f"stopped by {self.reason}"


class Interrupted(Exception):
    """The command was stopped by a signal or its deadline; `stop` says which."""

    def __init__(self, stop: Stop) -> None:
        super().__init__(stop.describe())
        self.stop = stop


async def supervise(work: Coroutine[Any, Any, T], *, deadline: float | None = None) -> T:
    """Run `work`; on SIGINT, SIGTERM or after `deadline` seconds, cancel it, wait for it to
    unwind, and raise `Interrupted`. Signal handlers are installed only for the duration."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)
    stops: list[Stop] = []

    def stop(why: Stop) -> None:
        stops.append(why)
        task.cancel()

    installed: list[tuple[signal.Signals, Any]] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        try:
            loop.add_signal_handler(sig, stop, Stop(sig.name))
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            continue
        installed.append((sig, previous))
    timer = (
        None if deadline is None else loop.call_later(deadline, stop, Stop("deadline", deadline))
    )
    try:
        return await task
    except asyncio.CancelledError:
        if stops and task.cancelled():
            raise Interrupted(stops[0]) from None
        raise
    finally:
        if timer is not None:
            timer.cancel()
        for sig, previous in installed:
            loop.remove_signal_handler(sig)
            with contextlib.suppress(TypeError, ValueError):
                signal.signal(sig, previous)


class Outcome(enum.Enum):
    """Where one publish stood when it ended or was stopped."""

    COMMITTED = "committed"
    ALREADY = "already committed"
    COMMIT_SENT = "sent, outcome unknown"
    DRAFT_LEFT = "left as a draft"
    NOTHING = "nothing changed"
    NOT_STARTED = "not started"


#: Phases after which the app has a draft this publish works in.
_DRAFT_PHASES = {"creating", "using-draft", "uploading", "processing", "restarting"}


def outcome_of(phases: Sequence[str], *, started: bool = True) -> Outcome:
    """Where a publish stood, from the phases of the events it emitted, in order."""
    if not started:
        return Outcome.NOT_STARTED
    outcome = Outcome.NOTHING
    for phase in phases:
        if phase == "committed":
            return Outcome.COMMITTED
        if phase == "already-committed":
            return Outcome.ALREADY
        if phase == "committing":
            outcome = Outcome.COMMIT_SENT
        elif phase == "cleaning-up":
            outcome = Outcome.NOTHING
        elif phase in _DRAFT_PHASES:
            outcome = Outcome.DRAFT_LEFT
    return outcome


@dataclass
class Journey:
    """What one publish (one batch item) has been through, from its events."""

    name: str
    started: bool = False
    finished: str | None = None  #: the final status, once the item ended
    phases: list[str] = field(default_factory=list)
    last: str = ""  #: the last event's message

    def record(self, phase: str, message: str) -> None:
        self.started = True
        self.phases.append(phase)
        self.last = message

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.phases, started=self.started)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outcome": self.outcome.value,
            "finished": self.finished,
            "last_step": self.last or None,
        }


_RESUME = (
    "Re-run the same command to resume: what was committed is reported as already committed "
    "(never published twice), and a draft left behind is resumed."
)


def summary(stop: Stop, journeys: Sequence[Journey]) -> str:
    """The one paragraph printed after an interrupt: for one publish where it stood, for a
    batch how many items ended how (finished ones by their status, the rest by outcome)."""
    if len(journeys) == 1 and journeys[0].finished is None:
        body = _single(journeys[0])
    else:
        groups: dict[str, list[str]] = {}
        for journey in journeys:
            if journey.finished is not None:
                groups.setdefault(journey.finished, []).append(journey.name)
        for outcome in Outcome:
            for journey in journeys:
                if journey.finished is None and journey.outcome is outcome:
                    groups.setdefault(outcome.value, []).append(journey.name)
        parts = []
        for key, names in groups.items():
            shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
            parts.append(f"{len(names)} {key} ({shown})")
        body = "; ".join(parts) or "nothing was started"
    text = stop.describe()
    return f"{text[0].upper()}{text[1:]}: {body}. {_RESUME}"


def _single(journey: Journey) -> str:
    where = f" (stopped while {journey.last})" if journey.last else ""
    return {
        Outcome.COMMITTED: f"the release was committed{where}",
        Outcome.ALREADY: f"this build was already committed{where}",
        Outcome.COMMIT_SENT: "the commit was sent, but its answer did not come in time: it may "
        "have landed",
        Outcome.DRAFT_LEFT: f"nothing was committed{where}; the draft stays for the re-run, "
        "which resumes it",
        Outcome.NOTHING: f"nothing was changed{where}",
        Outcome.NOT_STARTED: "nothing was sent",
    }[journey.outcome]
