"""Pishkhan's response shapes as msgspec Structs, tolerant of unknown fields and `null`s.

Every field the documentation shows is typed; only `apk_size` and `sha1_hash` of a package
are required, because they are what a client truly relies on. Dates keep the service's formats
(`creation_date` with microseconds and no time zone, `upload_date` as a day).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import msgspec

__all__ = ["ALL_ABIS", "Architecture", "Bundle", "Envelope", "Package", "Release", "abi_set"]

#: The ABI set of a package without native code, which runs on every architecture.
ALL_ABIS: frozenset[str] = frozenset()


def abi_set(value: str | None) -> frozenset[str]:
    """The ABIs a store package's `cpu_architectures` names; empty (`ALL_ABIS`) for `all`,
    an empty string or none, which all mean "every architecture"."""
    if not value:
        return ALL_ABIS
    names = frozenset(part.strip() for part in value.replace(";", ",").replace(" ", ",").split(","))
    names -= {"", "all"}
    return frozenset(names)


class Architecture(enum.StrEnum):
    """The `architecture` of an uploaded APK, sent as its string (never a number)."""

    ALL = "all"
    ARMEABI_V7A = "armeabi-v7a"
    ARM64_V8A = "arm64-v8a"


class Package(msgspec.Struct, kw_only=True, frozen=True):
    """One APK (or bundle) in a release."""

    apk_size: int
    sha1_hash: str
    version_code: int | None = None
    version_name: str | None = None
    api_level: int | None = None
    target_api_level: int | None = None
    upload_date: date | None = None
    cpu_architectures: str | None = None
    dpi: int | None = None
    locale: str | None = None
    additional_files: list[Any] = []

    @property
    def abis(self) -> frozenset[str]:
        """The architectures this package is for (`ALL_ABIS`: every one)."""
        return abi_set(self.cpu_architectures)

    @property
    def sha1(self) -> str:
        """`sha1_hash`, lower-case."""
        return self.sha1_hash.lower()


class Release(msgspec.Struct, kw_only=True, frozen=True):
    """A release; `id`, `release_state` and `committed` come only with a commit's answer."""

    id: int | None = None
    release_state: str | None = None
    committed: bool | None = None
    creation_date: datetime | None = None
    packages: list[Package] = []
    auto_publish: bool | None = None
    staged_rollout_percentage: int | None = None
    changelog_fa: str | None = None
    changelog_en: str | None = None

    @property
    def sha1s(self) -> frozenset[str]:
        """The lower-case SHA-1s of the release's packages."""
        return frozenset(p.sha1_hash.lower() for p in self.packages)


class Bundle(msgspec.Struct, kw_only=True, frozen=True):
    """An app bundle being processed: `state` U (awaiting .bin), S, P, D (done) or E."""

    state: str | None = None
    errors: list[str] = []
    sha1: str | None = None
    size: int | None = None


class Envelope(msgspec.Struct, kw_only=True):
    """Every Pishkhan answer: `type`, `message` and, on success, one payload.

    One shape for every endpoint, decoded once; which payload an endpoint carries is the
    envelope reader's business (`_envelope.py`). A payload may be missing (`UNSET`: the
    `not-exists` and error answers) or `null` (the live store's "no draft" answer).
    """

    type: str
    message: str | None = None
    release: Release | msgspec.UnsetType | None = msgspec.UNSET
    package: Package | msgspec.UnsetType | None = msgspec.UNSET
    bundle: Bundle | msgspec.UnsetType | None = msgspec.UNSET
    warnings: list[str] = []
