"""The admin API under `/_emulator/`: state, log, reset, apps, users, review decisions."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from storepush._samples import make_apk
from storepush.emulator import Emulator

from .conftest import TOKEN, apk_form, releases, send


def base(emu: Emulator) -> str:
    return releases(emu)


@pytest.fixture
def apk(tmp_path: Path) -> Path:
    return make_apk(tmp_path / "app.apk", package="com.example.one", version_code=5, size=200_000)


async def test_admin_publish_reject_and_state(
    emu: Emulator, http: aiohttp.ClientSession, apk: Path
) -> None:
    await send(http, "POST", base(emu) + "/")
    await send(http, "POST", base(emu) + "/upload/", data=apk_form(apk))
    await send(http, "POST", base(emu) + "/commit/", json={"auto_publish": False})
    async with http.post(emu.url + "/_emulator/bazaar/com.example.one/publish") as r:
        assert r.status == 200
    _status, body = await send(http, "GET", base(emu) + "/last-published")
    assert body["type"] == "success"
    async with http.post(emu.url + "/_emulator/bazaar/com.example.one/reject") as r:
        assert r.status == 400  # nothing awaiting review
    async with http.get(emu.url + "/_emulator/state") as r:
        state = await r.json()
    assert TOKEN not in str(state)
    releases = state["apps"]["com.example.one"]["releases"]
    assert [r["decision"] for r in releases] == ["published"]
    async with http.get(emu.url + "/_emulator/log") as r:
        log = await r.json()
    assert TOKEN not in str(log)
    assert {e["endpoint"] for e in log} >= {"create", "upload", "commit", "last-published"}
    async with http.post(emu.url + "/_emulator/reset") as r:
        assert r.status == 200
    assert emu.log == []
    assert emu.world.apps[TOKEN].releases == []


async def test_admin_input_errors(emu: Emulator, http: aiohttp.ClientSession) -> None:
    admin = emu.url + "/_emulator/"
    async with http.post(admin + "apps", data=b"{not json") as r:
        assert r.status == 400
    async with http.post(admin + "apps", json={"token": "t"}) as r:
        assert (r.status, await r.json()) == (400, {"error": "required: package"})
    async with http.post(admin + "users", json={"key": "k", "name": "n", "admin": True}) as r:
        assert r.status == 201
    assert emu.world.users["k"].admin
    async with http.post(admin + "bazaar/com.nobody/publish") as r:
        assert r.status == 404
    async with http.post(admin + "bazaar/com.example.one/bundle-error", json={}) as r:
        assert r.status == 400
    async with http.put(admin + "faults", json={"sed": 1}) as r:
        assert r.status == 400
    async with http.put(admin + "faults", json={"seed": 3, "error_rate": 0.5}) as r:
        assert r.status == 200
    assert emu.faults.error_rate == 0.5
