"""How every command talks: one JSON document or human text on stdout, the rest on stderr.

Exit codes: 0 done; 1 the store refused or failed (or a workflow could not go on safely, or
the run's deadline passed); 2 bad input, found before any request; 130 after Ctrl-C (SIGINT)
and 143 after SIGTERM. `--json` prints exactly one JSON document on stdout once a command runs
(an error and an interrupt included; the parser's usage errors are its own text). Progress,
warnings and `-v` logs go to stderr.

Everything written to stdout and stderr passes through `storepush._scrub.scrub` once more
([`scrubbed_streams`][storepush.cli._output.scrubbed_streams]), a last safety net behind the
library's own scrubbing: no credential reaches the terminal or a CI log. Messages are written
as plain text, never as rich markup, so `[bazaar]` and `[]` in a message stay.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO, TypeVar

import typer

from .._errors import StorePushError, ValidationError
from .._scrub import scrub
from ._interrupts import Interrupted, Journey, summary, supervise
from ._spelling import FLAGS, RenderedError, Spelling, render_error

__all__ = [
    "CURRENT_ITEM",
    "EXIT_FAILED",
    "EXIT_INPUT",
    "Output",
    "ScrubbedStream",
    "format_table",
    "scrubbed_streams",
]

EXIT_FAILED = 1
EXIT_INPUT = 2
T = TypeVar("T")

#: The batch item whose task is running (its warnings, the library's included, name it).
CURRENT_ITEM: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "storepush_cli_item", default=None
)


class ScrubbedStream:
    """A text stream whose every write is scrubbed of live credentials first."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(scrub(text))
        return len(text)

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return self._inner.isatty()

    def fileno(self) -> int:
        return self._inner.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextmanager
def scrubbed_streams() -> Iterator[None]:
    """Inside, `sys.stdout` and `sys.stderr` scrub every write."""
    saved = sys.stdout, sys.stderr
    sys.stdout = ScrubbedStream(saved[0])
    sys.stderr = ScrubbedStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Aligned plain-text columns (no box drawing: it reads the same in a CI log)."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = []
    for row in (headers, *rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return lines


class _Stderr(logging.Handler):
    """Log records on the current `sys.stderr` (a test runner may swap it between commands)."""

    def __init__(self, output: Output, level: int) -> None:
        super().__init__(level)
        self.output = output

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # logging must never fail the command
            return
        if record.levelno >= logging.WARNING and not self.output.verbose:
            self.output.warn(text)
        else:
            self.output.stderr(text)


@dataclass
class Output:
    """How a command talks: JSON or human, verbose or not."""

    json_mode: bool = False
    verbose: bool = False
    jsonl: bool = False  #: warnings on stderr as JSON lines (with `--progress jsonl`)
    spelling: Spelling = FLAGS  #: how this command's warnings name the library's fields
    warned: set[str] = field(default_factory=set)

    @contextmanager
    def logging(self) -> Iterator[None]:
        """`-v`: every storepush log record on stderr; otherwise its warnings, once each."""
        logger = logging.getLogger("storepush")
        handler = _Stderr(self, logging.DEBUG if self.verbose else logging.WARNING)
        if self.verbose:
            handler.setFormatter(
                logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
            )
        saved = logger.level, logger.propagate
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if self.verbose else logging.WARNING)
        logger.propagate = False
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(saved[0])
            logger.propagate = saved[1]

    # -- writing ------------------------------------------------------------------------------

    @staticmethod
    def _write(stream: TextIO, text: str) -> None:
        try:
            stream.write(scrub(text) + "\n")
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass

    def stdout(self, text: str) -> None:
        self._write(sys.stdout, text)

    def stderr(self, text: str) -> None:
        self._write(sys.stderr, text)

    def warn(self, text: str, item: str | None = None) -> None:
        """A warning on stderr, once per text and item (the library also logs what it
        reports); in a batch it names the item (`CURRENT_ITEM` when not given)."""
        item = item or CURRENT_ITEM.get()
        text = self.spelling.text(scrub(text))
        key = f"{item}\0{text}"
        if key in self.warned:
            return
        self.warned.add(key)
        if self.jsonl:
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            doc = {"time": stamp, **({"item": item} if item else {}), "warning": text}
            self.stderr(json.dumps(doc, ensure_ascii=False))
        else:
            self.stderr(f"warning: {item}: {text}" if item else f"warning: {text}")

    def emit(self, document: dict[str, Any], human: Callable[[], Sequence[str]]) -> None:
        """The command's result: `document` with `--json`, else the lines `human` returns."""
        if self.json_mode:
            self.stdout(json.dumps(document, ensure_ascii=False, default=str))
        else:
            for line in human():
                self.stdout(line)

    def fail(self, error: RenderedError) -> None:
        if self.json_mode:
            self.stdout(json.dumps({"ok": False, "error": error.to_json()}, ensure_ascii=False))
        else:
            label = "bad input" if error.bad_input else "error"
            self.stderr(f"{label}: {error.message}")

    # -- running --------------------------------------------------------------------------------

    def run(
        self,
        work: Callable[[], Coroutine[Any, Any, T]],
        *,
        spelling: Spelling = FLAGS,
        deadline: float | None = None,
        journeys: Callable[[], Sequence[Journey]] = tuple,
        partial: Callable[[], dict[str, Any]] | None = None,
    ) -> T:
        """Run a command's coroutine under `supervise`; map errors and interrupts to their
        message (or JSON document) and exit code. `journeys` and `partial` describe, after an
        interrupt, what the command had done."""
        try:
            return asyncio.run(supervise(work(), deadline=deadline))
        except Interrupted as exc:
            steps = journeys()
            text = summary(exc.stop, steps)
            if self.json_mode:
                doc = {**(partial() if partial else {}), "ok": False, "interrupted": True}
                doc.update(reason=exc.stop.reason, summary=text)
                doc["steps"] = [j.to_json() for j in steps]
                self.stdout(json.dumps(doc, ensure_ascii=False, default=str))
            else:
                self.stderr(text)
            raise typer.Exit(exc.stop.exit_code) from None
        except StorePushError as exc:
            self.fail(render_error(exc, spelling))
            code = EXIT_INPUT if isinstance(exc, ValidationError) else EXIT_FAILED
            raise typer.Exit(code) from None

    def check(self, spelling: Spelling = FLAGS) -> _Checks:
        """`with out.check():` turns a `ValidationError` raised inside into exit 2."""
        return _Checks(self, spelling)


class _Checks:
    def __init__(self, output: Output, spelling: Spelling) -> None:
        self.output = output
        self.spelling = spelling

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, ValidationError):
            self.output.fail(render_error(exc, self.spelling))
            raise typer.Exit(EXIT_INPUT) from None
