"""The whole manifest, checked before the first request of a batch.

After `load_manifest` has read and typed every key, this opens and parses every file the way
the publish itself will (`parse_apks`, `parse_bundle`, BlueMind's package and plugin checks),
checks commit texts against their caps, builds every item's client (which checks its base URL:
plain http to a remote host is refused), resolves every item's settings (flag > environment >
manifest > default), and refuses what would go wrong later: one APK listed twice, the same app
(the same token on the same store) listed twice, one plugin version listed twice, a resume file
that cannot be written. Each error names the manifest's line and key; the batch exits 2 and
nothing has been sent.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._config import BAZAAR_BASE_URL, BLUEMIND_BASE_URL
from .._errors import ValidationError
from .._session import Session
from ..bazaar import BazaarClient, LocalApk, check_commit_fields, parse_apks, parse_bundle
from ..bluemind import BlueMindClient
from ..bluemind._checks import check_package, check_spec, check_version
from ._inputs import check_resume_file
from ._manifest import BazaarEntry, BlueMindEntry, Manifest
from ._settings import (
    BUSY_TIMEOUT,
    IF_BUSY,
    IF_DRAFT_EXISTS,
    BusyPolicy,
    DraftPolicy,
    busy_policy,
    draft_policy,
    resolve,
)
from ._spelling import MANIFEST, Spelling

__all__ = ["BAZAAR_URL_ENV", "BLUEMIND_URL_ENV", "ReadyBazaar", "ReadyBlueMind", "preflight"]

BAZAAR_URL_ENV = "STOREPUSH_BAZAAR_BASE_URL"
BLUEMIND_URL_ENV = "STOREPUSH_BLUEMIND_BASE_URL"


@dataclass
class ReadyBazaar:
    """A Pishkhan item that passed every check, with its client and settings."""

    entry: BazaarEntry
    client: BazaarClient
    apks: list[LocalApk]
    size: int
    policy: DraftPolicy
    if_busy: BusyPolicy
    busy_timeout: float

    @property
    def name(self) -> str:
        return self.entry.name


@dataclass
class ReadyBlueMind:
    """A BlueMind item that passed every check, with its client."""

    entry: BlueMindEntry
    client: BlueMindClient
    size: int

    @property
    def name(self) -> str:
        return self.entry.name


Ready = ReadyBazaar | ReadyBlueMind


class _Place:
    """Relocates a library `ValidationError` to the item's line and manifest key."""

    def __init__(self, manifest: Manifest, section: str, index: int, labels: list[str]) -> None:
        self.manifest, self.section, self.index = manifest, section, index
        self.spelling = Spelling("manifest", apks=labels)

    def error(self, exc: ValidationError, key: str | None = None) -> ValidationError:
        where = self.manifest.where(self.section, self.index, key or MANIFEST.field(exc.field))
        return ValidationError(where, self.spelling.text(exc.problem), self.spelling.text(exc.fix))

    def message(self, key: str, problem: str, fix: str = "") -> ValidationError:
        return self.manifest.error(self.section, self.index, key, problem, fix)


def _url(entry_url: str | None, variable: str, default: str, environ: Mapping[str, str]) -> str:
    """Base URL: the environment, else the manifest, else the store's (flag > env > manifest)."""
    from_env = environ.get(variable, "").strip()
    return from_env or entry_url or default


def _size(*paths: Path | None) -> int:
    total = 0
    for path in paths:
        if path is not None:
            with contextlib.suppress(OSError):
                total += path.stat().st_size
    return total


def _bazaar(
    manifest: Manifest,
    entry: BazaarEntry,
    session: Session,
    flags: Mapping[str, Any],
    environ: Mapping[str, str],
) -> ReadyBazaar:
    place = _Place(manifest, "bazaar", entry.index, entry.apk_labels)
    try:
        if entry.apks:
            apks = parse_apks(list(entry.apks))
            size = sum(a.size for a in apks)
        else:
            apks = []
            parse_bundle(entry.aab, entry.signer_bin)
            size = _size(entry.aab, entry.signer_bin)
        check_commit_fields(
            changelog_en=entry.changelog_en,
            changelog_fa=entry.changelog_fa,
            developer_note=entry.developer_note,
            staged_rollout_percentage=entry.rollout,
            auto_publish=entry.auto_publish,
        )
    except ValidationError as exc:
        raise place.error(exc) from None
    try:
        client = BazaarClient(
            entry.token,
            base_url=_url(entry.base_url, BAZAAR_URL_ENV, BAZAAR_BASE_URL, environ),
            session=session,
            allow_insecure_http=entry.allow_insecure_http,
        )
    except ValidationError as exc:
        raise place.error(exc, "base_url") from None
    return ReadyBazaar(
        entry,
        client,
        apks,
        size,
        draft_policy(
            resolve(
                IF_DRAFT_EXISTS,
                flag=flags.get("if_draft_exists"),
                environ=environ,
                manifest=entry.if_draft_exists,
            )
        ),
        busy_policy(
            resolve(IF_BUSY, flag=flags.get("if_busy"), environ=environ, manifest=entry.if_busy)
        ),
        resolve(
            BUSY_TIMEOUT,
            flag=flags.get("busy_timeout"),
            environ=environ,
            manifest=entry.busy_timeout,
        ),
    )


def _bluemind(
    manifest: Manifest, entry: BlueMindEntry, session: Session, environ: Mapping[str, str]
) -> ReadyBlueMind:
    place = _Place(manifest, "bluemind", entry.index, [])
    try:
        check_version(entry.plugin, entry.version, entry.target_bm_versions, entry.release_notes)
        check_package(entry.package)
        shots: list[Path | None] = []
        if entry.create is not None:
            check_spec(entry.create)
            shots = [
                Path(entry.create.thumbnail) if entry.create.thumbnail else None,
                *(Path(s) for s in entry.create.screenshots),
            ]
    except ValidationError as exc:
        raise place.error(exc) from None
    try:
        client = BlueMindClient(
            entry.api_key,
            base_url=_url(entry.base_url, BLUEMIND_URL_ENV, BLUEMIND_BASE_URL, environ),
            session=session,
            allow_insecure_http=entry.allow_insecure_http,
        )
    except ValidationError as exc:
        raise place.error(exc, "base_url") from None
    return ReadyBlueMind(entry, client, _size(entry.package, *shots))


def preflight(
    manifest: Manifest,
    session: Session,
    *,
    flags: Mapping[str, Any],
    environ: Mapping[str, str] = os.environ,
    dry_run: bool = False,
    resume: bool = True,
) -> list[Ready]:
    """Every item of `manifest`, checked and ready to run (see the module docstring)."""
    if resume and not dry_run:
        check_resume_file(manifest.resume_file, field="resume file")
    ready: list[Ready] = []
    files: dict[tuple[int, int], str] = {}
    apps: dict[tuple[str, str], str] = {}
    versions: dict[tuple[str, str, str], str] = {}
    for entry in manifest.bazaar:
        item = _bazaar(manifest, entry, session, flags, environ)
        place = _Place(manifest, "bazaar", entry.index, entry.apk_labels)
        paths: list[tuple[str, Path | None]] = [
            (f"apks[{n}]", a.path) for n, a in enumerate(item.apks)
        ] or [("aab", entry.aab), ("bin", entry.signer_bin)]
        for key, path in paths:
            if path is None:
                continue
            info = path.stat()
            here = f"bazaar[{entry.index}].{key}"
            seen = files.setdefault((info.st_dev, info.st_ino), here)
            if seen != here:
                raise place.message(key, f"is the same file as {seen}", "list each file once")
        app = (item.client.base_url, item.client.credential_fingerprint)
        seen_app = apps.setdefault(app, f"bazaar[{entry.index}]")
        if seen_app != f"bazaar[{entry.index}]":
            raise place.message(
                "token_env",
                f"names the same app (the same token, on the same store) as {seen_app}",
                "publish one app once per batch: merge the two items",
            )
        ready.append(item)
    for blue in manifest.bluemind:
        bm = _bluemind(manifest, blue, session, environ)
        listed = (bm.client.base_url, blue.plugin, blue.version)
        seen_version = versions.setdefault(listed, f"bluemind[{blue.index}]")
        if seen_version != f"bluemind[{blue.index}]":
            raise manifest.error(
                "bluemind",
                blue.index,
                "version",
                f"{blue.plugin} {blue.version} is listed twice (also {seen_version})",
                "list each version once",
            )
        ready.append(bm)
    return ready
