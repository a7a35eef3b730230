"""Publishing a release exactly once: the I/O that carries out `_rules.py`.

The workflow depends only on [`PishkhanAPI`][storepush.bazaar.PishkhanAPI], a narrow
protocol of endpoint methods: `BazaarClient` is one; the tests' in-memory fake over the
emulator's state model is another, which lets every interleaving of two or three publishers
be checked quickly. It reads the state before each write, asks a pure rule what to do, and
settles every ambiguous write by reading the state again (`_settle.settle`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from .._errors import (
    BadRequestError,
    ConcurrentPublishError,
    IntegrityError,
    StorePushError,
    VersionCodeError,
    WorkflowError,
)
from .._events import Event, OnEvent, Phase
from .._scrub import get_logger
from .._settle import Ambiguous, Settled, settle, settle_bound
from .._stats import track_calls
from .._uploads import ProgressCallback, ProgressTracker
from ._bundle import upload_bundle
from ._commit import commit, raise_if_mixed
from ._models import ALL_ABIS, Package, Release
from ._ports import DraftAction, DraftJournal, DraftPolicy, PishkhanAPI
from ._preflight import CommitFields, LocalApk, LocalBundle
from ._results import PublishPlan, PublishResult
from ._rules import (
    MAX_RESTARTS,
    AfterCreate,
    CreateAnswer,
    Ours,
    Role,
    Start,
    StartKind,
    StepKind,
    already_there,
    commit_differences,
    committed_check_due,
    contaminated,
    hashes_needed,
    holds_ours,
    judge_after_create,
    judge_create_answer,
    judge_draft,
    judge_start,
    may_go_on_known_draft,
    on_contested,
    on_lost,
    same_draft,
    version_conflicts,
    wait_before_using,
)
from ._steps import (
    LocalFile,
    Recheck,
    Rejudge,
    Restart,
    contest_pause,
)

__all__ = ["Publisher"]

log = get_logger("storepush.bazaar")
T = TypeVar("T")
S = TypeVar("S")
#: How a run that found a draft came to use it (a draft the journal says we created is resumed).
_ACTIONS: dict[Role, DraftAction] = {
    Role.CREATOR: "resumed",
    Role.OWNER: "resumed",
    Role.ADOPTER: "adopted",
    Role.REUSER: "reused",
}
#: Rounds of "read the draft, do one thing" a publish may take before it gives up.
MAX_STEPS = 40


class Publisher:
    """One publish of one app. Not reusable: make one per publish."""

    def __init__(
        self,
        api: PishkhanAPI,
        *,
        apks: Sequence[LocalApk] = (),
        bundle: LocalBundle | None = None,
        fields: CommitFields | None = None,
        policy: DraftPolicy = "fail",
        journal: DraftJournal | None = None,
        progress: ProgressCallback | None = None,
        on_event: OnEvent | None = None,
        clock: Callable[[], float] = time.monotonic,
        pause: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        if bool(apks) == (bundle is not None):
            raise ValueError("give APKs or a bundle")
        self.api = api
        self.settle_bound = settle_bound(api)
        self.apks = list(apks)
        self.bundle = bundle
        self.fields = fields or CommitFields()
        self.policy = policy
        self.journal = journal
        self._progress = progress
        self._on_event = on_event
        self._clock = clock
        self._pause = pause or contest_pause
        if bundle is not None:
            self.files = [
                LocalFile("aab", bundle.aab, bundle.aab_identity, bundle.version_code, ALL_ABIS)
            ]
        else:
            self.files = [
                LocalFile(a.field, a.path, a.identity, a.version_code, a.abis) for a in self.apks
            ]
        self.role: Role = Role.CREATOR
        self.draft_id: datetime | None = None
        self.accepted: frozenset[str] = frozenset()
        self.action: DraftAction = "created"
        self.created_here = False
        #: Whether the last committed release is still to be read since this run's create.
        self.committed_check_owed = False
        #: The draft as this run knows it without reading it again: its own create's answer,
        #: or the start's read of a draft it resumes (see `may_go_on_known_draft`).
        self.known_draft: Release | None = None
        self.restarts = 0
        #: the files this run has sent (or began to send) into a draft, by index
        self.sent: set[int] = set()
        self.reconciled = 0
        self.upload_attempts = 0
        self.bytes_sent = 0
        self.warnings: list[str] = []
        self.foreign: list[Package] = []

    # -- what the rules see -------------------------------------------------------------------

    def ours(self) -> list[Ours]:
        return [Ours(f.label, f.version_code, f.abis, f.sha1) for f in self.files]

    async def _know(self, packages: Iterable[Package]) -> None:
        """Hash the files whose SHA-1 the rules need to compare with `packages`."""
        for index in hashes_needed(self.ours(), list(packages)):
            await self.files[index].hash()

    def _event(self, phase: Phase, text: str, **extra: Any) -> None:
        log.info("%s", text)
        if self._on_event is not None:
            self._on_event(Event(phase, text, **extra))

    async def _settle(
        self,
        act: Callable[[], Awaitable[T]],
        probe: Callable[[], Awaitable[S]],
        judge: Callable[[S, Ambiguous], Settled[T]],
        *,
        what: str,
    ) -> T:
        """`settle` one write of this run: counted, and bounded as its session allows."""

        def counted() -> None:
            self.reconciled += 1

        return await settle(
            act, probe, judge, what=what, on_settle=counted, bound=self.settle_bound
        )

    def _tracked(self) -> ProgressCallback:
        """Count attempts and bytes of one file's upload, then pass progress on."""
        tracker = ProgressTracker()
        user = self._progress

        def report(sent: int, total: int) -> None:
            attempts = tracker.attempts
            self.bytes_sent += tracker.update(sent, total)
            self.upload_attempts += tracker.attempts - attempts
            if user is not None:
                user(sent, total)

        return report

    # -- the run ----------------------------------------------------------------------------

    async def _read_start(self) -> tuple[Release | None, Release | None, Release | None]:
        # The draft first, then the releases: a draft committed between the two reads is seen
        # as committed. Reading them the other way round left a window (the double release).
        draft = await self.api.last_uncommitted()
        committed = await self.api.last_committed()
        published = await self.api.last_published()
        await self._know(
            [p for r in (draft, committed, published) if r is not None for p in r.packages]
        )
        return draft, committed, published

    async def _start(self) -> Start:
        """The first decision, the same for the dry run and the real run."""
        draft, committed, published = await self._read_start()
        return judge_start(
            draft=draft,
            committed=committed,
            published=published,
            ours=self.ours(),
            policy=self.policy,
            journal_mine=self._journal_mine(draft),
        )

    async def plan(self) -> PublishPlan:
        """The dry run: the first decision of the real run, without any write."""
        start = await self._start()
        if start.kind is StartKind.REFUSE:
            assert start.error is not None
            raise start.error
        if start.kind is StartKind.ALREADY:
            return PublishPlan("already committed", start.release)
        if start.kind is StartKind.USE:
            assert start.role is not None
            assert start.release is not None
            verb = {"created": "resume", "resumed": "resume", "adopted": "adopt"}
            action = verb.get(start.role.value, "reuse")
            foreign = [p for p in start.release.packages if p.sha1 in start.accepted]
            return PublishPlan(action, start.release, foreign)
        return PublishPlan(start.kind.value)

    def _journal_mine(self, draft: Release | None) -> bool:
        return draft is not None and self.journal is not None and self.journal.is_mine(draft)

    async def run(self) -> PublishResult:
        started = time.monotonic()
        with track_calls() as calls:
            result = await self._run()
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

    async def _run(self) -> PublishResult:
        unexplained = 0  # creates refused with no draft in sight
        while True:
            self._event("checking", "checking the store's state")
            self.known_draft = None
            self.committed_check_owed = False  # the start reads the last committed release
            self.created_here = False  # a failure cleans up only a draft made since the start
            start = await self._start()
            try:
                if start.kind is StartKind.ALREADY:
                    assert start.release is not None
                    return self._already(start.release, by_other=False)
                if start.kind is StartKind.REFUSE:
                    assert start.error is not None
                    raise start.error
                if start.kind is StartKind.REPLACE:
                    await self._delete("delete the draft to replace it")
                    await self._create()
                    self.action = "replaced"
                elif start.kind is StartKind.CREATE:
                    await self._create()
                else:
                    assert start.release is not None
                    assert start.role is not None
                    self.role, self.accepted = start.role, start.accepted
                    self.draft_id = start.release.creation_date
                    self.action = _ACTIONS[start.role]
                    self.foreign = [p for p in start.release.packages if p.sha1 in self.accepted]
                    self.known_draft = start.release
                    self._event("using-draft", f"using the draft found ({self.action})")
                    if wait_before_using(start.role):
                        self._event(
                            "using-draft",
                            "the draft may be another publisher's, still being filled: "
                            "watching it a moment before writing into it",
                        )
                        await self._pause()
                        self.known_draft = None  # read it again, after the pause
                return await self._fill_and_commit()
            except (Restart, Rejudge) as again:
                self.restarts += 1
                if isinstance(again, Rejudge) and not again.explained:
                    unexplained += 1
                if self.restarts > MAX_RESTARTS:
                    if isinstance(again, Rejudge) and unexplained == self.restarts:
                        # the store kept refusing our create, and its state never said why
                        raise WorkflowError(
                            f"the store refused to create a release {self.restarts} times "
                            f"({again.refusal}), and showed no draft that explains it; "
                            "nothing of this build was committed. Look at the app's releases "
                            "in the Pishkhan console, then run again"
                        ) from again.refusal
                    raise ConcurrentPublishError(
                        "another publisher keeps changing this app's draft; stopped after "
                        f"{self.restarts} attempts, nothing of this build was committed"
                    ) from None
                if isinstance(again, Rejudge):  # (a Restart said why when it was raised)
                    self._event("restarting", "starting again: a draft came or went meanwhile")
            except StorePushError as exc:
                await self._clean_up_after(exc)
                raise

    # -- steps ------------------------------------------------------------------------------

    async def _create(self) -> None:
        """Create our draft (or adopt the one an ambiguous create may have made)."""
        if self.journal is not None:
            self.journal.creating()
        self._event("creating", "creating the draft")
        found: list[Release] = []

        async def act() -> tuple[Release, Role]:
            return await self.api.create_release(), Role.CREATOR

        async def probe() -> Release | None:
            return await self.api.last_uncommitted()

        def judge(draft: Release | None, exc: Ambiguous) -> Settled[tuple[Release, Role]]:
            answer = judge_create_answer(draft, refused=isinstance(exc, BadRequestError))
            if answer is CreateAnswer.REJUDGE:
                assert isinstance(exc, BadRequestError)
                return Settled.fail(Rejudge(exc, explained=draft is not None))
            if answer is CreateAnswer.AGAIN or draft is None:
                return Settled.again()
            found.append(draft)
            # ours, or another publisher's made in the same instant: it cannot be told, so
            # this run only adopts it (it never deletes a draft it cannot prove is its own)
            return Settled.ok((draft, Role.ADOPTER))

        draft, role = await self._settle(act, probe, judge, what="create the release")
        self.role, self.draft_id, self.created_here = role, draft.creation_date, True
        self.known_draft = draft
        if self.journal is not None:
            self.journal.remember(draft)
        # A twin may have committed between the start's read and this create: that is read
        # once, after the uploads (see `committed_check_due`), not here, so that two reads
        # of `last-committed` never come a round trip apart (one per app: a per-endpoint
        # quota of a request or two a second refused the second, for every app of a batch).
        self.committed_check_owed = True

    async def _committed_meanwhile(self) -> PublishResult | None:
        """Read the last committed release once after our create: `None` to go on, the
        result if a twin committed this build, or an error if another build came first."""
        self.committed_check_owed = False
        committed = await self.api.last_committed()
        await self._know(committed.packages if committed else [])
        after = judge_after_create(committed, self.ours())
        if after is AfterCreate.GO_ON:
            return None
        await self._delete_ours()
        assert committed is not None
        if after is AfterCreate.ALREADY:
            return self._already(committed, by_other=True)
        conflicts = version_conflicts(self.ours(), [("committed", committed)])
        raise ConcurrentPublishError(
            "another publisher committed a release while this one ran: "
            + "; ".join(c.describe() for c in conflicts)
            + "; the draft this run created was deleted, nothing of this build was committed"
        )

    async def _delete(self, what: str) -> None:
        async def act() -> None:
            await self.api.delete_release()

        async def probe() -> Release | None:
            return await self.api.last_uncommitted()

        def judge(draft: Release | None, exc: Ambiguous) -> Settled[None]:
            return Settled.ok(None) if draft is None else Settled.again()

        await self._settle(act, probe, judge, what=what)

    async def _delete_ours(self, *, contested: bool = False) -> bool:
        """Delete the draft this run works in, if it still is that draft (and, unless it is
        `contested`, holds nothing of another build). Returns whether it did."""
        draft = await self.api.last_uncommitted()
        if draft is None or not same_draft(draft, self.draft_id):
            return False
        mine = {f.sha1 for f in self.files} | self.accepted
        if not contested and any(p.sha1 not in mine for p in draft.packages):
            return False
        await self._delete("delete this run's draft")
        return True

    async def _clean_up_after(self, exc: StorePushError) -> None:
        """After a failure the next run cannot fix by itself (a changed file, a refusal),
        remove the draft this run created rather than leave it behind."""
        final = isinstance(exc, IntegrityError | VersionCodeError | BadRequestError)
        if not (final and self.created_here):
            return
        try:
            if await self._delete_ours():
                self._event("cleaning-up", "deleted the draft this run created")
        except StorePushError as cleanup:  # the original error is what the caller must see
            log.warning("could not delete this run's draft after a failure: %s", cleanup)

    async def _fill_and_commit(self) -> PublishResult:
        for _ in range(MAX_STEPS):
            step = None
            draft, self.known_draft = self.known_draft, None
            if draft is not None:
                step = judge_draft(
                    draft, expected=self.draft_id, ours=self.ours(), accepted=self.accepted
                )
            if step is None or not may_go_on_known_draft(step):
                draft = await self.api.last_uncommitted()
                await self._know(draft.packages if draft else [])
                step = judge_draft(
                    draft, expected=self.draft_id, ours=self.ours(), accepted=self.accepted
                )
            try:
                if step.kind is StepKind.LOST:
                    return await self._lost(draft)
                if step.kind is StepKind.CONTESTED:
                    assert draft is not None
                    await self._contested(step.foreign, draft)
                elif step.kind is StepKind.UPLOAD:
                    owed = self.committed_check_owed
                    refused: BadRequestError | None = None
                    try:
                        if self.bundle is not None:
                            await upload_bundle(self, self.bundle)
                        else:
                            await self._upload(step.index)
                    except BadRequestError as exc:
                        if not committed_check_due(owed, step.kind, refused=True):
                            raise
                        refused = exc
                    last = step.index == len(self.files) - 1
                    if refused is not None or committed_check_due(owed, step.kind, completes=last):
                        if (early := await self._committed_meanwhile()) is not None:
                            return early
                        if refused is not None:
                            raise refused  # the state does not explain the refusal
                else:
                    due = committed_check_due(self.committed_check_owed, step.kind)
                    if due and (early := await self._committed_meanwhile()) is not None:
                        return early
                    return await commit(self)
            except Recheck:
                continue
        raise WorkflowError(f"the draft did not settle after {MAX_STEPS} rounds")

    async def _lost(self, draft: Release | None) -> PublishResult:
        """The draft this run used is gone (or replaced by `draft`): was this build committed
        meanwhile, or is it to start again, or to stop?"""
        committed = await self.api.last_committed()
        await self._know(committed.packages if committed else [])
        if committed is not None and already_there(committed, self.ours()):
            return self._already(committed, by_other=True)
        raise_if_mixed(self, committed)
        if on_lost(self.role, self.restarts, entangled=holds_ours(draft, self.ours())):
            # deleted under us (a publisher that found our draft holding its package and
            # could not use it, or `replace`): judged from the start, as a re-run would be
            self._event("restarting", "the draft this run was filling is gone: starting again")
            raise Restart
        if (
            committed is not None
            and self.draft_id is not None
            and same_draft(committed, self.draft_id)
        ):
            what = ", ".join(f"version {p.version_code}" for p in committed.packages)
            raise ConcurrentPublishError(
                f"another publisher committed the draft this run was using, with its own "
                f"build ({what or 'no package'}); nothing of this build was committed. Run "
                "again to publish it (it is refused if its version codes are not above those)"
            )
        raise ConcurrentPublishError(
            "the draft this run was using is gone (committed or deleted by another "
            "publisher); nothing of this build was committed. Run again to publish it"
        )

    async def _contested(self, foreign: Sequence[Package], draft: Release) -> None:
        what = ", ".join(f"version {p.version_code} (sha1 {p.sha1[:12]}…)" for p in foreign)
        dead = contaminated(draft, self.ours(), self.accepted)
        if on_contested(self.role, self.restarts, contaminated=dead):
            self._event(
                "restarting",
                f"another build's package ({what}) is in the draft beside this run's: "
                "deleting it and starting again",
            )
            await self._delete_ours(contested=True)
            # While there is no draft, whatever the other publisher has already sent (an
            # upload, a commit) fails harmlessly instead of reaching our next draft.
            await self._pause()
            raise Restart
        left = ""
        if dead and await self._delete_ours(contested=True):
            # our package is in it with another build's: no publisher that keeps these rules
            # will commit that draft, and left there it would block both builds' re-runs
            left = "; the draft held this run's package(s) too, so nobody could commit it: deleted"
        raise ConcurrentPublishError(
            f"another publisher is filling this app's draft with another build ({what}); "
            f"this run backs off and commits nothing{left}. Run again once that publish is done"
        )

    async def _upload(self, index: int) -> None:
        apk, file = self.apks[index], self.files[index]
        self._event(
            "uploading",
            f"uploading {index + 1} of {len(self.apks)}: {apk.path.name}",
            file=apk.path.name,
            index=index + 1,
            total=len(self.apks),
        )

        async def act() -> Package:
            self.sent.add(index)
            return await self.api.upload_apk(apk, progress=self._tracked())

        async def probe() -> Release | None:
            draft = await self.api.last_uncommitted()
            await file.hash()  # the answer was lost: hash what we sent, to find it
            return draft

        def judge(draft: Release | None, exc: Ambiguous) -> Settled[Package]:
            if draft is None or not same_draft(draft, self.draft_id):
                return Settled.fail(Recheck())
            stored = next((p for p in draft.packages if p.sha1 == file.sha1), None)
            if stored is not None:
                return Settled.ok(stored)
            if any(p.version_code == file.version_code for p in draft.packages):
                return Settled.fail(Recheck())  # another build with this version code
            if isinstance(exc, BadRequestError):
                return Settled.fail(exc)  # refused, and the state does not explain it
            return Settled.again()

        package = await self._settle(act, probe, judge, what=f"upload {apk.path.name}")
        file.sha1 = package.sha1

    def _result(
        self, release: Release, *, already: bool = False, by_other: bool = False
    ) -> PublishResult:
        mine = {f.sha1 for f in self.files}
        return PublishResult(
            release,
            [p for p in release.packages if p.sha1 in mine],
            already_committed=already,
            committed_by_other=by_other,
            draft=None if already and not by_other else self.action,
            foreign_packages=self.foreign,
            warnings=self.warnings,
        )

    def _already(self, release: Release, *, by_other: bool) -> PublishResult:
        result = self._result(release, already=True, by_other=by_other)
        result.differences = commit_differences(release, self.fields)
        who = "by another run while this one ran" if by_other else "before"
        self._event("already-committed", f"this build was already committed {who}; nothing sent")
        if result.differences:
            note = (
                "the committed release differs from what this run asked for in "
                + ", ".join(result.differences)
                + "; a committed release cannot be edited through the API"
            )
            log.warning("%s", note)
            result.warnings.append(note)
        return result
