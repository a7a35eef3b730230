"""File formats, shared by the SDK and the emulator: one place that knows what the bytes mean.

- **Architectures**: the three values Pishkhan's upload accepts, and the ABIs an APK or a bundle
  really carries, read from its native-library folders (`lib/<abi>/...`).
- **APK manifests**: `AndroidManifest.xml` in Android binary XML (AXML), or plain text XML.
- **Bundle manifests**: `base/manifest/AndroidManifest.xml` of an `.aab`, in aapt2's protobuf XML
  format (`aapt.pb.XmlNode` of `frameworks/base/tools/aapt2/Resources.proto`).
- **Bundle markers**: which zip members make an `.aab` a bundle.
- **Images**: the content type of a PNG, JPEG, GIF or WebP file from its first bytes.
- **Credential fingerprints**: a short one-way name for a token or key, safe to log.

Every reader here is pure (bytes or a seekable file in, a value out) and gives `None` for what
it cannot read: these are conveniences for checks, never a reason to crash.
"""

from __future__ import annotations

import hashlib
import struct
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO
from xml.etree import ElementTree

__all__ = [
    "ALL",
    "ANDROID_ABIS",
    "ANDROID_NS",
    "ARCHITECTURES",
    "BUNDLE_CONFIG",
    "BUNDLE_MANIFEST",
    "MANIFEST",
    "ManifestInfo",
    "architecture_label",
    "fingerprint",
    "is_bundle",
    "native_abis",
    "parse_architecture",
    "parse_manifest",
    "parse_proto_manifest",
    "read_apk_manifest",
    "read_bundle_manifest",
    "sniff_image",
]

# -- architectures ---------------------------------------------------------------------------

#: The `architecture` values Pishkhan's upload documents, as strings (never numbers).
ARCHITECTURES: tuple[str, ...] = ("all", "armeabi-v7a", "arm64-v8a")
#: The architecture of a package with no native code.
ALL = "all"
#: Android's ABI names: the folder names under `lib/` that a package manager recognises.
ANDROID_ABIS = frozenset(
    {"armeabi", "armeabi-v7a", "arm64-v8a", "x86", "x86_64", "mips", "mips64", "riscv64"}
)


def parse_architecture(value: object) -> str | None:
    """`value` if it is one of `ARCHITECTURES` (a string), else `None`."""
    return value if isinstance(value, str) and value in ARCHITECTURES else None


def native_abis(names: Iterable[str], *, bundle: bool = False) -> frozenset[str]:
    """The ABIs that have native code among zip member `names`.

    An APK keeps native libraries in `lib/<abi>/<file>`; a bundle in `<module>/lib/<abi>/<file>`
    (`bundle=True`). Only Android's ABI names count, and only folders holding a file.
    """
    found: set[str] = set()
    for name in names:
        parts = name.split("/")
        if bundle:
            parts = parts[1:]
        if len(parts) >= 3 and parts[0] == "lib" and parts[-1] and parts[1] in ANDROID_ABIS:
            found.add(parts[1])
    return frozenset(found)


def architecture_label(abis: Iterable[str]) -> str:
    """What a store shows for a set of ABIs: sorted and joined by `,`, or `all` for none."""
    ordered = sorted(set(abis))
    return ",".join(ordered) if ordered else ALL


# -- APK manifests: Android binary XML --------------------------------------------------------

MANIFEST = "AndroidManifest.xml"
ANDROID_NS = "http://schemas.android.com/apk/res/android"

_RES_XML = 0x0003
_STRING_POOL = 0x0001
_RESOURCE_MAP = 0x0180
_START_ELEMENT = 0x0102
_UTF8_FLAG = 0x100
_TYPE_STRING = 0x03
_TYPE_INT_DEC = 0x10
_TYPE_INT_HEX = 0x11
#: android:versionCode and android:versionName, by resource id (real APKs may leave names empty).
_ATTR_IDS = {0x0101021B: "versionCode", 0x0101021C: "versionName"}
_MAX_MANIFEST = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ManifestInfo:
    """What a manifest says; each field `None` when it is not there."""

    package: str | None
    version_code: int | None
    version_name: str | None


def _read_strings(data: bytes, offset: int) -> list[str]:
    _, header_size, _ = struct.unpack_from("<HHI", data, offset)
    count, _styles, flags, strings_start, _ = struct.unpack_from("<IIIII", data, offset + 8)
    utf8 = bool(flags & _UTF8_FLAG)
    base = offset + strings_start
    offsets = struct.unpack_from(f"<{count}I", data, offset + header_size)
    out: list[str] = []
    for rel in offsets:
        pos = base + rel
        if utf8:
            pos += 2 if data[pos] & 0x80 else 1  # length in UTF-16 units
            length = data[pos]
            if length & 0x80:
                length = ((length & 0x7F) << 8) | data[pos + 1]
                pos += 1
            pos += 1
            out.append(data[pos : pos + length].decode("utf-8", errors="replace"))
        else:
            (length,) = struct.unpack_from("<H", data, pos)
            if length & 0x8000:
                (low,) = struct.unpack_from("<H", data, pos + 2)
                length = ((length & 0x7FFF) << 16) | low
                pos += 2
            pos += 2
            out.append(data[pos : pos + 2 * length].decode("utf-16-le", errors="replace"))
    return out


def _parse_axml(data: bytes) -> ManifestInfo | None:
    strings: list[str] = []
    resource_ids: list[int] = []
    offset = 8
    while offset + 8 <= len(data):
        chunk_type, header_size, size = struct.unpack_from("<HHI", data, offset)
        if size < 8 or offset + size > len(data):
            return None
        if chunk_type == _STRING_POOL:
            strings = _read_strings(data, offset)
        elif chunk_type == _RESOURCE_MAP:
            count = (size - header_size) // 4
            resource_ids = list(struct.unpack_from(f"<{count}I", data, offset + header_size))
        elif chunk_type == _START_ELEMENT:
            ext = offset + header_size
            _ns, name, attr_start, attr_size, attr_count = struct.unpack_from("<IIHHH", data, ext)
            if name >= len(strings) or strings[name] != "manifest":
                return None
            values: dict[str, str | int] = {}
            for i in range(attr_count):
                pos = ext + attr_start + i * attr_size
                _ans, aname, raw, _sz, _res0, dtype, value = struct.unpack_from(
                    "<IIIHBBI", data, pos
                )
                key = strings[aname] if aname < len(strings) else ""
                if not key and aname < len(resource_ids):
                    key = _ATTR_IDS.get(resource_ids[aname], "")
                if dtype == _TYPE_STRING and value < len(strings):
                    values[key] = strings[value]
                elif raw != 0xFFFFFFFF and raw < len(strings):
                    values[key] = strings[raw]
                elif dtype in (_TYPE_INT_DEC, _TYPE_INT_HEX):
                    values[key] = value
            return _info(values)
        offset += size
    return None


def _info(values: dict[str, str | int]) -> ManifestInfo:
    package = values.get("package")
    code = values.get("versionCode")
    name = values.get("versionName")
    if isinstance(code, str):
        code = int(code) if code.strip().isdigit() else None
    return ManifestInfo(
        package=package if isinstance(package, str) else None,
        version_code=code,
        version_name=str(name) if name is not None else None,
    )


def _parse_text(data: bytes) -> ManifestInfo | None:
    try:
        root = ElementTree.fromstring(data)  # noqa: S314 - no entities are expanded for a local file we only read attributes of
    except ElementTree.ParseError:
        return None
    if root.tag != "manifest":
        return None
    values: dict[str, str | int] = {}
    for key, value in root.attrib.items():
        values[key.rsplit("}", 1)[-1]] = value
    return _info(values)


def parse_manifest(data: bytes) -> ManifestInfo | None:
    """Read an APK manifest's bytes (binary AXML or text XML); `None` if it cannot be read."""
    try:
        if len(data) >= 8 and struct.unpack_from("<H", data)[0] == _RES_XML:
            return _parse_axml(data)
        if data.lstrip()[:1] == b"<":
            return _parse_text(data)
    except (struct.error, IndexError, ValueError):
        return None
    return None


def _read_member(source: str | IO[bytes], member: str) -> bytes | None:
    try:
        with zipfile.ZipFile(source) as archive:
            info = archive.getinfo(member)
            if info.file_size > _MAX_MANIFEST:
                return None
            return archive.read(info)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return None


def read_apk_manifest(source: str | IO[bytes]) -> ManifestInfo | None:
    """The manifest of an APK file (path or seekable binary file); `None` if unreadable."""
    data = _read_member(source, MANIFEST)
    return None if data is None else parse_manifest(data)


# -- bundle manifests: aapt2's protobuf XML ---------------------------------------------------

#: The member every app bundle has; its manifest is protobuf, not binary XML.
BUNDLE_MANIFEST = "base/manifest/AndroidManifest.xml"
#: The bundle's build configuration (bundletool writes it; a marker, not required here).
BUNDLE_CONFIG = "BundleConfig.pb"

# Field numbers from aapt2's Resources.proto (package aapt.pb).
_NODE_ELEMENT = 1  # XmlNode.element
_ELEMENT_NAME = 3  # XmlElement.name
_ELEMENT_ATTRIBUTE = 4  # XmlElement.attribute
_ATTR_NAME = 2  # XmlAttribute.name
_ATTR_VALUE = 3  # XmlAttribute.value
_ATTR_RESOURCE_ID = 5  # XmlAttribute.resource_id
_ATTR_COMPILED = 6  # XmlAttribute.compiled_item
_ITEM_STR = 2  # Item.str (String.value = 1)
_ITEM_PRIM = 7  # Item.prim
_PRIM_INT_DECIMAL = 6  # Primitive.int_decimal_value (int32)
_PRIM_INT_HEX = 7  # Primitive.int_hexadecimal_value (uint32)
_PRIM_OLD_TYPE, _PRIM_OLD_DATA = 1, 2  # proto2 Primitive {type, data}, as older aapt2 wrote


def is_bundle(names: Iterable[str]) -> bool:
    """Whether zip member `names` make an app bundle: it has a base module manifest."""
    return BUNDLE_MANIFEST in set(names)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """`(field number, value)` of one protobuf message: ints for varints, bytes otherwise."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ValueError("truncated field")
            value, pos = data[pos : pos + length], pos + length
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            if pos + width > len(data):
                raise ValueError("truncated field")
            value, pos = data[pos : pos + width], pos + width
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, value


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def _compiled(item: bytes) -> str | int | None:
    for number, value in _fields(item):
        if number == _ITEM_PRIM and isinstance(value, bytes):
            fields = dict(_fields(value))
            for which in (_PRIM_INT_DECIMAL, _PRIM_INT_HEX):
                found = fields.get(which)
                if isinstance(found, int):
                    return _int32(found) if which == _PRIM_INT_DECIMAL else found
            kind, data = fields.get(_PRIM_OLD_TYPE), fields.get(_PRIM_OLD_DATA)
            if kind in (_TYPE_INT_DEC, _TYPE_INT_HEX) and isinstance(data, int):
                return _int32(data) if kind == _TYPE_INT_DEC else data
        elif number == _ITEM_STR and isinstance(value, bytes):
            for inner, text in _fields(value):
                if inner == 1 and isinstance(text, bytes):
                    return text.decode("utf-8")
    return None


def _attribute(data: bytes) -> tuple[str, str | int | None]:
    name, text, resource_id, compiled = "", None, 0, None
    for number, value in _fields(data):
        if number == _ATTR_NAME and isinstance(value, bytes):
            name = value.decode("utf-8")
        elif number == _ATTR_VALUE and isinstance(value, bytes):
            text = value.decode("utf-8")
        elif number == _ATTR_RESOURCE_ID and isinstance(value, int):
            resource_id = value
        elif number == _ATTR_COMPILED and isinstance(value, bytes):
            compiled = _compiled(value)
    return name or _ATTR_IDS.get(resource_id, ""), compiled if compiled is not None else text


def parse_proto_manifest(data: bytes) -> ManifestInfo | None:
    """Read a bundle manifest (an `aapt.pb.XmlNode` whose element is `<manifest>`).

    `versionCode` is taken from the attribute's compiled integer when there is one, else from
    its value string. `None` when the bytes are not such a document.
    """
    try:
        element = next((v for n, v in _fields(data) if n == _NODE_ELEMENT), None)
        if not isinstance(element, bytes):
            return None
        name = ""
        values: dict[str, str | int] = {}
        for number, value in _fields(element):
            if number == _ELEMENT_NAME and isinstance(value, bytes):
                name = value.decode("utf-8")
            elif number == _ELEMENT_ATTRIBUTE and isinstance(value, bytes):
                key, found = _attribute(value)
                if key and found is not None:
                    values[key] = found
    except (ValueError, UnicodeDecodeError):
        return None
    return _info(values) if name == "manifest" else None


def read_bundle_manifest(source: str | IO[bytes]) -> ManifestInfo | None:
    """The base manifest of an `.aab` (path or seekable binary file); `None` if unreadable."""
    data = _read_member(source, BUNDLE_MANIFEST)
    return None if data is None else parse_proto_manifest(data)


# -- images -----------------------------------------------------------------------------------

_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff_image(head: bytes) -> str | None:
    """The image content type from a file's first bytes (16 are enough), else `None`."""
    for magic, content_type in _IMAGE_MAGIC:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


# -- credentials ------------------------------------------------------------------------------


def fingerprint(value: str) -> str:
    """A credential's fingerprint: the first 16 hex digits of its SHA-256. Safe to log."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]
