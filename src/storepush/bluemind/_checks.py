"""BlueMind inputs, parsed once at the edge into value objects, before any request.

Required text (with generous length caps: the service publishes none), images by their bytes,
a `.jar` that is a zip. Each failure is a `ValidationError` naming the field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .._errors import ValidationError
from .._files import ascii_filename, check_file, check_text, open_zip_names, sniff_image
from .._uploads import FileIdentity, FilePart
from ._models import PluginSpec

__all__ = [
    "CheckedPlugin",
    "PackageFile",
    "VersionFields",
    "check_package",
    "check_spec",
    "check_version",
]

#: Length caps, in characters: far above any real value, far below a file passed by mistake.
_CAPS = {
    "name": 200,
    "plugin_name": 200,
    "version": 64,
    "target_bm_versions": 200,
    "shortdesc": 1000,
    "license": 200,
    "home_url": 2000,
    "release_notes": 8000,
    "installation_instructions": 20000,
    "description": 65536,
}


def _text(value: object, field: str, *, required: bool = True) -> str:
    return check_text(value, field=field, required=required, max_len=_CAPS[field])


@dataclass(frozen=True, slots=True)
class VersionFields:
    """A version's JSON document, without the key."""

    plugin_name: str
    version: str
    target_bm_versions: str
    release_notes: str

    def to_json(self) -> dict[str, str]:
        return {
            "plugin_name": self.plugin_name,
            "version": self.version,
            "target_bm_versions": self.target_bm_versions,
            "release_notes": self.release_notes,
        }


@dataclass(frozen=True, slots=True)
class PackageFile:
    """A version's checked package: a `.jar` is a zip (`application/java-archive`)."""

    path: Path
    content_type: str
    identity: FileIdentity

    @property
    def size(self) -> int:
        return self.identity.size

    def part(self) -> FilePart:
        name = ascii_filename(self.path, "package.jar")
        return FilePart("package", self.path, name, self.content_type, self.identity)


@dataclass(frozen=True, slots=True)
class CheckedPlugin:
    """A plugin's JSON document (without the key) and its file parts."""

    name: str
    document: dict[str, str]
    files: tuple[FilePart, ...]


def _image(path: object, *, field: str) -> tuple[Path, str]:
    checked = check_file(path, field=field)
    content_type = sniff_image(checked)
    if content_type is None:
        raise ValidationError(
            field, f"{checked.name} is not an image", "use a PNG, JPEG, GIF or WebP file"
        )
    return checked, content_type


def check_spec(spec: PluginSpec | CheckedPlugin) -> CheckedPlugin:
    """A plugin to create, checked."""
    if isinstance(spec, CheckedPlugin):
        return spec
    document = {
        name: _text(getattr(spec, name), name)
        for name in ("name", "shortdesc", "description", "license", "installation_instructions")
    }
    if spec.home_url is not None:
        url = _text(spec.home_url, "home_url")
        if not url.startswith(("https://", "http://")):
            raise ValidationError(
                "home_url", f"{url!r} is not a web address", "start it with https://"
            )
        document["home_url"] = url
    shots: object = spec.screenshots  # typed as a tuple, but callers pass anything
    if isinstance(shots, str | os.PathLike):
        raise ValidationError("screenshots", "must be a list of paths", "wrap it in a list")
    files: list[FilePart] = []
    if spec.thumbnail is not None:
        path, ctype = _image(spec.thumbnail, field="thumbnail")
        identity = FileIdentity.of(path.stat())
        files.append(
            FilePart("thumbnail", path, ascii_filename(path, "thumbnail"), ctype, identity)
        )
    for index, shot in enumerate(spec.screenshots):
        name = f"screenshot{index + 1}"
        path, ctype = _image(shot, field=f"screenshots[{index}]")
        identity = FileIdentity.of(path.stat())
        files.append(FilePart(name, path, ascii_filename(path, name), ctype, identity))
    return CheckedPlugin(document["name"], document, tuple(files))


def check_version(
    plugin_name: object, version: object, target_bm_versions: object, release_notes: object
) -> VersionFields:
    """A version's JSON document (without the key), checked."""
    return VersionFields(
        plugin_name=_text(plugin_name, "plugin_name"),
        version=_text(version, "version"),
        target_bm_versions=_text(target_bm_versions, "target_bm_versions"),
        release_notes=_text(release_notes, "release_notes"),
    )


def check_package(package: object) -> PackageFile:
    """The version's package; a `.jar` must be a zip."""
    if isinstance(package, PackageFile):
        return package
    path = check_file(package, field="package")
    identity = FileIdentity.of(path.stat())
    if path.suffix.lower() == ".jar":
        open_zip_names(path, field="package", kind="JAR")
        return PackageFile(path, "application/java-archive", identity)
    return PackageFile(path, "application/octet-stream", identity)
