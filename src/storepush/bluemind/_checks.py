"""Checks of BlueMind inputs, before any request: required text, images by their bytes, a
``.jar`` that is a zip. Each failure is a :class:`~storepush.ValidationError` naming the field."""

from __future__ import annotations

import os
from pathlib import Path

from .._errors import ValidationError
from .._files import ascii_filename, check_file, check_text, open_zip_names, sniff_image
from .._uploads import FilePart
from ._models import PluginSpec

__all__ = ["check_package", "check_spec", "check_version"]


def _image(path: object, *, field: str) -> tuple[Path, str]:
    checked = check_file(path, field=field)
    content_type = sniff_image(checked)
    if content_type is None:
        raise ValidationError(
            field, f"{checked.name} is not an image", "use a PNG, JPEG, GIF or WebP file"
        )
    return checked, content_type


def check_spec(spec: PluginSpec) -> tuple[dict[str, str], list[FilePart]]:
    """A plugin's JSON document (without the key) and its file parts, checked."""
    document = {
        name: check_text(getattr(spec, name), field=name)
        for name in ("name", "shortdesc", "description", "license", "installation_instructions")
    }
    if spec.home_url is not None:
        url = check_text(spec.home_url, field="home_url")
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
        files.append(FilePart("thumbnail", path, ascii_filename(path, "thumbnail"), ctype))
    for index, shot in enumerate(spec.screenshots):
        name = f"screenshot{index + 1}"
        path, ctype = _image(shot, field=f"screenshots[{index}]")
        files.append(FilePart(name, path, ascii_filename(path, name), ctype))
    return document, files


def check_version(
    plugin_name: object, version: object, target_bm_versions: object, release_notes: object
) -> dict[str, str]:
    """A version's JSON document (without the key), checked."""
    return {
        "plugin_name": check_text(plugin_name, field="plugin_name"),
        "version": check_text(version, field="version"),
        "target_bm_versions": check_text(target_bm_versions, field="target_bm_versions"),
        "release_notes": check_text(release_notes, field="release_notes"),
    }


def check_package(package: object) -> tuple[Path, str]:
    """The version's package: a ``.jar`` must be a zip (``application/java-archive``)."""
    path = check_file(package, field="package")
    if path.suffix.lower() == ".jar":
        open_zip_names(path, field="package", kind="JAR")
        return path, "application/java-archive"
    return path, "application/octet-stream"
