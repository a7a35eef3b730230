"""`--progress bar`: rich progress bars on a terminal (this module alone imports rich.progress).

One publish: a bar for the file being uploaded, named with its place (`uploading 1 of 2:
app-arm64.apk`), bytes, speed and time left; the other phases as dim lines above it; a
countdown while it waits (for review, for bundle processing). A batch: items done, and the
batch's bytes moving (with speed), so that a few large uploads never look like a stall; a line
above the bars as each item ends. Messages are printed with markup off, so `[bazaar]` stays.
"""

from __future__ import annotations

import time
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from .._events import Event
from ._progress import WAIT_PHASES, event_line, seconds

__all__ = ["Bars"]

#: Phases after the uploads: the file's bar is removed.
_DONE_UPLOADING = frozenset(
    {"committing", "committed", "already-committed", "waiting-for-review", "cleaning-up"}
)


class _Amount(ProgressColumn):
    """Bytes for a byte task, `done of total` for items, seconds to go for a wait."""

    def __init__(self) -> None:
        super().__init__()
        self._bytes = DownloadColumn()

    def render(self, task: Task) -> Text:
        kind = task.fields.get("kind")
        if kind == "items":
            return Text(f"{task.completed:.0f} of {task.total or 0:.0f} items")
        if kind == "wait":
            left = max(0.0, float(task.fields.get("until", 0.0)) - time.monotonic())
            return Text(f"next check in {seconds(left)}")
        return self._bytes.render(task)


class _Speed(TransferSpeedColumn):
    def render(self, task: Task) -> Text:
        return super().render(task) if task.fields.get("kind") == "bytes" else Text("")


class Bars:
    """The terminal's progress display (see the module docstring)."""

    def __init__(self, stream: TextIO, *, batch_total: int = 0, items: int = 0) -> None:
        self.console = Console(file=stream, highlight=False, markup=False)
        self.progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            _Amount(),
            _Speed(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self.progress.start()
        self.file_task: TaskID | None = None
        self.wait_task: TaskID | None = None
        self.batch = items > 0
        self.last: dict[str | None, int] = {}
        if self.batch:
            self.items_task = self.progress.add_task("batch", total=items, kind="items")
            self.bytes_task = self.progress.add_task(
                "bytes", total=batch_total or None, kind="bytes"
            )

    def _say(self, text: str, style: str = "dim") -> None:
        self.progress.console.print(Text(text, style=style))

    def event(self, event: Event, item: str | None = None) -> None:
        if self.batch:
            return  # a batch shows items and bytes; each item's end is its line
        if self.wait_task is not None and event.phase not in WAIT_PHASES:
            self.progress.remove_task(self.wait_task)
            self.wait_task = None
        if self.file_task is not None and event.phase in _DONE_UPLOADING:
            self.progress.remove_task(self.file_task)  # the uploads are over: the bar goes
            self.file_task = None
        if event.phase == "uploading":
            if self.file_task is None:
                self.file_task = self.progress.add_task(event.message, total=None, kind="bytes")
            else:
                self.progress.reset(self.file_task, description=event.message, total=None)
            self.last[item] = 0
            return
        if event.phase in WAIT_PHASES and event.seconds is not None:
            until = time.monotonic() + event.seconds
            if self.wait_task is None:
                self.wait_task = self.progress.add_task(
                    event.message, total=None, kind="wait", until=until
                )
            else:
                self.progress.update(self.wait_task, description=event.message, until=until)
            return
        self._say(event_line(event))

    def upload(self, sent: int, total: int, item: str | None = None) -> None:
        last = self.last.get(item, 0)
        delta = sent - last if sent > last else sent
        self.last[item] = 0 if sent >= total else sent
        if self.batch:
            self.progress.advance(self.bytes_task, delta)
        elif self.file_task is not None:
            self.progress.update(self.file_task, total=total, completed=sent)

    def item_started(self, name: str, size: int) -> None:
        pass

    def item_finished(self, name: str, status: str, ok: bool, seconds: float) -> None:
        self.progress.advance(self.items_task, 1)
        mark, style = ("done", "green") if ok else ("FAILED", "red")
        self._say(f"{mark}: {name}: {status} ({seconds:.1f} s)", style)

    def close(self) -> None:
        self.progress.stop()
