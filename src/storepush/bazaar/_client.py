"""The Cafe Bazaar (Pishkhan) client: one method per endpoint, one client per app token.

Success is a 2xx **and** ``type == "success"``; the ``last-*`` reads answer ``None`` for
``not-exists``. Uploads stream from disk with a fresh body per attempt, and the SHA-1 and size
the server reports are checked against what was sent. The publish workflow lives in
``_publish.py`` and is reached through :meth:`BazaarClient.publish`.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import msgspec

from .._client import BaseClient
from .._config import BAZAAR_BASE_URL, RequestOptions, Timeouts
from .._errors import APIError, DecodeError, IntegrityError, PermissionDeniedError, excerpt
from .._files import ascii_filename, check_file
from .._http import Response
from .._limiter import Limits
from .._retry import RetryConfig
from .._scrub import get_logger
from .._secrets import Secret, as_secret
from .._session import Session
from .._uploads import FilePart, ProgressCallback, UploadBody
from ._models import (
    Architecture,
    Bundle,
    BundleEnvelope,
    Package,
    PackageEnvelope,
    Release,
    ReleaseEnvelope,
)
from ._preflight import check_apk_path, check_architecture, check_changelogs, check_rollout
from ._publish import (
    DraftJournal,
    Publisher,
    PublishResult,
    wait_for_bundle,
    wait_for_publication,
)

__all__ = ["AccessReport", "BazaarClient", "Paths"]

log = get_logger("storepush.bazaar")

E = TypeVar("E", ReleaseEnvelope, PackageEnvelope, BundleEnvelope)

APK_TYPE = "application/vnd.android.package-archive"
_HEX40 = re.compile(r"^[0-9a-fA-F]{40}$")

FORBIDDEN_HINT = (
    "Pishkhan refused the token. Known causes: (1) the token belongs to another app, or is "
    "wrong or revoked: create a new one on the app's 'Pishkhan API' page; (2) whitespace inside "
    "the token (storepush strips it around the token, never inside); (3) the store refuses some "
    "networks with the same answer, as reported for GitHub-hosted runners: try from another "
    "network. BazaarClient.check_access() checks the token without changing anything."
)


class Paths:
    """The path of each endpoint, relative to the base URL: correct one here, if ever needed."""

    CREATE = "/apps/releases/"
    DELETE = "/apps/releases/"
    UPLOAD = "/apps/releases/upload/"
    COMMIT = "/apps/releases/commit/"
    LAST_COMMITTED = "/apps/releases/last-committed"
    LAST_UNCOMMITTED = "/apps/releases/last-uncommitted"
    LAST_PUBLISHED = "/apps/releases/last-published"
    UPLOAD_AAB = "/apps/releases/upload-aab/"
    UPLOAD_BIN = "/apps/releases/upload-bin/"
    BUNDLE_STATUS = "/apps/releases/bundle-status/"


@dataclass(frozen=True, slots=True)
class AccessReport:
    """The answer of :meth:`BazaarClient.check_access`."""

    ok: bool
    status: int | None
    explanation: str


class BazaarClient(BaseClient):
    """A Pishkhan client for one app (one token).

    ``token`` may be a string or a :class:`~storepush.Secret`. Pass ``session=`` to share a
    connection pool, rate limiters and retry budget between many apps; otherwise the client
    creates its own session and closes it in :meth:`aclose` / ``async with``.
    """

    marketplace = "bazaar"
    _secret_header = "CAFEBAZAAR-PISHKHAN-API-SECRET"  # noqa: S105 - a header name

    def __init__(
        self,
        token: str | Secret,
        *,
        base_url: str = BAZAAR_BASE_URL,
        session: Session | None = None,
        allow_insecure_http: bool = False,
        retry: RetryConfig | None = None,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        verify_tls: bool | ssl.SSLContext = True,
        proxy: str | Secret | None = None,
    ) -> None:
        super().__init__(
            as_secret(token, field="token"),
            base_url=base_url,
            session=session,
            allow_insecure_http=allow_insecure_http,
            retry=retry,
            limits=limits,
            timeouts=timeouts,
            verify_tls=verify_tls,
            proxy=proxy,
        )

    # -- plumbing ---------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        endpoint: str,
        *,
        options: RequestOptions | None,
        body: bytes | UploadBody | None = None,
        content_type: str | None = None,
    ) -> Response:
        return await self._send(
            method,
            path,
            endpoint,
            body=body,
            content_type=content_type,
            safe=method == "GET",
            options=options,
            hints={403: FORBIDDEN_HINT},
        )

    def _envelope(self, response: Response, shape: type[E], *, allow_missing: bool = False) -> E:
        """Decode the answer once; a ``type`` other than ``success`` (or, with
        ``allow_missing``, ``not-exists``) is an :class:`APIError`."""
        envelope = self._decode(response, shape)
        if envelope.type == "success" or (allow_missing and envelope.type == "not-exists"):
            return envelope
        raise APIError(
            f"the answer's type is {envelope.type!r}, not 'success'"
            + (f": {envelope.message}" if envelope.message else ""),
            status=response.status,
            method=response.method,
            url=response.url,
            error_type=envelope.type,
            server_message=envelope.message,
        )

    @staticmethod
    def _missing(response: Response, field: str) -> DecodeError:
        return DecodeError(
            f"a 'success' answer without its {field!r}",
            status=response.status,
            method=response.method,
            url=response.url,
            path=f"$.{field}",
            body_excerpt=excerpt(response.body),
        )

    def _release(self, response: Response) -> Release:
        release = self._envelope(response, ReleaseEnvelope).release
        if release is None:
            raise self._missing(response, "release")
        return release

    async def _last(
        self, path: str, endpoint: str, options: RequestOptions | None
    ) -> Release | None:
        response = await self._call("GET", path, endpoint, options=options)
        envelope = self._envelope(response, ReleaseEnvelope, allow_missing=True)
        if envelope.type == "not-exists":
            return None
        if envelope.release is None:
            raise self._missing(response, "release")
        return envelope.release

    # -- the seven documented endpoints -----------------------------------------------------

    async def create_release(self, *, options: RequestOptions | None = None) -> Release:
        """Create the app's uncommitted release (400 while one exists)."""
        response = await self._call("POST", Paths.CREATE, "create", options=options)
        return self._release(response)

    async def delete_release(self, *, options: RequestOptions | None = None) -> None:
        """Delete the uncommitted release (400 when there is none)."""
        response = await self._call("DELETE", Paths.DELETE, "delete", options=options)
        self._envelope(response, ReleaseEnvelope)

    async def upload_apk(
        self,
        apk: str | os.PathLike[str],
        *,
        architecture: Architecture | str = Architecture.ALL,
        progress: ProgressCallback | None = None,
        options: RequestOptions | None = None,
    ) -> Package:
        """Add an APK to the uncommitted release, streamed from disk.

        The server's ``sha1_hash`` and ``apk_size`` are checked against the bytes sent; a
        mismatch raises :class:`~storepush.IntegrityError`.
        """
        path, _ = check_apk_path(apk, field="apk")
        arch = check_architecture(architecture)
        body = UploadBody(
            [("architecture", arch.value)],
            [FilePart("apk", path, ascii_filename(path, "app.apk"), APK_TYPE)],
            progress=progress,
        )
        response = await self._call("POST", Paths.UPLOAD, "upload", options=options, body=body)
        package = self._envelope(response, PackageEnvelope).package
        if package is None:
            raise self._missing(response, "package")
        self._verify(package.sha1_hash, package.apk_size, body, path)
        return package

    @staticmethod
    def _verify(sha1: str | None, size: int | None, body: UploadBody, path: Path) -> None:
        sent = body.sent_sha1()
        if sha1 and sent and _HEX40.match(sha1) and sha1.lower() != sent:
            raise IntegrityError(
                f"{path.name}: the server stored SHA-1 {sha1}, but {sent} was sent"
            )
        sent_size = body.payloads[0].size if body.payloads else None
        if size is not None and sent_size is not None and size != sent_size:
            raise IntegrityError(
                f"{path.name}: the server stored {size} bytes, but {sent_size} were sent"
            )

    async def commit(
        self,
        *,
        changelog_en: str = "",
        changelog_fa: str = "",
        developer_note: str = "",
        staged_rollout_percentage: int = 100,
        auto_publish: bool = False,
        options: RequestOptions | None = None,
    ) -> Release:
        """Commit the uncommitted release: send it for review."""
        check_changelogs(changelog_en, changelog_fa, developer_note)
        rollout = check_rollout(staged_rollout_percentage)
        if not isinstance(auto_publish, bool):
            raise TypeError("auto_publish must be a bool")
        body = msgspec.json.encode(
            {
                "changelog_en": changelog_en,
                "changelog_fa": changelog_fa,
                "developer_note": developer_note,
                "staged_rollout_percentage": rollout,
                "auto_publish": auto_publish,
            }
        )
        response = await self._call(
            "POST",
            Paths.COMMIT,
            "commit",
            options=options,
            body=body,
            content_type="application/json",
        )
        return self._release(response)

    async def last_committed(self, *, options: RequestOptions | None = None) -> Release | None:
        """The last committed release, or ``None``."""
        return await self._last(Paths.LAST_COMMITTED, "last-committed", options)

    async def last_uncommitted(self, *, options: RequestOptions | None = None) -> Release | None:
        """The uncommitted release (the draft), or ``None``."""
        return await self._last(Paths.LAST_UNCOMMITTED, "last-uncommitted", options)

    async def last_published(self, *, options: RequestOptions | None = None) -> Release | None:
        """The last published release, or ``None``."""
        return await self._last(Paths.LAST_PUBLISHED, "last-published", options)

    # -- app bundles (beyond the documents; used by working pipelines) ------------------------

    async def _upload_file(
        self,
        path: Path,
        *,
        part: str,
        endpoint: str,
        url_path: str,
        content_type: str,
        progress: ProgressCallback | None,
        options: RequestOptions | None,
    ) -> tuple[Bundle, list[str]]:
        body = UploadBody(
            [],
            [FilePart(part, path, ascii_filename(path, f"file.{part}"), content_type)],
            progress=progress,
        )
        response = await self._call("POST", url_path, endpoint, options=options, body=body)
        envelope = self._envelope(response, BundleEnvelope)
        if envelope.bundle is None:
            raise self._missing(response, "bundle")
        if endpoint == "upload-aab":
            self._verify(envelope.bundle.sha1, envelope.bundle.size, body, path)
        return envelope.bundle, envelope.warnings

    async def upload_aab(
        self,
        aab: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
        options: RequestOptions | None = None,
    ) -> tuple[Bundle, list[str]]:
        """Upload an app bundle (part ``aab``); returns the bundle and the store's warnings."""
        path = check_file(aab, field="aab")
        return await self._upload_file(
            path,
            part="aab",
            endpoint="upload-aab",
            url_path=Paths.UPLOAD_AAB,
            content_type="application/octet-stream",
            progress=progress,
            options=options,
        )

    async def upload_bin(
        self,
        signer_bin: str | os.PathLike[str],
        *,
        options: RequestOptions | None = None,
    ) -> Bundle:
        """Upload the ``.bin`` Bazaar's bundle signer produced for the uploaded bundle."""
        path = check_file(signer_bin, field="bin")
        bundle, _ = await self._upload_file(
            path,
            part="file",
            endpoint="upload-bin",
            url_path=Paths.UPLOAD_BIN,
            content_type="application/octet-stream",
            progress=None,
            options=options,
        )
        return bundle

    async def bundle_status(self, *, options: RequestOptions | None = None) -> Bundle | None:
        """The bundle's processing state, or ``None`` when there is no bundle.

        The store asks for at most one call a minute; :meth:`wait_for_bundle` keeps to that.
        """
        response = await self._call("GET", Paths.BUNDLE_STATUS, "bundle-status", options=options)
        envelope = self._envelope(response, BundleEnvelope, allow_missing=True)
        if envelope.type == "not-exists":
            return None
        if envelope.bundle is None:
            raise self._missing(response, "bundle")
        return envelope.bundle

    # -- read-only diagnosis --------------------------------------------------------------------

    async def check_access(self) -> AccessReport:
        """Check the token with a read-only call; explain a 403 instead of raising it."""
        try:
            await self.last_published()
        except PermissionDeniedError as exc:
            return AccessReport(False, exc.status, FORBIDDEN_HINT)
        return AccessReport(True, 200, "the token is accepted")

    # -- workflows ------------------------------------------------------------------------------

    async def publish(
        self,
        apks: Sequence[object] = (),
        *,
        aab: str | os.PathLike[str] | None = None,
        signer_bin: str | os.PathLike[str] | None = None,
        changelog_en: str = "",
        changelog_fa: str = "",
        developer_note: str = "",
        staged_rollout_percentage: int = 100,
        auto_publish: bool = False,
        if_draft_exists: Literal["fail", "reuse", "replace"] = "fail",
        progress: ProgressCallback | None = None,
        dry_run: bool = False,
        journal: DraftJournal | None = None,
    ) -> PublishResult:
        """Publish a release exactly once: check, create, upload, commit.

        ``apks`` are paths or ``(path, architecture)`` pairs; or give ``aab`` and
        ``signer_bin`` for an app bundle. ``journal`` lets a re-run recognise a draft this
        publish created even while it is still empty. See :class:`~storepush.bazaar.Publisher`
        for the rules (draft policy, ambiguous outcomes, re-runs).
        """
        return await Publisher(self, journal).run(
            apks,
            aab=aab,
            signer_bin=signer_bin,
            changelog_en=changelog_en,
            changelog_fa=changelog_fa,
            developer_note=developer_note,
            staged_rollout_percentage=staged_rollout_percentage,
            auto_publish=auto_publish,
            if_draft_exists=if_draft_exists,
            progress=progress,
            dry_run=dry_run,
        )

    async def wait_for_publication(
        self,
        sha1s: frozenset[str] | None = None,
        *,
        deadline: float = 3600.0,
        interval: float = 30.0,
        max_interval: float = 300.0,
    ) -> Release:
        """Poll ``last-published`` until the release with ``sha1s`` appears (default: the last
        committed release's packages). Backs off up to ``max_interval``; cancellable; raises
        :class:`~storepush.PublicationTimeoutError` after ``deadline`` seconds."""
        return await wait_for_publication(
            self, sha1s, deadline=deadline, interval=interval, max_interval=max_interval
        )

    async def wait_for_bundle(
        self, *, deadline: float = 2700.0, interval: float | None = None
    ) -> Bundle:
        """Poll ``bundle-status`` until ``D``; raise :class:`~storepush.BundleError` on ``E``.

        By default the pace is the ``bundle-status`` rate limit: one call a minute, as the store
        asks (see :class:`~storepush.Limits`); ``interval`` adds a sleep of its own.
        """
        return await wait_for_bundle(self, deadline=deadline, interval=interval)
