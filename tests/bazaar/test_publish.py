"""publish(): exactly once under faults, draft policies, re-runs, app bundles, and the waits."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from storepush import (
    BazaarClient,
    BundleError,
    DraftExistsError,
    PublicationTimeoutError,
    ValidationError,
    VersionCodeError,
    WorkflowError,
)
from storepush.emulator import Emulator, Faults

from .conftest import TOKEN, SharedClock, only

ApkFactory = Callable[..., Path]


def committed_releases(emu: Emulator) -> list:  # type: ignore[type-arg]
    return [r for r in emu.world.apps[TOKEN].releases if r.committed]


def assert_exactly_once(emu: Emulator, *apks: Path) -> None:
    import hashlib

    releases = emu.world.apps[TOKEN].releases
    assert len(releases) == 1, releases
    [release] = releases
    assert release.committed
    sha1s = sorted(p.sha1_hash for p in release.packages)
    assert sha1s == sorted(hashlib.sha1(a.read_bytes()).hexdigest() for a in apks)


async def test_publish_two_apks(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    a, b = apk_factory(2), apk_factory(3)
    result = await client.publish(
        [(a, "armeabi-v7a"), (b, "arm64-v8a")], changelog_en="hi", auto_publish=True
    )
    assert_exactly_once(emu, a, b)
    assert result.release is not None
    assert result.release.committed
    assert len(result.packages) == 2
    assert result.draft == "created"
    assert result.upload_attempts == 2
    assert result.bytes_sent == a.stat().st_size + b.stat().st_size
    assert result.reconciled == 0
    assert result.requests >= 6
    assert result.to_json()["packages"][0]["sha1_hash"]


async def test_rerun_after_success_publishes_nothing(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    a = apk_factory(2)
    await client.publish([a])
    again = await client.publish([a])
    assert again.already_committed
    assert_exactly_once(emu, a)
    assert emu.counts(endpoint="create") == 1


@pytest.mark.parametrize("endpoint", ["create", "upload", "commit"])
async def test_acted_then_failed_is_settled_by_reading_state(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory, endpoint: str
) -> None:
    a, b = apk_factory(2), apk_factory(3)
    only(emu, endpoints=[endpoint], acted_fail_rate=1.0)
    result = await client.publish([a, b])
    assert_exactly_once(emu, a, b)
    expected = 2 if endpoint == "upload" else 1
    assert result.reconciled == expected
    assert emu.counts(endpoint=endpoint) == expected


async def test_dropped_uploads_and_5xx_and_429(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    apks = [apk_factory(code) for code in range(2, 6)]
    emu.set_faults(
        Faults(seed=4, drop_rate=0.3, error_rate=0.2, throttle_rate=0.2, acted_fail_rate=0.2)
    )
    result = await client.publish(apks)
    assert_exactly_once(emu, *apks)
    faults = {entry["fault"] for entry in emu.log}
    assert {"drop", "error", "throttle"} <= faults
    assert result.retries + result.reconciled > 0


async def test_draft_policy_fail(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    await client.create_release()
    await client.upload_apk(apk_factory(7, seed=99))
    with pytest.raises(DraftExistsError) as info:
        await client.publish([apk_factory(2)])
    message = str(info.value)
    assert "version 7" in message
    assert "reuse" in message
    assert "replace" in message
    assert emu.counts(endpoint="upload") == 1  # nothing more was sent


async def test_draft_policy_replace(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    await client.create_release()
    await client.upload_apk(apk_factory(7, seed=99))
    a = apk_factory(2)
    result = await client.publish([a], if_draft_exists="replace")
    assert result.draft == "replaced"
    assert_exactly_once(emu, a)


async def test_draft_policy_reuse_keeps_foreign_packages(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    await client.create_release()
    foreign = await client.upload_apk(apk_factory(7, seed=99))
    a = apk_factory(2)
    result = await client.publish([a], if_draft_exists="reuse")
    assert result.draft == "reused"
    assert [p.sha1_hash for p in result.foreign_packages] == [foreign.sha1_hash]
    [release] = committed_releases(emu)
    assert len(release.packages) == 2


async def test_interrupted_run_is_resumed(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    a, b = apk_factory(2), apk_factory(3)
    await client.create_release()
    await client.upload_apk(a)  # the earlier run stopped here
    result = await client.publish([a, b])
    assert result.draft == "resumed"
    assert result.upload_attempts == 1
    assert_exactly_once(emu, a, b)


async def test_version_code_refused_before_uploading(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory, shared_clock: SharedClock
) -> None:
    await client.publish([apk_factory(5)], auto_publish=True)
    shared_clock.now += 200
    assert await client.last_published() is not None
    before = emu.counts(endpoint="upload")
    with pytest.raises(VersionCodeError, match="rebuild with the same version code") as info:
        await client.publish([apk_factory(5, seed=42)])
    assert "apks[0]" in str(info.value)
    with pytest.raises(VersionCodeError, match="not above 5"):
        await client.publish([apk_factory(4)])
    assert emu.counts(endpoint="upload") == before
    assert emu.counts(endpoint="create") == 1


async def test_dry_run_sends_no_change(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    plan = await client.publish([apk_factory(2)], dry_run=True)
    assert plan.action == "create"
    assert plan.to_json()["dry_run"] is True
    assert {e["method"] for e in emu.log} == {"GET"}
    assert emu.world.apps[TOKEN].releases == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"apks": []}, "apks"),
        ({"apks": "one.apk"}, "apks"),
        ({"apks": ["missing.apk"]}, "apks[0]"),
        ({"if_draft_exists": "maybe"}, "if_draft_exists"),
        ({"auto_publish": "yes"}, "auto_publish"),
        ({"changelog_en": 5}, "changelog_en"),
        ({"staged_rollout_percentage": 0}, "staged_rollout_percentage"),
        ({"aab": "x.aab"}, "bin"),
    ],
)
async def test_bad_input_sends_nothing(
    client: BazaarClient,
    emu: Emulator,
    apk_factory: ApkFactory,
    kwargs: dict[str, object],
    field: str,
) -> None:
    call: dict[str, object] = {"apks": [apk_factory(2)], **kwargs}
    if "aab" in kwargs:
        call["apks"] = []
    with pytest.raises(ValidationError) as info:
        await client.publish(**call)  # type: ignore[arg-type]
    assert info.value.field == field
    assert emu.log == []


async def test_duplicate_and_non_apk_files(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory, tmp_path: Path
) -> None:
    a = apk_factory(2)
    copy = tmp_path / "copy.apk"
    copy.write_bytes(a.read_bytes())
    with pytest.raises(ValidationError, match=r"version code 2, as apks\[0\] does") as info:
        await client.publish([a, copy])
    assert info.value.field == "apks[1]"
    with pytest.raises(ValidationError, match=r"the same file as apks\[0\]") as info:
        await client.publish([a, a])
    assert info.value.field == "apks[1]"
    text = tmp_path / "text.apk"
    text.write_text("hello")
    with pytest.raises(ValidationError, match="not a zip"):
        await client.publish([text])
    import zipfile

    nomanifest = tmp_path / "nomanifest.apk"
    with zipfile.ZipFile(nomanifest, "w") as archive:
        archive.writestr("classes.dex", "x")
    with pytest.raises(ValidationError, match="AndroidManifest"):
        await client.publish([nomanifest])
    with pytest.raises(ValidationError, match="directory"):
        await client.publish([tmp_path])
    empty = tmp_path / "empty.apk"
    empty.touch()
    with pytest.raises(ValidationError, match="empty"):
        await client.publish([empty])
    assert emu.log == []


async def test_app_bundle_flow(
    client: BazaarClient, emu: Emulator, bundle_files: tuple[Path, Path]
) -> None:
    aab, signer = bundle_files
    result = await client.publish(aab=aab, signer_bin=signer, auto_publish=True)
    assert result.release is not None
    [release] = committed_releases(emu)
    assert release.packages[0].kind == "aab"
    # the store asks for at most one bundle-status call a minute: the fake clock shows it
    polls = [e["t"] for e in emu.log if e["endpoint"] == "bundle-status"]
    assert len(polls) >= 2
    assert all(b - a >= 60 for a, b in itertools.pairwise(polls))
    again = await client.publish(aab=aab, signer_bin=signer)
    assert again.already_committed


@pytest.mark.parametrize("endpoint", ["upload-aab", "upload-bin"])
async def test_app_bundle_ambiguous_uploads(
    client: BazaarClient, emu: Emulator, bundle_files: tuple[Path, Path], endpoint: str
) -> None:
    aab, signer = bundle_files
    only(emu, endpoints=[endpoint], acted_fail_rate=1.0)
    result = await client.publish(aab=aab, signer_bin=signer)
    assert result.reconciled == 1
    assert len(committed_releases(emu)) == 1


async def test_app_bundle_failure(
    client: BazaarClient, emu: Emulator, bundle_files: tuple[Path, Path]
) -> None:
    aab, signer = bundle_files
    await client.create_release()
    await client.upload_aab(aab)
    await client.upload_bin(signer)
    emu.world.apps[TOKEN].bundle.forced_error = "signature mismatch"  # type: ignore[union-attr]
    with pytest.raises(BundleError, match="signature mismatch") as info:
        await client.wait_for_bundle()
    assert info.value.errors == ["signature mismatch"]


async def test_wait_for_publication(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory, shared_clock: SharedClock
) -> None:
    with pytest.raises(WorkflowError, match="no committed release"):
        await client.wait_for_publication()
    result = await client.publish([apk_factory(2)], auto_publish=True)
    started = shared_clock.now
    published = await client.wait_for_publication(interval=10, max_interval=40)
    assert result.release is not None
    assert published.sha1s == result.release.sha1s
    assert 120 <= shared_clock.now - started <= 120 + 40


async def test_wait_for_publication_times_out(
    client: BazaarClient, apk_factory: ApkFactory
) -> None:
    await client.publish([apk_factory(2)], auto_publish=False)  # waits for a human click
    with pytest.raises(PublicationTimeoutError):
        await client.wait_for_publication(deadline=600, interval=30)


async def test_wait_is_cancellable(client: BazaarClient, apk_factory: ApkFactory) -> None:
    await client.publish([apk_factory(2)])
    task = asyncio.create_task(client.wait_for_publication(deadline=10**6))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_many_apps_share_one_session(emu: Emulator, apk_factory: ApkFactory) -> None:
    from storepush import Session

    tokens = [f"token-{i:03d}-abcdef" for i in range(20)]
    for i, token in enumerate(tokens):
        emu.add_app(token, f"com.example.app{i}")
    apks = [apk_factory(2, package=f"com.example.app{i}", seed=i) for i in range(20)]
    async with Session() as shared:

        async def one(i: int) -> None:
            async with BazaarClient(tokens[i], base_url=emu.bazaar_url, session=shared) as c:
                await c.publish([apks[i]])

        await asyncio.gather(*(one(i) for i in range(20)))
        assert not shared._transport._http.closed  # type: ignore[attr-defined]
        assert len(shared.limiters) >= 20 * 4
    for token in tokens:
        [release] = emu.world.apps[token].releases
        assert release.committed


class MemoryJournal:
    def __init__(self) -> None:
        self.dates: set[object] = set()

    def is_mine(self, draft) -> bool:  # type: ignore[no-untyped-def]
        return draft.creation_date in self.dates

    def creating(self) -> None:
        pass

    def remember(self, draft) -> None:  # type: ignore[no-untyped-def]
        self.dates.add(draft.creation_date)


async def test_journal_recognises_an_empty_draft_of_ours(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    journal = MemoryJournal()
    a = apk_factory(2)
    only(emu, endpoints=["upload"], error_rate=1.0)  # the first run dies before any upload
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever stopped it
        await client.publish([a], journal=journal)
    assert len(journal.dates) == 1
    emu.set_faults(Faults())
    # with the journal, the run knows it created the draft: it resumes it as its creator
    result = await client.publish([a], journal=journal)
    assert result.draft == "resumed"
    assert_exactly_once(emu, a)


async def test_an_empty_draft_left_by_a_dead_run_is_adopted(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    a = apk_factory(2)
    await client.create_release()  # a run killed right after its create
    result = await client.publish([a])  # a fresh runner: no journal, no memory
    assert result.draft == "adopted"
    assert_exactly_once(emu, a)


@pytest.mark.parametrize("empty_draft", ["not-exists", "null"])
async def test_both_of_the_stores_no_draft_answers(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory, empty_draft: str
) -> None:
    """The document's `not-exists` and the live store's `success` + `release: null` (field
    evidence): a first publish, a re-run, and a dead run's empty draft, in both settings."""
    from storepush.emulator import Quirks

    emu.set_quirks(Quirks(empty_draft=empty_draft))  # type: ignore[arg-type]
    a = apk_factory(2)
    assert await client.last_uncommitted() is None
    first = await client.publish([a])
    assert first.draft == "created"
    assert (await client.publish([a])).already_committed
    await client.create_release()  # a run killed right after its create
    b = apk_factory(3)
    assert (await client.publish([b])).draft == "adopted"
    assert [r.committed for r in emu.world.apps[TOKEN].releases] == [True, True]


async def test_a_twin_committing_our_draft_is_reported_as_such(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    """A twin job commits the draft between this run's last check and its commit: the run's
    commit is refused, the state shows its build committed, and it says who committed it."""
    from storepush.bazaar import CommitFields, Publisher, parse_apks

    class TwinFirst:
        def __init__(self, inner: BazaarClient) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        async def commit(self, fields: CommitFields) -> object:
            await self.inner.commit(fields)  # the twin's commit arrives first
            return await self.inner.commit(fields)  # ours: 400, there is no draft any more

    a = apk_factory(2)
    result = await Publisher(TwinFirst(client), apks=parse_apks([a])).run()  # type: ignore[arg-type]
    assert result.already_committed
    assert result.committed_by_other
    assert_exactly_once(emu, a)


class _CommitsBeforeOurCreate:
    """The client of a run whose twin publishes `build` in full between this run's start
    reads and its create."""

    def __init__(self, inner: BazaarClient, build: Path) -> None:
        self.inner, self.build, self.done = inner, build, False

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def create_release(self) -> object:
        if not self.done:
            self.done = True
            await self.inner.publish([self.build])  # the twin, start to commit
        return await self.inner.create_release()


async def test_a_twin_committing_this_build_before_our_create_is_already_committed(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    """The store refuses our upload (its version code is committed now): that refusal is
    explained by reading the last committed release, not reported as an error."""
    from storepush.bazaar import Publisher, parse_apks

    a = apk_factory(2)
    racing = _CommitsBeforeOurCreate(client, a)
    result = await Publisher(racing, apks=parse_apks([a])).run()  # type: ignore[arg-type]
    assert result.already_committed
    assert result.committed_by_other
    assert_exactly_once(emu, a)  # one release, and our draft was deleted
    assert emu.counts(endpoint="upload") == 2  # the twin's, then ours (refused)


async def test_a_newer_build_committed_before_our_create_refuses_and_cleans_up(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    from storepush import ConcurrentPublishError
    from storepush.bazaar import Publisher, parse_apks

    ours, newer = apk_factory(2), apk_factory(3)
    racing = _CommitsBeforeOurCreate(client, newer)
    with pytest.raises(ConcurrentPublishError, match="committed a release while this one ran"):
        await Publisher(racing, apks=parse_apks([ours])).run()  # type: ignore[arg-type]
    assert_exactly_once(emu, newer)


async def test_another_builds_commit_that_leaves_room_lets_ours_go_on(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    """An older build committed meanwhile (a lower version code) does not stop ours: the
    check before the commit lets it go on, and ours is committed after it."""
    from storepush.bazaar import Publisher, parse_apks

    older, ours = apk_factory(2), apk_factory(3)
    racing = _CommitsBeforeOurCreate(client, older)
    result = await Publisher(racing, apks=parse_apks([ours])).run()  # type: ignore[arg-type]
    assert not result.already_committed
    assert [r.committed for r in emu.world.apps[TOKEN].releases] == [True, True]


class _RefusedThenCommitted:
    """The client of a run whose twin has a draft of `build` when this run's create
    arrives (the store refuses it), and commits that draft before this run reads it."""

    def __init__(self, inner: BazaarClient, build: Path) -> None:
        self.inner, self.build, self.done = inner, build, False

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def create_release(self) -> object:
        from storepush.bazaar import CommitFields, parse_apks

        if self.done:
            return await self.inner.create_release()
        self.done = True
        await self.inner.create_release()  # the twin's draft
        for apk in parse_apks([self.build]):
            await self.inner.upload_apk(apk)
        try:
            return await self.inner.create_release()  # ours: refused, a draft is there
        finally:
            await self.inner.commit(CommitFields())  # the twin commits before our read


@pytest.mark.parametrize("twin_build", ["same", "newer"])
async def test_a_refused_create_whose_draft_was_committed_meanwhile_is_judged_again(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory, twin_build: str
) -> None:
    """The store refused our create (there was a draft), and by the time we read the draft
    it is gone, committed. That is no error of its own: the start's rules judge the new
    state (found in the field by two CI hosts racing one version)."""
    from storepush import ConcurrentPublishError, VersionCodeError
    from storepush.bazaar import Publisher, parse_apks

    ours = apk_factory(2)
    twin = ours if twin_build == "same" else apk_factory(3)
    racing = _RefusedThenCommitted(client, twin)
    publisher = Publisher(racing, apks=parse_apks([ours]))  # type: ignore[arg-type]
    if twin_build == "same":
        result = await publisher.run()
        assert result.already_committed
    else:
        with pytest.raises((ConcurrentPublishError, VersionCodeError)):
            await publisher.run()
    assert_exactly_once(emu, twin)


class _AlwaysRefusesCreate:
    def __init__(self, inner: BazaarClient) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def create_release(self) -> object:
        from storepush import BadRequestError

        raise BadRequestError(
            "There is an uncommitted release.", status=400, method="POST", url="/releases/"
        )


async def test_a_create_refused_for_no_reason_the_state_shows_is_the_stores_error(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    """Judged again a bounded number of times, then reported as what it is: a refusal the
    store's state does not explain (with the store's own answer, as the cause too)."""
    from storepush import BadRequestError, WorkflowError
    from storepush.bazaar import Publisher, parse_apks

    refusing = _AlwaysRefusesCreate(client)
    with pytest.raises(WorkflowError, match=r"refused to create a release 4 times") as caught:
        await Publisher(refusing, apks=parse_apks([apk_factory(2)])).run()  # type: ignore[arg-type]
    assert "uncommitted release" in str(caught.value)
    assert isinstance(caught.value.__cause__, BadRequestError)
    assert emu.counts(endpoint="upload") == 0
    # per attempt (1 + MAX_RESTARTS): the start's read, and the probe after the refusal
    assert emu.counts(endpoint="last-uncommitted") == 2 * 4


# -- a draft found at the start that this run cannot prove it made ---------------------------


async def test_a_found_empty_draft_is_watched_before_writing_and_a_live_maker_keeps_it(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    """An empty draft may be a live publisher's whose first upload is on its way: this run
    waits a moment and reads it again before writing; the other build's package shows, and
    this run backs off without having sent a byte into that draft."""
    from storepush import ConcurrentPublishError
    from storepush.bazaar import Publisher, parse_apks

    ours, theirs = apk_factory(3), apk_factory(2)
    await client.create_release()  # the other publisher's create

    async def meanwhile() -> None:  # during our pause, its first upload lands
        (apk,) = parse_apks([theirs])
        await client.upload_apk(apk)

    publisher = Publisher(client, apks=parse_apks([ours]), pause=meanwhile)
    with pytest.raises(ConcurrentPublishError, match="backs off"):
        await publisher.run()
    assert emu.counts(endpoint="upload") == 1  # theirs only
    (draft,) = emu.world.apps[TOKEN].releases
    assert not draft.committed  # theirs, untouched
    assert len(draft.packages) == 1


class _AfterOurFirstUpload:
    """The client of a run where, just after its first upload lands, another publisher does
    `then` (with the plain client)."""

    def __init__(self, inner: BazaarClient, then: Callable[[], Awaitable[object]]) -> None:
        self.inner, self.then, self.done = inner, then, False

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def upload_apk(self, apk: object, **kwargs: object) -> object:
        answer = await self.inner.upload_apk(apk, **kwargs)  # type: ignore[arg-type]
        if not self.done:
            self.done = True
            await self.then()
        return answer


def _twin_uploads(client: BazaarClient, build: Path) -> _AfterOurFirstUpload:
    """Another build's publisher uploads `build` into the same draft, after our upload."""
    from storepush.bazaar import parse_apks

    async def upload() -> object:
        (theirs,) = parse_apks([build])
        return await client.upload_apk(theirs)

    return _AfterOurFirstUpload(client, upload)


async def test_a_draft_holding_our_package_beside_anothers_is_deleted_and_started_over(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    """Our package beside another build's: no publisher keeping the rules commits that draft,
    and left behind it would block both builds' re-runs (found by racing CLI processes); even
    an adopter deletes it, and starts again (two adopters of one orphaned draft would
    otherwise both give up)."""
    from storepush.bazaar import Publisher, parse_apks

    ours, theirs = apk_factory(3), apk_factory(2)
    await client.create_release()  # an empty draft: adopted
    racing = _twin_uploads(client, theirs)
    events: list[str] = []
    publisher = Publisher(
        racing,  # type: ignore[arg-type]
        apks=parse_apks([ours]),
        pause=_no_pause,
        on_event=lambda e: events.append(e.message),
    )
    result = await publisher.run()
    assert not result.already_committed
    assert_exactly_once(emu, ours)  # ours alone: the mixed draft went
    assert any("deleting it and starting again" in m for m in events)
    assert sum("starting again" in m for m in events) == 1  # one line per restart


async def test_out_of_restarts_a_run_backs_off_and_deletes_a_draft_holding_its_package(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    from storepush import ConcurrentPublishError
    from storepush.bazaar import Publisher, parse_apks

    ours, theirs = apk_factory(3), apk_factory(2)
    await client.create_release()
    racing = _twin_uploads(client, theirs)
    publisher = Publisher(racing, apks=parse_apks([ours]), pause=_no_pause)  # type: ignore[arg-type]
    publisher.restarts = 3  # as if it had started over as often as it may
    with pytest.raises(ConcurrentPublishError, match="nobody could commit it: deleted"):
        await publisher.run()
    assert emu.world.apps[TOKEN].releases == []  # nothing committed, no draft left
    result = await client.publish([ours])  # and the re-run is not blocked
    assert result.draft == "created"


async def test_a_creator_whose_draft_is_deleted_starts_again_and_publishes(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    from storepush.bazaar import Publisher, parse_apks

    ours = apk_factory(2)
    racing = _AfterOurFirstUpload(client, client.delete_release)  # another cleaned it away
    result = await Publisher(racing, apks=parse_apks([ours]), pause=_no_pause).run()  # type: ignore[arg-type]
    assert not result.already_committed
    assert emu.counts(endpoint="create") == 2  # the first draft, gone; then ours again
    assert_exactly_once(emu, ours)


async def _no_pause() -> None:
    return None


async def test_a_watched_draft_committed_by_its_maker_is_reported_as_such(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    """Not "deleted or replaced": the other publisher committed the draft this run found."""
    from storepush import ConcurrentPublishError
    from storepush.bazaar import CommitFields, Publisher, parse_apks

    ours, theirs = apk_factory(3), apk_factory(2)
    await client.create_release()

    async def meanwhile() -> None:
        (apk,) = parse_apks([theirs])
        await client.upload_apk(apk)
        await client.commit(CommitFields())

    publisher = Publisher(client, apks=parse_apks([ours]), pause=meanwhile)
    with pytest.raises(ConcurrentPublishError, match="committed the draft this run was using"):
        await publisher.run()
    assert emu.counts(endpoint="upload") == 1
    assert_exactly_once(emu, theirs)


async def test_another_build_sharing_a_file_committed_meanwhile_is_not_called_mixed(
    client: BazaarClient, emu: Emulator, apk_factory: ApkFactory
) -> None:
    """Two builds share one APK (one ABI unchanged). The other build's draft holds only the
    shared file, so it looks like ours; while this run watches it, the other commits its own
    build. The release is not mixed (nothing of this run is in it), and the message says so."""
    from storepush import ConcurrentPublishError
    from storepush.bazaar import CommitFields, Publisher, parse_apks

    shared, theirs, mine = apk_factory(2), apk_factory(3), apk_factory(4)
    await client.create_release()
    (first,) = parse_apks([shared])
    await client.upload_apk(first)  # the other build's first file, also ours

    async def meanwhile() -> None:
        (apk,) = parse_apks([theirs])
        await client.upload_apk(apk)
        await client.commit(CommitFields())

    publisher = Publisher(client, apks=parse_apks([shared, mine]), pause=meanwhile)
    with pytest.raises(ConcurrentPublishError, match="committed its build meanwhile") as caught:
        await publisher.run()
    assert "nothing this run sent is in it" in str(caught.value)
    assert emu.counts(endpoint="upload") == 2  # the other build's two, none of ours
    assert_exactly_once(emu, shared, theirs)
