"""`storepush emulator` (`storepush.emulator._cli`): arguments, output, errors a person can read."""

from __future__ import annotations

import asyncio
import io
import socket
import subprocess
import sys

import aiohttp
import pytest

from storepush.emulator import Quirks, Quota
from storepush.emulator._cli import build, main, parser, serve


def test_parser_and_build() -> None:
    args = parser().parse_args(
        [
            "--app",
            "t1=com.a",
            "--app",
            "t2",
            "--user",
            "k1=alice",
            "--user",
            "k2",
            "--admin",
            "alice",
            "--quota",
            "5/10",
            "--endpoint-quota",
            "bundle-status=0.5",
            "--account",
            "agency=t1,t2",
            "--account-quota",
            "20/40",
            "--key-quota",
            "2",
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
    assert {a.account for a in emu.world.apps.values()} == {"agency"}
    assert emu.world.users["k1"].admin
    assert emu.world.users["k2"].name == "user2"
    assert notes == [
        "--app #2 has no package name: it is com.example.app2",
        "--user #2 has no name: it is user2",
    ]
    assert emu.quotas.default == Quota(5, 10)
    assert emu.quotas.per_endpoint == {"bundle-status": Quota(0.5, 1)}
    assert (emu.quotas.account, emu.quotas.key) == (Quota(20, 40), Quota(2, 1))
    assert emu.faults.error_rate == 0.2
    assert emu.faults.seed == 9
    assert emu.quirks == Quirks()


@pytest.mark.parametrize(
    ("argv", "quirks"),
    [
        ([], Quirks()),
        (["--profile", "lenient"], Quirks.profile("lenient")),
        (["--empty-draft", "null"], Quirks(empty_draft="null")),
        (
            ["--profile", "lenient", "--no-architecture-zero"],
            Quirks.profile("lenient").__class__(
                **{**Quirks.profile("lenient").to_json(), "architecture_zero": False}
            ),
        ),
        (
            ["--architecture-zero", "--architecture-query", "--architecture-missing", "all"],
            Quirks(architecture_zero=True, architecture_query=True, architecture_missing="all"),
        ),
        (
            [
                "--slashless-post",
                "serve",
                "--chunked-upload",
                "accept",
                "--bluemind-errors",
                "html",
            ],
            Quirks(slashless_post="serve", chunked_upload="accept", bluemind_errors="html"),
        ),
    ],
)
def test_quirk_flags(argv: list[str], quirks: Quirks) -> None:
    emu, _, _ = build(parser().parse_args(["--app", "t=com.a", *argv]))
    assert emu.quirks == quirks


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--quota", "fast"], "RATE[/BURST]"),
        (["--quota", "0"], "RATE[/BURST]"),
        (["--endpoint-quota", "5/1"], "ENDPOINT=RATE"),
        (["--account", "agency"], "NAME=TOKEN"),
        (["--error-rate", "2"], "probability"),
        (["--empty-draft", "none"], "invalid choice"),
        (["--profile", "loose"], "invalid choice"),
    ],
)
def test_bad_arguments_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        parser().parse_args(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_account_of_unknown_token_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--app", "t=com.a", "--account", "agency=t,secret-token-x"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "account agency" in err
    assert "secret-token-x" not in err


def test_help_names_the_command_and_explains_every_option() -> None:
    p = parser()
    assert p.prog == "storepush emulator"
    assert "python -m" not in p.format_help()
    for action in p._actions:
        assert action.help, action.option_strings


def test_port_in_use_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--port", str(port), "--app", "t=com.a"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("storepush emulator: error: cannot listen on 127.0.0.1:")
    assert "Traceback" not in captured.err


async def test_banner_gives_the_exact_base_urls() -> None:
    argv = ["--port", "0", "--app", "secret-token-1=com.a", "--user", "secret-key-1"]
    emu, demo, notes = build(parser().parse_args(argv))
    out = io.StringIO()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(emu, demo, notes=notes, stop=stop, out=out))
    for _ in range(200):
        if out.getvalue():
            break
        await asyncio.sleep(0.01)
    text = out.getvalue()
    assert f"Pishkhan API:   http://127.0.0.1:{emu.port}/v1\n" in text
    assert f"BlueMind API:   http://127.0.0.1:{emu.port}\n" in text
    assert f"--base-url http://127.0.0.1:{emu.port}/v1" in text
    assert "Quirks:         strict" in text
    assert "note: --user #1 has no name: it is user1" in text
    assert "secret-token-1" not in text
    assert "secret-key-1" not in text
    # the BlueMind base URL, used as printed, gives the right paths (no doubled /addons/api)
    import storepush

    bluemind_url = text.split("BlueMind API:")[1].split()[0]
    async with storepush.BlueMindClient("secret-key-1", base_url=bluemind_url) as client:
        assert await client.list_plugins() == []
    stop.set()
    await task


async def test_demo_set_serves_and_prints() -> None:
    emu, demo, notes = build(parser().parse_args(["--port", "0"]))
    assert demo
    out = io.StringIO()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(emu, demo, notes=notes, stop=stop, out=out))
    for _ in range(200):
        if out.getvalue():
            break
        await asyncio.sleep(0.01)
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
    assert token in out.getvalue()  # the demo's own throw-away credentials are printed to be used


@pytest.mark.parametrize("command", [["-m", "storepush.emulator"], ["-m", "storepush", "emulator"]])
async def test_runs_as_a_command(command: list[str]) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *command,
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


def test_help_through_storepush() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "storepush", "emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: storepush emulator")
    assert "--empty-draft" in result.stdout
