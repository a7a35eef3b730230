"""``storepush batch``: a manifest of apps and plugins, concurrency, failure isolation,
resumable re-runs, and manifest errors with their line, before anything is sent."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from storepush import ValidationError
from storepush.cli._manifest import load_manifest
from storepush.emulator import Emulator, Faults
from storepush.testing import make_aab, make_apk, make_bin, make_jar, make_png

from .conftest import KEY, OTHER, TOKEN, Cli

ENV = {"APP_ONE": TOKEN, "APP_TWO": OTHER, "BM": KEY}


def write_manifest(tmp_path: Path, extra: str = "") -> Path:
    make_apk(tmp_path / "one-arm64.apk", package="com.example.cli", version_code=3)
    make_apk(tmp_path / "one-v7.apk", package="com.example.cli", version_code=2)
    make_apk(tmp_path / "three.apk", package="com.example.cli", version_code=7, seed=3)
    make_aab(tmp_path / "two.aab", package="com.example.other")
    make_bin(tmp_path / "two.bin")
    make_jar(tmp_path / "plugin.jar")
    make_png(tmp_path / "logo.png")
    (tmp_path / "notes.txt").write_text("Notes from a file")
    manifest = tmp_path / "release.toml"
    manifest.write_text(
        f"""
[defaults]
changelog_en = "@notes.txt"
auto_publish = true
target_bm_versions = "4.x"

[[bazaar]]
name = "one"
token_env = "APP_ONE"
apks = ["one-arm64.apk:arm64-v8a", {{path = "one-v7.apk", architecture = "armeabi-v7a"}}]
rollout = 30

[[bazaar]]
name = "two"
token_env = "APP_TWO"
aab = "two.aab"
bin = "two.bin"

[[bluemind]]
plugin = "Batch Plugin"
api_key_env = "BM"
version = "2.0"
release_notes = "batch"
package = "plugin.jar"

[bluemind.create]
shortdesc = "s"
description = "d"
license = "MIT"
installation_instructions = "i"
thumbnail = "logo.png"
{extra}"""
    )
    return manifest


def test_batch_runs_everything_once(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path)
    # faults on the writes, where exactly-once is at stake (throttling and its real-time
    # waits are tested on fake clocks elsewhere)
    writes = {"create", "upload", "commit", "plugin_version"}
    emu.set_faults(Faults(seed=3, error_rate=0.2, acted_fail_rate=0.3, endpoints=frozenset(writes)))
    doc = cli.json("batch", str(manifest), "--concurrency", "2", env=ENV)
    assert doc["ok"] is True
    assert [i["status"] for i in doc["items"]] == ["committed", "committed", "published"]
    one = emu.world.apps[TOKEN].releases
    assert len(one) == 1
    assert one[0].changelog_en == "Notes from a file"
    assert one[0].staged_rollout_percentage == 30
    assert len(emu.world.apps[OTHER].releases) == 1
    [plugin] = emu.world.plugins.values()
    assert [v.version for v in plugin.versions] == ["2.0"]
    state = json.loads((tmp_path / "release.toml.state.json").read_text())
    assert set(state) == {"one", "two"}
    assert state["one"]["creating"] is False
    assert len(state["one"]["drafts"]) == 1
    assert TOKEN not in json.dumps(state)
    again = cli.json("batch", str(manifest), env=ENV)
    assert [i["status"] for i in again["items"]] == [
        "already committed",
        "already committed",
        "already published",
    ]
    human = cli("batch", str(manifest), env=ENV)
    assert human.exit_code == 0
    assert "3/3 done" in human.stdout


def test_interrupted_batch_resumes(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path)
    # the first run fails every APK upload: app one is left with an empty draft of its own
    # (bundle reconciliation reads bundle-status, paced at one call a minute: tested on a fake
    # clock in tests/bazaar, not here in real time)
    emu.set_faults(Faults(seed=1, error_rate=1.0, endpoints=frozenset({"upload"})))
    first = cli.json("batch", str(manifest), env=ENV, code=1)
    assert [i["ok"] for i in first["items"]] == [False, True, True]
    assert emu.world.apps[TOKEN].draft is not None
    emu.set_faults(Faults())
    second = cli.json("batch", str(manifest), env=ENV)
    assert second["ok"] is True
    assert second["items"][0]["detail"]["draft"] == "resumed"
    assert len(emu.world.apps[TOKEN].releases) == 1
    assert len(emu.world.apps[OTHER].releases) == 1


def test_one_failure_does_not_stop_the_others(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path)
    doc = cli.json("batch", str(manifest), env={**ENV, "APP_TWO": "revoked-token"}, code=1)
    assert [i["ok"] for i in doc["items"]] == [True, False, True]
    assert doc["items"][1]["error"]["status"] == 403
    assert doc["totals"]["failed"] == 1


def test_dry_run(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    doc = cli.json("batch", str(write_manifest(tmp_path)), "--dry-run", env=ENV)
    assert [i["status"] for i in doc["items"]] == [
        "would create",
        "would create",
        "would create the plugin and add the version",
    ]
    assert {e["method"] for e in emu.log} == {"GET"}
    assert not (tmp_path / "release.toml.state.json").exists()


@pytest.mark.parametrize(
    ("extra", "env", "where"),
    [
        (
            '\n[[bazaar]]\nname = "three"\ntoken_env = "APP_ONE"\napks = ["one-v7.apk"]\ncolour = "red"\n',
            {},
            "bazaar[2].colour",
        ),
        (
            '\n[[bazaar]]\nname = "three"\ntoken_env = "NOPE"\napks = ["one-v7.apk"]\n',
            {},
            "bazaar[2].token_env",
        ),
        (
            '\n[[bazaar]]\nname = "three"\ntoken_env = "APP_ONE"\napks = ["missing.apk"]\n',
            {},
            "bazaar[2].apks",
        ),
        (
            '\n[[bazaar]]\nname = "three"\ntoken_env = "APP_ONE"\napks = ["one-v7.apk:x86"]\n',
            {},
            "bazaar[2].apks",
        ),
        (
            '\n[[bazaar]]\nname = "three"\ntoken_env = "APP_ONE"\napks = ["one-v7.apk"]\nrollout = "10"\n',
            {},
            "bazaar[2].rollout",
        ),
        (
            '\n[[bazaar]]\nname = "one"\ntoken_env = "APP_ONE"\napks = ["one-v7.apk"]\n',
            {},
            "bazaar[2].name",
        ),
        (
            '\n[[bluemind]]\nplugin = "P"\napi_key_env = "BM"\nversion = 2.0\nrelease_notes = "n"\npackage = "plugin.jar"\n',
            {},
            "bluemind[1].version",
        ),
        ("\n[extras]\nx = 1\n", {}, "extras"),
        ("\nthis is not toml\n", {}, "release.toml"),
        (
            '\n[[bazaar]]\nname = "three"\ntoken_env = "APP_ONE"\napks = ["three.apk"]\n',
            {},
            "bazaar[2].token_env",  # the same app as bazaar[0]
        ),
        (
            '\n[[bazaar]]\nname = "three"\ntoken_env = "BM"\napks = ["one-v7.apk"]\n',
            {},
            "bazaar[2].apks[0]",  # the same file as bazaar[0]'s
        ),
    ],
)
def test_manifest_errors_name_line_and_field(
    cli: Cli, emu: Emulator, tmp_path: Path, extra: str, env: dict[str, str], where: str
) -> None:
    manifest = write_manifest(tmp_path, extra)
    doc = cli.json("batch", str(manifest), env={**ENV, **env}, code=2)
    field = doc["error"]["field"]
    assert where in field, doc
    found = re.match(r"release\.toml:(\d+): \w+\[\d+\]\.(\w+)", field)
    if found:  # the line named is the line that holds the key
        line = manifest.read_text().splitlines()[int(found.group(1)) - 1]
        assert line.strip().startswith(found.group(2)), (field, line)
    assert emu.log == []


def test_manifest_without_items_or_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("[defaults]\nrollout = 5\n")
    with pytest.raises(ValidationError, match="no item"):
        load_manifest(empty)
    with pytest.raises(ValidationError, match="does not exist"):
        load_manifest(tmp_path / "nope.toml")


def test_dry_run_agrees_with_the_real_run(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path)
    emu.set_faults(Faults(seed=1, error_rate=1.0, endpoints=frozenset({"upload"})))
    cli.json("batch", str(manifest), env=ENV, code=1)  # app one keeps its empty draft
    emu.set_faults(Faults())
    plan = cli.json("batch", str(manifest), "--dry-run", env=ENV)
    assert plan["items"][0]["status"] == "would resume"
    assert "resume the draft" in plan["items"][0]["detail"]["would"]
    human = cli("batch", str(manifest), "--dry-run", env=ENV)
    assert "one: resume the draft created" in human.stdout
    state = tmp_path / "release.toml.state.json"
    kept = state.read_text()
    state.unlink()  # a fresh runner: no resume file; the empty draft is adopted instead
    assert cli.json("batch", str(manifest), "--dry-run", env=ENV)["items"][0]["status"] == (
        "would adopt"
    )
    assert not state.exists()  # a dry run never writes it
    state.write_text(kept)
    real = cli.json("batch", str(manifest), env=ENV)
    assert real["items"][0]["detail"]["draft"] == "resumed"


def test_item_lines_and_warnings_name_the_item(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path)
    assert cli.json("batch", str(manifest), env=ENV)["ok"] is True
    changed = manifest.read_text().replace("rollout = 30", "rollout = 40")
    manifest.write_text(changed)
    result = cli("batch", str(manifest), "--progress", "plain", env=ENV)
    assert result.exit_code == 0
    assert "warning: one: the committed release differs" in result.stderr
    assert "in rollout;" in result.stderr  # manifest words, not staged_rollout_percentage
    assert re.search(r"Z one: started \(\d+ KB to send\)", result.stderr)
    assert re.search(r"Z one: finished: already committed", result.stderr)
    lines = cli("batch", str(manifest), "--progress", "jsonl", env=ENV)
    docs = [json.loads(line) for line in lines.stderr.splitlines()]
    assert {d.get("item") for d in docs} == {"one", "two", "Batch Plugin 2.0"}
    assert any("warning" in d for d in docs)


def test_failures_are_spelled_as_manifest_keys(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    from storepush.emulator._state import Package

    manifest = write_manifest(tmp_path)
    app = emu.world.apps[TOKEN]
    emu.world.create_release(app)
    emu.world.add_package(
        app,
        Package(
            apk_size=1,
            sha1_hash="d" * 40,
            version_code=1,
            version_name="1",
            upload_date="2026-01-01",
        ),
        None,
    )
    doc = cli.json("batch", str(manifest), env=ENV, code=1)
    error = doc["items"][0]["error"]
    assert error["type"] == "DraftExistsError"
    assert error["remedies"][0] == 'use if_draft_exists = "reuse" to add this build to it'
    human = cli("batch", str(manifest), env=ENV)
    assert human.exit_code == 1
    assert "DraftExists" not in human.stdout
    assert "failed" in human.stdout
