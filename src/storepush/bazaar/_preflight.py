"""Checks of a Pishkhan publish's inputs, before any request. No network.

Each failure is a :class:`~storepush.ValidationError` naming the field (``apks[1]``,
``staged_rollout_percentage``...) and the fix.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .._apk import MANIFEST, ManifestInfo, read_apk_manifest
from .._errors import ValidationError
from .._files import check_file, check_text, file_sha1, open_zip_names
from ._models import Architecture

__all__ = ["ApkFile", "BundleFiles", "check_apks", "check_architecture", "check_rollout"]

_ARCHITECTURES = [a.value for a in Architecture]


def check_architecture(value: object, *, field: str = "architecture") -> Architecture:
    """One of ``all``, ``armeabi-v7a``, ``arm64-v8a``, as a string or :class:`Architecture`."""
    if isinstance(value, Architecture):
        return value
    if isinstance(value, str) and value in _ARCHITECTURES:
        return Architecture(value)
    raise ValidationError(
        field,
        f"{value!r} is not an architecture",
        f"use one of {', '.join(_ARCHITECTURES)} (as a string, never a number)",
    )


def check_rollout(value: object) -> int:
    """``staged_rollout_percentage``: an int from 1 to 100 (not a bool, not a string)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            "staged_rollout_percentage",
            f"must be an int, not {type(value).__name__} {value!r}",
            "pass a whole number from 1 to 100",
        )
    if not 1 <= value <= 100:
        raise ValidationError(
            "staged_rollout_percentage", f"{value} is outside 1..100", "100 releases to everyone"
        )
    return value


def check_changelogs(changelog_en: object, changelog_fa: object, developer_note: object) -> None:
    check_text(changelog_en, field="changelog_en", required=False)
    check_text(changelog_fa, field="changelog_fa", required=False)
    check_text(developer_note, field="developer_note", required=False)


@dataclass(frozen=True, slots=True)
class ApkFile:
    """A checked APK: its path, architecture, size, SHA-1 and (when readable) manifest."""

    path: Path
    architecture: Architecture
    size: int
    sha1: str
    manifest: ManifestInfo | None

    @property
    def version_code(self) -> int | None:
        return self.manifest.version_code if self.manifest else None


@dataclass(frozen=True, slots=True)
class BundleFiles:
    """A checked app bundle and the ``.bin`` its signer produced."""

    aab: Path
    aab_sha1: str
    aab_size: int
    signer: Path


ApkInput = str | os.PathLike[str] | tuple[str | os.PathLike[str], str | Architecture]


def _split(item: object, index: int) -> tuple[object, object]:
    if isinstance(item, tuple):
        if len(item) != 2:
            raise ValidationError(f"apks[{index}]", "must be a path or (path, architecture)")
        return item[0], item[1]
    return item, Architecture.ALL


def check_apk_path(value: object, *, field: str) -> tuple[Path, ManifestInfo | None]:
    path = check_file(value, field=field)
    names = open_zip_names(path, field=field, kind="APK")
    if MANIFEST not in names:
        raise ValidationError(
            field, f"{path.name} has no {MANIFEST}, so it is not an APK", "pass the built .apk"
        )
    return path, read_apk_manifest(str(path))


async def check_apks(items: Sequence[object]) -> list[ApkFile]:
    """Check every APK; hash them (off the loop); refuse duplicates of the same contents."""
    if isinstance(items, str | os.PathLike):
        raise ValidationError("apks", "must be a list of paths", "wrap the path in a list")
    checked: list[ApkFile] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        field = f"apks[{index}]"
        raw_path, raw_arch = _split(item, index)
        path, manifest = check_apk_path(raw_path, field=field)
        architecture = check_architecture(raw_arch, field=f"{field}.architecture")
        sha1, size = await file_sha1(path)
        if sha1 in seen:
            raise ValidationError(
                field,
                f"has the same contents as apks[{seen[sha1]}]",
                "each APK of a release must be distinct",
            )
        seen[sha1] = index
        checked.append(ApkFile(path, architecture, size, sha1, manifest))
    return checked


async def check_bundle(aab: object, signer: object) -> BundleFiles:
    """An ``.aab`` (a zip with ``BundleConfig.pb`` or a base manifest) and a non-empty ``.bin``."""
    aab_path = check_file(aab, field="aab")
    names = open_zip_names(aab_path, field="aab", kind="app bundle")
    if "BundleConfig.pb" not in names and "base/manifest/AndroidManifest.xml" not in names:
        raise ValidationError(
            "aab", f"{aab_path.name} is a zip but not an app bundle", "pass the built .aab"
        )
    bin_path = check_file(signer, field="bin")
    sha1, size = await file_sha1(aab_path)
    return BundleFiles(aab_path, sha1, size, bin_path)
