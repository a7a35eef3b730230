"""``storepush bazaar ...`` against the emulator: success, --json, bad input (exit 2, nothing
sent), refusals (exit 1), and no secret in any output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from storepush import (
    BusyError,
    ConcurrentPublishError,
    FileChangedError,
    VersionCodeError,
    WorkflowError,
)
from storepush.cli._app import _hoist_global_flags
from storepush.cli._inputs import split_apk_arg
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


def test_draft_exists_speaks_cli(cli: Cli, emu: Emulator, apk: Path) -> None:
    from storepush.emulator._state import Package

    app = emu.world.apps[TOKEN]
    emu.world.create_release(app)
    emu.world.add_package(
        app,
        Package(
            apk_size=1,
            sha1_hash="e" * 40,
            version_code=9,
            version_name="9",
            upload_date="2026-01-01",
        ),
        None,
    )
    result = cli("bazaar", "publish", str(apk))
    assert result.exit_code == 1
    assert "use --if-draft-exists reuse to add this build to it" in result.stderr
    assert "use --if-draft-exists replace to delete it first" in result.stderr
    assert "if_draft_exists" not in result.output
    doc = cli.json("bazaar", "publish", str(apk), code=1)
    assert doc["error"]["remedies"] == [
        "use --if-draft-exists reuse to add this build to it",
        "use --if-draft-exists replace to delete it first",
    ]
    plan = cli.json("bazaar", "publish", str(apk), "--dry-run", "--if-draft-exists", "replace")
    assert plan["action"] == "replace"
    # the environment picks the policy when the flag does not
    env = {"STOREPUSH_IF_DRAFT_EXISTS": "replace"}
    assert cli.json("bazaar", "publish", str(apk), "--dry-run", env=env)["action"] == "replace"
    done = cli.json("bazaar", "publish", str(apk), env=env)
    assert done["draft"] == "replaced"


def test_a_killed_run_is_resumed_with_no_extra_flag(cli: Cli, emu: Emulator, apk: Path) -> None:
    emu.world.create_release(emu.world.apps[TOKEN])  # the empty draft a killed run left
    plan = cli.json("bazaar", "publish", str(apk), "--dry-run")
    assert plan["action"] == "adopt"
    human = cli("bazaar", "publish", str(apk), "--dry-run")
    assert "the publish would adopt the draft" in human.stdout
    doc = cli.json("bazaar", "publish", str(apk))
    assert doc["draft"] == "adopted"
    assert len(emu.world.apps[TOKEN].releases) == 1


def test_already_committed_warns_about_differences(cli: Cli, emu: Emulator, apk: Path) -> None:
    cli.json("bazaar", "publish", str(apk), "--changelog-en", "first", "--rollout", "20")
    again = cli("bazaar", "publish", str(apk), "--changelog-en", "second")
    assert again.exit_code == 0
    assert "already committed before: version codes 4" in again.stdout
    warnings = [line for line in again.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, again.stderr
    assert "--changelog-en, --rollout" in warnings[0]
    assert "staged_rollout_percentage" not in again.output
    doc = cli.json("bazaar", "publish", str(apk), "--changelog-en", "second")
    assert doc["already_committed"] is True
    assert doc["differences"] == ["changelog_en", "staged_rollout_percentage"]
    plan = cli("bazaar", "publish", str(apk), "--dry-run")
    assert "nothing to send: this build is already committed" in plan.stdout


def test_version_code_refusal(cli: Cli, emu: Emulator, apk: Path, tmp_path: Path) -> None:
    cli.json("bazaar", "publish", str(apk))
    rebuilt = make_apk(tmp_path / "rebuilt.apk", package=PACKAGE, version_code=4, seed=99)
    result = cli("bazaar", "publish", f"{rebuilt}:all")
    assert result.exit_code == 1
    assert f"APK 1 ({rebuilt}): version code 4 is already committed" in result.stderr
    doc = cli.json("bazaar", "publish", str(rebuilt), code=1)
    assert doc["error"]["type"] == "VersionCodeError"


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            VersionCodeError("refused before any change: apks[0]: version code 3 is not above 4"),
            "APK 1 (",
        ),
        (ConcurrentPublishError("another publisher is filling this app's draft"), "another"),
        (
            FileChangedError("the file changed while it was being uploaded: app.apk shrank"),
            "the file changed while it was being uploaded",
        ),
        (
            BusyError("another publish of this app is running").with_remedies(
                ("if_busy", "wait", "wait for it"), ("busy_timeout", None, "wait longer")
            ),
            "use --if-busy wait to wait for it; or use --busy-timeout SECONDS to wait longer",
        ),
        (WorkflowError("the draft did not settle after 40 rounds"), "did not settle"),
    ],
)
def test_workflow_errors_exit_1_in_cli_words(
    cli: Cli, apk: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, words: str
) -> None:
    async def refuse(self: object, *args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr("storepush.bazaar.BazaarClient.publish", refuse)
    result = cli("bazaar", "publish", str(apk))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert words in result.stderr
    assert "apks[" not in result.stderr
    doc = cli.json("bazaar", "publish", str(apk), code=1)
    assert doc["error"]["type"] == type(error).__name__


def test_busy_app_with_if_busy_fail(cli: Cli, emu: Emulator, apk: Path, tmp_path: Path) -> None:
    import asyncio

    from storepush import BazaarClient, LocalCoordinator

    locks = tmp_path / "locks"
    fingerprint = BazaarClient(TOKEN).credential_fingerprint

    async def hold() -> object:
        return await LocalCoordinator(locks).acquire(
            f"bazaar-{fingerprint}", if_busy="fail", wait_up_to=0
        )

    lease = asyncio.run(hold())
    try:
        env = {"STOREPUSH_LOCK_DIR": str(locks)}
        result = cli("bazaar", "publish", str(apk), "--if-busy", "fail", env=env)
        assert result.exit_code == 1
        assert "another publish of this app is running" in result.stderr
        assert "use --if-busy wait to wait for it" in result.stderr
        assert "--busy-timeout" not in result.stderr  # it never waited: no "wait longer"
        waited = cli("bazaar", "publish", str(apk), "--busy-timeout", "0.2", env=env)
        assert waited.exit_code == 1
        assert "another publish of this app is running" in waited.stdout + waited.stderr
        assert "--busy-timeout SECONDS to wait longer" in waited.stdout + waited.stderr
    finally:
        asyncio.run(lease.release())  # type: ignore[attr-defined]
    assert cli.json("bazaar", "publish", str(apk), env=env)["ok"] is True


def test_progress_jsonl_and_plain(cli: Cli, emu: Emulator, apk: Path) -> None:
    result = cli("--json", "bazaar", "publish", str(apk), "--progress", "jsonl")
    assert result.exit_code == 0
    events = [json.loads(line) for line in result.stderr.splitlines()]
    phases = [e["phase"] for e in events]
    assert phases[0] == "checking"
    assert "uploading" in phases
    assert phases[-1] == "committed"
    assert any(e.get("percent") == 100 for e in events)
    assert json.loads(result.stdout)["ok"] is True
    quiet = cli("bazaar", "publish", str(apk), env={"STOREPUSH_PROGRESS": "off"})
    assert quiet.stderr == ""


def test_wait_polls_with_the_interval(cli: Cli, emu: Emulator, apk: Path) -> None:
    result = cli(
        "bazaar",
        "publish",
        str(apk),
        "--auto-publish",
        "--wait",
        "--poll-interval",
        "0.05",
        "--progress",
        "plain",
    )
    assert result.exit_code == 0, result.output
    assert "published" in result.stdout


def test_group_versions(cli: Cli) -> None:
    for group in ("bazaar", "bluemind", "emulator"):
        result = cli(group, "--version")
        assert result.exit_code == 0
        assert result.stdout.startswith("storepush ")
    helped = cli("--help")
    assert "--install-completion" in helped.stdout
