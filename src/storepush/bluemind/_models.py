"""BlueMind MarketPlace shapes. The service documents no response schema, so these Structs
require only what a client truly uses (a plugin's ``id`` and ``name``), type what is plausible
as optional, and keep the whole decoded document in ``raw``."""

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

    @property
    def label(self) -> str:
        return str(self.version)


class Plugin(msgspec.Struct, kw_only=True):
    """A plugin. ``raw`` holds every field the service sent, known or not."""

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

    def has_version(self, version: str) -> bool:
        labels = {v.label for v in self.versions}
        if self.current_version is not None:
            labels.add(str(self.current_version))
        return version in labels


@dataclass(frozen=True)
class PluginSpec:
    """What :meth:`BlueMindClient.create_plugin` needs; used by ``publish_version(create=...)``."""

    name: str
    shortdesc: str
    description: str
    license: str
    installation_instructions: str
    home_url: str | None = None
    thumbnail: str | os.PathLike[str] | None = None
    screenshots: tuple[str | os.PathLike[str], ...] = field(default_factory=tuple)
