"""What a publish reports: `PublishResult` (it ran) and `PublishPlan` (a dry run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from ._models import Package, Release
from ._ports import DraftAction

__all__ = ["PublishPlan", "PublishResult"]


@dataclass
class PublishResult:
    """What a publish did.

    `release` is the committed release holding this build. `already_committed`: it was
    committed before this run (a re-run), or by a twin job while this one ran
    (`committed_by_other`). `draft` says how this run came to the draft it filled.
    `differences` lists what a re-run asked for that differs from the committed release (it
    cannot be edited through the API). `reconciled` counts ambiguous answers settled by
    reading the state.
    """

    release: Release
    packages: list[Package]
    already_committed: bool = False
    committed_by_other: bool = False
    draft: DraftAction | None = "created"
    foreign_packages: list[Package] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reconciled: int = 0
    upload_attempts: int = 0
    bytes_sent: int = 0
    seconds: float = 0.0
    requests: int = 0
    retries: int = 0
    throttled: int = 0

    @property
    def sha1s(self) -> frozenset[str]:
        """The SHA-1s of this build's packages in the release."""
        return frozenset(p.sha1 for p in self.packages)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (for `--json` output and reports)."""
        return {
            "release": msgspec.to_builtins(self.release),
            "packages": [msgspec.to_builtins(p) for p in self.packages],
            "already_committed": self.already_committed,
            "committed_by_other": self.committed_by_other,
            "dry_run": False,
            "draft": self.draft,
            "foreign_packages": [p.sha1_hash for p in self.foreign_packages],
            "differences": self.differences,
            "warnings": self.warnings,
            "reconciled": self.reconciled,
            "upload_attempts": self.upload_attempts,
            "bytes_sent": self.bytes_sent,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "retries": self.retries,
            "throttled": self.throttled,
        }


@dataclass
class PublishPlan:
    """What a publish would do (a dry run): the same rules as the real run, no writes.

    `action` is `"create"`, `"replace"`, `"resume"`, `"adopt"`, `"reuse"` or
    `"already committed"`; a refusal is raised, as the real run would raise it.
    """

    action: str
    release: Release | None = None
    foreign_packages: list[Package] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": True,
            "action": self.action,
            "already_committed": self.action == "already committed",
            "release": None if self.release is None else msgspec.to_builtins(self.release),
            "foreign_packages": [p.sha1_hash for p in self.foreign_packages],
        }
