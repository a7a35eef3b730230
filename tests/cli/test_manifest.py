"""Reading a manifest: keys, types and ranges, `[defaults]` merged into items, run settings,
`@FILE` texts and credentials, every error with the manifest's line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from storepush import ValidationError
from storepush.cli._manifest import KEYS, load_manifest
from storepush.cli._settings import IfBusy, IfDraftExists, ProgressMode

HEAD = '[[bazaar]]\nname = "shop"\ntoken_env = "SHOP"\napks = ["a.apk"]\n'


@pytest.fixture(autouse=True)
def _tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP", "manifest-token-shop-123")
    monkeypatch.setenv("BM", "manifest-key-bm-456")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "release.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_manifest(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("from a file")
    manifest = load_manifest(
        write(
            tmp_path,
            """
[defaults]
changelog_en = "@notes.txt"
if_busy = "fail"
busy_timeout = 5
max_attempts = 3
timeout = 60
deadline = 600.5
progress = "jsonl"
concurrency = 4
bazaar_base_url = "http://127.0.0.1:1/v1"
target_bm_versions = "4.x"

[[bazaar]]
name = "shop"
token_env = "SHOP"
apks = ["a.apk:arm64-v8a", {path = "sub/b.apk", architecture = "armeabi-v7a"}, "c.apk"]
if_draft_exists = "reuse"
rollout = 30

[[bluemind]]
plugin = "Sync"
api_key_env = "BM"
version = "1.0"
release_notes = "n"
package = "p.jar"
""",
        )
    )
    assert manifest.run == {
        "max_attempts": 3,
        "timeout": 60.0,
        "deadline": 600.5,
        "progress": ProgressMode.JSONL,
        "concurrency": 4,
    }
    [shop] = manifest.bazaar
    assert shop.apks == [
        (tmp_path / "a.apk", "arm64-v8a"),
        (tmp_path / "sub/b.apk", "armeabi-v7a"),
        (tmp_path / "c.apk", "all"),
    ]
    assert shop.apk_labels == ["a.apk", "sub/b.apk", "c.apk"]
    assert shop.changelog_en == "from a file"
    assert (shop.if_draft_exists, shop.if_busy, shop.busy_timeout) == (
        IfDraftExists.REUSE,
        IfBusy.FAIL,
        5.0,
    )
    assert shop.base_url == "http://127.0.0.1:1/v1"
    assert shop.line == 14
    [sync] = manifest.bluemind
    assert sync.name == "Sync 1.0"
    assert sync.target_bm_versions == "4.x"
    assert manifest.resume_file == tmp_path / "release.toml.state.json"


@pytest.mark.parametrize(
    ("extra", "where", "problem"),
    [
        ('colour = "red"\n', "release.toml:5: bazaar[0].colour", "is not a known key"),
        ("max_attempts = 3\n", "release.toml:5: bazaar[0].max_attempts", "is not a known key"),
        ('rollout = "10"\n', "release.toml:5: bazaar[0].rollout", "from 1 to 100"),
        ("rollout = 0\n", "release.toml:5: bazaar[0].rollout", "from 1 to 100"),
        ('if_busy = "maybe"\n', "release.toml:5: bazaar[0].if_busy", "wait, fail"),
        ("busy_timeout = -1\n", "release.toml:5: bazaar[0].busy_timeout", "0 or more"),
        ('changelog_en = "@/dev/zero"\n', "release.toml:5: bazaar[0].changelog_en", "regular"),
        ("auto_publish = 1\n", "release.toml:5: bazaar[0].auto_publish", "true or false"),
        ("base_url = 5\n", "release.toml:5: bazaar[0].base_url", "URL string"),
        ('aab = "x.aab"\n', "release.toml:4: bazaar[0].apks", "give apks, or aab and bin"),
    ],
)
def test_item_errors(tmp_path: Path, extra: str, where: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as caught:
        load_manifest(write(tmp_path, HEAD + extra))
    assert caught.value.field == where


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        (
            "[defaults]\nprogress = 'loud'\n" + HEAD,
            "release.toml:2: defaults.progress",
            "auto, bar",
        ),
        ("[defaults]\ndeadline = 0\n" + HEAD, "release.toml:2: defaults.deadline", "more than 0"),
        ("[defaults]\nconcurrency = 0\n" + HEAD, "release.toml:2: defaults.concurrency", "from 1"),
        ("[defaults]\nname = 'x'\n" + HEAD, "release.toml:2: defaults.name", "not a known default"),
        ("[extras]\nx = 1\n" + HEAD, "release.toml:1: extras", "not a known table"),
        (HEAD.replace('"a.apk"', '"a.apk:x86"'), "release.toml:4: bazaar[0].apks[0]", "x86"),
        (
            HEAD.replace('"a.apk"', '{path = "a.apk", architecture = "x86"}'),
            "release.toml:4: bazaar[0].apks[0]",
            "not an architecture",
        ),
        (
            HEAD.replace('"SHOP"', '"NOPE"'),
            "release.toml:3: bazaar[0].token_env",
            "NOPE is not set",
        ),
        (HEAD + HEAD, "release.toml:6: bazaar[1].name", "names two items"),
        ("[defaults]\nrollout = 5\n", "release.toml", "lists no item"),
        ("this is not toml", "release.toml", "not valid TOML"),
        (
            '[[bluemind]]\nplugin = "P"\napi_key_env = "BM"\nversion = 2.0\n',
            "release.toml:4: bluemind[0].version",
            "must be a string",
        ),
    ],
)
def test_manifest_errors(tmp_path: Path, text: str, where: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as caught:
        load_manifest(write(tmp_path, text))
    assert caught.value.field == where


def test_the_file_itself(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        load_manifest(tmp_path / "nope.toml")
    with pytest.raises(ValidationError, match="is a directory"):
        load_manifest(tmp_path)
    with pytest.raises(ValidationError, match="not a regular file"):
        load_manifest(Path("/dev/zero"))
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'[[bazaar]]\nname = "caf\xe9"\n')
    with pytest.raises(ValidationError, match="not UTF-8"):
        load_manifest(latin)


def test_keys_table_is_consistent() -> None:
    names = [key for key, _, _ in KEYS]
    assert len(names) == len(set(names))
    for _, sections, what in KEYS:
        assert set(sections) <= {"defaults", "bazaar", "bluemind"}
        assert what
