"""A Pishkhan publish's inputs, parsed once at the edge into value objects. No network.

Everything a publish is given becomes a [`LocalApk`][storepush.bazaar.LocalApk], a
[`LocalBundle`][storepush.bazaar.LocalBundle] or [`CommitFields`][storepush.bazaar.CommitFields]
before the first request; the endpoint methods accept these objects, so nothing is checked
twice with rules that could drift apart. Each failure is a `ValidationError` naming the field
(`apks[1]`, `staged_rollout_percentage`...) and the fix.

Nothing here reads a whole file: a file's SHA-1 is taken while it is uploaded (or, only when
the store already holds a package with the same version code, by the workflow before that).
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .._errors import ValidationError
from .._files import check_file, check_text
from .._formats import (
    ARCHITECTURES,
    MANIFEST,
    ManifestInfo,
    is_bundle,
    native_abis,
    read_apk_manifest,
    read_bundle_manifest,
)
from .._uploads import FileIdentity
from ._models import ALL_ABIS, Architecture

__all__ = [
    "MAX_TEXT",
    "ApkInput",
    "ArchitectureName",
    "CommitFields",
    "LocalApk",
    "LocalBundle",
    "check_architecture",
    "check_commit_fields",
    "check_rollout",
    "parse_apk",
    "parse_apks",
    "parse_bundle",
]

#: The longest changelog or developer note accepted, in characters. Pishkhan publishes no
#: limit; this is 16 times Google Play's 500-character limit for release notes, so no real
#: changelog meets it, while a file passed by mistake (a log, a binary) does.
MAX_TEXT = 8000

ArchitectureName = Literal["all", "armeabi-v7a", "arm64-v8a"]
#: A path, or `(path, architecture)`; a typo in the architecture fails type checking.
ApkInput = str | os.PathLike[str] | tuple[str | os.PathLike[str], Architecture | ArchitectureName]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_architecture(value: object, *, field: str = "architecture") -> Architecture:
    """One of `all`, `armeabi-v7a`, `arm64-v8a`, as a string or `Architecture`."""
    if isinstance(value, Architecture):
        return value
    if isinstance(value, str) and value in ARCHITECTURES:
        return Architecture(value)
    raise ValidationError(
        field,
        f"{value!r} is not an architecture",
        f"use one of {', '.join(ARCHITECTURES)} (as a string, never a number)",
    )


def check_rollout(value: object, *, field: str = "staged_rollout_percentage") -> int:
    """An int from 1 to 100 (not a bool, not a string)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            field,
            f"must be an int, not {type(value).__name__} {value!r}",
            "pass a whole number from 1 to 100",
        )
    if not 1 <= value <= 100:
        raise ValidationError(field, f"{value} is outside 1..100", "100 releases to everyone")
    return value


def _note(value: object, field: str) -> str:
    text = check_text(value, field=field, required=False, max_len=MAX_TEXT)
    if _CONTROL.search(text):
        raise ValidationError(
            field, "contains control characters (is it a binary file?)", "pass plain text"
        )
    return text


@dataclass(frozen=True, slots=True)
class CommitFields:
    """What a commit sends: release notes, a note for the reviewers, rollout, auto-publish."""

    changelog_en: str = ""
    changelog_fa: str = ""
    developer_note: str = ""
    staged_rollout_percentage: int = 100
    auto_publish: bool = False

    def to_json(self) -> dict[str, str | int | bool]:
        return {
            "changelog_en": self.changelog_en,
            "changelog_fa": self.changelog_fa,
            "developer_note": self.developer_note,
            "staged_rollout_percentage": self.staged_rollout_percentage,
            "auto_publish": self.auto_publish,
        }


def check_commit_fields(
    *,
    changelog_en: object = "",
    changelog_fa: object = "",
    developer_note: object = "",
    staged_rollout_percentage: object = 100,
    auto_publish: object = False,
) -> CommitFields:
    """Commit fields, checked: text within `MAX_TEXT`, rollout 1..100, a real bool."""
    if not isinstance(auto_publish, bool):
        raise ValidationError(
            "auto_publish", f"must be a bool, not {type(auto_publish).__name__} {auto_publish!r}"
        )
    return CommitFields(
        changelog_en=_note(changelog_en, "changelog_en"),
        changelog_fa=_note(changelog_fa, "changelog_fa"),
        developer_note=_note(developer_note, "developer_note"),
        staged_rollout_percentage=check_rollout(staged_rollout_percentage),
        auto_publish=auto_publish,
    )


@dataclass(frozen=True, slots=True)
class LocalApk:
    """A checked APK: where it is, what it declares, what it contains.

    `architecture` is what is sent in the form; `abis` are the ABIs of its native libraries
    (`lib/<abi>/*.so`), empty when it has none (it runs everywhere: `all`), which is how a
    store that inspects the APK sees it. `identity` pins the file as it was checked.
    """

    path: Path
    field: str
    architecture: Architecture
    identity: FileIdentity
    manifest: ManifestInfo | None
    abis: frozenset[str]

    @property
    def size(self) -> int:
        return self.identity.size

    @property
    def version_code(self) -> int | None:
        return self.manifest.version_code if self.manifest else None

    @property
    def package_name(self) -> str | None:
        return self.manifest.package if self.manifest else None


@dataclass(frozen=True, slots=True)
class LocalBundle:
    """A checked app bundle and the `.bin` its signer produced for it."""

    aab: Path
    aab_identity: FileIdentity
    signer: Path
    signer_identity: FileIdentity
    manifest: ManifestInfo | None = None

    @property
    def version_code(self) -> int | None:
        return self.manifest.version_code if self.manifest else None


def _zip_names(path: Path, *, field: str, kind: str) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise ValidationError(
            field, f"{path.name} is not an {kind} (not a zip archive)", f"pass the built .{kind}"
        ) from None


def parse_apk(
    value: object,
    architecture: object = Architecture.ALL,
    *,
    field: str,
    architecture_field: str | None = None,
) -> LocalApk:
    """Check one APK: a readable regular file, a zip with a manifest, a known architecture,
    native libraries that fit the declared architecture."""
    path = check_file(value, field=field)
    arch_field = architecture_field or f"{field}.architecture"
    arch = check_architecture(architecture, field=arch_field)
    identity = FileIdentity.of(path.stat())
    names = _zip_names(path, field=field, kind="apk")
    if MANIFEST not in names:
        raise ValidationError(
            field, f"{path.name} has no {MANIFEST}, so it is not an APK", "pass the built .apk"
        )
    abis = native_abis(names) or ALL_ABIS
    if arch is not Architecture.ALL and abis and arch.value not in abis:
        raise ValidationError(
            arch_field,
            f"{path.name} is declared {arch.value} but its native libraries are for "
            f"{', '.join(sorted(abis))}",
            "check that the files and architectures are not swapped",
        )
    return LocalApk(path, field, arch, identity, read_apk_manifest(str(path)), abis)


def _split(item: object, index: int) -> tuple[object, object]:
    if isinstance(item, tuple):
        if len(item) != 2:
            raise ValidationError(f"apks[{index}]", "must be a path or (path, architecture)")
        return item[0], item[1]
    return item, Architecture.ALL


def parse_apks(items: object) -> list[LocalApk]:
    """Check every APK of one release; refuse what the store would refuse later: the same
    file twice, two version codes alike, APKs of different apps."""
    if isinstance(items, str | os.PathLike) or not isinstance(items, Sequence):
        raise ValidationError("apks", "must be a list of paths", "wrap the path in a list")
    if not items:
        raise ValidationError("apks", "nothing to publish", "pass at least one APK")
    checked: list[LocalApk] = []
    for index, item in enumerate(items):
        raw_path, raw_arch = _split(item, index)
        apk = parse_apk(raw_path, raw_arch, field=f"apks[{index}]")
        for other in checked:
            same = (other.identity.inode, other.identity.device) == (
                apk.identity.inode,
                apk.identity.device,
            )
            if same:
                raise ValidationError(
                    apk.field, f"is the same file as {other.field}", "list each APK once"
                )
            if apk.version_code is not None and apk.version_code == other.version_code:
                raise ValidationError(
                    apk.field,
                    f"has version code {apk.version_code}, as {other.field} does",
                    "each APK of a release needs its own version code",
                )
            if apk.package_name and other.package_name and apk.package_name != other.package_name:
                raise ValidationError(
                    apk.field,
                    f"is {apk.package_name}, but {other.field} is {other.package_name}",
                    "a release holds APKs of one app",
                )
        checked.append(apk)
    return checked


def parse_bundle(aab: object, signer: object) -> LocalBundle:
    """An `.aab` (a zip with a base module manifest, whose protobuf manifest gives its version
    code for the pre-flight check) and its non-empty `.bin`."""
    if aab is None or signer is None:
        raise ValidationError(
            "aab" if aab is None else "bin",
            "an app bundle needs both the .aab and the .bin its signer produced",
        )
    aab_path = check_file(aab, field="aab")
    names = _zip_names(aab_path, field="aab", kind="aab")
    if not is_bundle(names):
        raise ValidationError(
            "aab",
            f"{aab_path.name} is a zip but not an app bundle (no base/manifest/)",
            "pass the .aab the build produced",
        )
    bin_path = check_file(signer, field="bin")
    return LocalBundle(
        aab_path,
        FileIdentity.of(aab_path.stat()),
        bin_path,
        FileIdentity.of(bin_path.stat()),
        read_bundle_manifest(str(aab_path)),
    )
