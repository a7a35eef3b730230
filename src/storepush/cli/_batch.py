"""Running a checked manifest: many apps and plugins at once through one shared session.

Items run concurrently up to `concurrency`, through one [`Session`][storepush.Session] (one
connection pool, one set of rate limiters, one retry budget). A failed item never stops the
others. Each item's events go to the progress reporter, tagged with the item's name, and are
kept (a [`Journey`][storepush.cli._interrupts.Journey] per item) so that an interrupt can say
what each item had done. Results are kept as items end, so an interrupted batch still reports
the ones that finished. Re-running finishes what is left and publishes nothing twice: the
workflows recognise committed releases and listed versions, and the resume file beside the
manifest (`_journal.py`) lets an item resume a draft it created.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import StorePushError
from .._events import Event
from .._session import Session
from ._interrupts import Journey
from ._journal import JsonJournal
from ._output import CURRENT_ITEM
from ._plans import bluemind_plan, describe_plan
from ._preflight import Ready, ReadyBazaar, ReadyBlueMind
from ._progress import Quiet, Reporter
from ._spelling import MANIFEST, Spelling, render_error

__all__ = ["BatchReport", "BatchRun", "ItemResult"]


@dataclass
class ItemResult:
    """How one item ended."""

    kind: str
    name: str
    ok: bool
    status: str
    bytes_sent: int = 0
    seconds: float = 0.0
    retries: int = 0
    throttled: int = 0
    reconciled: int = 0
    error: dict[str, Any] | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "ok": self.ok,
            "status": self.status,
            "bytes_sent": self.bytes_sent,
            "seconds": round(self.seconds, 3),
            "retries": self.retries,
            "throttled": self.throttled,
            "reconciled": self.reconciled,
            "error": self.error,
            "detail": self.detail,
            "warnings": self.warnings,
        }


@dataclass
class BatchReport:
    """Every item's result, and the session's totals."""

    items: list[ItemResult]
    seconds: float
    requests: int
    retries: int
    throttled: int

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)

    @property
    def bytes_sent(self) -> int:
        return sum(item.bytes_sent for item in self.items)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "items": [item.to_json() for item in self.items],
            "totals": {
                "items": len(self.items),
                "failed": sum(1 for item in self.items if not item.ok),
                "bytes_sent": self.bytes_sent,
                "seconds": round(self.seconds, 3),
                "requests": self.requests,
                "retries": self.retries,
                "throttled": self.throttled,
            },
        }


class BatchRun:
    """One run of checked items (see the module docstring)."""

    def __init__(
        self,
        items: list[Ready],
        session: Session,
        *,
        concurrency: int,
        dry_run: bool = False,
        resume_file: Path | None = None,
        reporter: Reporter | None = None,
        on_warning: Callable[[str, str], None] = lambda text, item: None,
        spelling: Spelling = MANIFEST,
    ) -> None:
        self.items = items
        self.session = session
        self.concurrency = concurrency
        self.dry_run = dry_run
        self.resume_file = resume_file
        self.reporter = reporter or Quiet()
        self.on_warning = on_warning
        self.spelling = spelling
        self.journeys = {item.name: Journey(item.name) for item in items}
        self.results: dict[str, ItemResult] = {}
        self.started = time.monotonic()

    # -- one item ---------------------------------------------------------------------------

    def _journal(self, name: str) -> JsonJournal | None:
        if self.resume_file is None:
            return None
        return JsonJournal(self.resume_file, name, read_only=self.dry_run)

    def _events(self, name: str) -> Callable[[Event], None]:
        journey = self.journeys[name]

        def on_event(event: Event) -> None:
            journey.record(event.phase, event.message)
            self.reporter.event(event, name)

        return on_event

    def _progress(self, name: str) -> Callable[[int, int], None]:
        def progress(sent: int, total: int) -> None:
            self.reporter.upload(sent, total, name)

        return progress

    async def _bazaar(self, item: ReadyBazaar) -> ItemResult:
        entry = item.entry
        common: dict[str, Any] = {
            "aab": entry.aab,
            "signer_bin": entry.signer_bin,
            "changelog_en": entry.changelog_en,
            "changelog_fa": entry.changelog_fa,
            "developer_note": entry.developer_note,
            "staged_rollout_percentage": entry.rollout,
            "auto_publish": entry.auto_publish,
            "if_draft_exists": item.policy,
            "journal": self._journal(item.name),
        }
        if self.dry_run:
            plan = await item.client.publish(item.apks, dry_run=True, **common)
            doc = plan.to_json()
            files = len(item.apks) or 2
            doc["would"] = describe_plan(doc, files=files, size=item.size)
            status = plan.action if plan.action == "already committed" else f"would {plan.action}"
            return ItemResult("bazaar", item.name, True, status, detail=doc)
        result = await item.client.publish(
            item.apks,
            if_busy=item.if_busy,
            busy_timeout=item.busy_timeout,
            progress=self._progress(item.name),
            on_event=self._events(item.name),
            **common,
        )
        return ItemResult(
            "bazaar",
            item.name,
            True,
            "already committed" if result.already_committed else "committed",
            bytes_sent=result.bytes_sent,
            retries=result.retries,
            throttled=result.throttled,
            reconciled=result.reconciled,
            detail={
                "sha1s": sorted(p.sha1_hash for p in result.packages),
                "draft": result.draft,
                "version_codes": [p.version_code for p in result.packages],
                "differences": result.differences,
            },
            warnings=list(result.warnings),
        )

    async def _bluemind(self, item: ReadyBlueMind) -> ItemResult:
        entry = item.entry
        journey = self.journeys[item.name]
        if self.dry_run:
            plan = await bluemind_plan(
                item.client,
                plugin=entry.plugin,
                version=entry.version,
                package=entry.package,
                create=entry.create,
            )
            action = plan["action"]
            status = action if action.startswith("already") else f"would {action}"
            plan["would"] = action
            return ItemResult("bluemind", item.name, True, status, detail=plan)
        text = f"publishing {entry.plugin} {entry.version}"
        journey.record("checking", text)
        self.reporter.event(Event("checking", text), item.name)
        shown = self._progress(item.name)
        told = False

        def progress(sent: int, total: int) -> None:
            nonlocal told
            if not told:
                told = True
                journey.record("committing", f"uploading {entry.package.name}")
                self.reporter.event(
                    Event("uploading", f"uploading {entry.package.name}", entry.package.name, 1, 1),
                    item.name,
                )
            shown(sent, total)

        result = await item.client.publish_version(
            entry.plugin,
            entry.version,
            entry.target_bm_versions,
            entry.release_notes,
            entry.package,
            create=entry.create,
            progress=progress,
        )
        return ItemResult(
            "bluemind",
            item.name,
            True,
            "already published" if result.already_published else "published",
            bytes_sent=result.upload.size if result.upload and result.upload.size else 0,
            retries=result.retries,
            throttled=result.throttled,
            reconciled=result.reconciled,
            detail={"sha1": result.upload.sha1 if result.upload else None},
            warnings=list(result.warnings),
        )

    async def _one(self, item: Ready, gate: asyncio.Semaphore) -> None:
        CURRENT_ITEM.set(item.name)  # this task's own context: its log warnings name it
        async with gate:
            journey = self.journeys[item.name]
            journey.started = True
            self.reporter.item_started(item.name, item.size)
            clock = time.monotonic()
            try:
                if isinstance(item, ReadyBazaar):
                    result = await self._bazaar(item)
                else:
                    result = await self._bluemind(item)
            except StorePushError as exc:
                error = render_error(exc, self.spelling)
                kind = "bazaar" if isinstance(item, ReadyBazaar) else "bluemind"
                result = ItemResult(kind, item.name, False, "failed", error=error.to_json())
            result.seconds = time.monotonic() - clock
            journey.finished = result.status
            self.results[item.name] = result
            for warning in result.warnings:
                self.on_warning(warning, item.name)
            shown = result.status
            if result.error is not None:
                shown = f"failed: {result.error['message']}"
            self.reporter.item_finished(item.name, shown, result.ok, result.seconds)

    # -- the batch ----------------------------------------------------------------------------

    async def run(self) -> BatchReport:
        """Run every item; never raises for one item's failure."""
        self.started = time.monotonic()
        gate = asyncio.Semaphore(self.concurrency)
        await asyncio.gather(*(self._one(item, gate) for item in self.items))
        return self.report()

    def report(self) -> BatchReport:
        """The results so far (every item, once the run ends)."""
        stats = self.session.stats
        ordered = [self.results[i.name] for i in self.items if i.name in self.results]
        return BatchReport(
            ordered, time.monotonic() - self.started, stats.requests, stats.retries, stats.throttled
        )

    def partial(self) -> dict[str, Any]:
        """After an interrupt: the finished items' results, and each other item's outcome."""
        doc = self.report().to_json()
        doc["unfinished"] = [
            j.to_json() for j in self.journeys.values() if j.name not in self.results
        ]
        return doc
