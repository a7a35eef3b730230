"""The end of a publish: the commit, and what its answer says.

The commit applies to whatever draft exists when it arrives; the store's API has no way to
say "commit *this* release". So the draft is checked just before (by the caller), the answer
is checked after, and an answer that is not this build is explained plainly: a release that
mixes two builds (another publisher uploaded into the draft in between), or a commit that
reached another publisher's draft.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import BadRequestError, ConcurrentPublishError, IntegrityError
from .._settle import Ambiguous, Settled
from ._models import Release
from ._results import PublishResult
from ._rules import StepKind, judge_commit_answer, judge_draft, same_draft
from ._steps import COMMIT_GRACE, Recheck, finish_on_interrupt

if TYPE_CHECKING:
    from ._publish import Publisher

__all__ = ["commit", "is_ours", "raise_if_mixed"]


async def commit(self: Publisher) -> PublishResult:
    """Commit the draft (it was just checked to hold exactly this build), settled by
    reading the draft and the last committed release; check the answer is this build."""
    self._event("committing", "committing (sending for review)")
    ours = self.ours()
    # Whether a commit of ours may have acted: if every attempt was refused (400) and the state
    # shows the draft committed all the same, another publisher (a twin job) committed it.
    ours_may_have_acted = False
    by_other = False

    async def act() -> Release:
        return await finish_on_interrupt(self.api.commit(self.fields), COMMIT_GRACE)

    async def probe() -> tuple[Release | None, Release | None]:
        return await self.api.last_uncommitted(), await self.api.last_committed()

    def judge(state: tuple[Release | None, Release | None], exc: Ambiguous) -> Settled[Release]:
        nonlocal ours_may_have_acted, by_other
        draft, committed = state
        if not isinstance(exc, BadRequestError):
            ours_may_have_acted = True
        if committed is not None and is_ours(self, committed):
            by_other = not ours_may_have_acted
            return Settled.ok(committed)
        if draft is not None and same_draft(draft, self.draft_id):
            step = judge_draft(draft, expected=self.draft_id, ours=ours, accepted=self.accepted)
            if step.kind is StepKind.COMMIT:
                return Settled.fail(exc) if isinstance(exc, BadRequestError) else Settled.again()
        return Settled.fail(Recheck())

    release = await self._settle(act, probe, judge, what="commit the release")
    if not judge_commit_answer(release, ours, self.accepted):
        committed = await self.api.last_committed()
        if committed is None or not is_ours(self, committed):
            raise_if_mixed(self, committed, we_committed=True)
            got = ", ".join(sorted(release.sha1s)) or "no package"
            if release.sha1s and not release.sha1s & {f.sha1 for f in self.files}:
                raise ConcurrentPublishError(
                    f"the commit this run sent reached another publisher's draft ({got}): "
                    "its draft was replaced between this run's last check and its commit. "
                    "Nothing of this build was committed; check the app in the console"
                )
            raise IntegrityError(
                f"the commit's answer describes another release ({got}), and the last "
                "committed release is not this build either: check the app in the console"
            )
        release = committed
    if by_other:
        return self._already(release, by_other=True)
    self._event("committed", "committed")
    return self._result(release)


def raise_if_mixed(
    self: Publisher, committed: Release | None, *, we_committed: bool = False
) -> None:
    """Raise if `committed` holds some of this build's packages among another build's.

    The store's API cannot prevent it: a package uploaded into a draft between a
    publisher's last look at it and its commit (one request's time) is committed with it.
    Whichever side we are on, say so plainly.
    """
    if committed is None:
        return
    ours = {f.sha1 for f in self.files if f.sha1 is not None}
    if not ours & committed.sha1s:
        return
    others = [p for p in committed.packages if p.sha1 not in ours]
    if not others:
        missing = len(self.files) - len(ours & committed.sha1s)
        raise ConcurrentPublishError(
            f"a release holding only part of this build ({missing} package(s) missing) "
            "was committed by another publisher's commit, which reached this run's draft: "
            "check it in the console, then publish the next build"
        )
    what = ", ".join(f"version {p.version_code} (sha1 {p.sha1[:12]}…)" for p in others)
    shared = ours & committed.sha1s
    sent = {self.files[i].sha1 for i in self.sent}
    if not we_committed and None not in sent and not shared & sent:
        # none of the shared files came from this run: it is the other build's own release,
        # which shares files (the same SHA-1) with this one
        raise ConcurrentPublishError(
            f"another publisher committed its build meanwhile ({what}, and {len(shared)} "
            "file(s) that this build has too, the same SHA-1); nothing this run sent is in "
            "it, and this build was not committed. Publishing it needs version codes above "
            "the committed ones"
        )
    raise ConcurrentPublishError(
        f"the committed release holds this build's packages together with another build's "
        f"({what}): another publisher's upload reached the draft in the instant between the "
        "last check of it and the commit (the store's commit cannot be made conditional, so "
        "this is reported, not prevented). A committed release cannot be changed through the "
        "API: check it in the Pishkhan console; the next publish of either build needs "
        "version codes above the ones committed"
    )


def is_ours(self: Publisher, committed: Release) -> bool:
    return judge_commit_answer(committed, self.ours(), self.accepted) and same_draft(
        committed, self.draft_id
    )
