"""What a publish needs from the world, as narrow protocols (and the names of its choices).

The workflow in `_publish.py` depends on these and on nothing else of the client: any object
with these methods can be published through (`BazaarClient`, or the tests' in-memory fake over
the emulator's state model).
"""

from __future__ import annotations

from typing import Literal, Protocol

from .._uploads import ProgressCallback
from ._models import Bundle, Package, Release
from ._preflight import CommitFields, LocalApk, LocalBundle

__all__ = ["DraftAction", "DraftJournal", "DraftPolicy", "PishkhanAPI"]

#: What to do with a draft holding another build's packages.
DraftPolicy = Literal["fail", "reuse", "replace"]
#: How a publish came to the draft it filled.
DraftAction = Literal["created", "resumed", "adopted", "reused", "replaced"]


class PishkhanAPI(Protocol):
    """The endpoint methods a publish needs; `BazaarClient` implements them."""

    async def create_release(self) -> Release: ...

    async def delete_release(self) -> None: ...

    async def upload_apk(
        self, apk: LocalApk, *, progress: ProgressCallback | None = None
    ) -> Package: ...

    async def commit(self, fields: CommitFields) -> Release: ...

    async def last_committed(self) -> Release | None: ...

    async def last_uncommitted(self) -> Release | None: ...

    async def last_published(self) -> Release | None: ...

    async def upload_aab(
        self, bundle: LocalBundle, *, progress: ProgressCallback | None = None
    ) -> tuple[Bundle, list[str]]: ...

    async def upload_bin(self, bundle: LocalBundle) -> Bundle: ...

    async def bundle_status(self) -> Bundle | None: ...


class DraftJournal(Protocol):
    """Remembers the drafts a publish created, so that a re-run knows it is their creator.

    Without a journal an empty draft found at the start is *adopted* (see `_rules.py`); with
    one that says an earlier run of ours created it, this run is its *creator*, which wins
    when another publisher contests it. `creating()` is called just before a create is sent,
    `remember(draft)` once the draft is known. The batch command keeps one in a file beside
    the manifest (creation dates and a flag, never a credential).
    """

    def is_mine(self, draft: Release) -> bool: ...

    def creating(self) -> None: ...

    def remember(self, draft: Release) -> None: ...
