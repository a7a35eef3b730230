"""What a person (or a tool) sees on stderr while a command runs.

`--progress` picks one of four reporters ([`choose_mode`][storepush.cli._progress.choose_mode]
decides `auto`):

- **plain** (the default when stderr is not a terminal, as in CI): timestamped lines as it
  runs: each phase (checking, creating the draft, uploading 1 of 2: `app.apk`), uploads in
  10 % steps, waits with the time to the next check, and for a batch one line per item when it
  starts and ends, with the batch's bytes in 10 % steps;
- **jsonl**: the same events as JSON lines, for tools;
- **bar** (the default on a terminal): rich progress bars (`_bars.py`, imported only then);
- **off**.

Reporters only write; nothing they do can fail a publish.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

from .._events import Event
from ._settings import ProgressMode

__all__ = [
    "JsonLines",
    "PlainLines",
    "Quiet",
    "Reporter",
    "choose_mode",
    "event_line",
    "make_reporter",
    "megabytes",
    "percent_step",
    "seconds",
]

#: Phases that are waits: their line says when the next check is.
WAIT_PHASES = frozenset({"waiting-for-review", "processing"})


class Reporter(Protocol):
    """Receives what a command is doing; `item` names a batch item (None: the one publish)."""

    def event(self, event: Event, item: str | None = None) -> None: ...

    def upload(self, sent: int, total: int, item: str | None = None) -> None: ...

    def item_started(self, name: str, size: int) -> None: ...

    def item_finished(self, name: str, status: str, ok: bool, seconds: float) -> None: ...

    def close(self) -> None: ...


def choose_mode(requested: ProgressMode, *, stderr_tty: bool) -> ProgressMode:
    """`auto` is a bar on a terminal and plain lines elsewhere; the rest are as asked."""
    if requested is ProgressMode.AUTO:
        return ProgressMode.BAR if stderr_tty else ProgressMode.PLAIN
    return requested


def percent_step(sent: int, total: int, *, steps: int = 10) -> int:
    """Which of `steps` equal steps `sent` of `total` bytes has reached (0 to `steps`)."""
    if total <= 0:
        return steps
    return min(steps, max(0, sent) * steps // total)


def megabytes(count: int) -> str:
    """A byte count for people: `32 KB`, `1.5 MB`, `2.10 GB`."""
    if round(count / 1e3) < 1000:
        return f"{count / 1e3:.0f} KB"
    if count < 1_000_000_000:
        return f"{count / 1e6:.1f} MB"
    return f"{count / 1e9:.2f} GB"


def event_line(event: Event) -> str:
    """The text of one event for a line of output: waits say when the next check is."""
    text = event.message
    if event.phase in WAIT_PHASES and event.seconds is not None:
        text += f" — next check in {seconds(event.seconds)}"
    return text


def seconds(value: float) -> str:
    """`30 s`, `1.5 s`: whole seconds from 10 up, one decimal below."""
    if value >= 10:
        return f"{value:.0f} s"
    return f"{value:.1f}".rstrip("0").rstrip(".") + " s"


class Quiet:
    """`--progress off`."""

    def event(self, event: Event, item: str | None = None) -> None:
        pass

    def upload(self, sent: int, total: int, item: str | None = None) -> None:
        pass

    def item_started(self, name: str, size: int) -> None:
        pass

    def item_finished(self, name: str, status: str, ok: bool, seconds: float) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class _Upload:
    """One file's upload, as far as the lines have told of it."""

    file: str = ""
    shown: int = -1  #: the last 10 % step written
    last: int = 0  #: the last `sent` seen within this attempt (0: none yet, or it ended)
    started: bool = False


class _Lines:
    """What plain and JSON lines share: the clock, the batch's bytes, one lock for writes."""

    def __init__(self, stream: TextIO, *, now: Callable[[], datetime] | None = None) -> None:
        self.stream = stream
        self.now = now or (lambda: datetime.now(UTC))
        self.uploads: dict[str | None, _Upload] = {}
        self.batch_total = 0
        self.batch_sent = 0
        self.batch_shown = 0
        self.items_done = 0
        self.items = 0
        self.lock = threading.Lock()

    def stamp(self) -> str:
        return self.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def write(self, text: str) -> None:
        with self.lock:
            try:
                self.stream.write(text + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # a closed pipe must not fail the publish
                pass

    def _track(self, sent: int, total: int, item: str | None) -> _Upload:
        """Record progress of `item`'s current file and the batch's new bytes. A first call,
        or a `sent` that does not grow, starts a new attempt (the file is sent again)."""
        upload = self.uploads.setdefault(item, _Upload())
        if upload.last == 0 or sent <= upload.last:
            if upload.started:
                upload.shown = -1
            upload.last = 0
        upload.started = True
        self.batch_sent += sent - upload.last
        upload.last = 0 if sent >= total else sent
        return upload

    def close(self) -> None:
        pass

    def begin_file(self, event: Event, item: str | None) -> None:
        if event.phase == "uploading" and event.file:
            self.uploads[item] = _Upload(file=event.file)


class PlainLines(_Lines):
    """`--progress plain`: timestamped lines, flushed as they happen."""

    def line(self, text: str, item: str | None = None) -> None:
        prefix = f"{item}: " if item else ""
        self.write(f"{self.stamp()} {prefix}{text}")

    def event(self, event: Event, item: str | None = None) -> None:
        self.begin_file(event, item)
        self.line(event_line(event), item)

    def upload(self, sent: int, total: int, item: str | None = None) -> None:
        upload = self._track(sent, total, item)
        if item is not None:  # a batch shows its bytes as a whole, not every file's
            self._batch_bytes()
            return
        step = percent_step(sent, total)
        if step > upload.shown and step > 0:
            upload.shown = step
            name = upload.file or "the file"
            self.line(f"uploading {name}: {step * 10} % ({megabytes(sent)} of {megabytes(total)})")

    def _batch_bytes(self) -> None:
        if self.batch_total <= 0:
            return
        step = percent_step(self.batch_sent, self.batch_total)
        if step > self.batch_shown:
            self.batch_shown = step
            self.line(
                f"batch: {step * 10} % of {megabytes(self.batch_total)} sent "
                f"({self.items_done} of {self.items} items done)"
            )

    def item_started(self, name: str, size: int) -> None:
        self.line(f"started ({megabytes(size)} to send)", name)

    def item_finished(self, name: str, status: str, ok: bool, seconds: float) -> None:
        self.items_done += 1
        self.line(f"finished: {status} ({seconds:.1f} s)", name)


class JsonLines(_Lines):
    """`--progress jsonl`: one JSON object a line (`time`, `item` in a batch, then the event)."""

    def emit(self, doc: dict[str, Any], item: str | None) -> None:
        head: dict[str, Any] = {"time": self.stamp()}
        if item is not None:
            head["item"] = item
        self.write(json.dumps({**head, **doc}, ensure_ascii=False))

    def event(self, event: Event, item: str | None = None) -> None:
        self.begin_file(event, item)
        self.emit(event.to_json(), item)

    def upload(self, sent: int, total: int, item: str | None = None) -> None:
        upload = self._track(sent, total, item)
        step = percent_step(sent, total)
        if step > upload.shown and step > 0:
            upload.shown = step
            doc = {"phase": "uploading", "file": upload.file or None, "sent": sent}
            self.emit({**doc, "total": total, "percent": step * 10}, item)

    def item_started(self, name: str, size: int) -> None:
        self.emit({"phase": "item-started", "bytes": size}, name)

    def item_finished(self, name: str, status: str, ok: bool, seconds: float) -> None:
        self.items_done += 1
        doc = {"phase": "item-finished", "status": status, "ok": ok}
        self.emit({**doc, "seconds": round(seconds, 3)}, name)


def make_reporter(
    mode: ProgressMode,
    stream: TextIO,
    *,
    batch_total: int = 0,
    items: int = 0,
    now: Callable[[], datetime] | None = None,
) -> Reporter:
    """The reporter for `mode` (already chosen: not `auto`), writing to `stream`."""
    if mode is ProgressMode.OFF:
        return Quiet()
    if mode is ProgressMode.BAR:
        from ._bars import Bars

        return Bars(stream, batch_total=batch_total, items=items)
    lines: PlainLines | JsonLines = (
        JsonLines(stream, now=now) if mode is ProgressMode.JSONL else PlainLines(stream, now=now)
    )
    lines.batch_total = batch_total
    lines.items = items
    return lines
