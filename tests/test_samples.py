"""`storepush._samples`: sample files are what they claim to be, at the size asked for."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from storepush._formats import (
    ManifestInfo,
    is_bundle,
    native_abis,
    read_apk_manifest,
    read_bundle_manifest,
    sniff_image,
)
from storepush._samples import make_aab, make_apk, make_bin, make_jar, make_png


def names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


@pytest.mark.parametrize(
    ("abis", "expected"),
    [
        (None, set()),  # no native code by default: the store lists it as `all`
        ((), set()),
        (("armeabi-v7a",), {"armeabi-v7a"}),
        (("arm64-v8a", "armeabi-v7a"), {"arm64-v8a", "armeabi-v7a"}),
    ],
)
def test_make_apk_native_folders(
    tmp_path: Path, abis: tuple[str, ...] | None, expected: set[str]
) -> None:
    kwargs = {} if abis is None else {"abis": abis}
    apk = make_apk(tmp_path / "a.apk", package="com.s", version_code=7, **kwargs)  # type: ignore[arg-type]
    assert native_abis(names(apk)) == expected
    assert all(f"lib/{abi}/libs.so" in names(apk) for abi in expected)
    assert read_apk_manifest(str(apk)) == ManifestInfo("com.s", 7, "1.0")


def test_make_apk_size_and_seed(tmp_path: Path) -> None:
    a = make_apk(tmp_path / "a.apk", size=300_000)
    b = make_apk(tmp_path / "b.apk", size=300_000, seed=99)
    assert 290_000 < a.stat().st_size < 310_000
    assert hashlib.sha1(a.read_bytes()).digest() != hashlib.sha1(b.read_bytes()).digest()
    again = make_apk(tmp_path / "c.apk", size=300_000)
    assert again.read_bytes() == a.read_bytes()


def test_make_aab_is_a_bundle_with_a_proto_manifest(tmp_path: Path) -> None:
    aab = make_aab(
        tmp_path / "a.aab",
        package="com.s",
        version_code=12,
        version_name="1.2",
        size=200_000,
        abis=("x86_64",),
    )
    assert is_bundle(names(aab))
    assert native_abis(names(aab), bundle=True) == {"x86_64"}
    assert read_bundle_manifest(str(aab)) == ManifestInfo("com.s", 12, "1.2")
    assert 190_000 < aab.stat().st_size < 210_000


def test_make_aab_old_call_signature(tmp_path: Path) -> None:
    aab = make_aab(tmp_path / "a.aab", package="com.old")
    assert read_bundle_manifest(str(aab)) == ManifestInfo("com.old", 1, "1.0")
    other = make_aab(tmp_path / "b.aab", package="com.old", version_code=2)
    assert aab.read_bytes() != other.read_bytes()


def test_other_samples(tmp_path: Path) -> None:
    assert make_bin(tmp_path / "a.bin", size=100).stat().st_size == 100
    jar = make_jar(tmp_path / "a.jar", name="p")
    assert "META-INF/MANIFEST.MF" in names(jar)
    assert sniff_image(make_png(tmp_path / "a.png").read_bytes()) == "image/png"
