"""BlueMind's side of the world: users (by API key), plugins and their versions, and the rules.

Pure state, no I/O; `World` (in `_state.py`) mixes this in. **Assumptions** (BlueMind documents
no such thing; chosen to be plausible and said here once): the plugin JSON schema
(`Plugin.to_json`), that plugin names are unique, that a version number is unique within a
plugin, and that a plugin becomes published with its first version.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ._rules import Refusal, bad_request

__all__ = ["Plugin", "PluginVersion", "PluginWorld", "User"]


@dataclass
class PluginVersion:
    version: str
    target_bm_versions: str
    release_notes: str
    package: dict[str, Any]
    created: str


@dataclass
class Plugin:
    id: int
    name: str
    owner: str
    fields: dict[str, str]
    thumbnail: dict[str, Any] | None
    screenshots: list[dict[str, Any]]
    versions: list[PluginVersion] = field(default_factory=list)
    published: bool = False

    def to_json(self) -> dict[str, Any]:
        """The assumed plugin schema (BlueMind documents none)."""
        current = self.versions[-1].version if self.versions else None
        return {
            "id": self.id,
            "name": self.name,
            "owner": self.owner,
            "shortdesc": self.fields.get("shortdesc", ""),
            "description": self.fields.get("description", ""),
            "license": self.fields.get("license", ""),
            "installation_instructions": self.fields.get("installation_instructions", ""),
            "home_url": self.fields.get("home_url"),
            "published": self.published,
            "current_version": current,
            "thumbnail": self.thumbnail,
            "screenshots": self.screenshots,
            "versions": [
                {
                    "version": v.version,
                    "target_bm_versions": v.target_bm_versions,
                    "release_notes": v.release_notes,
                    "created": v.created,
                    **v.package,
                }
                for v in self.versions
            ],
        }


@dataclass
class User:
    name: str
    admin: bool = False


class PluginWorld:
    """Users, plugins and versions, and the rules that change them."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}  # api key -> user
        self.plugins: dict[int, Plugin] = {}
        self._plugin_ids = itertools.count(1)

    def user(self, key: str | None) -> tuple[str, User]:
        """The user of an API key, or a 403."""
        found = self.users.get(key or "")
        if found is None:
            raise Refusal(403, "forbidden", "Invalid or missing API key.")
        return key or "", found

    def plugins_of(self, key: str) -> list[Plugin]:
        return [p for p in self.plugins.values() if p.owner == self.users[key].name]

    def plugin(self, key: str, plugin_id: int) -> Plugin:
        """One plugin, if the key's user owns it (or is an administrator)."""
        found = self.plugins.get(plugin_id)
        if found is None:
            raise Refusal(404, "not_found", "Not found.")
        user = self.users[key]
        if found.owner != user.name and not user.admin:
            raise Refusal(403, "forbidden", "You do not own this plugin.")
        return found

    def create_plugin(
        self,
        key: str,
        fields: dict[str, str],
        thumbnail: dict[str, Any] | None,
        screenshots: list[dict[str, Any]],
    ) -> Plugin:
        if any(p.name == fields["name"] for p in self.plugins.values()):
            raise bad_request(f"A plugin named {fields['name']!r} already exists.")
        plugin = Plugin(
            id=next(self._plugin_ids),
            name=fields["name"],
            owner=self.users[key].name,
            fields=fields,
            thumbnail=thumbnail,
            screenshots=screenshots,
        )
        self.plugins[plugin.id] = plugin
        return plugin

    def check_version(self, key: str, fields: dict[str, str]) -> Plugin:
        """The plugin a new version would join, or the refusal (before its file is stored)."""
        user = self.users[key]
        plugin = next((p for p in self.plugins.values() if p.name == fields["plugin_name"]), None)
        if plugin is None:
            raise Refusal(404, "not_found", f"No plugin named {fields['plugin_name']!r}.")
        if plugin.owner != user.name and not user.admin:
            raise Refusal(403, "forbidden", "You do not own this plugin.")
        if any(v.version == fields["version"] for v in plugin.versions):
            raise bad_request(f"Version {fields['version']} already exists for this plugin.")
        return plugin

    def add_version(
        self, key: str, fields: dict[str, str], package: dict[str, Any]
    ) -> tuple[Plugin, PluginVersion]:
        plugin = self.check_version(key, fields)
        version = PluginVersion(
            version=fields["version"],
            target_bm_versions=fields["target_bm_versions"],
            release_notes=fields["release_notes"],
            package=package,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        plugin.versions.append(version)
        plugin.published = True
        return plugin, version

    def dump_plugins(self) -> dict[str, Any]:
        return {
            "users": sorted(u.name for u in self.users.values()),
            "plugins": [p.to_json() for p in self.plugins.values()],
        }
