"""What every command shares: output (human or ``--json``), logging, exit codes, secrets.

Exit codes: 0 done; 1 the store refused or failed (or a workflow could not go on safely);
2 bad input, found before any request. ``--json`` prints exactly one JSON document on stdout;
human output and progress bars go to the terminal, and progress only when stdout is one.
Secrets come from environment variables only and are never printed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from .._errors import APIError, StorePushError, ValidationError
from .._secrets import Secret
from .._uploads import ProgressCallback, ProgressTracker

__all__ = ["EXIT_FAILED", "EXIT_INPUT", "Output", "read_text_arg", "secret_from_env"]

EXIT_FAILED = 1
EXIT_INPUT = 2
T = TypeVar("T")


def secret_from_env(variable: str, *, field: str) -> Secret:
    """A credential from the environment variable ``variable`` (never from a flag)."""
    value = os.environ.get(variable)
    if value is None:
        raise ValidationError(
            field, f"the environment variable {variable} is not set", f"export {variable}=..."
        )
    return Secret(value, field=variable)


def read_text_arg(value: str | None, *, field: str, base: Path | None = None) -> str:
    """``TEXT`` as given, or ``@FILE``: the contents of FILE (UTF-8)."""
    if value is None:
        return ""
    if not value.startswith("@"):
        return value
    path = Path(value[1:])
    if base is not None and not path.is_absolute():
        path = base / path
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError(field, f"{path} does not exist", "check the @file path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(field, f"{path} cannot be read: {exc}") from None


def error_document(exc: BaseException) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, ValidationError):
        doc["field"] = exc.field
    if isinstance(exc, APIError):
        doc["status"] = exc.status
        doc["server_message"] = exc.server_message
    return doc


@dataclass
class Output:
    """How a command talks: JSON or human, verbose or not, progress or quiet."""

    json_mode: bool = False
    verbose: bool = False
    out: Console = field(default_factory=lambda: Console(highlight=False))
    err: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))

    def __post_init__(self) -> None:
        logger = logging.getLogger("storepush")
        if self.verbose and not any(getattr(h, "_storepush", False) for h in logger.handlers):
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(
                logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
            )
            handler._storepush = True  # type: ignore[attr-defined]
            logger.addHandler(handler)
            logger.setLevel(logging.DEBUG)

    @property
    def interactive(self) -> bool:
        return not self.json_mode and sys.stdout.isatty()

    def emit(self, document: dict[str, Any], human: Callable[[Console], None]) -> None:
        if self.json_mode:
            sys.stdout.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")
        else:
            human(self.out)

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run a command's coroutine; map errors to exit codes and a message (or JSON)."""
        try:
            return asyncio.run(work())  # type: ignore[arg-type]
        except ValidationError as exc:
            self._fail(exc)
            raise typer.Exit(EXIT_INPUT) from None
        except StorePushError as exc:
            self._fail(exc)
            raise typer.Exit(EXIT_FAILED) from None

    def _fail(self, exc: BaseException) -> None:
        if self.json_mode:
            sys.stdout.write(json.dumps({"ok": False, "error": error_document(exc)}) + "\n")
        else:
            label = "bad input" if isinstance(exc, ValidationError) else "failed"
            self.err.print(f"[bold red]{label}:[/] {exc}", markup=True, soft_wrap=True)

    @contextmanager
    def upload_progress(self, label: str, total: int) -> Iterator[ProgressCallback | None]:
        """A byte progress bar (bytes, speed, ETA) for one or more files, when interactive."""
        if not self.interactive or total <= 0:
            yield None
            return
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=self.err, transient=True) as bar:
            task = bar.add_task(label, total=total)
            trackers: dict[int, ProgressTracker] = {}

            def report(sent: int, file_total: int) -> None:
                tracker = trackers.setdefault(file_total, ProgressTracker())
                bar.advance(task, tracker.update(sent, file_total))

            yield report

    @contextmanager
    def item_progress(self, label: str, total: int) -> Iterator[Callable[[], None]]:
        """A progress bar counting items done, when interactive."""
        if not self.interactive:
            yield lambda: None
            return
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=self.err, transient=True) as bar:
            task = bar.add_task(label, total=total)
            yield lambda: bar.advance(task, 1)
