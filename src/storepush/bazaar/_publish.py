"""Publishing a release exactly once, and waiting for it.

:class:`Publisher` runs check -> (re-run?) -> draft policy -> create -> upload each -> commit.
When a step's outcome is unknown (:class:`~storepush.OutcomeUnknownError`: the server may have
acted before failing), it reads the server's state instead of repeating blindly:

* create: a draft that now exists is ours (there was none a moment before);
* upload: a package with our SHA-1 in the draft was stored;
* commit: the last committed release is ours when it is the draft we filled (same creation
  date) or carries exactly our SHA-1s.

A re-run with the same files after success finds them in ``last-committed`` and reports the
release as already committed instead of publishing twice.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import msgspec

from .._errors import (
    BadRequestError,
    BundleError,
    DraftExistsError,
    IntegrityError,
    OutcomeUnknownError,
    PublicationTimeoutError,
    ValidationError,
    WorkflowError,
)
from .._files import check_text
from .._scrub import get_logger
from .._session import track_calls
from .._uploads import ProgressCallback, ProgressTracker
from ._models import Bundle, Package, Release
from ._preflight import ApkFile, BundleFiles, check_apks, check_bundle, check_rollout

if TYPE_CHECKING:
    from ._client import BazaarClient

__all__ = ["DraftJournal", "PublishResult", "Publisher", "wait_for_bundle", "wait_for_publication"]

log = get_logger("storepush.bazaar")

#: How many ambiguous outcomes one step may resolve before giving up.
MAX_RECONCILE = 6
DraftPolicy = Literal["fail", "reuse", "replace"]


class DraftJournal(Protocol):
    """Remembers the drafts a publish created, so a re-run can recognise its own.

    SHA-1s prove a draft holding our packages is ours; nothing proves an *empty* draft is,
    except having written it down. ``creating()`` is called just before a create is sent,
    ``remember(draft)`` once the draft is known: a run cancelled in between (the server may
    have made the draft; the answer never came) leaves the intent, and the journal may then
    claim an empty draft, in which nothing can be lost. The batch command keeps one in a JSON
    file beside the manifest (creation dates and that flag, never a credential).
    """

    def is_mine(self, draft: Release) -> bool: ...

    def creating(self) -> None: ...

    def remember(self, draft: Release) -> None: ...


@dataclass
class PublishResult:
    """What :meth:`BazaarClient.publish` did.

    ``draft`` is ``"created"``, ``"reused"`` (policy reuse), ``"resumed"`` (a draft holding
    only our own packages, left by an interrupted run), or ``"replaced"``.
    ``reconciled`` counts ambiguous outcomes settled by reading the server's state.
    """

    release: Release | None
    packages: list[Package]
    already_committed: bool = False
    dry_run: bool = False
    draft: str = "created"
    foreign_packages: list[Package] = field(default_factory=list)
    reconciled: int = 0
    upload_attempts: int = 0
    bytes_sent: int = 0
    seconds: float = 0.0
    requests: int = 0
    retries: int = 0
    throttled: int = 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (for ``--json`` output and reports)."""
        return {
            "release": msgspec.to_builtins(self.release),
            "packages": [msgspec.to_builtins(p) for p in self.packages],
            "already_committed": self.already_committed,
            "dry_run": self.dry_run,
            "draft": self.draft,
            "foreign_packages": [p.sha1_hash for p in self.foreign_packages],
            "reconciled": self.reconciled,
            "upload_attempts": self.upload_attempts,
            "bytes_sent": self.bytes_sent,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "retries": self.retries,
            "throttled": self.throttled,
        }


def _describe(release: Release) -> str:
    if not release.packages:
        return "no package"
    return ", ".join(
        f"version {p.version_code} (sha1 {p.sha1_hash[:12]}…)" for p in release.packages
    )


class Publisher:
    """One publish of one app. Not reusable: make one per :meth:`BazaarClient.publish` call."""

    def __init__(self, client: BazaarClient, journal: DraftJournal | None = None) -> None:
        self.client = client
        self.journal = journal
        self.reconciled = 0
        self.upload_attempts = 0
        self.bytes_sent = 0

    def _progress(self, user: ProgressCallback | None) -> ProgressCallback:
        """Count attempts and bytes of one file's upload, then pass progress on."""
        tracker = ProgressTracker()

        def report(sent: int, total: int) -> None:
            attempts = tracker.attempts
            self.bytes_sent += tracker.update(sent, total)
            self.upload_attempts += tracker.attempts - attempts
            if user is not None:
                user(sent, total)

        return report

    async def run(
        self,
        apks: Sequence[object],
        *,
        aab: object,
        signer_bin: object,
        changelog_en: str,
        changelog_fa: str,
        developer_note: str,
        staged_rollout_percentage: int,
        auto_publish: bool,
        if_draft_exists: DraftPolicy,
        progress: ProgressCallback | None,
        dry_run: bool,
    ) -> PublishResult:
        started = time.monotonic()
        with track_calls() as calls:
            result = await self._run(
                apks,
                aab,
                signer_bin,
                {
                    "changelog_en": check_text(changelog_en, field="changelog_en", required=False),
                    "changelog_fa": check_text(changelog_fa, field="changelog_fa", required=False),
                    "developer_note": check_text(
                        developer_note, field="developer_note", required=False
                    ),
                    "staged_rollout_percentage": check_rollout(staged_rollout_percentage),
                    "auto_publish": _check_bool(auto_publish),
                },
                _check_policy(if_draft_exists),
                progress,
                dry_run,
            )
        result.reconciled = self.reconciled
        result.upload_attempts = self.upload_attempts
        result.bytes_sent = self.bytes_sent
        result.seconds = time.monotonic() - started
        result.requests, result.retries, result.throttled = (
            calls.requests,
            calls.retries,
            calls.throttled,
        )
        return result

    async def _run(
        self,
        apks: Sequence[object],
        aab: object,
        signer_bin: object,
        commit_fields: dict[str, Any],
        policy: DraftPolicy,
        progress: ProgressCallback | None,
        dry_run: bool,
    ) -> PublishResult:
        client = self.client
        files: list[ApkFile] = []
        bundle: BundleFiles | None = None
        if aab is not None or signer_bin is not None:
            if apks:
                raise ValidationError("apks", "give APKs or an app bundle, not both")
            if aab is None or signer_bin is None:
                raise ValidationError(
                    "aab" if aab is None else "bin",
                    "an app bundle needs both the .aab and the .bin its signer produced",
                )
            bundle = await check_bundle(aab, signer_bin)
            ours = frozenset({bundle.aab_sha1})
        else:
            if not apks:
                raise ValidationError("apks", "nothing to publish", "pass at least one APK")
            files = await check_apks(apks)
            ours = frozenset(f.sha1 for f in files)

        # A re-run after success: the release is already committed.
        committed = await client.last_committed()
        if committed is not None and committed.sha1s == ours:
            log.info("release with these packages is already committed; nothing to do")
            return PublishResult(committed, list(committed.packages), already_committed=True)

        # Refuse a version code that cannot be published, before uploading anything.
        published = await client.last_published()
        floor = max(
            (p.version_code for p in (published.packages if published else []) if p.version_code),
            default=None,
        )
        for index, apk in enumerate(files):
            if floor is not None and apk.version_code is not None and apk.version_code <= floor:
                raise ValidationError(
                    f"apks[{index}]",
                    f"version code {apk.version_code} is not above the last published one "
                    f"({floor})",
                    "raise versionCode and build again",
                )

        draft = await client.last_uncommitted()
        action = "created"
        if draft is not None:
            mine = (bool(draft.packages) and draft.sha1s <= ours) or (
                self.journal is not None and self.journal.is_mine(draft)
            )
            if policy == "replace":
                action = "replaced"
                if not dry_run:
                    await self._delete()
                draft = None
            elif policy == "reuse" or mine:
                action = "reused" if policy == "reuse" else "resumed"
            else:
                raise DraftExistsError(
                    f"the app already has an uncommitted release holding {_describe(draft)}. "
                    "Pass if_draft_exists='reuse' to add to it, 'replace' to delete it first, "
                    "or delete it in the console (storepush bazaar discard)"
                )
        foreign = [p for p in (draft.packages if draft else []) if p.sha1_hash.lower() not in ours]
        if dry_run:
            return PublishResult(None, [], dry_run=True, draft=action, foreign_packages=foreign)
        if foreign:
            log.warning("the reused draft holds %d package(s) not in this publish", len(foreign))

        if draft is None:
            if self.journal is not None:
                self.journal.creating()
            draft = await self._create()
            if self.journal is not None:
                self.journal.remember(draft)
        have = {p.sha1_hash.lower(): p for p in draft.packages}
        if bundle is not None:
            await self._bundle(bundle, progress, fresh=action == "created")
        else:
            for apk in files:
                if apk.sha1 not in have:
                    have[apk.sha1] = await self._upload(apk, progress)
        release = await self._commit(draft, frozenset(have) | ours, commit_fields)
        ours_packages = [p for p in release.packages if p.sha1_hash.lower() in ours]
        return PublishResult(release, ours_packages, draft=action, foreign_packages=foreign)

    # -- steps, each exactly once -----------------------------------------------------------

    def _settle(self, what: str, exc: OutcomeUnknownError) -> None:
        self.reconciled += 1
        if self.reconciled > MAX_RECONCILE * 4:
            raise WorkflowError(f"too many ambiguous answers while trying to {what}") from exc
        log.info("%s: outcome unknown (%s); reading the server's state", what, exc)

    async def _delete(self) -> None:
        for _ in range(MAX_RECONCILE):
            try:
                await self.client.delete_release()
                return
            except OutcomeUnknownError as exc:
                self._settle("delete the draft", exc)
                if await self.client.last_uncommitted() is None:
                    return
        raise WorkflowError("could not delete the draft")

    async def _create(self) -> Release:
        for _ in range(MAX_RECONCILE):
            try:
                return await self.client.create_release()
            except OutcomeUnknownError as exc:
                self._settle("create the release", exc)
                found = await self.client.last_uncommitted()
                if found is not None:
                    return found  # there was none a moment ago: this one is ours
        raise WorkflowError("could not create the release")

    async def _upload(self, apk: ApkFile, progress: ProgressCallback | None) -> Package:
        for _ in range(MAX_RECONCILE):
            try:
                package = await self.client.upload_apk(
                    apk.path, architecture=apk.architecture, progress=self._progress(progress)
                )
            except OutcomeUnknownError as exc:
                self._settle(f"upload {apk.path.name}", exc)
                draft = await self.client.last_uncommitted()
                if draft is None:
                    raise WorkflowError(
                        "the uncommitted release disappeared during the upload"
                    ) from exc
                stored = next((p for p in draft.packages if p.sha1_hash.lower() == apk.sha1), None)
                if stored is not None:
                    return stored
                continue
            if package.sha1_hash.lower() != apk.sha1 and len(package.sha1_hash) == 40:
                raise IntegrityError(f"{apk.path.name} changed after it was checked")
            return package
        raise WorkflowError(f"could not upload {apk.path.name}")

    async def _bundle(
        self, bundle: BundleFiles, progress: ProgressCallback | None, *, fresh: bool
    ) -> None:
        client = self.client
        # A draft we just created has no bundle: skip the read (the store allows one a minute).
        status = None if fresh else await client.bundle_status()
        if status is None or (status.sha1 or "").lower() != bundle.aab_sha1:
            for _ in range(MAX_RECONCILE):
                try:
                    status, _warnings = await client.upload_aab(
                        bundle.aab, progress=self._progress(progress)
                    )
                    break
                except OutcomeUnknownError as exc:
                    self._settle("upload the app bundle", exc)
                    status = await client.bundle_status()
                    if status is not None and (status.sha1 or "").lower() == bundle.aab_sha1:
                        break
            else:
                raise WorkflowError("could not upload the app bundle")
        if status is not None and status.state in (None, "U"):
            for _ in range(MAX_RECONCILE):
                try:
                    await client.upload_bin(bundle.signer)
                    break
                except OutcomeUnknownError as exc:
                    self._settle("upload the bundle's .bin", exc)
                    status = await client.bundle_status()
                    if status is not None and status.state not in (None, "U"):
                        break
            else:
                raise WorkflowError("could not upload the bundle's .bin")
        await client.wait_for_bundle()

    async def _commit(
        self, draft: Release, expected: frozenset[str], fields: dict[str, Any]
    ) -> Release:
        for _ in range(MAX_RECONCILE):
            try:
                return await self.client.commit(**fields)
            except (OutcomeUnknownError, BadRequestError) as exc:
                if isinstance(exc, BadRequestError) and not self.reconciled:
                    raise  # a refusal, not the echo of an earlier ambiguous commit
                if isinstance(exc, OutcomeUnknownError):
                    self._settle("commit the release", exc)
                committed = await self.client.last_committed()
                if committed is not None and _same_release(committed, draft, expected):
                    return committed
                if isinstance(exc, BadRequestError):
                    raise
        raise WorkflowError("could not commit the release")


def _same_release(committed: Release, draft: Release, expected: frozenset[str]) -> bool:
    if committed.creation_date is not None and draft.creation_date is not None:
        return committed.creation_date == draft.creation_date
    return committed.sha1s == expected


def _check_policy(value: object) -> DraftPolicy:
    if value in ("fail", "reuse", "replace"):
        return value
    raise ValidationError("if_draft_exists", f"{value!r} is not a policy", "fail, reuse or replace")


def _check_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("auto_publish", f"must be a bool, not {type(value).__name__}")
    return value


async def wait_for_publication(
    client: BazaarClient,
    sha1s: frozenset[str] | None,
    *,
    deadline: float,
    interval: float,
    max_interval: float,
) -> Release:
    clock, sleep = client.session.clock, client.session.sleep
    if sha1s is None:
        committed = await client.last_committed()
        if committed is None or not committed.packages:
            raise WorkflowError("there is no committed release to wait for")
        sha1s = committed.sha1s
    wanted = frozenset(s.lower() for s in sha1s)
    end = clock() + deadline
    delay = interval
    while True:
        published = await client.last_published()
        if published is not None and wanted and wanted <= published.sha1s:
            return published
        remaining = end - clock()
        if remaining <= 0:
            raise PublicationTimeoutError(
                f"the release was not published within {deadline:.0f}s "
                "(it may be in review, or rejected)"
            )
        await sleep(min(delay, remaining))
        delay = min(max_interval, delay * 1.5)


async def wait_for_bundle(
    client: BazaarClient, *, deadline: float, interval: float | None
) -> Bundle:
    """Poll until D or E. With ``interval`` None the pace is the ``bundle-status`` rate limit's
    (one call a minute by default, as the store asks): one rule, kept in one place."""
    clock, sleep = client.session.clock, client.session.sleep
    end = clock() + deadline
    while True:
        bundle = await client.bundle_status()
        if bundle is None:
            raise WorkflowError("there is no app bundle being processed")
        if bundle.state == "D":
            return bundle
        if bundle.state == "E":
            raise BundleError(
                "Bazaar failed to process the app bundle: " + "; ".join(bundle.errors or ["?"]),
                list(bundle.errors),
            )
        remaining = end - clock()
        if remaining <= 0:
            raise PublicationTimeoutError(
                f"the app bundle was not processed within {deadline:.0f}s (state {bundle.state})"
            )
        await sleep(min(interval, remaining) if interval else 0.0)
