"""The Pishkhan side of the emulator, through a plain aiohttp client (as any client would)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from storepush._samples import make_aab, make_apk, make_bin
from storepush.emulator import Emulator, Quirks

from .conftest import OTHER_TOKEN, TOKEN, Clock, H, apk_form

Json = dict[str, Any]


def base(emu: Emulator) -> str:
    return emu.bazaar_url + "/apps/releases"


async def send(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    token: str | None = TOKEN,
    **kw: Any,
) -> tuple[int, Json]:
    headers = {H: token} if token else {}
    async with http.request(method, url, headers=headers, allow_redirects=False, **kw) as r:
        return r.status, await r.json(content_type=None)


@pytest.fixture
def apk(tmp_path: Path) -> Path:
    return make_apk(tmp_path / "app.apk", package="com.example.one", version_code=5, size=200_000)


async def test_full_release_cycle(
    emu: Emulator, http: aiohttp.ClientSession, apk: Path, emu_clock: Clock
) -> None:
    status, body = await send(http, "GET", base(emu) + "/last-committed")
    assert (status, body["type"]) == (200, "not-exists")

    status, body = await send(http, "POST", base(emu) + "/")
    assert status == 201
    assert body["message"] == "New Release successfully created."
    assert body["release"]["packages"] == []
    assert body["release"]["staged_rollout_percentage"] == 100

    status, body = await send(http, "POST", base(emu) + "/upload/", data=apk_form(apk))
    assert status == 200, body
    assert body["message"] == "Package successfully added to release."
    package = body["package"]
    assert package["sha1_hash"] == hashlib.sha1(apk.read_bytes()).hexdigest()
    assert package["apk_size"] == apk.stat().st_size
    assert package["version_code"] == 5

    status, body = await send(http, "GET", base(emu) + "/last-uncommitted")
    assert body["message"] == "Last uncommitted release successfully retrived."
    assert [p["sha1_hash"] for p in body["release"]["packages"]] == [package["sha1_hash"]]

    commit = {
        "changelog_en": "new",
        "changelog_fa": None,
        "developer_note": "n",
        "staged_rollout_percentage": 10,
        "auto_publish": True,
    }
    status, body = await send(http, "POST", base(emu) + "/commit/", json=commit)
    assert status == 200, body
    assert body["message"] == "Release successfully committed."
    release = body["release"]
    assert release["committed"] is True
    assert {"id", "release_state"} <= release.keys()
    assert release["changelog_fa"] is None

    status, body = await send(http, "GET", base(emu) + "/last-committed/")
    assert body["message"] == "Last committed release successfully retrived."
    status, body = await send(http, "GET", base(emu) + "/last-uncommitted")
    assert body["type"] == "not-exists"
    status, body = await send(http, "GET", base(emu) + "/last-published")
    assert body["type"] == "not-exists"  # in review
    emu_clock.now += 10
    status, body = await send(http, "GET", base(emu) + "/last-published")
    assert body["message"] == "Last published release successfully retrived."
    assert body["release"]["packages"][0]["sha1_hash"] == package["sha1_hash"]

    # the next release must carry a higher version code
    await send(http, "POST", base(emu) + "/")
    status, body = await send(http, "POST", base(emu) + "/upload/", data=apk_form(apk))
    assert status == 400
    assert "greater than" in body["message"]


async def test_draft_rules(emu: Emulator, http: aiohttp.ClientSession, apk: Path) -> None:
    no_draft = {"type": "bad_request", "message": "There is not an uncommitted release."}
    assert await send(http, "POST", base(emu) + "/upload/", data=apk_form(apk)) == (400, no_draft)
    assert await send(http, "POST", base(emu) + "/commit/", json={}) == (400, no_draft)
    assert await send(http, "DELETE", base(emu) + "/") == (400, no_draft)
    assert (await send(http, "POST", base(emu) + "/"))[0] == 201
    status, body = await send(http, "POST", base(emu) + "/")
    assert (status, body["type"]) == (400, "bad_request")
    status, body = await send(http, "POST", base(emu) + "/commit/", json={})
    assert (status, body["message"]) == (400, "The release has no package.")
    status, body = await send(http, "DELETE", base(emu) + "/")
    assert (status, body["message"]) == (200, "Release successfully deleted.")
    assert (await send(http, "POST", base(emu) + "/"))[0] == 201
    # the other app has its own state
    status, body = await send(http, "GET", base(emu) + "/last-uncommitted", token=OTHER_TOKEN)
    assert body["type"] == "not-exists"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"staged_rollout_percentage": 0}, "staged_rollout_percentage"),
        ({"staged_rollout_percentage": 101}, "staged_rollout_percentage"),
        ({"staged_rollout_percentage": "10"}, "staged_rollout_percentage"),
        ({"staged_rollout_percentage": True}, "staged_rollout_percentage"),
        ({"changelog_en": 5}, "changelog_en"),
        ({"auto_publish": "yes"}, "auto_publish"),
    ],
)
async def test_commit_validation(
    emu: Emulator, http: aiohttp.ClientSession, apk: Path, body: Json, message: str
) -> None:
    await send(http, "POST", base(emu) + "/")
    await send(http, "POST", base(emu) + "/upload/", data=apk_form(apk))
    status, answer = await send(http, "POST", base(emu) + "/commit/", json=body)
    assert status == 400
    assert message in answer["message"]


async def test_upload_validation(
    emu: Emulator, http: aiohttp.ClientSession, apk: Path, tmp_path: Path
) -> None:
    await send(http, "POST", base(emu) + "/")
    for arch in ("0", "x86", ""):
        status, body = await send(http, "POST", base(emu) + "/upload/", data=apk_form(apk, arch))
        assert (status, body["type"]) == (400, "bad_request"), arch
    text = tmp_path / "fake.apk"
    text.write_text("not a zip")
    status, body = await send(http, "POST", base(emu) + "/upload/", data=apk_form(text))
    assert (status, body["message"]) == (400, "The uploaded file is not a valid APK.")
    form = aiohttp.FormData()
    form.add_field("architecture", "all")
    status, body = await send(http, "POST", base(emu) + "/upload/", data=form)
    assert status == 400
    status, body = await send(http, "POST", base(emu) + "/upload/", data=b"raw")
    assert status == 400
    wrong = make_apk(tmp_path / "wrong.apk", package="com.other", version_code=9)
    status, body = await send(http, "POST", base(emu) + "/upload/", data=apk_form(wrong))
    assert (status, "does not match") == (
        400,
        "does not match" if "match" in body["message"] else "",
    )
    # same version code twice in one draft
    assert (await send(http, "POST", base(emu) + "/upload/", data=apk_form(apk)))[0] == 200
    status, body = await send(http, "POST", base(emu) + "/upload/", data=apk_form(apk))
    assert status == 400
    assert "already in the release" in body["message"]
    # one public client sends the architecture as a query parameter: a form parser would not
    # see it, so strict refuses; the architecture_query quirk reads it
    second = make_apk(tmp_path / "b.apk", package="com.example.one", version_code=6)
    form = aiohttp.FormData()
    form.add_field("apk", second.read_bytes(), filename="b.apk")
    url = base(emu) + "/upload/?architecture=arm64-v8a"
    status, body = await send(http, "POST", url, data=form)
    assert (status, body["type"]) == (400, "bad_request")
    assert "architecture" in body["message"]
    emu.set_quirks(Quirks(architecture_query=True))
    form = aiohttp.FormData()
    form.add_field("apk", second.read_bytes(), filename="b.apk")
    status, _ = await send(http, "POST", url, data=form)
    assert status == 200


async def test_auth(emu: Emulator, http: aiohttp.ClientSession) -> None:
    forbidden = {
        "type": "access_forbidden",
        "message": "You do not have permission to perform this action.",
    }
    assert await send(http, "GET", base(emu) + "/last-published", token=None) == (403, forbidden)
    assert await send(http, "POST", base(emu) + "/", token="wrong") == (403, forbidden)


async def test_missing_trailing_slash_redirects_a_post(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    for path in ("", "/upload", "/commit"):
        async with http.post(base(emu) + path, headers={H: TOKEN}, allow_redirects=False) as r:
            assert r.status == 301
            assert r.headers["Location"].endswith("/")


async def test_aab_flow(
    emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path, emu_clock: Clock
) -> None:
    aab = make_aab(tmp_path / "app.aab", package="com.example.one", size=150_000)
    signer = make_bin(tmp_path / "app.bin")
    status, body = await send(http, "GET", base(emu) + "/bundle-status")
    assert body["type"] == "not-exists"
    await send(http, "POST", base(emu) + "/")
    form = aiohttp.FormData()
    form.add_field("aab", aab.read_bytes(), filename="app.aab")
    status, body = await send(http, "POST", base(emu) + "/upload-aab/", data=form)
    assert status == 200, body
    assert body["bundle"]["state"] == "U"
    assert body["warnings"] == []
    form = aiohttp.FormData()
    form.add_field("file", signer.read_bytes(), filename="app.bin")
    status, body = await send(http, "POST", base(emu) + "/upload-bin/", data=form)
    assert body["bundle"]["state"] == "S"
    status, body = await send(http, "POST", base(emu) + "/upload-bin/", data=form)
    assert status == 400  # already has its bin
    emu_clock.now += 2
    status, body = await send(http, "GET", base(emu) + "/bundle-status")
    assert body["bundle"]["state"] == "P"
    emu_clock.now += 2
    status, body = await send(http, "GET", base(emu) + "/bundle-status/")
    assert body["bundle"]["state"] == "D"
    status, body = await send(http, "GET", base(emu) + "/last-uncommitted")
    assert body["release"]["packages"][0]["sha1_hash"] == hashlib.sha1(aab.read_bytes()).hexdigest()
    status, body = await send(http, "POST", base(emu) + "/commit/", json={})
    assert status == 200


async def test_aab_failure(
    emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path, emu_clock: Clock
) -> None:
    await send(http, "POST", base(emu) + "/")
    for junk in (b"PK\x03\x04 not really", b"not a zip"):
        form = aiohttp.FormData()
        form.add_field("aab", junk, filename="junk.aab")
        status, body = await send(http, "POST", base(emu) + "/upload-aab/", data=form)
        assert (status, body["type"]) == (400, "bad_request")
        assert "not a valid Android App Bundle" in body["message"]
    aab = make_aab(tmp_path / "app.aab", package="com.example.one")
    form = aiohttp.FormData()
    form.add_field("aab", aab.read_bytes(), filename="app.aab")
    assert (await send(http, "POST", base(emu) + "/upload-aab/", data=form))[0] == 200
    async with http.post(
        emu.url + "/_emulator/bazaar/com.example.one/bundle-error", json={"message": "bad sig"}
    ) as r:
        assert r.status == 200
    form = aiohttp.FormData()
    form.add_field("file", b"bin", filename="x.bin")
    await send(http, "POST", base(emu) + "/upload-bin/", data=form)
    emu_clock.now += 4
    _status, body = await send(http, "GET", base(emu) + "/bundle-status")
    assert body["bundle"]["state"] == "E"
    assert body["bundle"]["errors"] == ["bad sig"]
