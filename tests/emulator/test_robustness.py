"""Hostile or broken clients: the emulator answers 4xx or hangs up, and keeps serving."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import aiohttp
import pytest

from storepush._samples import make_apk
from storepush.emulator import Emulator

from .conftest import TOKEN, H


async def alive(emu: Emulator) -> bool:
    async with (
        aiohttp.ClientSession() as http,
        http.get(emu.bazaar_url + "/apps/releases/last-published", headers={H: TOKEN}) as r,
    ):
        return r.status == 200


async def raw(emu: Emulator, payload: bytes, *, close: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection(emu.host, emu.port)
    writer.write(payload)
    await writer.drain()
    if close:
        writer.close()
        await writer.wait_closed()
        return b""
    data = await asyncio.wait_for(reader.read(65536), 5)
    writer.close()
    await writer.wait_closed()
    return data


async def test_malformed_multipart_gets_400(emu: Emulator) -> None:
    async with aiohttp.ClientSession() as http:
        await http.post(emu.bazaar_url + "/apps/releases/", headers={H: TOKEN})
        headers = {H: TOKEN, "Content-Type": "multipart/form-data; boundary=XYZ"}
        for body in (b"garbage", b"--XYZ\r\nno headers end", b"--XYZ--\r\n"):
            async with http.post(
                emu.bazaar_url + "/apps/releases/upload/", data=body, headers=headers
            ) as r:
                assert 400 <= r.status < 500, body
    assert await alive(emu)


async def test_huge_text_field_is_refused(emu: Emulator) -> None:
    async with aiohttp.ClientSession() as http:
        await http.post(emu.bazaar_url + "/apps/releases/", headers={H: TOKEN})
        form = aiohttp.FormData(default_to_multipart=True)
        form.add_field("architecture", "a" * (200 * 1024))
        async with http.post(
            emu.bazaar_url + "/apps/releases/upload/", data=form, headers={H: TOKEN}
        ) as r:
            assert r.status == 400
            assert "too large" in (await r.json())["message"]
    assert await alive(emu)


async def test_client_that_stops_mid_body(emu: Emulator) -> None:
    emu.world.create_release(emu.world.apps[TOKEN])
    head = (
        "POST /v1/apps/releases/upload/ HTTP/1.1\r\n"
        f"Host: {emu.host}\r\n{H}: {TOKEN}\r\n"
        "Content-Type: multipart/form-data; boundary=B\r\n"
        "Content-Length: 10000000\r\n\r\n"
        '--B\r\nContent-Disposition: form-data; name="apk"; filename="a.apk"\r\n\r\n'
    ).encode()
    await raw(emu, head + b"PK\x03\x04" + b"x" * 5000)
    await asyncio.sleep(0.1)
    assert await alive(emu)
    assert emu.world.apps[TOKEN].draft is not None
    assert emu.world.apps[TOKEN].draft.packages == []  # type: ignore[union-attr]
    assert any(entry["status"] == "disconnected" for entry in emu.log)


async def test_garbage_request_line(emu: Emulator) -> None:
    answer = await raw(emu, b"\x00\x01\x02 not http\r\n\r\n", close=False)
    assert answer.split(b"\r\n", 1)[0].endswith(b" 400 Bad Request")
    assert await alive(emu)


async def test_bad_json_commit(emu: Emulator) -> None:
    async with aiohttp.ClientSession() as http:
        await http.post(emu.bazaar_url + "/apps/releases/", headers={H: TOKEN})
        for body in (b"{nope", b"[1]"):
            async with http.post(
                emu.bazaar_url + "/apps/releases/commit/", data=body, headers={H: TOKEN}
            ) as r:
                assert r.status == 400
                assert (await r.json())["type"] == "bad_request"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
async def test_plain_curl_upload(emu: Emulator, tmp_path: Path) -> None:
    apk = make_apk(tmp_path / "app.apk", package="com.example.one", version_code=3)
    emu.world.create_release(emu.world.apps[TOKEN])
    command = [
        "curl",
        "-sS",
        "-H",
        f"{H}: {TOKEN}",
        "-F",
        f"apk=@{apk}",
        "-F",
        "architecture=all",
        emu.bazaar_url + "/apps/releases/upload/",
    ]
    result = await asyncio.to_thread(subprocess.run, command, capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert b"Package successfully added to release." in result.stdout
