"""`storepush._formats`: architectures, manifests (AXML and protobuf), bundles, images, fingerprints."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storepush import Secret
from storepush._formats import (
    ALL,
    ARCHITECTURES,
    ManifestInfo,
    architecture_label,
    fingerprint,
    is_bundle,
    native_abis,
    parse_architecture,
    parse_manifest,
    parse_proto_manifest,
    read_apk_manifest,
    read_bundle_manifest,
    sniff_image,
)
from storepush._samples import axml_manifest, make_aab, make_apk, make_png, proto_manifest


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("all", "all"),
        ("armeabi-v7a", "armeabi-v7a"),
        ("arm64-v8a", "arm64-v8a"),
        ("0", None),
        (0, None),
        ("x86", None),
        ("", None),
        (None, None),
        ("ALL", None),
    ],
)
def test_parse_architecture(value: object, expected: str | None) -> None:
    assert parse_architecture(value) == expected


def test_architectures_are_the_documented_three() -> None:
    assert ARCHITECTURES == ("all", "armeabi-v7a", "arm64-v8a")
    assert ALL == "all"


@pytest.mark.parametrize(
    ("names", "bundle", "expected"),
    [
        ([], False, set()),
        (["AndroidManifest.xml", "classes.dex"], False, set()),
        (["lib/arm64-v8a/libx.so"], False, {"arm64-v8a"}),
        (["lib/arm64-v8a/libx.so", "lib/armeabi-v7a/libx.so"], False, {"arm64-v8a", "armeabi-v7a"}),
        (["lib/x86_64/a/b.so"], False, {"x86_64"}),
        (["lib/arm64-v8a/"], False, set()),  # a folder entry, no file
        (["lib/libx.so"], False, set()),  # no ABI folder
        (["lib/not-an-abi/libx.so"], False, set()),
        (["assets/lib/arm64-v8a/libx.so"], False, set()),
        (["base/lib/arm64-v8a/libx.so"], False, set()),  # an APK does not look inside modules
        (["base/lib/arm64-v8a/libx.so", "feature/lib/x86/liby.so"], True, {"arm64-v8a", "x86"}),
        (["lib/arm64-v8a/libx.so"], True, set()),  # a bundle's libraries live in modules
    ],
)
def test_native_abis(names: list[str], bundle: bool, expected: set[str]) -> None:
    assert native_abis(names, bundle=bundle) == expected


@pytest.mark.parametrize(
    ("abis", "label"),
    [
        ((), "all"),
        (("arm64-v8a",), "arm64-v8a"),
        (("arm64-v8a", "armeabi-v7a"), "arm64-v8a,armeabi-v7a"),
        (("x86_64", "armeabi-v7a", "x86"), "armeabi-v7a,x86,x86_64"),
        (("x86", "x86"), "x86"),
    ],
)
def test_architecture_label(abis: tuple[str, ...], label: str) -> None:
    assert architecture_label(abis) == label


@pytest.mark.parametrize(
    ("package", "code", "name"),
    [
        ("com.example.app", 1, "1.0"),
        ("ir.cafebazaar.x", 2**31 - 1, "۲.۰ فارسی"),
        ("a.b", 0, ""),
        ("a.b", 2002, "2.0-arm64"),
    ],
)
def test_proto_manifest_round_trip(package: str, code: int, name: str) -> None:
    info = parse_proto_manifest(proto_manifest(package, code, name))
    assert info == ManifestInfo(package, code, name)


def _field(number: int, wire: int, payload: bytes) -> bytes:
    key = bytes([(number << 3) | wire])
    return key + (bytes([len(payload)]) + payload if wire == 2 else payload)


def _attr(*parts: bytes) -> bytes:
    return _field(4, 2, b"".join(parts))


def test_proto_manifest_variants() -> None:
    """Value strings only; names by resource id only; the proto2 `Primitive {type, data}`."""
    text_only = _field(
        1,
        2,
        _field(3, 2, b"manifest")
        + _attr(_field(2, 2, b"package"), _field(3, 2, b"com.t"))
        + _attr(_field(2, 2, b"versionCode"), _field(3, 2, b"12"))
        + _attr(_field(2, 2, b"versionName"), _field(3, 2, b"1.2")),
    )
    assert parse_proto_manifest(text_only) == ManifestInfo("com.t", 12, "1.2")
    old_prim = _field(7, 2, _field(1, 0, b"\x10") + _field(2, 0, b"\x2a"))  # type 0x10, data 42
    by_id = _field(
        1,
        2,
        _field(3, 2, b"manifest")
        + _attr(_field(5, 0, b"\x9b\x84\x84\x08"), _field(6, 2, old_prim))  # 0x0101021b
        + _attr(_field(5, 0, b"\x9c\x84\x84\x08"), _field(3, 2, b"4.2")),  # 0x0101021c
    )
    assert parse_proto_manifest(by_id) == ManifestInfo(None, 42, "4.2")
    other = _field(1, 2, _field(3, 2, b"application"))
    assert parse_proto_manifest(other) is None
    assert parse_proto_manifest(_field(2, 2, b"just text")) is None


@pytest.mark.parametrize(
    "data",
    [b"", b"\x0a", b"\x0a\x7f", b"\x0b", b"\xff\xff\xff", b"\x0a\x02\x1a\x05", b"junk"],
)
def test_proto_garbage_is_none(data: bytes) -> None:
    assert parse_proto_manifest(data) is None


@given(st.binary(max_size=200))
def test_proto_reader_never_raises(data: bytes) -> None:
    parse_proto_manifest(data)


def test_truncated_proto_is_none_or_partial() -> None:
    blob = proto_manifest("com.x", 300, "3.0")
    for cut in range(len(blob)):
        parse_proto_manifest(blob[:cut])  # never raises


def test_axml_is_not_proto_and_back() -> None:
    assert parse_proto_manifest(axml_manifest("com.x", 3, "3")) is None
    assert parse_manifest(proto_manifest("com.x", 3, "3")) is None


def test_read_bundle_and_apk_manifests(tmp_path: Path) -> None:
    aab = make_aab(tmp_path / "a.aab", package="com.b", version_code=41, version_name="4.1")
    assert read_bundle_manifest(str(aab)) == ManifestInfo("com.b", 41, "4.1")
    assert read_bundle_manifest(io.BytesIO(aab.read_bytes())) == ManifestInfo("com.b", 41, "4.1")
    apk = make_apk(tmp_path / "a.apk", package="com.b", version_code=5)
    assert read_apk_manifest(str(apk)) == ManifestInfo("com.b", 5, "1.0")
    assert read_bundle_manifest(str(apk)) is None
    assert read_apk_manifest(str(aab)) is None
    (tmp_path / "x.txt").write_text("not a zip")
    assert read_bundle_manifest(str(tmp_path / "x.txt")) is None


def test_is_bundle(tmp_path: Path) -> None:
    aab = make_aab(tmp_path / "a.aab")
    with zipfile.ZipFile(aab) as archive:
        assert is_bundle(archive.namelist())
    assert not is_bundle(["BundleConfig.pb"])  # the config alone does not make a bundle
    assert not is_bundle(["AndroidManifest.xml", "classes.dex"])


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"GIF87a...", "image/gif"),
        (b"GIF89a...", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x00\x00\x00\x00WAVE", None),
        (b"PK\x03\x04", None),
        (b"", None),
    ],
)
def test_sniff_image(head: bytes, expected: str | None) -> None:
    assert sniff_image(head) == expected


def test_sniff_a_sample_png(tmp_path: Path) -> None:
    assert sniff_image(make_png(tmp_path / "a.png").read_bytes()[:16]) == "image/png"


@pytest.mark.parametrize("value", ["tok", "a" * 200, "x-y_z.123"])
def test_fingerprint_matches_the_secret(value: str) -> None:
    assert fingerprint(value) == Secret(value).fingerprint
    assert len(fingerprint(value)) == 16
    assert value not in fingerprint(value)
