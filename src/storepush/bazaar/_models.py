"""Pishkhan's response shapes as msgspec Structs, tolerant of unknown fields and ``null``s.

Every field the documentation shows is typed; only ``apk_size`` and ``sha1_hash`` of a package
are required, because they are what a client truly relies on. Dates keep the service's formats
(``creation_date`` with microseconds and no time zone, ``upload_date`` as a day).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import msgspec

__all__ = [
    "Architecture",
    "Bundle",
    "BundleEnvelope",
    "Envelope",
    "Package",
    "PackageEnvelope",
    "Release",
    "ReleaseEnvelope",
]


class Architecture(enum.StrEnum):
    """The ``architecture`` of an uploaded APK, sent as its string (never a number)."""

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


class Release(msgspec.Struct, kw_only=True, frozen=True):
    """A release; ``id``, ``release_state`` and ``committed`` come only with a commit's answer."""

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
    """An app bundle being processed: ``state`` U (awaiting .bin), S, P, D (done) or E."""

    state: str | None = None
    errors: list[str] = []
    sha1: str | None = None
    size: int | None = None


class Envelope(msgspec.Struct, kw_only=True):
    """What every Pishkhan answer has: ``type`` and ``message``."""

    type: str
    message: str | None = None


# Each answer is decoded once; its payload is optional here because ``not-exists`` and error
# envelopes carry none, and the client checks ``type`` and the payload's presence itself.


class ReleaseEnvelope(msgspec.Struct, kw_only=True):
    type: str
    message: str | None = None
    release: Release | None = None


class PackageEnvelope(msgspec.Struct, kw_only=True):
    type: str
    message: str | None = None
    package: Package | None = None


class BundleEnvelope(msgspec.Struct, kw_only=True):
    type: str
    message: str | None = None
    bundle: Bundle | None = None
    warnings: list[str] = []
