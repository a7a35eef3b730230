"""The real `storepush` command, signalled mid-upload (the link to the emulator is held slow):
SIGTERM and SIGINT end with a summary (or one JSON document), exit 143 / 130, leave no open
file or connection behind, and the same command run again resumes and publishes once. Plain
progress lines with timestamps appear while the upload is still going, not at the end."""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from storepush.emulator import Emulator, EmulatorThread
from storepush.testing import make_apk

from .processes import Command, SlowLink, run

TOKEN = "signal-token-1a2b3c4d5e"
OTHER = "signal-token-other-6f7a8b"
STAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ "
#: Slow enough that an upload of a few MB lasts until the test acts, fast for small reads.
RATE = 256 * 1024


@pytest.fixture
def emu() -> Iterator[Emulator]:
    emulator = Emulator(
        apps={TOKEN: "com.example.sig", OTHER: "com.example.other"},
        review_seconds=0.0,
        bundle_seconds=0.0,
    )
    with EmulatorThread(emulator) as running:
        yield running


@pytest.fixture
def link(emu: Emulator) -> Iterator[SlowLink]:
    with SlowLink(emu.port, rate=RATE) as slow:
        yield slow


@pytest.fixture
def apks(tmp_path: Path) -> list[Path]:
    return [
        make_apk(tmp_path / "big.apk", package="com.example.sig", version_code=5, size=6_000_000),
        make_apk(tmp_path / "o.apk", package="com.example.other", version_code=2, size=4_000_000),
    ]


def _env(link: SlowLink) -> dict[str, str]:
    return {
        "STOREPUSH_BAZAAR_TOKEN": TOKEN,
        "STOREPUSH_BAZAAR_BASE_URL": f"http://127.0.0.1:{link.port}/v1",
        "STOREPUSH_PROGRESS": "plain",
        "T1": TOKEN,
        "T2": OTHER,
    }


def _uploads(emu: Emulator) -> int:
    return sum(1 for e in emu.log if e["endpoint"] == "upload" and e["status"] == 200)


def _no_leaks(stderr: str) -> None:
    """No traceback, no session, file or socket left open (an attempt cut off mid-body aborts
    its connection instead of waiting on the slow peer to drain it)."""
    assert "Traceback" not in stderr
    assert "Unclosed" not in stderr
    assert "ResourceWarning" not in stderr


def test_plain_lines_come_before_the_end_of_a_long_upload(
    emu: Emulator, link: SlowLink, tmp_path: Path, apks: list[Path]
) -> None:
    command = Command(["bazaar", "publish", "big.apk"], env=_env(link), cwd=tmp_path)
    first = command.wait_for(r"uploading 1 of 1: big\.apk")
    step = command.wait_for(r"uploading big\.apk: \d+ %")
    assert command.running  # the upload has not ended: these lines came while it runs
    assert _uploads(emu) == 0
    for line in (command.lines[0], first, step):
        assert re.match(STAMP, line), line
    link.rate = None
    code, out, err = command.finish()
    assert code == 0, err
    assert "committed the release with version codes 5" in out
    assert re.search(STAMP + r"committed$", err, re.MULTILINE)
    _no_leaks(err)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_mid_upload_then_resume(
    emu: Emulator,
    link: SlowLink,
    tmp_path: Path,
    apks: list[Path],
    sig: signal.Signals,
    code: int,
) -> None:
    command = Command(["bazaar", "publish", "big.apk"], env=_env(link), cwd=tmp_path)
    command.wait_for(r"uploading big\.apk: \d+ %")
    command.signal(sig)
    got, out, err = command.finish()
    assert got == code, err
    assert out == ""
    assert "nothing was committed (stopped while uploading 1 of 1: big.apk)" in err
    assert "Re-run the same command to resume" in err
    _no_leaks(err)
    app = emu.world.apps[TOKEN]
    assert app.draft is not None
    assert not app.releases[-1].committed
    link.rate = None
    again, out, err = run(["--json", "bazaar", "publish", "big.apk"], env=_env(link), cwd=tmp_path)
    assert again == 0, err
    doc = json.loads(out)
    assert doc["draft"] in ("adopted", "resumed")
    assert len(app.releases) == 1
    assert app.releases[0].committed


def test_sigterm_with_json_is_one_document(
    emu: Emulator, link: SlowLink, tmp_path: Path, apks: list[Path]
) -> None:
    command = Command(["--json", "bazaar", "publish", "big.apk"], env=_env(link), cwd=tmp_path)
    command.wait_for(r"uploading big\.apk: \d+ %")
    command.signal(signal.SIGTERM)
    code, out, err = command.finish()
    assert code == 143
    doc = json.loads(out)
    assert doc["interrupted"] is True
    assert doc["ok"] is False
    assert doc["reason"] == "SIGTERM"
    assert doc["steps"][0]["outcome"] == "left as a draft"
    assert "Re-run the same command" in doc["summary"]
    _no_leaks(err)


def test_batch_sigterm_then_resume(
    emu: Emulator, link: SlowLink, tmp_path: Path, apks: list[Path]
) -> None:
    manifest = tmp_path / "release.toml"
    manifest.write_text(
        '[defaults]\nconcurrency = 1\n\n[[bazaar]]\nname = "small"\ntoken_env = "T2"\n'
        'apks = ["o.apk"]\n\n[[bazaar]]\nname = "big"\ntoken_env = "T1"\napks = ["big.apk"]\n'
    )
    link.rate = None
    env = {**_env(link), "STOREPUSH_CONCURRENCY": ""}
    command = Command(["--json", "batch", "release.toml"], env=env, cwd=tmp_path)
    command.wait_for(r"small: finished: committed")
    link.rate = RATE
    command.wait_for(r"big: uploading 1 of 1: big\.apk")
    command.signal(signal.SIGTERM)
    code, out, err = command.finish()
    assert code == 143, err
    doc = json.loads(out)
    assert doc["interrupted"] is True
    assert [i["name"] for i in doc["items"]] == ["small"]  # the finished item's result
    assert doc["unfinished"][0]["name"] == "big"
    assert "1 committed (small); 1 left as a draft (big)" in doc["summary"]
    _no_leaks(err)
    state = json.loads((tmp_path / "release.toml.state.json").read_text())
    assert state["big"]["drafts"]
    assert state["big"]["creating"] is False
    link.rate = None
    again, out, err = run(["--json", "batch", "release.toml"], env=env, cwd=tmp_path)
    assert again == 0, err
    items = {i["name"]: i for i in json.loads(out)["items"]}
    assert items["small"]["status"] == "already committed"
    assert items["big"]["status"] == "committed"
    assert items["big"]["detail"]["draft"] == "resumed"
    for token in (TOKEN, OTHER):
        releases = emu.world.apps[token].releases
        assert len(releases) == 1
        assert releases[0].committed


def test_the_run_deadline_stops_like_an_interrupt(
    emu: Emulator, link: SlowLink, tmp_path: Path, apks: list[Path]
) -> None:
    command = Command(
        ["bazaar", "publish", "big.apk", "--deadline", "2"], env=_env(link), cwd=tmp_path
    )
    code, _, err = command.finish()
    assert code == 1, err
    assert "The run's deadline (2 s) passed: nothing was committed" in err
    _no_leaks(err)


def test_sigkill_then_the_same_command_resumes(
    emu: Emulator, link: SlowLink, tmp_path: Path, apks: list[Path]
) -> None:
    command = Command(["bazaar", "publish", "big.apk"], env=_env(link), cwd=tmp_path)
    command.wait_for(r"uploading big\.apk: \d+ %")
    command.signal(signal.SIGKILL)
    assert command.finish()[0] == -signal.SIGKILL
    link.rate = None
    code, out, err = run(["--json", "bazaar", "publish", "big.apk"], env=_env(link), cwd=tmp_path)
    assert code == 0, err
    assert json.loads(out)["draft"] in ("adopted", "resumed")
    assert [r.committed for r in emu.world.apps[TOKEN].releases] == [True]


def test_a_file_changed_mid_upload_exits_1_and_leaves_no_draft(
    emu: Emulator, link: SlowLink, tmp_path: Path, apks: list[Path]
) -> None:
    original = apks[0].read_bytes()
    command = Command(["bazaar", "publish", "big.apk"], env=_env(link), cwd=tmp_path)
    command.wait_for(r"uploading big\.apk: \d+ %")
    apks[0].write_bytes(original[: len(original) // 2])  # truncated while it is being sent
    link.rate = None
    code, _, err = command.finish()
    assert code == 1, err
    assert "the file changed while it was being uploaded" in err
    assert emu.world.apps[TOKEN].draft is None  # the draft this run made was removed
    apks[0].write_bytes(original)  # restored: the same command publishes it
    assert run(["bazaar", "publish", "big.apk"], env=_env(link), cwd=tmp_path)[0] == 0
    assert [r.committed for r in emu.world.apps[TOKEN].releases] == [True]
