"""Plugin specs (`--create-from plugin.toml`, `[bluemind.create]`): `name` may be left out,
long texts may be `@FILE`, paths are relative to the file, errors name the line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from storepush import ValidationError
from storepush.cli._manifest import load_manifest
from storepush.cli._plugin_spec import TomlLines, load_plugin_spec

SPEC = (
    'shortdesc = "s"\ndescription = "@desc.md"\nlicense = "MIT"\n'
    'installation_instructions = "i"\nthumbnail = "art/logo.png"\nscreenshots = ["art/s1.png"]\n'
)


def test_name_defaults_to_the_plugin(tmp_path: Path) -> None:
    (tmp_path / "desc.md").write_text("A long description.")
    spec_file = tmp_path / "plugin.toml"
    spec_file.write_text(SPEC)
    spec = load_plugin_spec(spec_file, plugin="Calendar Sync")
    assert spec.name == "Calendar Sync"
    assert spec.description == "A long description."
    assert spec.thumbnail == tmp_path / "art/logo.png"
    assert spec.screenshots == (tmp_path / "art/s1.png",)
    spec_file.write_text('name = "Calendar Sync"\n' + SPEC)
    assert load_plugin_spec(spec_file, plugin="Calendar Sync").name == "Calendar Sync"


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ('name = "Other"\n' + SPEC, "plugin.toml:1: name", "but the plugin being released is"),
        (SPEC + 'colour = "red"\n', "plugin.toml:7: colour", "is not a plugin field"),
        (SPEC.replace('license = "MIT"\n', ""), "plugin.toml: license", "is required"),
        (
            SPEC.replace('"@desc.md"', '"@missing.md"'),
            "plugin.toml:2: description",
            "does not exist",
        ),
        (SPEC + "home_url = 5\n", "plugin.toml:7: home_url", "must be a string"),
        (SPEC.replace('["art/s1.png"]', '"art/s1.png"'), "plugin.toml:6: screenshots", "list"),
    ],
)
def test_errors_name_line_and_key(tmp_path: Path, text: str, where: str, problem: str) -> None:
    (tmp_path / "desc.md").write_text("d")
    spec_file = tmp_path / "plugin.toml"
    spec_file.write_text(text)
    with pytest.raises(ValidationError, match=problem) as caught:
        load_plugin_spec(spec_file, plugin="Calendar Sync")
    assert caught.value.field == where


def test_not_toml_or_not_a_file(tmp_path: Path) -> None:
    bad = tmp_path / "plugin.toml"
    bad.write_text("= nope")
    with pytest.raises(ValidationError, match="not valid TOML"):
        load_plugin_spec(bad, plugin="x")
    with pytest.raises(ValidationError, match="is a directory") as caught:
        load_plugin_spec(tmp_path, plugin="x")
    assert caught.value.field == "--create-from"


def test_a_manifest_create_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BM", "spec-test-key-0123456")
    manifest = tmp_path / "release.toml"
    manifest.write_text(
        '[[bluemind]]\nplugin = "Sync"\napi_key_env = "BM"\nversion = "1.0"\n'
        'release_notes = "n"\npackage = "p.jar"\n\n[bluemind.create]\n'
        'shortdesc = "s"\ndescription = "d"\nlicense = "MIT"\ninstallation_instructions = 3\n'
    )
    with pytest.raises(ValidationError, match="is required") as caught:
        load_manifest(manifest)
    assert caught.value.field == "release.toml:12: bluemind[0].create.installation_instructions"


def test_lines() -> None:
    lines = TomlLines("[[a]]\nx = 1\n[[a]]\nx = 2\n[a.sub]\ny = 3\n[[b]]\nx = 4\n")
    assert lines.header("a", 1) == 3
    assert lines.key("a", 1, "x") == 4
    assert lines.key("a", 1, "sub.y") == 6
    assert lines.key("b", 0, "x") == 8
    assert lines.key("a", 0, "missing") == 1
