"""`BazaarClient`: Pishkhan's endpoints plus the workflows a pipeline needs.

The endpoint methods come from `BazaarAPI` (`_calls.py`); this class adds `publish` (exactly
once, `_publish.py`), the waits (`_wait.py`) and `check_access`. Nothing below it imports it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, overload

from .._coordination import IfBusy
from .._errors import PermissionDeniedError, ValidationError
from .._events import Event, OnEvent
from .._uploads import ProgressCallback
from ._calls import FORBIDDEN_HINT, BazaarAPI
from ._models import Bundle, Release
from ._ports import DraftJournal, DraftPolicy
from ._preflight import (
    ApkInput,
    LocalApk,
    check_commit_fields,
    parse_apks,
    parse_bundle,
)
from ._publish import Publisher
from ._results import PublishPlan, PublishResult
from ._wait import OnWait, wait_for_bundle, wait_for_publication

__all__ = ["AccessReport", "BazaarClient", "check_policy"]

_POLICIES: dict[object, DraftPolicy] = {"fail": "fail", "reuse": "reuse", "replace": "replace"}
_BUSY: dict[object, IfBusy] = {"wait": "wait", "fail": "fail"}


@dataclass(frozen=True, slots=True)
class AccessReport:
    """The answer of `BazaarClient.check_access`."""

    ok: bool
    status: int | None
    explanation: str


def check_policy(value: object) -> DraftPolicy:
    """`if_draft_exists`: fail, reuse or replace."""
    if isinstance(value, str) and value in _POLICIES:
        return _POLICIES[value]
    raise ValidationError("if_draft_exists", f"{value!r} is not a policy", "fail, reuse or replace")


def _if_busy(value: object, wait_up_to: object) -> tuple[IfBusy, float]:
    if not isinstance(value, str) or value not in _BUSY:
        raise ValidationError("if_busy", f"{value!r} is not wait or fail")
    if (
        isinstance(wait_up_to, bool)
        or not isinstance(wait_up_to, int | float)
        or not 0 <= wait_up_to < float("inf")
    ):
        raise ValidationError("busy_timeout", f"must be seconds >= 0, not {wait_up_to!r}")
    return _BUSY[value], float(wait_up_to)


class BazaarClient(BazaarAPI):
    """A Pishkhan client for one app (one token).

    `token` may be a string or a [`Secret`][storepush.Secret]; with none it is read from
    `STOREPUSH_BAZAAR_TOKEN`. Pass `session=` to share a connection pool, rate limiters and
    retry budget between many apps; otherwise the client creates its own session and closes
    it in `aclose` / `async with`.
    """

    @overload
    async def publish(
        self,
        apks: Sequence[ApkInput | LocalApk] = ...,
        *,
        aab: str | os.PathLike[str] | None = ...,
        signer_bin: str | os.PathLike[str] | None = ...,
        changelog_en: str = ...,
        changelog_fa: str = ...,
        developer_note: str = ...,
        staged_rollout_percentage: int = ...,
        auto_publish: bool = ...,
        if_draft_exists: DraftPolicy = ...,
        if_busy: IfBusy = ...,
        busy_timeout: float = ...,
        progress: ProgressCallback | None = ...,
        on_event: OnEvent | None = ...,
        dry_run: Literal[False] = ...,
        journal: DraftJournal | None = ...,
    ) -> PublishResult: ...

    @overload
    async def publish(
        self,
        apks: Sequence[ApkInput | LocalApk] = ...,
        *,
        aab: str | os.PathLike[str] | None = ...,
        signer_bin: str | os.PathLike[str] | None = ...,
        changelog_en: str = ...,
        changelog_fa: str = ...,
        developer_note: str = ...,
        staged_rollout_percentage: int = ...,
        auto_publish: bool = ...,
        if_draft_exists: DraftPolicy = ...,
        if_busy: IfBusy = ...,
        busy_timeout: float = ...,
        progress: ProgressCallback | None = ...,
        on_event: OnEvent | None = ...,
        dry_run: Literal[True],
        journal: DraftJournal | None = ...,
    ) -> PublishPlan: ...

    @overload
    async def publish(
        self,
        apks: Sequence[ApkInput | LocalApk] = ...,
        *,
        aab: str | os.PathLike[str] | None = ...,
        signer_bin: str | os.PathLike[str] | None = ...,
        changelog_en: str = ...,
        changelog_fa: str = ...,
        developer_note: str = ...,
        staged_rollout_percentage: int = ...,
        auto_publish: bool = ...,
        if_draft_exists: DraftPolicy = ...,
        if_busy: IfBusy = ...,
        busy_timeout: float = ...,
        progress: ProgressCallback | None = ...,
        on_event: OnEvent | None = ...,
        dry_run: bool,
        journal: DraftJournal | None = ...,
    ) -> PublishResult | PublishPlan: ...

    async def publish(
        self,
        apks: Sequence[ApkInput | LocalApk] = (),
        *,
        aab: str | os.PathLike[str] | None = None,
        signer_bin: str | os.PathLike[str] | None = None,
        changelog_en: str = "",
        changelog_fa: str = "",
        developer_note: str = "",
        staged_rollout_percentage: int = 100,
        auto_publish: bool = False,
        if_draft_exists: DraftPolicy = "fail",
        if_busy: IfBusy = "wait",
        busy_timeout: float = 1800.0,
        progress: ProgressCallback | None = None,
        on_event: OnEvent | None = None,
        dry_run: bool = False,
        journal: DraftJournal | None = None,
    ) -> PublishResult | PublishPlan:
        """Publish a release exactly once: check, create (or resume), upload, commit.

        `apks` are paths or `(path, architecture)` pairs; or give `aab` and `signer_bin` for
        an app bundle. Everything is checked before the first request. The rules that keep
        it exactly once across runs, jobs and rebuilds are in `storepush.bazaar._rules`.
        While it runs it holds this app's lease (`if_busy`: wait up to `busy_timeout`
        seconds for another publish of the app, or fail at once). `dry_run=True` returns
        the [`PublishPlan`][storepush.bazaar.PublishPlan] the real run would follow.
        """
        if (aab is not None or signer_bin is not None) and apks:
            raise ValidationError("apks", "give APKs or an app bundle, not both")
        if aab is not None or signer_bin is not None:
            bundle, local = parse_bundle(aab, signer_bin), []
        elif apks and all(isinstance(item, LocalApk) for item in apks):
            bundle, local = None, [item for item in apks if isinstance(item, LocalApk)]
        else:
            bundle, local = None, parse_apks(apks)
        fields = check_commit_fields(
            changelog_en=changelog_en,
            changelog_fa=changelog_fa,
            developer_note=developer_note,
            staged_rollout_percentage=staged_rollout_percentage,
            auto_publish=auto_publish,
        )
        policy = check_policy(if_draft_exists)
        busy, wait_up_to = _if_busy(if_busy, busy_timeout)
        publisher = Publisher(
            self,
            apks=local,
            bundle=bundle,
            fields=fields,
            policy=policy,
            journal=journal,
            progress=progress,
            on_event=on_event,
            clock=self.session.clock,
        )
        if dry_run:
            return await publisher.plan()

        def waiting(seconds: float, holder: str) -> None:
            if on_event is not None:
                on_event(
                    Event(
                        "waiting-for-lease",
                        f"another publish of this app is running ({holder}); waiting for it "
                        f"(up to {wait_up_to:.0f}s)",
                        seconds=wait_up_to,
                    )
                )

        lease = await self.session.coordination.acquire(
            f"bazaar-{self.credential_fingerprint}",
            if_busy=busy,
            wait_up_to=wait_up_to,
            on_busy=waiting,
        )
        try:
            return await publisher.run()
        finally:
            await lease.release()

    async def wait_for_publication(
        self,
        sha1s: frozenset[str] | None = None,
        *,
        deadline: float = 3600.0,
        interval: float = 30.0,
        max_interval: float = 300.0,
        on_wait: OnWait | None = None,
    ) -> Release:
        """Poll `last-published` until the release with `sha1s` appears (default: the last
        committed release's packages). Backs off up to `max_interval`; cancellable; raises
        `PublicationTimeoutError` after `deadline` seconds."""
        return await wait_for_publication(
            self,
            sha1s,
            deadline=deadline,
            interval=interval,
            max_interval=max_interval,
            clock=self.session.clock,
            sleep=self.session.sleep,
            on_wait=on_wait,
        )

    async def wait_for_bundle(
        self,
        *,
        deadline: float = 2700.0,
        interval: float | None = None,
        on_wait: OnWait | None = None,
    ) -> Bundle:
        """Poll `bundle-status` until `D`; raise `BundleError` on `E` (see `_wait.py`)."""
        return await wait_for_bundle(
            self,
            deadline=deadline,
            interval=interval,
            clock=self.session.clock,
            sleep=self.session.sleep,
            on_wait=on_wait,
        )

    async def check_access(self) -> AccessReport:
        """Check the token with a read-only call; explain a 403 instead of raising it."""
        try:
            await self.last_published()
        except PermissionDeniedError as exc:
            return AccessReport(False, exc.status, FORBIDDEN_HINT)
        return AccessReport(True, 200, "the token is accepted")
