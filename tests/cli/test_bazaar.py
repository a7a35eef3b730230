"""``storepush bazaar ...`` against the emulator: success, --json, bad input (exit 2, nothing
sent), refusals (exit 1), and no secret in any output."""

from __future__ import annotations

import hashlib
from pathlib import Path

from storepush.cli._app import _hoist_global_flags
from storepush.cli._bazaar import split_apk_arg
from storepush.emulator import Emulator
from storepush.testing import make_apk

from .conftest import OTHER, PACKAGE, TOKEN, Cli


def test_publish_status_and_rerun(cli: Cli, emu: Emulator, apk: Path, tmp_path: Path) -> None:
    notes = tmp_path / "fa.txt"
    notes.write_text("یادداشت انتشار", encoding="utf-8")
    second = make_apk(tmp_path / "b.apk", package=PACKAGE, version_code=5)
    doc = cli.json(
        "bazaar",
        "publish",
        f"{apk}:arm64-v8a",
        f"{second}:armeabi-v7a",
        "--changelog-en",
        "new things",
        "--changelog-fa",
        f"@{notes}",
        "--rollout",
        "50",
        "--auto-publish",
        "--wait",
    )
    assert doc["ok"] is True
    assert doc["release"]["committed"] is True
    assert doc["release"]["changelog_fa"] == "یادداشت انتشار"
    assert doc["release"]["staged_rollout_percentage"] == 50
    assert {p["sha1_hash"] for p in doc["packages"]} == {
        hashlib.sha1(apk.read_bytes()).hexdigest(),
        hashlib.sha1(second.read_bytes()).hexdigest(),
    }
    assert doc["published"] is not None
    again = cli.json("bazaar", "publish", f"{apk}:arm64-v8a", f"{second}:armeabi-v7a")
    assert again["already_committed"] is True
    status = cli.json("bazaar", "status")
    assert status["uncommitted"] is None
    assert status["published"]["packages"]
    human = cli("bazaar", "status")
    assert human.exit_code == 0
    assert "published" in human.stdout


def test_human_publish_output(cli: Cli, apk: Path) -> None:
    result = cli("bazaar", "publish", str(apk))
    assert result.exit_code == 0, result.output
    assert "committed the release with version codes 4" in result.stdout


def test_dry_run_changes_nothing(cli: Cli, emu: Emulator, apk: Path) -> None:
    doc = cli.json("bazaar", "publish", str(apk), "--dry-run")
    assert doc["dry_run"] is True
    assert {e["method"] for e in emu.log} == {"GET"}
    assert "dry run" in cli("bazaar", "publish", str(apk), "--dry-run").stdout


def test_discard_and_check(cli: Cli, emu: Emulator) -> None:
    assert cli.json("bazaar", "discard")["deleted"] is None
    emu.world.create_release(emu.world.apps[TOKEN])
    assert cli.json("bazaar", "discard")["deleted"] is not None
    assert emu.world.apps[TOKEN].draft is None
    assert cli.json("bazaar", "check")["ok"] is True
    refused = cli.json("bazaar", "check", env={"STOREPUSH_BAZAAR_TOKEN": "wrong-token"}, code=1)
    assert "another app" in refused["explanation"]


def test_token_env_flag(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    other_apk = make_apk(tmp_path / "o.apk", package="com.example.other", version_code=2)
    doc = cli.json(
        "bazaar", "publish", str(other_apk), "--token-env", "OTHER_APP", env={"OTHER_APP": OTHER}
    )
    assert doc["ok"]
    assert emu.world.apps[OTHER].releases[0].committed


def test_bad_input_exits_2_and_sends_nothing(
    cli: Cli, emu: Emulator, apk: Path, tmp_path: Path
) -> None:
    text = tmp_path / "x.apk"
    text.write_text("not a zip")
    cases = [
        (["bazaar", "publish", str(apk), "--rollout", "0"], "--rollout"),
        (["bazaar", "publish", str(apk), "--rollout", "101"], "--rollout"),
        (["bazaar", "publish", f"{apk}:x86"], "APK"),
        (["bazaar", "publish", str(tmp_path / "missing.apk")], f"APK 1 ({tmp_path}/missing.apk)"),
        (["bazaar", "publish", str(text)], f"APK 1 ({text})"),
        (["bazaar", "publish", str(tmp_path)], f"APK 1 ({tmp_path})"),
        (["bazaar", "publish"], "APK"),
        (["bazaar", "publish", str(apk), "--changelog-en", "@missing.txt"], "--changelog-en"),
        (["bazaar", "publish", "--aab", str(apk)], "--bin"),
        (["bazaar", "publish", str(apk), "--base-url", "http://api.example.com/v1"], "--base-url"),
    ]
    for args, field in cases:
        doc = cli.json(*args, code=2)
        assert doc["ok"] is False
        assert doc["error"]["field"] == field, (args, doc)
    for token in ("", "   ", "two words", "line\nbreak"):
        doc = cli.json("bazaar", "status", env={"STOREPUSH_BAZAAR_TOKEN": token}, code=2)
        assert doc["error"]["type"] == "ValidationError"
    doc = cli.json("bazaar", "status", env={"STOREPUSH_BAZAAR_TOKEN": None}, code=2)
    assert "STOREPUSH_BAZAAR_TOKEN" in doc["error"]["message"]
    assert emu.log == []
    for usage in (["--rollout", "ten"], ["--if-draft-exists", "maybe"]):
        result = cli("bazaar", "publish", str(apk), *usage)
        assert result.exit_code == 2  # the parser's own usage error
    human = cli("bazaar", "publish", str(apk), "--rollout", "0")
    assert "bad input" in human.output


def test_store_refusal_exits_1(cli: Cli, emu: Emulator, apk: Path) -> None:
    emu.world.create_release(emu.world.apps[TOKEN])
    emu.world.add_package(
        emu.world.apps[TOKEN],
        __import__("storepush.emulator._state", fromlist=["Package"]).Package(
            apk_size=1,
            sha1_hash="f" * 40,
            version_code=9,
            version_name="9",
            upload_date="2026-01-01",
        ),
        None,
    )
    doc = cli.json("bazaar", "publish", str(apk), code=1)
    assert doc["error"]["type"] == "DraftExistsError"
    assert "replace" in doc["error"]["message"]
    doc = cli.json("bazaar", "status", env={"STOREPUSH_BAZAAR_TOKEN": "nope-nope"}, code=1)
    assert doc["error"]["status"] == 403


def test_split_apk_arg() -> None:
    assert split_apk_arg("a.apk") == ("a.apk", "all")
    assert split_apk_arg("a.apk:arm64-v8a") == ("a.apk", "arm64-v8a")
    assert split_apk_arg("C:/x/a.apk") == ("C:/x/a.apk", "all")
    assert split_apk_arg("/tmp/v1:2/a.apk:armeabi-v7a") == ("/tmp/v1:2/a.apk", "armeabi-v7a")


def test_global_flags_anywhere() -> None:
    assert _hoist_global_flags(["bazaar", "status", "--json", "-v"]) == [
        "--json",
        "-v",
        "bazaar",
        "status",
    ]
    assert _hoist_global_flags(["bazaar", "publish", "--", "--json"]) == [
        "bazaar",
        "publish",
        "--",
        "--json",
    ]
    assert _hoist_global_flags(["emulator", "-v"]) == ["emulator", "-v"]


def test_verbose_logs_go_to_stderr_without_secrets(cli: Cli, apk: Path) -> None:
    result = cli("-v", "bazaar", "publish", str(apk))
    assert result.exit_code == 0
    assert "POST" in result.stderr
    assert TOKEN not in result.stderr
