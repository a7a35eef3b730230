"""What the command line reads: only regular files, within a stated cap, never blocking;
`APK[:ARCH]` split by one rule; the resume file's folder tried for writing."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from storepush import ValidationError
from storepush.cli._inputs import (
    TEXT_FILE_MAX_BYTES,
    check_resume_file,
    read_text_arg,
    read_text_file,
    secret_from_env,
    split_apk_arg,
)


def test_text_arguments(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("\ufeffsalam دنیا\n", encoding="utf-8")
    assert read_text_arg(None, field="--x") == ""
    assert read_text_arg("plain", field="--x") == "plain"
    assert read_text_arg(f"@{notes}", field="--x") == "salam دنیا\n"  # BOM dropped
    assert read_text_arg("@notes.txt", field="--x", base=tmp_path) == "salam دنیا\n"
    with pytest.raises(ValidationError, match="names no file"):
        read_text_arg("@", field="--x")


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: p, "does not exist"),
        (lambda p: (p.mkdir(), p)[1], "is a directory"),
        (lambda p: Path("/dev/zero"), "not a regular file"),
        (lambda p: Path("/dev/null"), "not a regular file"),
        (lambda p: (os.mkfifo(p), p)[1], "not a regular file"),
        (lambda p: (p.write_bytes(b"x" * (TEXT_FILE_MAX_BYTES + 1)), p)[1], "the limit is 1 MiB"),
        (lambda p: (p.write_bytes(b"caf\xe9"), p)[1], "not UTF-8 text .byte 3"),
        (lambda p: (p.write_text("x"), p / "child")[1], "cannot be opened"),
    ],
)
def test_what_is_refused(tmp_path: Path, make: object, problem: str) -> None:
    path = make(tmp_path / "thing")  # type: ignore[operator]
    with pytest.raises(ValidationError, match=problem) as caught:
        read_text_arg(f"@{path}", field="--changelog-en")
    assert caught.value.field == "--changelog-en"


def test_a_fifo_never_blocks(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            read_text_file(fifo, field="MANIFEST", limit=10)
        except ValidationError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(30)
    assert not reader.is_alive(), "reading a fifo blocked"
    assert "not a regular file" in str(outcome[0])


@pytest.mark.skipif(os.geteuid() == 0, reason="root enters every directory")
def test_a_directory_that_cannot_be_entered(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "notes.txt").write_text("x")
    locked.chmod(0)
    try:
        with pytest.raises(ValidationError, match="cannot be opened"):
            read_text_arg(f"@{locked / 'notes.txt'}", field="--x")
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a.apk", ("a.apk", "all")),
        ("a.apk:arm64-v8a", ("a.apk", "arm64-v8a")),
        ("a.apk:armeabi-v7a", ("a.apk", "armeabi-v7a")),
        ("a.apk:all", ("a.apk", "all")),
        ("C:/x/a.apk", ("C:/x/a.apk", "all")),
        ("/tmp/v1:2/a.apk:armeabi-v7a", ("/tmp/v1:2/a.apk", "armeabi-v7a")),
        ("/tmp/v1:2.0/a.apk", ("/tmp/v1:2.0/a.apk", "all")),
        (":arm64-v8a", (":arm64-v8a", "all")),
        ("a.apk:x86", None),
        ("a.apk:mips", None),
        ("a.apk:ARM64", None),
    ],
)
def test_split_apk_arg(value: str, expected: tuple[str, str] | None) -> None:
    if expected is None:
        with pytest.raises(ValidationError, match="is not an architecture"):
            split_apk_arg(value)
    else:
        assert split_apk_arg(value) == expected


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STOREPUSH_TEST_SECRET", raising=False)
    with pytest.raises(ValidationError, match="is not set"):
        secret_from_env("STOREPUSH_TEST_SECRET", field="STOREPUSH_TEST_SECRET")
    monkeypatch.setenv("STOREPUSH_TEST_SECRET", "s3cr3t-value-1234")
    secret = secret_from_env("STOREPUSH_TEST_SECRET", field="STOREPUSH_TEST_SECRET")
    assert secret.reveal() == "s3cr3t-value-1234"
    assert "s3cr3t" not in repr(secret)


def test_resume_file(tmp_path: Path) -> None:
    state = tmp_path / "release.toml.state.json"
    check_resume_file(state, field="resume file")  # absent: fine
    state.write_text('{"shop": {"drafts": [], "creating": false}}')
    check_resume_file(state, field="resume file")
    state.write_text("[1, 2]")
    with pytest.raises(ValidationError, match="not a storepush resume file"):
        check_resume_file(state, field="resume file")
    state.unlink()
    state.mkdir()
    with pytest.raises(ValidationError, match="is a directory"):
        check_resume_file(state, field="resume file")
    with pytest.raises(ValidationError, match="cannot be written"):
        check_resume_file(tmp_path / "missing-folder" / "x.state.json", field="resume file")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".storepush-probe")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_resume_file_in_a_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ValidationError, match="not writable"):
            check_resume_file(folder / "x.toml.state.json", field="resume file")
    finally:
        folder.chmod(0o755)
