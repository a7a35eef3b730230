"""Local files, checked before any request: every kind of wrong file is a ValidationError."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storepush import FileChangedError, ValidationError
from storepush._files import (
    FileIdentity,
    ascii_filename,
    check_file,
    check_text,
    sha1_unchanged,
    sniff_image,
)
from storepush.testing import make_png


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def _locked_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "app.apk").write_bytes(b"PK")
    folder.chmod(0)
    return folder / "app.apk"


CASES = [
    ("missing", lambda t: t / "nope.apk", "does not exist"),
    ("directory", lambda t: t, "is a directory"),
    ("empty", lambda t: (t / "empty.apk", (t / "empty.apk").write_bytes(b""))[0], "is empty"),
    ("fifo", _fifo, "not a regular file"),
    ("device", lambda t: Path("/dev/zero"), "not a regular file"),
    ("not a path", lambda t: 42, "must be a file path"),
]


@pytest.mark.parametrize(("name", "make", "says"), CASES, ids=[c[0] for c in CASES])
def test_check_file_refuses(tmp_path: Path, name: str, make: object, says: str) -> None:
    with pytest.raises(ValidationError, match=says) as info:
        check_file(make(tmp_path), field="apk")  # type: ignore[operator]
    assert info.value.field == "apk"


@pytest.mark.skipif(os.geteuid() == 0, reason="root enters any directory")
def test_a_file_in_a_directory_one_cannot_enter(tmp_path: Path) -> None:
    path = _locked_dir(tmp_path)
    try:
        with pytest.raises(ValidationError, match="cannot be read"):
            check_file(path, field="apk")
    finally:
        path.parent.chmod(0o700)


@pytest.mark.parametrize(
    ("value", "required", "cap", "ok"),
    [
        ("notes", True, 0, True),
        ("   ", True, 0, False),
        ("", False, 0, True),
        ("x" * 10, False, 10, True),
        ("x" * 11, False, 10, False),
        (5, False, 0, False),
    ],
)
def test_check_text_table(value: object, required: bool, cap: int, ok: bool) -> None:
    if ok:
        assert check_text(value, field="f", required=required, max_len=cap) == value
    else:
        with pytest.raises(ValidationError):
            check_text(value, field="f", required=required, max_len=cap)


def test_the_hash_of_a_file_that_is_still_the_one_checked(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"hello")
    identity = FileIdentity.of(path.stat())
    assert sha1_unchanged(path, identity) == "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
    path.write_bytes(b"hello, changed")
    with pytest.raises(FileChangedError, match="is not the file that was checked"):
        sha1_unchanged(path, identity)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("app.apk", "app.apk"),
        ("my app (1).apk", "my_app_1_.apk"),
        ("برنامه.apk", "apk"),
        ("...", "fallback"),
    ],
)
def test_ascii_filename_table(name: str, expected: str) -> None:
    assert ascii_filename(Path(name), "fallback") == expected


def test_images_are_told_by_their_bytes(tmp_path: Path) -> None:
    assert sniff_image(make_png(tmp_path / "x.txt")) == "image/png"
    text = tmp_path / "logo.png"
    text.write_text("not an image")
    assert sniff_image(text) is None


def test_a_stat_refused_by_permissions_is_a_validation_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a non-root user meets in a folder they cannot enter (root never does, so the
    refusal is simulated where the kernel would give it)."""
    target = tmp_path / "locked" / "app.apk"

    def refuse(self: Path, *args: object, **kwargs: object) -> os.stat_result:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "stat", refuse)
    with pytest.raises(ValidationError, match="cannot be read: Permission denied") as info:
        check_file(target, field="apk")
    assert info.value.field == "apk"
