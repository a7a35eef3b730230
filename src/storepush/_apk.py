"""Reading an APK's package name and version from its ``AndroidManifest.xml``, cheaply.

An APK's manifest is Android binary XML (AXML). This reads just the ``<manifest>`` element's
``package``, ``versionCode`` and ``versionName`` attributes: the string pool, the resource map
(real APKs may leave attribute names empty and name them by resource id), and the first start
element. A plain-text manifest (some test fixtures) is read with ElementTree. Anything it cannot
read gives ``None``: the check is a convenience, never a reason to refuse a valid APK.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from typing import IO
from xml.etree import ElementTree

__all__ = ["ManifestInfo", "parse_manifest", "read_apk_manifest"]

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
_ATTR_IDS = {0x0101021B: "versionCode", 0x0101021C: "versionName"}
_MAX_MANIFEST = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ManifestInfo:
    """What the manifest says; each field ``None`` when it is not there."""

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
    """Read a manifest's bytes (binary AXML or text XML); ``None`` if it cannot be read."""
    try:
        if len(data) >= 8 and struct.unpack_from("<H", data)[0] == _RES_XML:
            return _parse_axml(data)
        if data.lstrip()[:1] == b"<":
            return _parse_text(data)
    except (struct.error, IndexError, ValueError):
        return None
    return None


def read_apk_manifest(source: str | IO[bytes]) -> ManifestInfo | None:
    """The manifest of an APK file (path or seekable binary file); ``None`` if unreadable."""
    try:
        with zipfile.ZipFile(source) as archive:
            info = archive.getinfo(MANIFEST)
            if info.file_size > _MAX_MANIFEST:
                return None
            data = archive.read(info)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return None
    return parse_manifest(data)
