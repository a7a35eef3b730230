"""The emulator's world: apps, releases, packages, bundles (here); users and plugins (`_plugins`).

Pure state and rules, no I/O: the HTTP handlers parse a request, call one of these methods, and
turn a `Refusal` into the documented error answer. Time comes from an injected clock, and
everything that happens with time (review, bundle processing) happens on that clock, whoever
asks: a bundle whose processing is done has joined the draft by the next call that looks at the
app, whether or not anyone polled `bundle-status`.

The rules themselves (version codes per architecture, the architecture field) are pure
functions in `_rules.py`. **Assumptions** (the service documents no such thing; chosen to be
plausible and said here once): the message of Pishkhan's `not-exists` answers, the 400 messages
other than "There is not an uncommitted release.", the bundle's JSON, and that a rejected
release's version codes stay used, like those of any committed release.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .._formats import ALL, architecture_label
from ._plugins import Plugin, PluginVersion, PluginWorld, User
from ._rules import NO_DRAFT, Refusal, abis_of, bad_request, version_code_refusal

__all__ = [
    "App",
    "Bundle",
    "Package",
    "Plugin",
    "PluginVersion",
    "Refusal",
    "Release",
    "User",
    "World",
    "bad_request",
]


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


@dataclass
class Package:
    """One package of a release. `architecture` is what the upload's form said; `abis`, when
    known, the native-library folders the file really has (`None`: take the form's word)."""

    apk_size: int
    sha1_hash: str
    version_code: int | None
    version_name: str | None
    upload_date: str
    architecture: str = ALL
    kind: str = "apk"
    abis: frozenset[str] | None = None

    @property
    def effective_abis(self) -> frozenset[str]:
        """The ABI set the version-code rule compares (empty: `all`)."""
        return self.abis if self.abis is not None else abis_of(self.architecture)

    def to_json(self) -> dict[str, Any]:
        return {
            "apk_size": self.apk_size,
            "sha1_hash": self.sha1_hash,
            "version_code": self.version_code if self.version_code is not None else 0,
            "version_name": self.version_name or "",
            "api_level": 21,
            "target_api_level": 34,
            "upload_date": self.upload_date,
            "cpu_architectures": architecture_label(self.effective_abis),
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
    """An uploaded app bundle, its manifest, and where its processing stands."""

    sha1: str
    size: int
    uploaded_at: float
    valid: bool
    package_name: str | None
    bin_at: float | None = None
    forced_error: str | None = None
    version_code: int | None = None
    version_name: str | None = None
    abis: frozenset[str] = frozenset()
    joined: bool = False

    def state(self, now: float, processing: float) -> str:
        """`U` (waiting for the .bin), `S` (queued), `P` (processing), `D` (done), `E` (failed):
        the first half of `processing` seconds after the .bin is queued, the second processing."""
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

    def package(self) -> Package:
        """The package the store makes of this bundle once it is processed."""
        return Package(
            apk_size=self.size,
            sha1_hash=self.sha1,
            version_code=self.version_code,
            version_name=self.version_name,
            upload_date=_today(),
            architecture=architecture_label(self.abis),
            kind="aab",
            abis=self.abis,
        )


@dataclass
class App:
    package_name: str
    releases: list[Release] = field(default_factory=list)
    bundle: Bundle | None = None
    account: str | None = None

    @property
    def draft(self) -> Release | None:
        last = self.releases[-1] if self.releases else None
        return last if last is not None and not last.committed else None

    def committed_packages(self) -> Iterator[tuple[int | None, frozenset[str]]]:
        """`(version_code, abis)` of every package already committed (or published)."""
        for release in self.releases:
            if release.committed:
                for package in release.packages:
                    yield package.version_code, package.effective_abis


class World(PluginWorld):
    """Everything the emulator knows, and the rules that change it."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        review_seconds: float = 2.0,
        bundle_seconds: float = 2.0,
    ) -> None:
        super().__init__()
        self.clock = clock
        self.review_seconds = review_seconds
        self.bundle_seconds = bundle_seconds
        self.apps: dict[str, App] = {}  # token -> app
        self._ids = itertools.count(1000)

    # -- Pishkhan -------------------------------------------------------------------------

    def app(self, token: str | None) -> App:
        """The app of a token, brought up to the clock; or the documented 403."""
        found = self.apps.get(token or "")
        if found is None:
            raise Refusal(
                403, "access_forbidden", "You do not have permission to perform this action."
            )
        self.advance(found)
        return found

    def advance(self, app: App) -> None:
        """Let time pass for `app`: due reviews are decided, processed bundles join the draft."""
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
        bundle, draft = app.bundle, app.draft
        if bundle is None or bundle.joined or draft is None:
            return
        if bundle.state(now, self.bundle_seconds) != "D":
            return
        package = bundle.package()
        problem = self._refusal_for(app, draft, package)
        if problem is not None:
            bundle.forced_error = problem
            return
        bundle.joined = True
        if not any(p.sha1_hash == package.sha1_hash for p in draft.packages):
            draft.packages.append(package)

    def create_release(self, app: App) -> Release:
        self.advance(app)
        if app.draft is not None:
            raise bad_request("There is an uncommitted release.")
        release = Release(id=next(self._ids), creation_date=datetime.now(UTC).replace(tzinfo=None))
        app.releases.append(release)
        return release

    def delete_release(self, app: App) -> None:
        self.advance(app)
        if app.draft is None:
            raise bad_request(NO_DRAFT)
        app.releases.pop()
        app.bundle = None

    def require_draft(self, app: App) -> Release:
        self.advance(app)
        draft = app.draft
        if draft is None:
            raise bad_request(NO_DRAFT)
        return draft

    def _refusal_for(self, app: App, draft: Release, package: Package) -> str | None:
        code = package.version_code
        if code is not None and any(p.version_code == code for p in draft.packages):
            return f"A package with version code {code} is already in the release."
        return version_code_refusal(code, package.effective_abis, app.committed_packages())

    def check_package(self, app: App, package: Package, package_name: str | None) -> Release:
        """The draft `package` may join, or the refusal: wrong app, or a version code that is
        already in the draft, or not above what is committed for its architecture."""
        draft = self.require_draft(app)
        if package_name is not None and package_name != app.package_name:
            raise bad_request(
                f"The package name {package_name} does not match this app ({app.package_name})."
            )
        problem = self._refusal_for(app, draft, package)
        if problem is not None:
            raise bad_request(problem)
        return draft

    def add_package(self, app: App, package: Package, package_name: str | None) -> Package:
        self.check_package(app, package, package_name).packages.append(package)
        return package

    def add_bundle(self, app: App, bundle: Bundle) -> Bundle:
        """A bundle for the draft (replacing one not yet processed), if its manifest passes
        the same checks as an APK's."""
        self.check_package(app, bundle.package(), bundle.package_name)
        app.bundle = bundle
        return bundle

    def add_bin(self, app: App) -> Bundle:
        """The signer's `.bin` arrived: the bundle is queued for processing."""
        self.advance(app)
        bundle = app.bundle
        if bundle is None or bundle.bin_at is not None:
            raise bad_request("There is not a bundle waiting for its bin file.")
        bundle.bin_at = self.clock()
        return bundle

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
        """The last `committed`, `uncommitted` (the draft) or `published` release, or `None`."""
        self.advance(app)
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
        self.advance(app)
        for release in reversed(app.releases):
            if release.committed and release.decision is None:
                release.decision = decision
                release.decided_at = self.clock()
                return release
        raise bad_request("There is no committed release awaiting review.")

    def bundle_json(self, app: App) -> dict[str, Any] | None:
        """The app's bundle as `bundle-status` shows it (after letting time pass), or `None`."""
        self.advance(app)
        bundle = app.bundle
        if bundle is None:
            return None
        state = bundle.state(self.clock(), self.bundle_seconds)
        return {
            "state": state,
            "errors": bundle.errors() if state == "E" else [],
            "sha1": bundle.sha1,
            "size": bundle.size,
            "package_name": bundle.package_name,
            "version_code": bundle.version_code,
            "version_name": bundle.version_name,
        }

    # -- admin ----------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """The whole state, keyed by package name and user name: never a token or a key."""
        apps = {}
        for app in self.apps.values():
            self.advance(app)
            apps[app.package_name] = {
                "account": app.account,
                "releases": [
                    {**r.to_json(full=True), "decision": r.decision} for r in app.releases
                ],
                "bundle": self.bundle_json(app),
            }
        return {"apps": apps, **self.dump_plugins()}
