"""The BlueMind side of the emulator, including the documentation's own request shape."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests

from storepush._samples import make_jar, make_png
from storepush.emulator import Emulator

from .conftest import ADMIN_KEY, BOB_KEY, KEY

API = "/addons/api"
SPEC = {
    "name": "My Plugin",
    "shortdesc": "short",
    "description": "long",
    "license": "MIT",
    "installation_instructions": "copy it",
}


def form(doc: dict[str, Any], files: list[tuple[str, Path, str]]) -> aiohttp.FormData:
    data = aiohttp.FormData(default_to_multipart=True)
    data.add_field("json", json.dumps(doc))
    for name, path, ctype in files:
        data.add_field(name, path.read_bytes(), filename=path.name, content_type=ctype)
    return data


async def post(http: aiohttp.ClientSession, url: str, data: Any) -> tuple[int, Any]:
    async with http.post(url, data=data) as r:
        return r.status, await r.json(content_type=None)


async def get(http: aiohttp.ClientSession, url: str, key: str | None) -> tuple[int, Any]:
    async with http.get(url, headers={"api-key": key} if key else {}) as r:
        return r.status, await r.json(content_type=None)


async def test_plugin_life_cycle(
    emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    thumb = make_png(tmp_path / "logo.png")
    shots = [make_png(tmp_path / f"s{i}.png", width=8 + i) for i in range(3)]
    files = [("thumbnail", thumb, "image/png")] + [
        (f"screenshot{i}", p, "image/png") for i, p in enumerate(shots)
    ]
    status, plugin = await post(
        http, emu.url + API + "/plugins/", form({"api_key": KEY, **SPEC}, files)
    )
    assert status == 201, plugin
    assert plugin["name"] == "My Plugin"
    assert plugin["thumbnail"]["sha1"] == hashlib.sha1(thumb.read_bytes()).hexdigest()
    assert len(plugin["screenshots"]) == 3
    assert plugin["versions"] == []

    status, mine = await get(http, emu.url + API + "/plugins/", KEY)
    assert status == 200
    assert [p["id"] for p in mine] == [plugin["id"]]
    assert (await get(http, emu.url + API + "/plugins/", BOB_KEY)) == (200, [])
    status, one = await get(http, f"{emu.url}{API}/plugin/{plugin['id']}/", KEY)
    assert one["id"] == plugin["id"]
    status, body = await get(http, f"{emu.url}{API}/plugin/{plugin['id']}/", BOB_KEY)
    assert status == 403
    assert (await get(http, f"{emu.url}{API}/plugin/999/", KEY))[0] == 404
    assert (await get(http, f"{emu.url}{API}/plugin/abc/", KEY))[0] == 404
    assert (await get(http, emu.url + API + "/plugins/", None))[0] == 403

    jar = make_jar(tmp_path / "p.jar")
    version = {
        "api_key": KEY,
        "plugin_name": "My Plugin",
        "version": "0.2",
        "target_bm_versions": "3.x",
        "release_notes": "why",
    }
    url = emu.url + API + "/plugin_version/"
    status, body = await post(
        http, url, form(version, [("package", jar, "application/java-archive")])
    )
    assert status == 201, body
    assert body["sha1"] == hashlib.sha1(jar.read_bytes()).hexdigest()
    status, body = await post(
        http, url, form(version, [("package", jar, "application/java-archive")])
    )
    assert status == 400
    assert "already exists" in body["detail"]
    status, body = await post(http, url, form(version, []))
    assert (status, body["detail"]) == (400, "The package file is required.")
    other = {**version, "api_key": BOB_KEY, "version": "0.3"}
    assert (await post(http, url, form(other, [("package", jar, "application/java-archive")])))[
        0
    ] == 403
    admin = {**version, "api_key": ADMIN_KEY, "version": "0.4"}
    assert (await post(http, url, form(admin, [("package", jar, "application/java-archive")])))[
        0
    ] == 201
    missing = {**version, "plugin_name": "Nope"}
    assert (await post(http, url, form(missing, [("package", jar, "application/java-archive")])))[
        0
    ] == 404
    status, one = await get(http, f"{emu.url}{API}/plugin/{plugin['id']}/", KEY)
    assert [v["version"] for v in one["versions"]] == ["0.2", "0.4"]
    assert one["current_version"] == "0.4"


async def test_create_validation(
    emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    url = emu.url + API + "/plugins/"
    text = tmp_path / "fake.png"
    text.write_text("not an image")
    assert (
        await post(http, url, form({"api_key": KEY, **SPEC}, [("thumbnail", text, "image/png")]))
    )[0] == 400
    for field in SPEC:
        doc = {"api_key": KEY, **SPEC, field: ""}
        status, body = await post(http, url, form(doc, []))
        assert (status, field in body["detail"]) == (400, True)
    assert (await post(http, url, form({**SPEC}, [])))[0] == 403  # no key
    assert (await post(http, url, form({"api_key": KEY, **SPEC}, [])))[0] == 201
    status, body = await post(http, url, form({"api_key": KEY, **SPEC}, []))
    assert (status, "already exists" in body["detail"]) == (400, True)
    bad = aiohttp.FormData()
    bad.add_field("json", "{not json")
    assert (await post(http, url, bad))[0] == 400
    assert (await post(http, url, b"raw"))[0] == 400
    files_first = aiohttp.FormData()
    files_first.add_field("thumbnail", make_png(tmp_path / "t.png").read_bytes(), filename="t.png")
    files_first.add_field("json", json.dumps({"api_key": KEY, **SPEC, "name": "x"}))
    assert (await post(http, url, files_first))[0] == 201  # the parts may come in any order
    # the header alone authenticates a POST too
    data = form({**SPEC, "name": "Header Plugin"}, [])
    async with http.post(url, data=data, headers={"api-key": KEY}) as r:
        assert r.status == 201


async def test_documentation_request_shape_with_requests(emu: Emulator, tmp_path: Path) -> None:
    """The vendor documentation's own client: requests with files= and data={'json': ...}."""
    thumb = make_png(tmp_path / "logo.png")
    shot = make_png(tmp_path / "shot.png")
    jar = make_jar(tmp_path / "p.jar")

    def documented() -> tuple[int, int]:
        doc = {"api_key": KEY, **SPEC, "name": "Doc Plugin", "home_url": "https://x.example"}
        with thumb.open("rb") as t, shot.open("rb") as s:
            r1 = requests.post(
                emu.url + API + "/plugins/",
                files={"thumbnail": t, "screenshot1": s},
                data={"json": json.dumps(doc)},
                timeout=10,
            )
        version = {
            "api_key": KEY,
            "plugin_name": "Doc Plugin",
            "version": "1.0",
            "target_bm_versions": "4.x",
            "release_notes": "first",
        }
        with jar.open("rb") as j:
            r2 = requests.post(
                emu.url + API + "/plugin_version/",
                files={"package": j},
                data={"json": json.dumps(version)},
                timeout=10,
            )
        return r1.status_code, r2.status_code

    assert await asyncio.to_thread(documented) == (201, 201)
    [plugin] = emu.world.plugins.values()
    assert plugin.fields["home_url"] == "https://x.example"
    assert len(plugin.screenshots) == 1
    assert plugin.versions[0].package["sha1"] == hashlib.sha1(jar.read_bytes()).hexdigest()


@pytest.mark.parametrize("json_part", ["[1, 2]", '"text"'])
async def test_json_part_must_be_an_object(
    emu: Emulator, http: aiohttp.ClientSession, json_part: str
) -> None:
    data = aiohttp.FormData()
    data.add_field("json", json_part)
    assert (await post(http, emu.url + API + "/plugins/", data))[0] == 400
