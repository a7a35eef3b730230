"""The resume file: `MANIFEST.state.json`, written beside a batch manifest.

A batch remembers, per Pishkhan item, which drafts it created, so that a re-run after an
interruption knows that an empty draft it finds is its own (it *resumes* it as its creator,
which wins if another publisher contests that draft) instead of merely *adopting* it. It is an
optimisation of the store-level rules, never their replacement: without the file (a fresh CI
runner, a deleted file) a re-run still publishes nothing twice, it adopts instead.

The format (described for people on the docs page "The resume file"):

```json
{
  "shop": {"drafts": ["2026-01-05T10:31:07.123456"], "creating": false},
  "news": {"drafts": [], "creating": true}
}
```

- keys are the items' `name`s;
- `drafts`: the `creation_date` of each draft this batch created for the item, as the store
  reported it;
- `creating`: true from just before a create is sent until its draft is known; an empty
  draft found while it is true is taken as this batch's own (the create's answer was lost).

No credential, no token fingerprint, no file content: only names and dates. It is written
atomically (a temporary file in the same folder, then a rename), so an interrupt never leaves
half a file; a write that fails mid-run (a full disk) is a warning, never a failed publish. A
dry run reads it and never writes it. Deleting it is always safe.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from .._scrub import get_logger
from ..bazaar import Release

__all__ = ["JsonJournal"]

log = get_logger("storepush.cli")


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class JsonJournal:
    """One item's view of the resume file (a `storepush.bazaar.DraftJournal`).

    With `read_only` (dry runs) it answers `is_mine` and never writes.
    """

    def __init__(self, path: Path, item: str, *, read_only: bool = False) -> None:
        self.path = path
        self.item = item
        self.read_only = read_only

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _entry(self, data: dict[str, Any]) -> dict[str, Any]:
        entry = data.get(self.item)
        if not isinstance(entry, dict) or not isinstance(entry.get("drafts"), list):
            entry = data[self.item] = {"drafts": [], "creating": False}
        return entry

    def _save(self, data: dict[str, Any]) -> None:
        if self.read_only:
            return
        try:
            handle, temp = tempfile.mkstemp(
                dir=self.path.parent, prefix=".storepush-", suffix=".json"
            )
        except OSError as exc:
            self._unwritable(exc)
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(data, stream, indent=1)
            os.replace(temp, self.path)
        except OSError as exc:
            Path(temp).unlink(missing_ok=True)
            self._unwritable(exc)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def _unwritable(self, exc: OSError) -> None:
        """The file is an optimisation: a failed write is a warning, never a failed publish."""
        log.warning(
            "the resume file %s cannot be written (%s); going on without it: a re-run adopts "
            "this item's draft instead of resuming it, and still publishes nothing twice",
            self.path.name,
            exc.strerror or exc,
        )

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
        if stamp is not None and stamp not in entry["drafts"]:
            entry["drafts"].append(stamp)
        self._save(data)
