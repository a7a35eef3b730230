"""The whole manifest, checked before the first request: files parsed as the publish parses
them, duplicates refused, base URLs checked, settings resolved, the resume file writable."""

from __future__ import annotations

from pathlib import Path

import pytest

from storepush import Session, ValidationError
from storepush.cli._manifest import load_manifest
from storepush.cli._preflight import ReadyBazaar, ReadyBlueMind, preflight
from storepush.cli._settings import IfBusy
from storepush.testing import make_aab, make_apk, make_bin, make_jar, make_png

ENV = {"STOREPUSH_BAZAAR_BASE_URL": "http://127.0.0.1:9/v1"}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ONE", "preflight-token-one-111")
    monkeypatch.setenv("TWO", "preflight-token-two-222")
    monkeypatch.setenv("BM", "preflight-key-bm-333")
    make_apk(tmp_path / "a.apk", package="com.example.a", version_code=3)
    make_apk(tmp_path / "b.apk", package="com.example.a", version_code=2, seed=1)
    make_apk(tmp_path / "c.apk", package="com.example.c", version_code=2, seed=2)
    make_aab(tmp_path / "d.aab", package="com.example.d")
    make_bin(tmp_path / "d.bin")
    make_jar(tmp_path / "p.jar")
    make_png(tmp_path / "logo.png")
    (tmp_path / "text.apk").write_text("not a zip")
    (tmp_path / "fake.png").write_text("not an image")
    (tmp_path / "bad.jar").write_text("not a zip")
    return tmp_path


ONE = '[[bazaar]]\nname = "one"\ntoken_env = "ONE"\napks = ["a.apk:all", "b.apk"]\n'
TWO = '[[bazaar]]\nname = "two"\ntoken_env = "TWO"\naab = "d.aab"\nbin = "d.bin"\n'
PLUGIN = (
    '[[bluemind]]\nplugin = "P"\napi_key_env = "BM"\nversion = "1.0"\nrelease_notes = "n"\n'
    'target_bm_versions = "4.x"\npackage = "p.jar"\n'
)


async def check(
    folder: Path,
    text: str,
    *,
    flags: dict[str, object] | None = None,
    environ: dict[str, str] = ENV,
    dry_run: bool = False,
    resume: bool = True,
) -> list[ReadyBazaar | ReadyBlueMind]:
    path = folder / "release.toml"
    path.write_text(text)
    manifest = load_manifest(path)
    async with Session() as session:
        return preflight(
            manifest, session, flags=flags or {}, environ=environ, dry_run=dry_run, resume=resume
        )


async def test_ready_items(folder: Path) -> None:
    ready = await check(
        folder, "[defaults]\nif_busy = 'fail'\n" + ONE + TWO + PLUGIN, flags={"busy_timeout": 9}
    )
    one, two, plugin = ready
    assert isinstance(one, ReadyBazaar)
    assert [a.version_code for a in one.apks] == [3, 2]
    assert one.size == sum(a.size for a in one.apks)
    assert (one.policy, one.if_busy, one.busy_timeout) == ("fail", "fail", 9.0)
    assert one.client.base_url == "http://127.0.0.1:9/v1"
    assert isinstance(two, ReadyBazaar)
    assert two.apks == []
    assert two.size > 0
    assert isinstance(plugin, ReadyBlueMind)
    assert plugin.client.base_url == "https://marketplace.blue-mind.net"


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        (ONE.replace('"b.apk"', '"text.apk"'), "release.toml:4: bazaar[0].apks[1]", "not an apk"),
        (ONE.replace('"b.apk"', '"missing.apk"'), "release.toml:4: bazaar[0].apks[1]", "not exist"),
        (ONE.replace('"b.apk"', '"c.apk"'), "release.toml:4: bazaar[0].apks[1]", "com.example.c"),
        (
            ONE.replace('"b.apk"', '"a.apk"'),
            "release.toml:4: bazaar[0].apks[1]",
            r"same file as apks\[0\] \(a.apk\)",
        ),
        (
            ONE.replace('"b.apk"', '"a.apk:arm64-v8a"'),
            "release.toml:4: bazaar[0].apks[1]",
            "same file",
        ),
        (
            ONE + 'changelog_en = """' + "x" * 9000 + '"""\n',
            "release.toml:5: bazaar[0].changelog_en",
            "limit is 8000",
        ),
        (
            ONE + ONE.replace('"one"', '"again"').replace('"a.apk:all", "b.apk"', '"c.apk"'),
            "release.toml:7: bazaar[1].token_env",
            "the same app",
        ),
        (
            ONE + TWO.replace('"TWO"', '"ONE"').replace('"two"', '"x"').replace("d.aab", "a.apk"),
            "release.toml:8: bazaar[1].aab",
            "not an app bundle|is a zip but",
        ),
        (
            ONE + TWO + TWO.replace('"two"', '"three"').replace('"TWO"', '"BM"'),
            "release.toml:13: bazaar[2].aab",
            "same file as bazaar.1..aab",
        ),
        (
            PLUGIN + PLUGIN.replace('plugin = "P"', 'plugin = "P"\nname = "dup"'),
            "release.toml:12: bluemind[1].version",
            "listed twice",
        ),
        (
            PLUGIN.replace('"p.jar"', '"bad.jar"'),
            "release.toml:7: bluemind[0].package",
            "not a JAR",
        ),
        (
            PLUGIN + '[bluemind.create]\nshortdesc = "s"\ndescription = "d"\nlicense = "l"\n'
            'installation_instructions = "i"\nthumbnail = "fake.png"\n',
            "release.toml:13: bluemind[0].create.thumbnail",
            "not an image",
        ),
    ],
)
async def test_refused_before_any_request(
    folder: Path, text: str, where: str, problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem) as caught:
        await check(folder, text)
    assert caught.value.field == where


async def test_plain_http_to_a_remote_store(folder: Path) -> None:
    text = ONE + 'base_url = "http://api.example.com/v1"\n'
    with pytest.raises(ValidationError, match="plain http") as caught:
        await check(folder, text, environ={})
    assert caught.value.field == "release.toml:5: bazaar[0].base_url"
    assert "allow_insecure_http = true" in caught.value.fix
    assert len(await check(folder, text + "allow_insecure_http = true\n", environ={})) == 1
    [item] = await check(folder, text)  # the environment's base URL wins over the manifest's
    assert isinstance(item, ReadyBazaar)
    assert item.client.base_url == ENV["STOREPUSH_BAZAAR_BASE_URL"]


async def test_resume_file_checked_unless_dry_run(folder: Path) -> None:
    (folder / "release.toml.state.json").mkdir()
    with pytest.raises(ValidationError, match="is a directory") as caught:
        await check(folder, ONE)
    assert caught.value.field == "resume file"
    assert len(await check(folder, ONE, dry_run=True)) == 1
    assert len(await check(folder, ONE, resume=False)) == 1


async def test_environment_beats_the_manifest(folder: Path) -> None:
    environ = {**ENV, "STOREPUSH_IF_BUSY": "fail"}
    [one] = await check(folder, ONE + "if_busy = 'wait'\n", environ=environ)
    assert isinstance(one, ReadyBazaar)
    assert one.if_busy == "fail"
    [flagged] = await check(folder, ONE, flags={"if_busy": IfBusy.WAIT}, environ=environ)
    assert isinstance(flagged, ReadyBazaar)
    assert flagged.if_busy == "wait"
