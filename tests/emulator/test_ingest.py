from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from storepush._apk import read_apk_manifest
from storepush._samples import make_apk
from storepush.emulator._ingest import HEAD, TAIL, SparseFile


def test_sparse_file_serves_head_and_tail_only() -> None:
    data = bytes(range(256)) * 100
    view = SparseFile(data[:1000], data[-1000:], len(data))
    assert view.read(10) == data[:10]
    view.seek(-20, io.SEEK_END)
    assert view.read() == data[-20:]
    view.seek(5000)
    with pytest.raises(ValueError, match="not kept"):
        view.read(10)
    buf = bytearray(4)
    view.seek(0)
    assert view.readinto(buf) == 4
    assert view.tell() == 4
    assert view.seekable()
    assert view.readable()


def test_manifest_of_a_large_apk_from_head_and_tail(tmp_path: Path) -> None:
    size = HEAD + TAIL + 3 * 1024 * 1024
    apk = make_apk(tmp_path / "big.apk", package="ir.big", version_code=77, size=size)
    data = apk.read_bytes()
    view = SparseFile(data[:HEAD], data[-TAIL:], len(data))
    info = read_apk_manifest(view)  # type: ignore[arg-type]
    assert info is not None
    assert (info.package, info.version_code) == ("ir.big", 77)
    # a zip whose manifest sits past the head window cannot be read that way: None, not a crash
    late = tmp_path / "late.zip"
    with zipfile.ZipFile(late, "w") as archive:
        archive.writestr("pad.bin", b"\x00" * (HEAD + 10))
        archive.writestr("AndroidManifest.xml", b"<manifest package='x'/>")
        archive.writestr("tail.bin", b"\x00" * 4096)
    raw = late.read_bytes()
    assert read_apk_manifest(SparseFile(raw[:HEAD], raw[-1024:], len(raw))) is None  # type: ignore[arg-type]
