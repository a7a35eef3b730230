"""The app-bundle part of a publish (beyond the documents; used by working pipelines).

An `.aab` is uploaded, then the `.bin` Bazaar's bundle signer made for it; the store
processes the bundle (one `bundle-status` read a minute, as it asks) and makes the release's
package from it. Every step is settled by reading `bundle-status`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import BadRequestError
from .._settle import Ambiguous, Settled
from ._models import Bundle
from ._preflight import LocalBundle
from ._rules import same_draft
from ._wait import wait_for_bundle

if TYPE_CHECKING:
    from ._publish import Publisher

__all__ = ["upload_bundle"]


async def upload_bundle(self: Publisher, bundle: LocalBundle) -> None:
    """Upload the bundle and its .bin (each settled by `bundle-status`), then wait for the
    store to process it and take the package it makes as this build's."""
    file = self.files[0]
    api = self.api
    # A draft this run created has no bundle: skip the read (the store allows one a minute).
    status = None if self.created_here else await api.bundle_status()
    if status is not None and status.sha1 and file.sha1 is None:
        await file.hash()
    if status is None or (status.sha1 or "").lower() != file.sha1:
        self._event(
            "uploading",
            f"uploading the app bundle {bundle.aab.name}",
            file=bundle.aab.name,
            index=1,
            total=1,
        )

        async def act() -> Bundle:
            self.sent.add(0)
            answer, warnings = await api.upload_aab(bundle, progress=self._tracked())
            self.warnings.extend(warnings)
            return answer

        async def probe() -> Bundle | None:
            if file.sha1 is None:
                await file.hash()
            return await api.bundle_status()

        def judge(found: Bundle | None, exc: Ambiguous) -> Settled[Bundle]:
            if found is not None and (found.sha1 or "").lower() == file.sha1:
                return Settled.ok(found)
            return Settled.fail(exc) if isinstance(exc, BadRequestError) else Settled.again()

        status = await self._settle(act, probe, judge, what="upload the app bundle")
        file.sha1 = (status.sha1 or "").lower() or file.sha1
    if status.state in (None, "U"):
        self._event("uploading", f"uploading the signer's file {bundle.signer.name}")

        async def send_bin() -> Bundle:
            return await api.upload_bin(bundle)

        def judge_bin(found: Bundle | None, exc: Ambiguous) -> Settled[Bundle]:
            if found is not None and found.state not in (None, "U"):
                return Settled.ok(found)
            return Settled.fail(exc) if isinstance(exc, BadRequestError) else Settled.again()

        await self._settle(send_bin, api.bundle_status, judge_bin, what="upload the bundle's .bin")
    self._event("processing", "waiting for the store to process the bundle")

    def next_check(seconds: float) -> None:
        self._event(
            "processing",
            f"waiting for bundle processing: next check in {seconds:.0f}s",
            seconds=seconds,
        )

    await wait_for_bundle(api, clock=self._clock, on_wait=next_check)
    # The store makes the release's package from the bundle. The emulator gives it the
    # .aab's SHA-1; should the live store not, the package with the bundle's version code
    # is this build's.
    draft = await api.last_uncommitted()
    if (
        draft is not None
        and same_draft(draft, self.draft_id)
        and not any(p.sha1 == file.sha1 for p in draft.packages)
    ):
        made = [
            p
            for p in draft.packages
            if p.sha1 not in self.accepted
            and (file.version_code is None or p.version_code == file.version_code)
        ]
        if len(made) == 1:
            self.warnings.append(
                f"the store's package for the bundle has SHA-1 {made[0].sha1}, "
                "not the .aab's; it is taken as this build's"
            )
            file.sha1 = made[0].sha1
