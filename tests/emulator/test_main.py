"""``python -m storepush.emulator``: arguments, demo credentials, loopback by default."""

from __future__ import annotations

import asyncio
import sys

import aiohttp
import pytest

from storepush.emulator._cli import build, parser, serve


def test_parser_and_build() -> None:
    args = parser().parse_args(
        [
            "--app",
            "t1=com.a",
            "--app",
            "t2",
            "--user",
            "k1=alice",
            "--admin",
            "alice",
            "--quota",
            "5/10",
            "--error-rate",
            "0.2",
            "--seed",
            "9",
            "--port",
            "0",
        ]
    )
    emu, demo, notes = build(args)
    assert not demo
    assert emu.host == "127.0.0.1"
    assert emu.world.apps["t1"].package_name == "com.a"
    assert emu.world.apps["t2"].package_name == "com.example.app2"
    assert notes == ["--app #2 has no package name: it is com.example.app2"]
    assert emu.world.users["k1"].admin
    assert emu.quotas.default is not None
    assert emu.quotas.default.burst == 10
    assert emu.faults.error_rate == 0.2
    assert emu.faults.seed == 9


def test_bad_quota_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["--quota", "fast"])
    assert "RATE[/BURST]" in capsys.readouterr().err


async def test_demo_set_serves_and_prints(capsys: pytest.CaptureFixture[str]) -> None:
    emu, demo, _ = build(parser().parse_args(["--port", "0"]))
    assert demo
    stop = asyncio.Event()
    task = asyncio.create_task(serve(emu, demo, stop=stop))
    for _ in range(100):
        if emu.port:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    token = next(iter(emu.world.apps))
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            emu.bazaar_url + "/apps/releases/last-published",
            headers={"CAFEBAZAAR-PISHKHAN-API-SECRET": token},
        ) as r,
    ):
        assert r.status == 200
    stop.set()
    await task
    out = capsys.readouterr().out
    assert "Pishkhan API:   http://127.0.0.1:" in out
    assert token in out  # the demo's own throw-away credentials are printed to be used


async def test_module_runs_as_a_script() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "storepush.emulator",
        "--port",
        "0",
        "--app",
        "tok=com.x",
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 20)
    proc.terminate()
    await proc.wait()
    assert line.startswith(b"Pishkhan API:")
