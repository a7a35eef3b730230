"""BlueMind MarketPlace shapes. The service documents no response schema, so these Structs
require only what a client truly uses (a plugin's `id` and `name`), type what is plausible
as optional, and keep the whole decoded document in `raw`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import msgspec

__all__ = ["Plugin", "PluginSpec", "PluginVersion"]


class PluginVersion(msgspec.Struct, kw_only=True):
    """A version of a plugin, as far as the service reports it."""

    version: str | int | float
    target_bm_versions: str | None = None
    release_notes: str | None = None
    sha1: str | None = None  #: the stored package's SHA-1, when the service shows it
    size: int | None = None  #: the stored package's size, when the service shows it

    @property
    def label(self) -> str:
        return str(self.version)


class Plugin(msgspec.Struct, kw_only=True):
    """A plugin. `raw` holds every field the service sent, known or not."""

    id: int | str
    name: str
    shortdesc: str | None = None
    description: str | None = None
    license: str | None = None
    home_url: str | None = None
    published: bool | None = None
    current_version: str | int | float | None = None
    versions: list[PluginVersion] = []
    raw: dict[str, Any] = {}

    def find_version(self, version: str) -> PluginVersion | None:
        """The listed version `version` (from `versions`, else `current_version`), if any."""
        found = next((v for v in self.versions if v.label == version), None)
        if (
            found is None
            and self.current_version is not None
            and str(self.current_version) == version
        ):
            found = PluginVersion(version=version)
        return found

    def has_version(self, version: str) -> bool:
        return self.find_version(version) is not None


@dataclass(frozen=True)
class PluginSpec:
    """What `create_plugin` needs; used by `publish_version(create=...)`."""

    name: str
    shortdesc: str
    description: str
    license: str
    installation_instructions: str
    home_url: str | None = None
    thumbnail: str | os.PathLike[str] | None = None
    screenshots: tuple[str | os.PathLike[str], ...] = field(default_factory=tuple)
