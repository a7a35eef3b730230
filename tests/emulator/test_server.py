"""The server (`storepush.emulator._server`): configuration, the gate, the log, the thread."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest
import requests

from storepush.emulator import Emulator, EmulatorThread, Faults, Quirks

from .conftest import TOKEN, H, releases, send


def test_configuration() -> None:
    emu = Emulator(apps={"t1": "com.a", "t2": "com.b"}, accounts={"agency": ["t1"]})
    assert emu.world.apps["t1"].account == "agency"
    assert emu.world.apps["t2"].account is None
    with pytest.raises(KeyError, match="1 token"):
        emu.add_account("other", ["t2", "nobody"])
    assert emu.world.apps["t2"].account is None  # nothing changed
    emu.add_app("t3", "com.c", account="other")
    assert emu.world.apps["t3"].account == "other"
    emu.set_quirks("lenient")
    assert emu.quirks == Quirks.profile("lenient")
    with pytest.raises(ValueError, match="profile"):
        emu.set_quirks("nope")


async def test_urls_and_log(emu: Emulator, http: aiohttp.ClientSession) -> None:
    assert emu.bazaar_url == emu.url + "/v1"
    assert emu.bluemind_url == emu.url
    await send(http, "GET", releases(emu) + "/last-published")
    await send(http, "GET", releases(emu) + "/last-published", token="wrong")
    assert [(e["endpoint"], e["status"], e["who"]) for e in emu.log] == [
        ("last-published", 200, "com.example.one"),
        (None, 403, None),
    ]
    assert emu.counts(status=403) == 1
    assert emu.counts(endpoint="last-published") == 1
    async with http.get(emu.url + "/_emulator/log"):
        pass
    assert len(emu.log) == 2  # the admin API is not logged


async def test_reset_keeps_apps_users_and_settings(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    emu.set_quirks("lenient")
    emu.add_account("agency", [TOKEN])
    await send(http, "POST", releases(emu) + "/")
    emu.reset()
    assert emu.world.apps[TOKEN].releases == []
    assert emu.world.apps[TOKEN].account == "agency"
    assert emu.quirks == Quirks.profile("lenient")
    assert emu.log == []


async def test_a_client_gone_during_the_delay_is_not_acted_on() -> None:
    faults = Faults(latency=0.3)
    async with Emulator(apps={TOKEN: "com.example.one"}, faults=faults) as emu:
        _, writer = await asyncio.open_connection(emu.host, emu.port)
        writer.write(
            f"POST /v1/apps/releases/ HTTP/1.1\r\nHost: x\r\n{H}: {TOKEN}\r\nContent-Length: 0\r\n\r\n".encode()
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        for _ in range(100):
            if emu.log:
                break
            await asyncio.sleep(0.01)
        assert emu.log[0]["status"] == "disconnected"
        assert emu.world.apps[TOKEN].releases == []


async def test_non_loopback_host_warns(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="storepush.emulator")
    async with Emulator(host="0.0.0.0") as emu:  # noqa: S104 - the warning is what is tested
        assert emu.port
    assert "not a loopback address" in caplog.text


async def test_port_in_use_raises_oserror() -> None:
    async with Emulator() as first:
        with pytest.raises(OSError, match=r"(?i)address already in use"):
            await Emulator(port=first.port).start()


def test_emulator_thread_for_synchronous_code() -> None:
    with EmulatorThread(Emulator(apps={TOKEN: "com.example.one"})) as emu:
        r = requests.get(
            emu.bazaar_url + "/apps/releases/last-published", headers={H: TOKEN}, timeout=10
        )
        assert (r.status_code, r.json()["type"]) == (200, "not-exists")


async def test_an_emulator_bug_is_a_500_in_the_envelope(
    emu: Emulator, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(emu.world, "last", broken)
    status, body = await send(http, "GET", releases(emu) + "/last-published")
    assert (status, body["type"]) == (500, "server_error")
    assert (await send(http, "GET", releases(emu) + "/last-committed"))[0] == 500  # still serving
