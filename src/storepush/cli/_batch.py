"""Running a manifest: many apps and plugins at once through one shared session.

Items run concurrently up to ``concurrency``, through one :class:`~storepush.Session` (one
connection pool, one set of rate limiters, one retry budget). A failed item never stops the
others. Re-running after an interruption finishes what is left and publishes nothing twice:
the workflows recognise committed releases and listed versions, and a journal beside the
manifest (release creation dates only, no credential) lets an app resume an empty draft it made.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .._errors import StorePushError, ValidationError
from .._limiter import Limits
from .._redis_url import manifest_redis_url
from .._retry import RetryConfig
from .._session import Session
from ..bazaar import BazaarClient, Release, parse_apks
from ..bazaar._client import check_policy
from ..bluemind import BlueMindClient
from ._manifest import BazaarItem, BlueMindItem, Manifest
from ._output import error_document

__all__ = ["BatchReport", "ItemResult", "JsonJournal", "run_batch"]


class JsonJournal:
    """A :class:`~storepush.bazaar.DraftJournal` in a JSON file:
    ``{item: {"drafts": [creation dates], "creating": bool}}``."""

    def __init__(self, path: Path, item: str) -> None:
        self.path = path
        self.item = item

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _entry(self, data: dict[str, Any]) -> dict[str, Any]:
        entry = data.get(self.item)
        if not isinstance(entry, dict):
            entry = data[self.item] = {"drafts": [], "creating": False}
        return entry

    def _save(self, data: dict[str, Any]) -> None:
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".storepush-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=1)
        os.replace(temp, self.path)

    def is_mine(self, draft: Release) -> bool:
        entry = self._entry(self._load())
        stamp = _stamp(draft.creation_date)
        return (stamp is not None and stamp in entry["drafts"]) or (
            bool(entry.get("creating")) and not draft.packages
        )

    def creating(self) -> None:
        data = self._load()
        self._entry(data)["creating"] = True
        self._save(data)

    def remember(self, draft: Release) -> None:
        data = self._load()
        entry = self._entry(data)
        entry["creating"] = False
        stamp = _stamp(draft.creation_date)
        if stamp is not None:
            entry["drafts"].append(stamp)
        self._save(data)


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass
class ItemResult:
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
        }


@dataclass
class BatchReport:
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


async def _bazaar(
    item: BazaarItem, session: Session, default_url: str, journal_path: Path | None, dry_run: bool
) -> ItemResult:
    async with BazaarClient(
        item.token, base_url=item.base_url or default_url, session=session
    ) as c:
        common: dict[str, Any] = {
            "aab": item.aab,
            "signer_bin": item.signer_bin,
            "changelog_en": item.changelog_en,
            "changelog_fa": item.changelog_fa,
            "developer_note": item.developer_note,
            "staged_rollout_percentage": item.rollout,
            "auto_publish": item.auto_publish,
            "if_draft_exists": check_policy(item.if_draft_exists),
        }
        local = parse_apks(item.apks) if item.apks else []
        if dry_run:
            plan = await c.publish(local, dry_run=True, **common)
            return ItemResult("bazaar", item.name, True, "checked", detail=plan.to_json())
        result = await c.publish(
            local,
            journal=None if journal_path is None else JsonJournal(journal_path, item.name),
            **common,
        )
    status = "already committed" if result.already_committed else "committed"
    return ItemResult(
        "bazaar",
        item.name,
        True,
        status,
        bytes_sent=result.bytes_sent,
        retries=result.retries,
        throttled=result.throttled,
        reconciled=result.reconciled,
        detail={"sha1s": sorted(p.sha1_hash for p in result.packages), "draft": result.draft},
    )


async def _bluemind(
    item: BlueMindItem, session: Session, default_url: str, dry_run: bool
) -> ItemResult:
    async with BlueMindClient(
        item.api_key, base_url=item.base_url or default_url, session=session
    ) as client:
        if dry_run:
            plugins = await client.list_plugins()
            exists = any(p.name == item.plugin for p in plugins)
            if not exists and item.create is None:
                raise ValidationError(
                    "plugin", f"no plugin named {item.plugin!r}", "add a [bluemind.create] table"
                )
            return ItemResult("bluemind", item.name, True, "checked")
        result = await client.publish_version(
            item.plugin,
            item.version,
            item.target_bm_versions,
            item.release_notes,
            item.package,
            create=item.create,
        )
    return ItemResult(
        "bluemind",
        item.name,
        True,
        "already published" if result.already_published else "published",
        bytes_sent=result.upload.size if result.upload else 0,
        retries=result.retries,
        throttled=result.throttled,
        reconciled=result.reconciled,
        detail={"sha1": result.upload.sha1 if result.upload else None},
    )


async def run_batch(
    manifest: Manifest,
    *,
    concurrency: int,
    dry_run: bool = False,
    bazaar_url: str,
    bluemind_url: str,
    limits: Limits | None = None,
    retry: RetryConfig | None = None,
    on_item_done: Callable[[], None] = lambda: None,
    journal: bool = True,
) -> BatchReport:
    """Run every item of ``manifest``; never raises for one item's failure."""
    if isinstance(concurrency, bool) or concurrency < 1:
        raise ValidationError("--concurrency", "must be at least 1")
    journal_path = (
        manifest.path.with_name(manifest.path.name + ".state.json")
        if journal and not dry_run
        else None
    )
    started = time.monotonic()
    gate = asyncio.Semaphore(concurrency)
    retry = retry or RetryConfig(max_attempts=8)
    async with Session(
        limits=limits,
        retry=retry,
        max_connections=max(10, concurrency),
        coordination=manifest_redis_url(manifest.redis_url),  # unless --redis-url or the env
    ) as session:

        async def one(item: BazaarItem | BlueMindItem) -> ItemResult:
            async with gate:
                clock = time.monotonic()
                try:
                    if isinstance(item, BazaarItem):
                        result = await _bazaar(item, session, bazaar_url, journal_path, dry_run)
                    else:
                        result = await _bluemind(item, session, bluemind_url, dry_run)
                except StorePushError as exc:
                    result = ItemResult(
                        item.kind, item.name, False, "failed", error=error_document(exc)
                    )
                result.seconds = time.monotonic() - clock
                on_item_done()
                return result

        results = await asyncio.gather(*(one(item) for item in manifest.items))
        stats = session.stats
    return BatchReport(
        list(results),
        time.monotonic() - started,
        stats.requests,
        stats.retries,
        stats.throttled,
    )
