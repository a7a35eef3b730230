"""Ingest: the hashing sink, the windows kept of an upload, and what is read from them."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from storepush._formats import read_apk_manifest
from storepush._samples import make_aab, make_apk
from storepush.emulator._ingest import BATCH, HEAD, TAIL, FileSink, Ingested, SparseFile
from storepush.emulator._rules import Refusal


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


async def test_file_sink_hashes_counts_and_keeps_windows() -> None:
    data = bytes(range(256)) * (40 * 1024)  # 10 MiB
    sink = FileSink(max_size=len(data))
    view = memoryview(data)
    for start in range(0, len(data), 300_001):
        await sink.feed(view[start : start + 300_001])
    got = await sink.finish(filename="f", content_type="x/y")
    assert got.sha1 == hashlib.sha1(data).hexdigest()
    assert got.size == len(data)
    assert got.head == data[:HEAD]
    assert got.tail == data[-TAIL:]
    assert got.describe() == {
        "size": len(data),
        "sha1": got.sha1,
        "filename": "f",
        "content_type": "x/y",
    }


async def test_file_sink_small_and_empty() -> None:
    for data in (b"", b"abc"):
        sink = FileSink(max_size=10)
        if data:
            await sink.feed(data)
        got = await sink.finish(filename=None, content_type=None)
        assert (got.sha1, got.head, got.tail) == (hashlib.sha1(data).hexdigest(), data, data)


async def test_file_sink_refuses_too_large() -> None:
    sink = FileSink(max_size=BATCH)
    await sink.feed(b"x" * BATCH)
    with pytest.raises(Refusal) as info:
        await sink.feed(b"x")
    assert info.value.status == 413


def test_zip_names_and_manifests_from_the_windows(tmp_path: Path) -> None:
    apk = make_apk(tmp_path / "a.apk", package="com.w", version_code=4, abis=("x86",))
    data = apk.read_bytes()
    got = Ingested(len(data), "", data[:HEAD], data[-TAIL:], None, None)
    assert "lib/x86/libw.so" in (got.zip_names() or [])
    assert got.manifest() is not None
    assert got.bundle_manifest() is None
    aab = make_aab(tmp_path / "a.aab", package="com.w", version_code=9)
    raw = aab.read_bytes()
    bundle = Ingested(len(raw), "", raw[:HEAD], raw[-TAIL:], None, None)
    assert bundle.bundle_manifest() is not None
    assert bundle.bundle_manifest().version_code == 9  # type: ignore[union-attr]
    junk = Ingested(9, "", b"not a zip", b"not a zip", None, None)
    assert (junk.is_zip(), junk.zip_names()) == (False, None)
    broken = Ingested(9, "", b"PK\x03\x04xxxxx", b"PK\x03\x04xxxxx", None, None)
    assert (broken.is_zip(), broken.zip_names()) == (True, None)
