"""The emulator's world: apps, releases, packages, bundles; users, plugins, versions.

Pure state and rules, no I/O: the HTTP handlers call these methods and turn a :class:`Refusal`
into the documented error answer. Time comes from an injected clock, so review and bundle
processing move on a clock the tests control.

**Assumptions** (the services document no such thing; chosen to be plausible and said here once):
the plugin JSON schema (:meth:`Plugin.to_json`), BlueMind's error body ``{"detail": ...}`` and
success statuses (200 on GET, 201 on POST), the message of Pishkhan's ``not-exists`` answers,
the 400 messages other than "There is not an uncommitted release.", and the bundle's JSON.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["App", "Bundle", "Package", "Plugin", "Refusal", "Release", "User", "World"]


class Refusal(Exception):
    """A request the rules refuse: ``status``, the envelope ``type`` and a message."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


def bad_request(message: str) -> Refusal:
    return Refusal(400, "bad_request", message)


NO_DRAFT = "There is not an uncommitted release."


@dataclass
class Package:
    apk_size: int
    sha1_hash: str
    version_code: int | None
    version_name: str | None
    upload_date: str
    architecture: str = "all"
    kind: str = "apk"

    def to_json(self) -> dict[str, Any]:
        return {
            "apk_size": self.apk_size,
            "sha1_hash": self.sha1_hash,
            "version_code": self.version_code if self.version_code is not None else 0,
            "version_name": self.version_name or "",
            "api_level": 21,
            "target_api_level": 34,
            "upload_date": self.upload_date,
            "cpu_architectures": "" if self.architecture == "all" else self.architecture,
            "dpi": 1,
            "locale": "en",
            "additional_files": [],
        }


@dataclass
class Release:
    id: int
    creation_date: datetime
    packages: list[Package] = field(default_factory=list)
    committed: bool = False
    committed_at: float | None = None
    auto_publish: bool = False
    staged_rollout_percentage: int = 100
    changelog_en: str | None = ""
    changelog_fa: str | None = ""
    developer_note: str = ""
    decision: str | None = None  # "published" | "rejected", once reviewed
    decided_at: float | None = None

    def to_json(self, *, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "creation_date": self.creation_date.strftime("%Y-%m-%dT%H:%M:%S.%f"),
            "packages": [p.to_json() for p in self.packages],
            "auto_publish": self.auto_publish,
            "staged_rollout_percentage": self.staged_rollout_percentage,
            "changelog_fa": self.changelog_fa,
            "changelog_en": self.changelog_en,
        }
        if full:
            out = {"id": self.id, "release_state": "Active", "committed": self.committed, **out}
        return out


@dataclass
class Bundle:
    sha1: str
    size: int
    uploaded_at: float
    valid: bool
    package_name: str | None
    bin_at: float | None = None
    forced_error: str | None = None

    def state(self, now: float, processing: float) -> str:
        if self.bin_at is None:
            return "U"
        if not self.valid or self.forced_error:
            return "E" if now >= self.bin_at + processing / 2 else "P"
        if now < self.bin_at + processing / 2:
            return "S"
        if now < self.bin_at + processing:
            return "P"
        return "D"

    def errors(self) -> list[str]:
        if self.forced_error:
            return [self.forced_error]
        return [] if self.valid else ["The uploaded file is not a valid Android App Bundle."]


@dataclass
class App:
    package_name: str
    releases: list[Release] = field(default_factory=list)
    bundle: Bundle | None = None

    @property
    def draft(self) -> Release | None:
        last = self.releases[-1] if self.releases else None
        return last if last is not None and not last.committed else None


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


class World:
    """Everything the emulator knows, and the rules that change it."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        review_seconds: float = 2.0,
        bundle_seconds: float = 2.0,
    ) -> None:
        self.clock = clock
        self.review_seconds = review_seconds
        self.bundle_seconds = bundle_seconds
        self.apps: dict[str, App] = {}  # token -> app
        self.users: dict[str, User] = {}  # api key -> user
        self.plugins: dict[int, Plugin] = {}
        self._ids = itertools.count(1000)
        self._plugin_ids = itertools.count(1)

    # -- Pishkhan -------------------------------------------------------------------------

    def app(self, token: str | None) -> App:
        found = self.apps.get(token or "")
        if found is None:
            raise Refusal(
                403, "access_forbidden", "You do not have permission to perform this action."
            )
        return found

    def _review(self, app: App) -> None:
        now = self.clock()
        for release in app.releases:
            due = (
                release.committed
                and release.decision is None
                and release.auto_publish
                and release.committed_at is not None
                and now >= release.committed_at + self.review_seconds
            )
            if due:
                release.decision = "published"
                release.decided_at = now

    def create_release(self, app: App) -> Release:
        if app.draft is not None:
            raise bad_request("There is an uncommitted release.")
        release = Release(id=next(self._ids), creation_date=datetime.now(UTC).replace(tzinfo=None))
        app.releases.append(release)
        return release

    def delete_release(self, app: App) -> None:
        if app.draft is None:
            raise bad_request(NO_DRAFT)
        app.releases.pop()
        app.bundle = None

    def require_draft(self, app: App) -> Release:
        draft = app.draft
        if draft is None:
            raise bad_request(NO_DRAFT)
        return draft

    def last_published_code(self, app: App) -> int | None:
        self._review(app)
        codes = [
            p.version_code
            for r in app.releases
            if r.decision == "published"
            for p in r.packages
            if p.version_code is not None
        ]
        return max(codes) if codes else None

    def add_package(self, app: App, package: Package, package_name: str | None) -> Package:
        draft = self.require_draft(app)
        if package_name is not None and package_name != app.package_name:
            raise bad_request(
                f"The package name {package_name} does not match this app ({app.package_name})."
            )
        if package.version_code is not None:
            floor = self.last_published_code(app)
            if floor is not None and package.version_code <= floor:
                raise bad_request(
                    f"The version code {package.version_code} must be greater than the last "
                    f"published version code ({floor})."
                )
            if any(p.version_code == package.version_code for p in draft.packages):
                raise bad_request(
                    f"A package with version code {package.version_code} is already in the release."
                )
        draft.packages.append(package)
        return package

    def commit(self, app: App, body: dict[str, Any]) -> Release:
        draft = self.require_draft(app)
        if not draft.packages:
            raise bad_request("The release has no package.")
        rollout = body.get("staged_rollout_percentage", 100)
        if isinstance(rollout, bool) or not isinstance(rollout, int) or not 1 <= rollout <= 100:
            raise bad_request("staged_rollout_percentage must be an integer from 1 to 100.")
        for key in ("changelog_en", "changelog_fa", "developer_note"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise bad_request(f"{key} must be a string.")
        auto = body.get("auto_publish", False)
        if not isinstance(auto, bool):
            raise bad_request("auto_publish must be a boolean.")
        draft.staged_rollout_percentage = rollout
        draft.changelog_en = body.get("changelog_en", "")
        draft.changelog_fa = body.get("changelog_fa", "")
        draft.developer_note = body.get("developer_note") or ""
        draft.auto_publish = auto
        draft.committed = True
        draft.committed_at = self.clock()
        app.bundle = None
        return draft

    def last(self, app: App, which: str) -> Release | None:
        self._review(app)
        if which == "uncommitted":
            return app.draft
        for release in reversed(app.releases):
            if which == "committed" and release.committed:
                return release
            if which == "published" and release.decision == "published":
                return release
        return None

    def decide(self, app: App, decision: str) -> Release:
        """Admin: publish or reject the newest committed release awaiting review."""
        self._review(app)
        for release in reversed(app.releases):
            if release.committed and release.decision is None:
                release.decision = decision
                release.decided_at = self.clock()
                return release
        raise bad_request("There is no committed release awaiting review.")

    # -- BlueMind -------------------------------------------------------------------------

    def user(self, key: str | None) -> tuple[str, User]:
        found = self.users.get(key or "")
        if found is None:
            raise Refusal(403, "forbidden", "Invalid or missing API key.")
        return key or "", found

    def plugins_of(self, key: str) -> list[Plugin]:
        return [p for p in self.plugins.values() if p.owner == self.users[key].name]

    def plugin(self, key: str, plugin_id: int) -> Plugin:
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

    def add_version(
        self, key: str, fields: dict[str, str], package: dict[str, Any]
    ) -> tuple[Plugin, PluginVersion]:
        user = self.users[key]
        plugin = next((p for p in self.plugins.values() if p.name == fields["plugin_name"]), None)
        if plugin is None:
            raise Refusal(404, "not_found", f"No plugin named {fields['plugin_name']!r}.")
        if plugin.owner != user.name and not user.admin:
            raise Refusal(403, "forbidden", "You do not own this plugin.")
        if any(v.version == fields["version"] for v in plugin.versions):
            raise bad_request(f"Version {fields['version']} already exists for this plugin.")
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

    # -- admin ----------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """The whole state, keyed by package name and user name: never a token or a key."""
        apps = {}
        for app in self.apps.values():
            self._review(app)
            apps[app.package_name] = {
                "releases": [
                    {**r.to_json(full=True), "decision": r.decision} for r in app.releases
                ],
                "bundle": None if app.bundle is None else {"sha1": app.bundle.sha1},
            }
        return {
            "apps": apps,
            "users": sorted(u.name for u in self.users.values()),
            "plugins": [p.to_json() for p in self.plugins.values()],
        }
