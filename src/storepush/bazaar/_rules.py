"""Exactly once: every rule of "which release is ours", as pure functions. No I/O.

The workflow (`_publish.py`) reads the store's state before each write and asks these
functions what to do; each has a table test. They are the whole protocol, and they rest on
the store alone, so they hold between publishers that share nothing (other hosts, other tools).

Invariants:

1. An app never gets two committed releases holding the same package (SHA-1).
2. An app never gets a package whose version code is not above the highest version code
   already committed or published for the same architecture. A package's architecture is the
   set of ABIs of its native libraries; one without any is for `all`, which is compared with
   every architecture (and every architecture with it); ABI sets that overlap are the same
   architecture. So per-ABI schemes (arm64 = 2000 + v, v7 = 1000 + v) keep working, while a
   re-run of an older job or a rebuild with the same version code is refused before any write.
3. A re-run of a publish that already landed reports it as already committed.

Which draft is ours (the store's one uncommitted release has no owner field, and every upload
and commit applies to whatever draft exists at that moment):

- **no draft**: create one. This run is its *creator*.
- **a draft holding only our packages** (by SHA-1): ours, from an interrupted run or a twin job
  publishing the same build. Resume it (*owner*); twins share it safely because every step
  settles by SHA-1.
- **an empty draft**: it carries no build, so nothing can be lost by using it. A dead run
  leaves one (killed after create), and the next run must not be blocked by it, on the same
  machine or a fresh CI runner: *adopt* it. If it was in fact a live publisher's, that one
  (its creator) will see our package in its draft: a creator or owner that finds another
  build's package deletes the draft and starts again; an adopter that finds one backs off with
  `ConcurrentPublishError`. So a live creator's draft is never stolen, and a dead run's never
  blocks.
- **a draft holding other packages**: another build's. Refused (`DraftExistsError`) unless the
  policy says `reuse` (add to it; those packages are then accepted in the release) or
  `replace` (delete it, then create).
- Before each upload and before the commit the draft is read again: gone or replaced (another
  creation date) means another publisher took it (we stop, unless our packages were committed
  by a twin); a foreign package means it is contested (see above). One read is saved: the
  first upload goes on the draft as this run last saw it (its own create's answer, or the
  start's read of the draft it resumes), since nothing but the after-create check of the
  committed release lies between; a contest in that instant is found at the next read, before
  the next upload or the commit, and judged the same way. The commit always follows a read.
- After create, the last committed release is read again: our build committed meanwhile by a
  twin means we delete the draft we just made and report it as already committed.
- Every ambiguous answer (an unknown outcome, any 400) is settled by reading the state, never
  by matching the server's message.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from .._errors import DraftExistsError, VersionCodeError
from ._models import ALL_ABIS, Package, Release
from ._preflight import CommitFields

__all__ = [
    "Conflict",
    "CreateAnswer",
    "Ours",
    "Role",
    "Start",
    "StartKind",
    "Step",
    "StepKind",
    "already_there",
    "commit_differences",
    "committed_check_due",
    "contaminated",
    "hashes_needed",
    "holds_ours",
    "judge_after_create",
    "judge_commit_answer",
    "judge_create_answer",
    "judge_draft",
    "judge_start",
    "may_go_on_known_draft",
    "on_contested",
    "on_lost",
    "version_conflicts",
    "wait_before_using",
]

#: A creator or owner deletes a contested draft and starts again at most this many times.
MAX_RESTARTS = 3


@dataclass(frozen=True, slots=True)
class Ours:
    """One of our packages as the rules see it: version code, ABIs, SHA-1 (once known)."""

    label: str
    version_code: int | None
    abis: frozenset[str]
    sha1: str | None


class Role(enum.Enum):
    """How this run came to work in the draft it fills."""

    CREATOR = "created"  #: this run created it (or the local journal says an earlier one did)
    OWNER = "resumed"  #: it held only our packages when we found it
    ADOPTER = "adopted"  #: it was empty, of unknown origin
    REUSER = "reused"  #: it held other packages, which the `reuse` policy accepted


def _overlap(a: frozenset[str], b: frozenset[str]) -> bool:
    return a == ALL_ABIS or b == ALL_ABIS or bool(a & b)


def _sha1s(ours: Sequence[Ours]) -> frozenset[str] | None:
    known = [o.sha1 for o in ours]
    if any(s is None for s in known):
        return None
    return frozenset(s for s in known if s is not None)


def hashes_needed(ours: Sequence[Ours], packages: Iterable[Package]) -> list[int]:
    """Which of our packages need a SHA-1 before `packages` (store packages) can be compared
    with them: those whose version code one of them shares (or cannot be told)."""
    codes = {p.version_code for p in packages}
    if not codes:
        return []
    return [
        index
        for index, own in enumerate(ours)
        if own.sha1 is None
        and (own.version_code is None or None in codes or own.version_code in codes)
    ]


def already_there(release: Release | None, ours: Sequence[Ours]) -> bool:
    """Whether `release` holds exactly our packages (so this build is already committed)."""
    if release is None or not release.packages:
        return False
    expected = _sha1s(ours)
    return expected is not None and release.sha1s == expected


@dataclass(frozen=True, slots=True)
class Conflict:
    """One of our packages whose version code the store already has, or has passed."""

    ours: Ours
    theirs: Package
    where: str  #: "committed" or "published"

    def describe(self) -> str:
        same_code = self.theirs.version_code == self.ours.version_code
        if same_code and self.ours.sha1 is not None and self.theirs.sha1 == self.ours.sha1:
            what = "this same file is already there, in a release with other packages"
        elif same_code:
            what = (
                f"version code {self.ours.version_code} is already {self.where} with SHA-1 "
                f"{self.theirs.sha1} (this file is {self.ours.sha1 or 'another build'}: a "
                "rebuild with the same version code?)"
            )
        else:
            what = (
                f"version code {self.ours.version_code} is not above {self.theirs.version_code},"
                f" already {self.where} with SHA-1 {self.theirs.sha1} (a re-run of an older job?)"
            )
        return f"{self.ours.label}: {what}"


def version_conflicts(
    ours: Sequence[Ours], store: Sequence[tuple[str, Release | None]]
) -> list[Conflict]:
    """Invariant 2: our packages whose version code is not above the store's for their
    architecture. `store` pairs a label ("committed", "published") with a release."""
    found: list[Conflict] = []
    for own in ours:
        if own.version_code is None:
            continue
        for where, release in store:
            for theirs in release.packages if release else ():
                code = theirs.version_code
                if code is None or code < own.version_code:
                    continue
                if not _overlap(own.abis, theirs.abis):
                    continue
                found.append(Conflict(own, theirs, where))
                break
            else:
                continue
            break
    return found


def _version_error(conflicts: Sequence[Conflict]) -> VersionCodeError:
    return VersionCodeError(
        "refused before any change: "
        + "; ".join(c.describe() for c in conflicts)
        + ". Raise versionCode above the store's and build again (a committed release cannot"
        " be replaced through the API)"
    )


def _describe(release: Release) -> str:
    if not release.packages:
        return "no package"
    return ", ".join(
        f"version {p.version_code} (sha1 {p.sha1_hash[:12]}…)" for p in release.packages
    )


class StartKind(enum.Enum):
    ALREADY = "already committed"
    REFUSE = "refuse"
    CREATE = "create"
    REPLACE = "replace"
    USE = "use the draft"


@dataclass(frozen=True, slots=True)
class Start:
    """What to do first, given the store's state."""

    kind: StartKind
    release: Release | None = None  #: the committed release (ALREADY) or the draft (USE, REPLACE)
    role: Role | None = None  #: USE: how we use the draft
    error: Exception | None = None  #: REFUSE
    accepted: frozenset[str] = frozenset()  #: USE with REUSER: the foreign SHA-1s accepted


def judge_start(
    *,
    draft: Release | None,
    committed: Release | None,
    published: Release | None,
    ours: Sequence[Ours],
    policy: str,
    journal_mine: bool = False,
) -> Start:
    """The first decision of a publish (read the draft first, then the releases: a draft
    committed between the two reads is then seen as committed, never missed).

    Only the *last committed* release can make this build "already committed": when the last
    published one is this build but a newer one was committed since, this is the re-run of an
    older job, and it is refused like any other (invariant 2).
    """
    if already_there(committed, ours):
        return Start(StartKind.ALREADY, committed)
    conflicts = version_conflicts(ours, [("committed", committed), ("published", published)])
    if conflicts:
        return Start(StartKind.REFUSE, error=_version_error(conflicts))
    if draft is None:
        return Start(StartKind.CREATE)
    if policy == "replace":
        return Start(StartKind.REPLACE, draft)
    if not draft.packages:
        return Start(StartKind.USE, draft, Role.CREATOR if journal_mine else Role.ADOPTER)
    mine = {o.sha1 for o in ours if o.sha1 is not None}
    foreign = frozenset(p.sha1 for p in draft.packages if p.sha1 not in mine)
    if not foreign:
        return Start(StartKind.USE, draft, Role.OWNER)
    if policy == "reuse":
        return Start(StartKind.USE, draft, Role.REUSER, accepted=foreign)
    when = draft.creation_date
    created = f" (created {when.isoformat(' ', 'seconds')}, store time)" if when else ""
    theirs = Release(packages=[p for p in draft.packages if p.sha1 in foreign])
    shared = len(draft.packages) - len(theirs.packages)
    also = f" (it also holds {shared} file(s) of this build)" if shared else ""
    error = DraftExistsError(
        f"the app already has an uncommitted release{created} holding another build's "
        f"package(s): {_describe(theirs)}{also}. Another publish may be running (then run "
        "again once it is done), or an earlier one of another build stopped before its commit"
    ).with_remedies(
        ("if_draft_exists", "reuse", "add this build to it"),
        ("if_draft_exists", "replace", "delete it first"),
    )
    return Start(StartKind.REFUSE, draft, error=error)


class AfterCreate(enum.Enum):
    GO_ON = "go on"
    ALREADY = "already committed"  #: delete our new draft: a twin committed this build
    REFUSE = "refuse"  #: delete our new draft: another build was committed meanwhile


def judge_after_create(committed: Release | None, ours: Sequence[Ours]) -> AfterCreate:
    """Since the start's read (our create came after it): was this build, or a newer one,
    committed in the meantime?"""
    if already_there(committed, ours):
        return AfterCreate.ALREADY
    if version_conflicts(ours, [("committed", committed)]):
        return AfterCreate.REFUSE
    return AfterCreate.GO_ON


class CreateAnswer(enum.Enum):
    ADOPT = "adopt"  #: a draft is there after an unknown outcome: ours or a twin's, adopt it
    AGAIN = "again"  #: no draft after an unknown outcome: the create never landed, send again
    REJUDGE = "rejudge"  #: refused: the state changed since the start's reads, judge it anew


def judge_create_answer(draft: Release | None, *, refused: bool) -> CreateAnswer:
    """A create whose outcome is unknown (`refused`: a 400 came back; else the answer was
    lost), and the draft read after it.

    A refusal is never final here: a 400 to a create means a draft was there when the store
    received it, and whatever became of that draft since (still filling, committed by a
    twin, deleted by one backing off) is for the start's rules to judge, read again, not
    for this answer's text. Only a create that keeps being refused with nothing to explain
    it is an error (the publisher's restart bound says when).
    """
    if refused:
        return CreateAnswer.REJUDGE
    return CreateAnswer.AGAIN if draft is None else CreateAnswer.ADOPT


class StepKind(enum.Enum):
    UPLOAD = "upload"  #: upload `index`
    COMMIT = "commit"  #: the draft holds exactly what it should
    LOST = "lost"  #: the draft is gone or was replaced
    CONTESTED = "contested"  #: another build's package is in it


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    index: int = -1
    foreign: tuple[Package, ...] = ()


def same_draft(draft: Release, expected: datetime | None) -> bool:
    """Whether `draft` is the draft we work in (by creation date, when the store gives one)."""
    return expected is None or draft.creation_date is None or draft.creation_date == expected


def judge_draft(
    draft: Release | None,
    *,
    expected: datetime | None,
    ours: Sequence[Ours],
    accepted: frozenset[str] = frozenset(),
) -> Step:
    """Before each upload and before the commit: what the draft, read just now, calls for.

    Our packages whose SHA-1 is not known yet count as missing unless the draft holds a package
    with their version code (the caller hashes those first: `hashes_needed`).
    """
    if draft is None or not same_draft(draft, expected):
        return Step(StepKind.LOST)
    mine = {o.sha1 for o in ours if o.sha1 is not None}
    foreign = tuple(p for p in draft.packages if p.sha1 not in mine and p.sha1 not in accepted)
    if foreign:
        return Step(StepKind.CONTESTED, foreign=foreign)
    present = draft.sha1s
    for index, own in enumerate(ours):
        if own.sha1 is None or own.sha1 not in present:
            return Step(StepKind.UPLOAD, index)
    return Step(StepKind.COMMIT)


def committed_check_due(
    owed: bool, step: StepKind, *, refused: bool = False, completes: bool = False
) -> bool:
    """Whether to read the last committed release now, if that read is still `owed` since
    this run's create (a twin may have committed this build between the start's read and the
    create).

    Right after the upload that `completes` this build in the draft, so that the draft's last
    read still comes one request before the commit; at once when the store refuses an upload
    (`refused`: a version code a twin committed meanwhile is refused at upload, and that is
    "already committed", not an error); and, if neither happened (a draft filled by another
    run of this build), just before the commit. Not right after the create: two reads of
    `last-committed` a round trip apart draw a per-endpoint quota's 429.
    """
    if not owed:
        return False
    if step is StepKind.UPLOAD:
        return refused or completes
    return step is StepKind.COMMIT


def may_go_on_known_draft(step: Step) -> bool:
    """Whether `step`, judged on the draft as this run last saw it rather than on a fresh read,
    may go ahead: an upload may; a commit (which must follow a read of exactly our packages),
    and anything else, reads the draft first."""
    return step.kind is StepKind.UPLOAD


def wait_before_using(role: Role) -> bool:
    """Whether a draft found at the start must be watched a moment, and read again, before
    this run writes anything into it.

    A draft this run cannot prove it made (an empty one it adopts, one holding only packages
    of this build, one it reuses) may be a live publisher's, whose first upload has not landed
    yet: writing into it at once (an upload, a commit) could land between that publisher's
    last check and its commit, and mix two builds in one release. After a pause, the live
    publisher's package shows (and the draft is then contested), or the draft is still as it
    was (and the run it came from is most likely gone). Only a draft the journal says this
    job created goes on at once.
    """
    return role is not Role.CREATOR


def holds_ours(draft: Release | None, ours: Sequence[Ours]) -> bool:
    """Whether `draft` holds a package of this build (by SHA-1, of the files hashed so far)."""
    return draft is not None and bool(draft.sha1s & {o.sha1 for o in ours if o.sha1})


def contaminated(draft: Release, ours: Sequence[Ours], accepted: frozenset[str]) -> bool:
    """Whether `draft` holds a package of this build beside one of another build that this
    run did not accept: a draft no publisher keeping these rules will commit (each one's
    check before its commit refuses a foreign package), so it may be deleted by whoever put
    a package in it."""
    mine = {o.sha1 for o in ours if o.sha1}
    return holds_ours(draft, ours) and bool(draft.sha1s - mine - accepted)


def on_lost(role: Role, restarts: int, *, entangled: bool = False) -> bool:
    """Whether to start again (True) or stop (False) when the draft this run was filling is
    gone or replaced and this build is not what was committed.

    The same rule as a contest: a creator or owner starts again (a fresh start is judged like
    a re-run, so it is as safe as one: it finds the release committed, or refuses, or creates
    a draft of its own); an adopter or a reuser, whose draft was taken back, backs off, unless
    the draft there now holds a package of this build (`entangled`: an upload of ours landed
    in the draft that replaced ours), which only a fresh start can judge (resume it, or delete
    it), and which left alone would block the next run. Bounded like every restart.
    """
    return on_contested(role, restarts, contaminated=entangled)


def on_contested(role: Role, restarts: int, *, contaminated: bool = False) -> bool:
    """Whether to delete a contested draft and start again (True), or back off (False).

    The creator of a draft, or the owner of one that held only our packages, keeps it; an
    adopter or a reuser backs off, unless its own package is in the draft (`contaminated`):
    that draft is dead for everyone, so it is deleted and this run starts again like its
    maker does (two adopters of one orphaned draft would otherwise both give up). Restarts
    are bounded.
    """
    keeps = role in (Role.CREATOR, Role.OWNER) or contaminated
    return keeps and restarts < MAX_RESTARTS


def judge_commit_answer(
    release: Release, ours: Sequence[Ours], accepted: frozenset[str] = frozenset()
) -> bool:
    """Whether a commit's answer describes our release: exactly our packages (plus those a
    `reuse` accepted)."""
    expected = _sha1s(ours)
    return expected is not None and release.sha1s == expected | accepted


def commit_differences(committed: Release, fields: CommitFields) -> list[str]:
    """What a re-run asked for that differs from what was committed (it cannot be edited
    through the API); fields the store does not report are not compared."""
    asked: dict[str, object] = {
        "changelog_en": fields.changelog_en,
        "changelog_fa": fields.changelog_fa,
        "staged_rollout_percentage": fields.staged_rollout_percentage,
        "auto_publish": fields.auto_publish,
    }
    found: list[str] = []
    for name, wanted in asked.items():
        have = getattr(committed, name)
        if have is None or (isinstance(wanted, str) and have.strip() == wanted.strip()):
            continue
        if have != wanted:
            found.append(name)
    return found
