"""Sample files for tests, benchmarks and the demo: APKs, AABs, JARs and images.

The APKs are real zip archives with a binary (AXML) `AndroidManifest.xml` carrying a package
name and version, native-library folders (`lib/<abi>/`) for the ABIs asked for, and padding of
incompressible data up to the size asked for, so uploads move real bytes and the emulator's
readers have real work to do. The bundles carry a protobuf manifest (aapt2's XML format), as
bundletool writes it. Nothing here touches the network.
"""

from __future__ import annotations

import os
import random
import struct
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

from ._formats import ANDROID_NS, BUNDLE_CONFIG, BUNDLE_MANIFEST

__all__ = [
    "axml_manifest",
    "make_aab",
    "make_apk",
    "make_bin",
    "make_jar",
    "make_png",
    "proto_manifest",
]

_PAD_CHUNK = 1024 * 1024


def _string_pool(strings: list[str]) -> bytes:
    encoded = []
    for text in strings:
        units = text.encode("utf-16-le")
        encoded.append(struct.pack("<H", len(units) // 2) + units + b"\x00\x00")
    offsets, pos = [], 0
    for item in encoded:
        offsets.append(pos)
        pos += len(item)
    body = b"".join(encoded)
    body += b"\x00" * (-len(body) % 4)
    header_size = 28
    strings_start = header_size + 4 * len(strings)
    size = strings_start + len(body)
    header = struct.pack(
        "<HHIIIIII", 0x0001, header_size, size, len(strings), 0, 0, strings_start, 0
    )
    return header + struct.pack(f"<{len(strings)}I", *offsets) + body


def axml_manifest(package: str, version_code: int, version_name: str) -> bytes:
    """A minimal binary AndroidManifest.xml: `<manifest package versionCode versionName>`."""
    strings = ["versionCode", "versionName", "package", "manifest", ANDROID_NS, "android"]
    strings += [version_name, package]
    s = {text: i for i, text in enumerate(strings)}
    pool = _string_pool(strings)
    resmap = struct.pack("<HHI", 0x0180, 8, 8 + 8) + struct.pack("<II", 0x0101021B, 0x0101021C)
    ns_start = struct.pack("<HHIII", 0x0100, 16, 24, 1, 0xFFFFFFFF) + struct.pack(
        "<II", s["android"], s[ANDROID_NS]
    )
    no_ns = 0xFFFFFFFF
    attrs = [
        (s[ANDROID_NS], s["versionCode"], no_ns, 0x10, version_code),
        (s[ANDROID_NS], s["versionName"], s[version_name], 0x03, s[version_name]),
        (no_ns, s["package"], s[package], 0x03, s[package]),
    ]
    attr_bytes = b"".join(
        struct.pack("<IIIHBBI", ns, name, raw, 8, 0, dtype, data)
        for ns, name, raw, dtype, data in attrs
    )
    ext = struct.pack("<IIHHHHHH", no_ns, s["manifest"], 20, 20, len(attrs), 0, 0, 0)
    body = ext + attr_bytes
    start = struct.pack("<HHIII", 0x0102, 16, 16 + len(body), 1, 0xFFFFFFFF) + body
    end = struct.pack("<HHIII", 0x0103, 16, 24, 1, 0xFFFFFFFF) + struct.pack(
        "<II", no_ns, s["manifest"]
    )
    ns_end = struct.pack("<HHIII", 0x0101, 16, 24, 1, 0xFFFFFFFF) + struct.pack(
        "<II", s["android"], s[ANDROID_NS]
    )
    content = pool + resmap + ns_start + start + end + ns_end
    return struct.pack("<HHI", 0x0003, 8, 8 + len(content)) + content


def _pad(archive: zipfile.ZipFile, name: str, size: int, seed: int) -> None:
    if size <= 0:
        return
    rng = random.Random(seed)
    with archive.open(zipfile.ZipInfo(name), "w", force_zip64=size > 2**31) as member:
        left = size
        while left > 0:
            n = min(_PAD_CHUNK, left)
            member.write(rng.randbytes(n))
            left -= n


def _native_libs(archive: zipfile.ZipFile, prefix: str, abis: Sequence[str], name: str) -> None:
    for abi in abis:
        archive.writestr(f"{prefix}lib/{abi}/lib{name}.so", b"\x7fELF" + abi.encode())


def make_apk(
    path: Path,
    *,
    package: str = "com.example.app",
    version_code: int = 1,
    version_name: str = "1.0",
    size: int = 64 * 1024,
    seed: int | None = None,
    abis: Sequence[str] = (),
) -> Path:
    """Write an APK-shaped zip of about `size` bytes; distinct seeds give distinct bytes.

    `abis` are the native-library folders it carries (`lib/<abi>/lib<name>.so`); pass `()`
    for an APK without native code, which a store lists as `all`.
    """
    seed = version_code if seed is None else seed
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(
            "AndroidManifest.xml",
            axml_manifest(package, version_code, version_name),
            compress_type=zipfile.ZIP_DEFLATED,
        )
        archive.writestr("classes.dex", b"dex\n035\x00" + package.encode())
        _native_libs(archive, "", abis, package.rsplit(".", 1)[-1])
        _pad(archive, "assets/payload.bin", size - 1024, seed)
    return path


def _key(number: int, wire: int) -> bytes:
    return _varint((number << 3) | wire)


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, value: bytes | str | int) -> bytes:
    if isinstance(value, int):
        return _key(number, 0) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _key(number, 2) + _varint(len(data)) + data


def _proto_attribute(
    name: str, value: str, *, namespace: str = "", resource_id: int = 0, compiled: bytes = b""
) -> bytes:
    body = _field(1, namespace) if namespace else b""
    body += _field(2, name) + _field(3, value)
    if resource_id:
        body += _field(5, resource_id)
    if compiled:
        body += _field(6, compiled)
    return _field(4, body)


def proto_manifest(package: str, version_code: int, version_name: str) -> bytes:
    """A minimal bundle manifest in aapt2's protobuf XML: `<manifest package versionCode
    versionName>`, with the compiled integer for `versionCode` as aapt2 writes it."""
    code_item = _field(7, _field(6, version_code))  # Item.prim -> Primitive.int_decimal_value
    name_item = _field(2, _field(1, version_name))  # Item.str -> String.value
    element = (
        _field(1, _field(1, "android") + _field(2, ANDROID_NS))  # namespace_declaration
        + _field(3, "manifest")
        + _proto_attribute(
            "versionCode",
            str(version_code),
            namespace=ANDROID_NS,
            resource_id=0x0101021B,
            compiled=code_item,
        )
        + _proto_attribute(
            "versionName",
            version_name,
            namespace=ANDROID_NS,
            resource_id=0x0101021C,
            compiled=name_item,
        )
        + _proto_attribute("package", package)
    )
    return _field(1, element)  # XmlNode.element


def make_aab(
    path: Path,
    *,
    package: str = "com.example.app",
    version_code: int = 1,
    version_name: str = "1.0",
    size: int = 64 * 1024,
    seed: int | None = None,
    abis: Sequence[str] = ("arm64-v8a",),
) -> Path:
    """Write an app bundle: `BundleConfig.pb`, a protobuf `base/manifest/AndroidManifest.xml`
    and `base/lib/<abi>/` folders, padded to about `size` bytes."""
    seed = len(package) + version_code if seed is None else seed
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(BUNDLE_CONFIG, b"\x0a\x04\x31\x2e\x30")
        archive.writestr(BUNDLE_MANIFEST, proto_manifest(package, version_code, version_name))
        _native_libs(archive, "base/", abis, package.rsplit(".", 1)[-1])
        _pad(archive, "base/assets/payload.bin", size - 1024, seed)
    return path


def make_bin(path: Path, *, size: int = 4096) -> Path:
    """Write a stand-in for the `.bin` Bazaar's bundle signer produces."""
    path.write_bytes(os.urandom(size))
    return path


def make_jar(path: Path, *, name: str = "plugin", size: int = 32 * 1024, seed: int = 0) -> Path:
    """Write a JAR (a zip with `META-INF/MANIFEST.MF`) of about `size` bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("META-INF/MANIFEST.MF", f"Manifest-Version: 1.0\nBundle-Name: {name}\n")
        _pad(archive, f"{name}/payload.bin", size - 512, seed)
    return path


def make_png(path: Path, *, width: int = 4, height: int = 4) -> Path:
    """Write a small, valid PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    path.write_bytes(png)
    return path
