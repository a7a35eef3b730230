"""Exit 2 means nothing was sent: bad input given to the real `storepush` command, in a
subprocess, is refused with a message (never a traceback, never a hang) and the emulator's
request log stays empty."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from storepush.emulator import Emulator, EmulatorThread
from storepush.testing import make_apk

from .processes import run

TOKEN = "exit2-token-0a1b2c3d4e"
OTHER = "exit2-token-other-5f6a7b"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    emulator = Emulator(apps={TOKEN: "com.example.a", OTHER: "com.example.b"})
    with EmulatorThread(emulator) as running:
        yield running


@pytest.fixture
def work(tmp_path: Path) -> Path:
    make_apk(tmp_path / "a.apk", package="com.example.a", version_code=3)
    make_apk(tmp_path / "a2.apk", package="com.example.a", version_code=3, seed=4)
    make_apk(tmp_path / "b.apk", package="com.example.b", version_code=2)
    (tmp_path / "text.apk").write_text("not a zip")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "big.txt").write_bytes(b"x" * (2 * 1024 * 1024))
    (tmp_path / "latin.toml").write_bytes(b'[[bazaar]]\nname = "caf\xe9"\n')
    (tmp_path / "file").write_text("a file, not a folder")
    return tmp_path


ONE = '[[bazaar]]\nname = "one"\ntoken_env = "T1"\napks = ["a.apk"]\n'
TWO = '[[bazaar]]\nname = "two"\ntoken_env = "T2"\napks = ["b.apk"]\n'

#: (arguments, manifest text or None, what stderr says). `{d}` is the test's folder. One case
#: for each kind of bad input of issue 12; more variants run under `-m slow`.
CASES = [
    (["bazaar", "publish", "a.apk", "--changelog-en", "@/dev/zero"], None, "not a regular file"),
    (["bazaar", "publish", "a.apk", "--changelog-en", "@fifo"], None, "not a regular file"),
    (["bazaar", "publish", "a.apk", "--changelog-en", "@big.txt"], None, "the limit is 1 MiB"),
    (["bazaar", "publish", "a.apk", "--wait", "--wait-deadline", "-5"], None, "--wait-deadline"),
    (["bazaar", "publish", "a.apk", "a2.apk"], None, "has version code 3, as APK 1"),
    (["bazaar", "publish", "file/app.apk"], None, "APK 1 (file/app.apk)"),
    (["batch", "fifo"], None, "not a regular file"),
    (["batch", "latin.toml"], None, "not UTF-8"),
    (["batch", "j.toml"], ONE, "resume file: j.toml.state.json is a directory"),
    (["batch", "m.toml"], ONE + TWO.replace('"b.apk"', '"text.apk"'), "bazaar[1].apks[0]"),
    (["batch", "m.toml"], ONE + TWO + 'base_url = "http://example.com/v1"\n', "plain http"),
    (["batch", "m.toml"], ONE + TWO.replace('"b.apk"', '"a.apk"'), "is the same file as"),
    (["batch", "m.toml"], ONE + TWO.replace('"T2"', '"T1"'), "names the same app"),
    (["batch", "m.toml"], ONE + TWO.replace('"b.apk"', '"b.apk:x86"'), "'x86' is not an arch"),
]
MORE_CASES = [
    (["batch", "{d}"], None, "is a directory"),
    (["bazaar", "publish", "a.apk:x86"], None, "'x86' is not an architecture"),
    (["bazaar", "publish", "a.apk", "--changelog-fa", "@{d}"], None, "is a directory"),
    (["bazaar", "publish", "a.apk", "--developer-note", "x" * 9000], None, "limit is 8000"),
    (["bazaar", "publish", "a.apk", "--poll-interval", "0"], None, "--poll-interval"),
    (["bazaar", "publish", "a.apk", "--busy-timeout", "-1"], None, "--busy-timeout"),
    (["bazaar", "publish", "a.apk", "--max-attempts", "0"], None, "--max-attempts"),
    (["bazaar", "publish", "a.apk", "--if-busy", "maybe"], None, "--if-busy"),
    (["bazaar", "publish", "a.apk", "--base-url", "http://example.com/v1"], None, "--base-url"),
    (["batch", "/dev/zero"], None, "not a regular file"),
    (["batch", "m.toml"], ONE.replace('"a.apk"', '"a.apk", "a2.apk"'), "has version code 3"),
    (["batch", "m.toml"], ONE + "rollout = 101\n", "bazaar[0].rollout"),
    (["batch", "m.toml"], ONE + "[bazaar]\nx = 1\n", "bazaar"),
    (["batch", "m.toml"], "[[bazaar]]\n[defaults]\nmax_attempts = 0\n", "defaults.max_attempts"),
    (["batch", "m.toml", "--deadline", "-1"], ONE, "--deadline"),
]


def _check(emu: Emulator, work: Path, cases: list[tuple[list[str], str | None, str]]) -> None:
    env = {
        "STOREPUSH_BAZAAR_TOKEN": TOKEN,
        "STOREPUSH_BAZAAR_BASE_URL": emu.bazaar_url,
        "T1": TOKEN,
        "T2": OTHER,
    }

    def one(index: int) -> tuple[int, str, str, str]:
        args, manifest, said = cases[index]
        folder = work / f"case{index}"
        folder.mkdir()
        for name in ("a.apk", "a2.apk", "b.apk", "text.apk", "fifo", "big.txt", "latin.toml"):
            (folder / name).symlink_to(work / name)
        (folder / "file").write_text("a file")
        if manifest is not None:  # a manifest names its store (the environment would win)
            if "[defaults]" not in manifest:
                manifest = f'[defaults]\nbazaar_base_url = "{emu.bazaar_url}"\n' + manifest
            (folder / args[1]).write_text(manifest)
        if args[1:2] == ["j.toml"]:  # the resume file cannot be written: a folder is in the way
            (folder / "j.toml.state.json").mkdir()
        environ = env if manifest is None else {**env, "STOREPUSH_BAZAAR_BASE_URL": ""}
        code, _, err = run([a.replace("{d}", str(folder)) for a in args], env=environ, cwd=folder)
        return code, err, said, " ".join(args)

    emu.log.clear()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, range(len(cases))))
    for code, err, said, args in results:
        assert code == 2, (args, err)
        assert said in err, (args, err)
        assert "Traceback" not in err, (args, err)
    assert emu.log == []


def test_bad_input_exits_2_and_sends_nothing(emu: Emulator, work: Path) -> None:
    _check(emu, work, CASES)


@pytest.mark.slow
def test_more_bad_input_exits_2_and_sends_nothing(emu: Emulator, work: Path) -> None:
    _check(emu, work, MORE_CASES)


def test_manifest_brackets_survive(emu: Emulator, work: Path) -> None:
    (work / "m.toml").write_text("[[bazaar]]\nname = 'x'\n[bazaar]\n")
    code, _, err = run(["batch", "m.toml"], env={}, cwd=work)
    assert code == 2
    assert "('bazaar',)" in err
    (work / "n.toml").write_text(ONE.replace('"a.apk"', '"a.apk:x86"'))
    code, _, err = run(["batch", "n.toml"], env={"T1": TOKEN}, cwd=work)
    assert code == 2
    assert "n.toml:4: bazaar[0].apks[0]: 'x86' is not an architecture" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root enters every directory")
def test_an_apk_in_a_folder_that_cannot_be_entered(emu: Emulator, work: Path) -> None:
    locked = work / "locked"
    locked.mkdir()
    make_apk(locked / "app.apk", package="com.example.a", version_code=9)
    locked.chmod(0)
    try:
        code, _, err = run(
            ["bazaar", "publish", "locked/app.apk"],
            env={"STOREPUSH_BAZAAR_TOKEN": TOKEN, "STOREPUSH_BAZAAR_BASE_URL": emu.bazaar_url},
            cwd=work,
        )
    finally:
        locked.chmod(0o700)
    assert code == 2
    assert "Traceback" not in err
    assert "APK 1 (locked/app.apk)" in err
