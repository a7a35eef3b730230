from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from storepush._formats import parse_manifest, read_apk_manifest
from storepush._samples import axml_manifest, make_apk


@pytest.mark.parametrize(
    ("package", "code", "name"),
    [("com.example.app", 1, "1.0"), ("ir.cafebazaar.x", 2**31 - 1, "۲.۰ فارسی"), ("a.b", 0, "")],
)
def test_axml_round_trip(package: str, code: int, name: str) -> None:
    info = parse_manifest(axml_manifest(package, code, name))
    assert info is not None
    assert (info.package, info.version_code, info.version_name) == (package, code, name)


def test_text_manifest() -> None:
    info = parse_manifest(
        b'<manifest xmlns:android="http://schemas.android.com/apk/res/android" '
        b'package="a.b" android:versionCode="12" android:versionName="1.2"/>'
    )
    assert info is not None
    assert (info.package, info.version_code, info.version_name) == ("a.b", 12, "1.2")
    assert parse_manifest(b"<other/>") is None
    assert parse_manifest(b"<manifest") is None


@pytest.mark.parametrize(
    "data", [b"", b"\x03\x00\x08\x00", b"\x03\x00\x08\x00\xff\xff\xff\xff", b"junk"]
)
def test_garbage_is_none(data: bytes) -> None:
    assert parse_manifest(data) is None


def test_truncated_axml_is_none() -> None:
    blob = axml_manifest("com.x", 3, "3")
    for cut in range(8, len(blob), 7):
        parse_manifest(blob[:cut])  # never raises


def test_read_apk_manifest(tmp_path: Path) -> None:
    apk = make_apk(tmp_path / "a.apk", package="com.q", version_code=9)
    info = read_apk_manifest(str(apk))
    assert info is not None
    assert info.version_code == 9
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("x.txt", "x")
    assert read_apk_manifest(str(plain)) is None
    text = tmp_path / "t.apk"
    text.write_text("hello")
    assert read_apk_manifest(str(text)) is None
