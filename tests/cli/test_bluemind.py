from __future__ import annotations

from pathlib import Path

from storepush.emulator import Emulator
from storepush.testing import make_jar, make_png

from .conftest import Cli


def test_create_release_list_show(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    logo = make_png(tmp_path / "logo.png")
    shot = make_png(tmp_path / "shot.png")
    steps = tmp_path / "steps.md"
    steps.write_text("Copy the jar.")
    doc = cli.json(
        "bluemind",
        "create",
        "--name",
        "Sync",
        "--shortdesc",
        "s",
        "--description",
        "d",
        "--license",
        "MIT",
        "--instructions",
        f"@{steps}",
        "--home-url",
        "https://x.example",
        "--thumbnail",
        str(logo),
        "--screenshot",
        str(shot),
        "--screenshot",
        str(shot),
    )
    assert doc["plugin"]["name"] == "Sync"
    assert doc["plugin"]["installation_instructions"] == "Copy the jar."
    jar = make_jar(tmp_path / "p.jar")
    notes = tmp_path / "notes.txt"
    notes.write_text("Fixes")
    doc = cli.json(
        "bluemind",
        "release",
        str(jar),
        "--plugin",
        "Sync",
        "--version",
        "1.0",
        "--target-bm-versions",
        "4.x",
        "--release-notes",
        f"@{notes}",
    )
    assert doc["already_published"] is False
    again = cli.json(
        "bluemind",
        "release",
        str(jar),
        "--plugin",
        "Sync",
        "--version",
        "1.0",
        "--target-bm-versions",
        "4.x",
        "--release-notes",
        "x",
    )
    assert again["already_published"] is True
    listed = cli.json("bluemind", "plugins")
    [plugin] = listed["plugins"]
    shown = cli.json("bluemind", "plugin", str(plugin["id"]))
    assert shown["plugin"]["current_version"] == "1.0"
    assert "Sync" in cli("bluemind", "plugins").stdout
    assert "1.0" in cli("bluemind", "plugin", str(plugin["id"])).stdout


def test_release_creates_from_a_spec_file(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    make_png(tmp_path / "logo.png")
    spec = tmp_path / "plugin.toml"
    spec.write_text(
        'name = "Fresh"\nshortdesc = "s"\ndescription = "d"\nlicense = "MIT"\n'
        'installation_instructions = "i"\nthumbnail = "logo.png"\n'
    )
    jar = make_jar(tmp_path / "p.jar")
    doc = cli.json(
        "bluemind",
        "release",
        str(jar),
        "--plugin",
        "Fresh",
        "--version",
        "0.1",
        "--target-bm-versions",
        "4.x",
        "--release-notes",
        "n",
        "--create-from",
        str(spec),
    )
    assert doc["created_plugin"] is True
    assert (
        "published Fresh 0.2"
        in cli(
            "bluemind",
            "release",
            str(jar),
            "--plugin",
            "Fresh",
            "--version",
            "0.2",
            "--target-bm-versions",
            "4.x",
            "--release-notes",
            "n",
        ).stdout
    )


def test_bad_input(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    fake = tmp_path / "fake.png"
    fake.write_text("text")
    broken = tmp_path / "x.jar"
    broken.write_text("not a zip")
    bad_spec = tmp_path / "bad.toml"
    bad_spec.write_text('name = "x"\ncolour = "red"\n')
    cases = [
        (
            [
                "bluemind",
                "create",
                "--name",
                "",
                "--shortdesc",
                "s",
                "--description",
                "d",
                "--license",
                "l",
                "--instructions",
                "i",
            ],
            "--name",
        ),
        (
            [
                "bluemind",
                "create",
                "--name",
                "n",
                "--shortdesc",
                "s",
                "--description",
                "d",
                "--license",
                "l",
                "--instructions",
                "i",
                "--thumbnail",
                str(fake),
            ],
            "--thumbnail",
        ),
        (
            [
                "bluemind",
                "release",
                str(broken),
                "--plugin",
                "p",
                "--version",
                "1",
                "--target-bm-versions",
                "4",
                "--release-notes",
                "n",
            ],
            "PACKAGE",
        ),
        (
            [
                "bluemind",
                "release",
                str(broken),
                "--plugin",
                "p",
                "--version",
                "1",
                "--target-bm-versions",
                "4",
                "--release-notes",
                "n",
                "--create-from",
                str(bad_spec),
            ],
            "bad.toml:2: colour",
        ),
        (["bluemind", "plugin", "abc"], "ID"),
    ]
    for args, field in cases:
        doc = cli.json(*args, code=2)
        assert doc["error"]["field"] == field, (args, doc)
    assert emu.log == []
    missing = cli.json(
        "bluemind",
        "release",
        str(make_jar(tmp_path / "ok.jar")),
        "--plugin",
        "None",
        "--version",
        "1",
        "--target-bm-versions",
        "4",
        "--release-notes",
        "n",
        code=1,
    )
    assert "--create-from" in missing["error"]["message"]


def _release(cli: Cli, jar: Path, version: str, *extra: str, code: int = 0) -> dict[str, object]:
    return cli.json(  # type: ignore[no-any-return]
        "bluemind",
        "release",
        str(jar),
        "--plugin",
        "Sync",
        "--version",
        version,
        "--target-bm-versions",
        "4.x",
        "--release-notes",
        "n",
        *extra,
        code=code,
    )


def test_spec_file_without_a_name(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    (tmp_path / "desc.md").write_text("A description from a file.")
    spec = tmp_path / "plugin.toml"
    spec.write_text(
        'shortdesc = "s"\ndescription = "@desc.md"\nlicense = "MIT"\n'
        'installation_instructions = "i"\n'
    )
    jar = make_jar(tmp_path / "p.jar")
    plan = _release(cli, jar, "1.0", "--create-from", str(spec), "--dry-run")
    assert plan["action"] == "create the plugin and add the version"
    assert [e for e in emu.log if e["method"] == "POST"] == []
    doc = _release(cli, jar, "1.0", "--create-from", str(spec))
    assert doc["created_plugin"] is True
    [plugin] = emu.world.plugins.values()
    assert plugin.fields["description"] == "A description from a file."
    spec.write_text('name = "Other"\n' + spec.read_text())
    wrong = _release(cli, jar, "1.1", "--create-from", str(spec), code=2)
    assert wrong["error"]["field"] == "plugin.toml:1: name"  # type: ignore[index]


def test_a_listed_version_with_another_jar_is_refused(
    cli: Cli, emu: Emulator, tmp_path: Path
) -> None:
    jar = make_jar(tmp_path / "p.jar")
    other = make_jar(tmp_path / "q.jar", seed=8)
    spec = tmp_path / "plugin.toml"
    spec.write_text(
        'shortdesc = "s"\ndescription = "d"\nlicense = "MIT"\ninstallation_instructions = "i"\n'
    )
    _release(cli, jar, "1.0", "--create-from", str(spec))
    refused = _release(cli, other, "1.0", code=1)
    assert refused["error"]["type"] == "VersionExistsError"  # type: ignore[index]
    human = cli(
        "bluemind",
        "release",
        str(other),
        "--plugin",
        "Sync",
        "--version",
        "1.0",
        "--target-bm-versions",
        "4.x",
        "--release-notes",
        "n",
    )
    assert human.exit_code == 1
    assert "is already published with another package" in human.stderr
    assert _release(cli, other, "1.0", "--dry-run", code=1)["error"]["type"] == (  # type: ignore[index]
        "VersionExistsError"
    )


def test_an_unverifiable_listed_version_warns(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    jar = make_jar(tmp_path / "p.jar")
    spec = tmp_path / "plugin.toml"
    spec.write_text(
        'shortdesc = "s"\ndescription = "d"\nlicense = "MIT"\ninstallation_instructions = "i"\n'
    )
    _release(cli, jar, "1.0", "--create-from", str(spec))
    [plugin] = emu.world.plugins.values()
    plugin.versions[0].package = {}  # a MarketPlace that does not show the stored package
    again = cli(
        "bluemind",
        "release",
        str(jar),
        "--plugin",
        "Sync",
        "--version",
        "1.0",
        "--target-bm-versions",
        "4.x",
        "--release-notes",
        "n",
    )
    assert again.exit_code == 0
    assert "was already published; nothing was sent" in again.stdout
    warnings = [line for line in again.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "does not show its stored package" in warnings[0]
    doc = _release(cli, jar, "1.0")
    assert doc["verified"] is False
    assert doc["warnings"]


def test_missing_plugin_names_the_flag(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    jar = make_jar(tmp_path / "p.jar")
    result = cli(
        "bluemind",
        "release",
        str(jar),
        "--plugin",
        "Nope",
        "--version",
        "1",
        "--target-bm-versions",
        "4",
        "--release-notes",
        "n",
    )
    assert result.exit_code == 1
    assert "use --create-from PLUGIN.toml to create it from a plugin spec" in result.stderr
    assert "create=" not in result.output
