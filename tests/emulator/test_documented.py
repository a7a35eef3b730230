"""Behaviours the stores' documents state: one test per row of `docs/live-stores.md`
(the rows whose source is "document"), against the emulator as any client sees it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import aiohttp
import pytest

from storepush._samples import make_apk, make_jar, make_png
from storepush.emulator import Emulator

from .conftest import BOB_KEY, KEY, TOKEN, H, apk_form, releases, send

FORBIDDEN = {
    "type": "access_forbidden",
    "message": "You do not have permission to perform this action.",
}
NO_DRAFT = {"type": "bad_request", "message": "There is not an uncommitted release."}


@pytest.fixture
def apk(tmp_path: Path) -> Path:
    return make_apk(tmp_path / "app.apk", package="com.example.one", version_code=5)


async def test_p1_paths_under_v1(emu: Emulator, http: aiohttp.ClientSession, apk: Path) -> None:
    """P1: the documented paths, under /v1, POST/DELETE with a trailing slash."""
    assert emu.bazaar_url.endswith("/v1")
    base = releases(emu)
    assert (await send(http, "POST", base + "/"))[0] == 201
    assert (await send(http, "POST", base + "/upload/", data=apk_form(apk)))[0] == 200
    for which in ("committed", "uncommitted", "published"):
        assert (await send(http, "GET", f"{base}/last-{which}"))[0] == 200
    assert (await send(http, "POST", base + "/commit/", json={}))[0] == 200
    assert (await send(http, "POST", base + "/"))[0] == 201
    assert (await send(http, "DELETE", base + "/"))[0] == 200


async def test_p2_token_header_and_403(emu: Emulator, http: aiohttp.ClientSession) -> None:
    """P2: the token header; a missing or wrong token is the documented 403 on every endpoint."""
    base = releases(emu)
    calls = [
        ("POST", "/"),
        ("DELETE", "/"),
        ("POST", "/upload/"),
        ("POST", "/commit/"),
        ("GET", "/last-committed"),
        ("GET", "/last-uncommitted"),
        ("GET", "/last-published"),
    ]
    for method, path in calls:
        for token in (None, "wrong-token"):
            assert await send(http, method, base + path, token=token) == (403, FORBIDDEN), path


async def test_p4_envelope_and_verbatim_messages(
    emu: Emulator, http: aiohttp.ClientSession, apk: Path
) -> None:
    """P4: JSON envelopes with type and message; 201 on create; "retrived" as documented."""
    base = releases(emu)
    status, body = await send(http, "POST", base + "/")
    assert (status, body["type"], body["message"]) == (
        201,
        "success",
        "New Release successfully created.",
    )
    status, body = await send(http, "POST", base + "/upload/", data=apk_form(apk))
    assert (status, body["message"]) == (200, "Package successfully added to release.")
    assert set(body["package"]) >= {"apk_size", "sha1_hash", "version_code", "version_name"}  # type: ignore[arg-type]
    status, body = await send(http, "GET", base + "/last-uncommitted")
    assert body["message"] == "Last uncommitted release successfully retrived."
    status, body = await send(http, "POST", base + "/commit/", json={})
    assert body["message"] == "Release successfully committed."
    assert {"id", "release_state", "committed"} <= set(body["release"])  # type: ignore[arg-type]
    status, body = await send(http, "GET", base + "/last-committed")
    assert body["message"] == "Last committed release successfully retrived."
    assert "id" not in body["release"]  # type: ignore[operator]
    assert (await send(http, "POST", base + "/"))[1]["type"] == "success"
    assert (await send(http, "DELETE", base + "/"))[1] == {
        "type": "success",
        "message": "Release successfully deleted.",
    }


async def test_p5_one_draft_per_app(emu: Emulator, http: aiohttp.ClientSession, apk: Path) -> None:
    """P5: one draft; no draft means the documented 400 on upload, commit and delete."""
    base = releases(emu)
    assert await send(http, "POST", base + "/upload/", data=apk_form(apk)) == (400, NO_DRAFT)
    assert await send(http, "POST", base + "/commit/", json={}) == (400, NO_DRAFT)
    assert await send(http, "DELETE", base + "/") == (400, NO_DRAFT)
    assert (await send(http, "POST", base + "/"))[0] == 201
    status, body = await send(http, "POST", base + "/")
    assert (status, body["type"]) == (400, "bad_request")
    assert await send(http, "POST", base + "/commit/", json={}) == (
        400,
        {"type": "bad_request", "message": "The release has no package."},
    )
    await send(http, "POST", base + "/upload/", data=apk_form(apk))
    await send(http, "POST", base + "/commit/", json={})
    assert await send(http, "DELETE", base + "/") == (400, NO_DRAFT)  # committed: not deletable


@pytest.mark.parametrize("architecture", ["all", "armeabi-v7a", "arm64-v8a"])
async def test_p6_upload_form_and_architectures(
    emu: Emulator, http: aiohttp.ClientSession, apk: Path, architecture: str
) -> None:
    """P6: the `apk` part and an `architecture` of the three documented values."""
    base = releases(emu)
    await send(http, "POST", base + "/")
    assert (await send(http, "POST", base + "/upload/", data=apk_form(apk, architecture)))[0] == 200


@pytest.mark.parametrize("architecture", ["x86", "ALL", "", "arm64"])
async def test_p6_unknown_architecture(
    emu: Emulator, http: aiohttp.ClientSession, apk: Path, architecture: str
) -> None:
    """P6: any other architecture is a 400 that names the field and the allowed values."""
    base = releases(emu)
    await send(http, "POST", base + "/")
    status, body = await send(http, "POST", base + "/upload/", data=apk_form(apk, architecture))
    assert (status, body["type"]) == (400, "bad_request")
    assert "architecture" in str(body["message"])
    assert "all, armeabi-v7a, arm64-v8a" in str(body["message"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("staged_rollout_percentage", 0),
        ("staged_rollout_percentage", 101),
        ("staged_rollout_percentage", "10"),
        ("staged_rollout_percentage", 5.5),
        ("changelog_en", 5),
        ("developer_note", ["x"]),
        ("auto_publish", "yes"),
    ],
)
async def test_p18_commit_body(
    emu: Emulator, http: aiohttp.ClientSession, apk: Path, field: str, value: object
) -> None:
    """P18: the commit body's types and ranges."""
    base = releases(emu)
    await send(http, "POST", base + "/")
    await send(http, "POST", base + "/upload/", data=apk_form(apk))
    status, body = await send(http, "POST", base + "/commit/", json={field: value})
    assert (status, body["type"]) == (400, "bad_request")
    assert field in str(body["message"])


async def test_p18_valid_commit_body(emu: Emulator, http: aiohttp.ClientSession, apk: Path) -> None:
    """P18: a full valid body, with changelog_fa null, is kept as sent."""
    base = releases(emu)
    await send(http, "POST", base + "/")
    await send(http, "POST", base + "/upload/", data=apk_form(apk))
    doc = {
        "changelog_en": "new",
        "changelog_fa": None,
        "developer_note": "n",
        "staged_rollout_percentage": 10,
        "auto_publish": True,
    }
    status, body = await send(http, "POST", base + "/commit/", json=doc)
    release = body["release"]
    assert status == 200
    assert {
        k: release[k]
        for k in ("changelog_en", "changelog_fa", "staged_rollout_percentage", "auto_publish")
    } == {  # type: ignore[index]
        "changelog_en": "new",
        "changelog_fa": None,
        "staged_rollout_percentage": 10,
        "auto_publish": True,
    }


async def test_p19_429_without_retry_after(http: aiohttp.ClientSession) -> None:
    """P19: the documented 429 body, and no Retry-After unless asked for."""
    from storepush.emulator import Quota, Quotas

    for retry_after in (False, True):
        quotas = Quotas(default=Quota(1, 1), retry_after=retry_after)
        async with Emulator(apps={TOKEN: "com.example.one"}, quotas=quotas) as emu:
            url = releases(emu) + "/last-published"
            assert (await send(http, "GET", url))[0] == 200
            async with http.get(url, headers={H: TOKEN}) as r:
                assert r.status == 429
                assert await r.json() == {
                    "type": "too_many_requests",
                    "message": "Too many requests",
                }
                assert ("Retry-After" in r.headers) is retry_after


@pytest.mark.parametrize(
    ("method", "path", "status", "error_type"),
    [
        ("GET", "/apps/nothing-here/", 404, "not_found"),
        ("GET", "/", 404, "not_found"),
        ("GET", "/apps/releases/", 405, "method_not_allowed"),
        ("PUT", "/apps/releases/commit/", 405, "method_not_allowed"),
        ("DELETE", "/apps/releases/last-published", 405, "method_not_allowed"),
    ],
)
async def test_p22_unknown_paths_and_methods(
    emu: Emulator, http: aiohttp.ClientSession, method: str, path: str, status: int, error_type: str
) -> None:
    """P22: under /v1, even aiohttp's own 404 and 405 come in the JSON envelope."""
    async with http.request(method, emu.bazaar_url + path, headers={H: TOKEN}) as r:
        assert r.status == status
        assert r.content_type == "application/json"
        body = await r.json()
    assert body["type"] == error_type
    assert isinstance(body["message"], str)


@pytest.mark.parametrize(
    ("path", "content_type", "data"),
    [
        ("/upload/", "multipart/form-data; boundary=XYZ", b"garbage"),
        ("/upload/", "multipart/form-data; boundary=XYZ", b"--XYZ\r\nno headers end"),
        ("/upload/", "multipart/form-data", b"--XYZ--"),
        ("/upload/", "application/json", b"{}"),
        ("/commit/", "application/json", b"{nope"),
        ("/commit/", "application/json", b"[1]"),
    ],
)
async def test_p23_malformed_bodies(
    emu: Emulator, http: aiohttp.ClientSession, path: str, content_type: str, data: bytes
) -> None:
    """P23: a broken body is a 400 bad_request that says why."""
    base = releases(emu)
    await send(http, "POST", base + "/")
    headers = {"Content-Type": content_type}
    status, body = await send(http, "POST", base + path, data=data, headers=headers)
    assert (status, body["type"]) == (400, "bad_request")
    assert body["message"]


SPEC = {
    "name": "Doc Plugin",
    "shortdesc": "s",
    "description": "d",
    "license": "MIT",
    "installation_instructions": "i",
}


def form(doc: dict[str, object], *files: tuple[str, Path]) -> aiohttp.FormData:
    data = aiohttp.FormData(default_to_multipart=True)
    data.add_field("json", json.dumps(doc))
    for name, path in files:
        data.add_field(name, path.read_bytes(), filename=path.name)
    return data


async def test_b1_paths_and_authentication(
    emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """B1: GET with the api-key header, POST with api_key in the json part (the header on a
    POST is harmless), under /addons/api/ with trailing slashes."""
    api = emu.bluemind_url + "/addons/api"
    async with http.get(api + "/plugins/", headers={"api-key": KEY}) as r:
        assert (r.status, await r.json()) == (200, [])
    async with http.get(api + "/plugins/") as r:
        assert r.status == 403
    async with http.post(api + "/plugins/", data=form({"api_key": KEY, **SPEC})) as r:
        assert r.status == 201
        plugin = await r.json()
    async with http.get(f"{api}/plugin/{plugin['id']}/", headers={"api-key": KEY}) as r:
        assert (await r.json())["name"] == "Doc Plugin"
    jar = make_jar(tmp_path / "p.jar")
    version = {
        "plugin_name": "Doc Plugin",
        "version": "1",
        "target_bm_versions": "4.x",
        "release_notes": "n",
    }
    async with http.post(
        api + "/plugin_version/",
        data=form({"api_key": KEY, **version}, ("package", jar)),
        headers={"api-key": KEY},
    ) as r:
        assert r.status == 201


async def test_b2_required_parts_and_ownership(
    emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """B2: the json part and its keys are required; a version needs its package; a plugin of
    another user is a 403, except for an administrator."""
    api = emu.bluemind_url + "/addons/api"
    empty = aiohttp.FormData(default_to_multipart=True)
    empty.add_field("other", "x")
    async with http.post(api + "/plugins/", data=empty) as r:
        assert (r.status, await r.json()) == (400, {"detail": "The json part is required."})
    for key in SPEC:
        async with http.post(api + "/plugins/", data=form({"api_key": KEY, **SPEC, key: ""})) as r:
            assert r.status == 400
            assert key in (await r.json())["detail"]
    async with http.post(api + "/plugins/", data=form({"api_key": KEY, **SPEC})) as r:
        assert r.status == 201
    version = {
        "plugin_name": "Doc Plugin",
        "version": "1",
        "target_bm_versions": "4.x",
        "release_notes": "n",
    }
    async with http.post(api + "/plugin_version/", data=form({"api_key": KEY, **version})) as r:
        assert (r.status, await r.json()) == (400, {"detail": "The package file is required."})
    jar = make_jar(tmp_path / "p.jar")
    async with http.post(
        api + "/plugin_version/", data=form({"api_key": BOB_KEY, **version}, ("package", jar))
    ) as r:
        assert r.status == 403
    async with http.post(
        api + "/plugin_version/",
        data=form({"api_key": "key-admin-000000000000", **version}, ("package", jar)),
    ) as r:
        assert r.status == 201


async def test_b3_parts_in_any_order(
    emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """B3: files before the json part are accepted, and hashed as they arrived."""
    import hashlib

    api = emu.bluemind_url + "/addons/api"
    logo = make_png(tmp_path / "logo.png")
    shot = make_png(tmp_path / "shot.png", width=9)
    data = aiohttp.FormData()
    data.add_field("thumbnail", logo.read_bytes(), filename="logo.png")
    data.add_field("screenshot", shot.read_bytes(), filename="shot.png")
    data.add_field("json", json.dumps({"api_key": KEY, **SPEC}))
    async with http.post(api + "/plugins/", data=data) as r:
        assert r.status == 201
        plugin = await r.json()
    assert plugin["thumbnail"]["sha1"] == hashlib.sha1(logo.read_bytes()).hexdigest()
    assert [s["sha1"] for s in plugin["screenshots"]] == [
        hashlib.sha1(shot.read_bytes()).hexdigest()
    ]
    jar = make_jar(tmp_path / "p.jar", size=3_000_000)
    version = {
        "api_key": KEY,
        "plugin_name": "Doc Plugin",
        "version": "2",
        "target_bm_versions": "4.x",
        "release_notes": "n",
    }
    data = aiohttp.FormData()
    data.add_field("package", io.BytesIO(jar.read_bytes()), filename="p.jar")
    data.add_field("json", json.dumps(version))
    async with http.post(api + "/plugin_version/", data=data) as r:
        assert r.status == 201
        assert (await r.json())["sha1"] == hashlib.sha1(jar.read_bytes()).hexdigest()
    # a wrong key is still refused, once the json part arrives after the files
    data = aiohttp.FormData()
    data.add_field("package", io.BytesIO(jar.read_bytes()), filename="p.jar")
    data.add_field("json", json.dumps({**version, "api_key": "wrong", "version": "3"}))
    async with http.post(api + "/plugin_version/", data=data) as r:
        assert r.status == 403
