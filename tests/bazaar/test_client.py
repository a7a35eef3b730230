"""Every Pishkhan endpoint through BazaarClient, against the emulator."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from storepush import (
    APIError,
    Architecture,
    BadRequestError,
    BazaarClient,
    DecodeError,
    IntegrityError,
    PermissionDeniedError,
    RetryConfig,
    Secret,
    Session,
    ValidationError,
)
from storepush.bazaar import Paths
from storepush.emulator import Emulator

from .conftest import TOKEN


async def test_release_cycle(
    client: BazaarClient, emu: Emulator, apk_factory: Callable[..., Path]
) -> None:
    assert await client.last_committed() is None
    assert await client.last_uncommitted() is None
    assert await client.last_published() is None
    created = await client.create_release()
    assert created.packages == []
    assert created.staged_rollout_percentage == 100
    apk = apk_factory(2)
    progress: list[tuple[int, int]] = []
    package = await client.upload_apk(
        apk, architecture=Architecture.ARM64_V8A, progress=lambda s, t: progress.append((s, t))
    )
    assert package.sha1_hash == hashlib.sha1(apk.read_bytes()).hexdigest()
    assert package.apk_size == apk.stat().st_size
    assert package.version_code == 2
    assert package.upload_date is not None
    assert progress[-1] == (apk.stat().st_size, apk.stat().st_size)
    draft = await client.last_uncommitted()
    assert draft is not None
    assert draft.sha1s == {package.sha1_hash}
    release = await client.commit(
        changelog_en="new", changelog_fa="تازه", staged_rollout_percentage=20, auto_publish=True
    )
    assert release.committed is True
    assert release.id is not None
    assert release.changelog_fa == "تازه"
    assert release.creation_date == created.creation_date
    assert (await client.last_committed()) is not None
    emu.clock.now += 120  # type: ignore[attr-defined]
    published = await client.last_published()
    assert published is not None
    assert published.sha1s == {package.sha1_hash}


async def test_delete_and_bad_requests(
    client: BazaarClient, apk_factory: Callable[..., Path]
) -> None:
    with pytest.raises(BadRequestError) as info:
        await client.delete_release()
    assert info.value.server_message == "There is not an uncommitted release."
    with pytest.raises(BadRequestError, match="There is not an uncommitted release"):
        await client.upload_apk(apk_factory(2))
    await client.create_release()
    with pytest.raises(BadRequestError, match="no package"):
        await client.commit()
    await client.delete_release()
    assert await client.last_uncommitted() is None


async def test_forbidden_explains_itself(emu: Emulator) -> None:
    async with BazaarClient("not-the-token", base_url=emu.bazaar_url) as client:
        with pytest.raises(PermissionDeniedError) as info:
            await client.last_published()
        message = str(info.value)
        assert "another app" in message
        assert "GitHub-hosted runners" in message
        report = await client.check_access()
        assert not report.ok
        assert report.status == 403
    async with BazaarClient(TOKEN, base_url=emu.bazaar_url) as client:
        assert (await client.check_access()).ok


@pytest.mark.parametrize("value", [0, 101, "10", True, 5.5])
async def test_commit_checks_rollout_before_sending(
    client: BazaarClient, emu: Emulator, value: object
) -> None:
    with pytest.raises(ValidationError) as info:
        await client.commit(staged_rollout_percentage=value)  # type: ignore[arg-type]
    assert info.value.field == "staged_rollout_percentage"
    assert emu.log == []


@pytest.mark.parametrize("arch", ["0", "x86", 0, None])
async def test_upload_checks_architecture_before_sending(
    client: BazaarClient, emu: Emulator, apk_factory: Callable[..., Path], arch: object
) -> None:
    with pytest.raises(ValidationError) as info:
        await client.upload_apk(apk_factory(2), architecture=arch)  # type: ignore[arg-type]
    assert info.value.field == "architecture"
    assert emu.log == []


def test_paths_are_one_constant_each() -> None:
    assert Paths.UPLOAD.endswith("/")
    assert Paths.COMMIT.endswith("/")
    assert Paths.CREATE == Paths.DELETE == "/apps/releases/"
    assert not Paths.LAST_PUBLISHED.endswith("/")


def test_repr_and_token_hygiene(caplog: pytest.LogCaptureFixture) -> None:
    client = BazaarClient(Secret(TOKEN), base_url="http://127.0.0.1:1/v1")
    assert TOKEN not in repr(client)
    with pytest.raises(ValidationError) as info:
        BazaarClient("two words", base_url="http://127.0.0.1:1/v1")
    assert info.value.field == "token"
    with pytest.raises(ValidationError) as info:
        BazaarClient(TOKEN, base_url="http://api.example.com/v1")
    assert info.value.field == "base_url"
    with pytest.raises(ValueError, match="session"):
        BazaarClient(TOKEN, session=Session(), retry=RetryConfig())


class OddServer:
    """A server answering with shapes the real service should never send."""

    def __init__(self, body: bytes, status: int = 200) -> None:
        self.body, self.status = body, status

    async def handle(self, request: web.Request) -> web.Response:
        return web.Response(status=self.status, body=self.body, content_type="text/html")


@pytest.mark.parametrize(
    ("body", "error", "text"),
    [
        (b'{"type": "success", "message": "ok"}', DecodeError, "release"),
        (b'{"type": "weird", "message": "hm"}', APIError, "weird"),
        (b"<html>maintenance</html>", DecodeError, "not valid JSON"),
        (b'{"type": "success", "release": {"packa', DecodeError, "not valid JSON"),
        (
            b'{"type": "success", "release": {"packages": [{"apk_size": "x", "sha1_hash": "a"}]}}',
            DecodeError,
            "apk_size",
        ),
        (b'{"type": "success", "release": {"creation_date": 5}}', DecodeError, "creation_date"),
    ],
)
async def test_broken_answers_are_typed_errors(
    serve: Callable[..., object], body: bytes, error: type[Exception], text: str
) -> None:
    server: TestServer = await serve(
        [web.get(f"/v1{Paths.LAST_PUBLISHED}", OddServer(body).handle)]
    )  # type: ignore[operator]
    async with BazaarClient(TOKEN, base_url=str(server.make_url("/v1"))) as client:
        with pytest.raises(error, match=text):
            await client.last_published()


async def test_server_reporting_another_sha1_is_an_integrity_error(
    serve: Callable[..., object], apk_factory: Callable[..., Path]
) -> None:
    async def lying(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response(
            {"type": "success", "package": {"apk_size": 1, "sha1_hash": "0" * 40}}
        )

    server: TestServer = await serve([web.post(f"/v1{Paths.UPLOAD}", lying)])  # type: ignore[operator]
    async with BazaarClient(TOKEN, base_url=str(server.make_url("/v1"))) as client:
        with pytest.raises(IntegrityError, match="SHA-1"):
            await client.upload_apk(apk_factory(2))


async def test_token_never_logged(
    client: BazaarClient, caplog: pytest.LogCaptureFixture, apk_factory: Callable[..., Path]
) -> None:
    caplog.set_level(logging.DEBUG)
    await client.publish([apk_factory(2)], auto_publish=True)
    assert caplog.text
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        b'{"type": "not-exists", "message": "There is not an uncommitted release."}',
        # the live store's way (field evidence): the envelope succeeds, the release is null
        b'{"type": "success", "message": "ok", "release": null}',
    ],
)
async def test_both_shapes_of_no_draft_mean_none(serve: Callable[..., object], body: bytes) -> None:
    server: TestServer = await serve(
        [web.get(f"/v1{Paths.LAST_UNCOMMITTED}", OddServer(body).handle)]
    )  # type: ignore[operator]
    async with BazaarClient(TOKEN, base_url=str(server.make_url("/v1"))) as client:
        assert await client.last_uncommitted() is None
