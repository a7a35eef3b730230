"""Pishkhan's endpoints as methods: one per endpoint, one client per app token.

Success is a 2xx **and** `type == "success"` (`_envelope.read_answer`); the `last-*` reads
answer `None` when there is no such release, in either of the ways the store says so.
Uploads stream from disk with a fresh body per attempt, and the SHA-1 and size the server
reports are checked against what was sent. These methods accept the value objects of
`_preflight.py` (or paths, parsed there), so an input is checked once.
"""

from __future__ import annotations

import os
import re
import ssl
from pathlib import Path

import msgspec

from .._client import BaseClient
from .._config import BAZAAR_BASE_URL, RequestOptions, Timeouts
from .._errors import IntegrityError
from .._files import ascii_filename, check_file
from .._http import Response
from .._limiter import Limits
from .._retry import RetryConfig
from .._secrets import Secret
from .._session import Session
from .._uploads import FileIdentity, FilePart, ProgressCallback, UploadBody
from .._wire import Endpoint
from . import _api
from ._envelope import bundle_of, package_of, read_answer, release_of
from ._models import Architecture, Bundle, Package, Release
from ._preflight import CommitFields, LocalApk, LocalBundle, check_commit_fields, parse_apk

__all__ = ["FORBIDDEN_HINT", "BazaarAPI"]

APK_TYPE = "application/vnd.android.package-archive"
_HEX40 = re.compile(r"^[0-9a-fA-F]{40}$")

FORBIDDEN_HINT = (
    "Pishkhan refused the token. Known causes: (1) the token belongs to another app, or is "
    "wrong or revoked: create a new one on the app's 'Pishkhan API' page; (2) whitespace inside "
    "the token (storepush strips it around the token, never inside); (3) the store refuses some "
    "networks with the same answer, as reported for GitHub-hosted runners: use a proxy or a "
    "self-hosted runner. `storepush bazaar check` tests the token without changing anything."
)
_HINTS = {403: FORBIDDEN_HINT}


def _verify(sha1: str | None, size: int | None, body: UploadBody, name: str) -> None:
    """The server stored what we sent: same SHA-1 (when it reports a hex one) and size."""
    sent = body.sent_sha1()
    if sha1 and sent and _HEX40.match(sha1) and sha1.lower() != sent:
        raise IntegrityError(f"{name}: the server stored SHA-1 {sha1}, but {sent} was sent")
    sent_size = body.payloads[0].size if body.payloads else None
    if size is not None and sent_size is not None and size != sent_size:
        raise IntegrityError(f"{name}: the server stored {size} bytes, but {sent_size} were sent")


def _checked(value: str | os.PathLike[str], field: str) -> tuple[Path, FileIdentity]:
    path = check_file(value, field=field)
    return path, FileIdentity.of(path.stat())


def _file_body(
    part: str, path: Path, identity: FileIdentity, progress: ProgressCallback | None
) -> UploadBody:
    name = ascii_filename(path, f"app.{part}")
    return UploadBody(
        [], [FilePart(part, path, name, "application/octet-stream", identity)], progress=progress
    )


class BazaarAPI(BaseClient):
    """Pishkhan's endpoints for one app (one token); `BazaarClient` adds the workflows."""

    marketplace = "bazaar"
    _secret_header = "CAFEBAZAAR-PISHKHAN-API-SECRET"  # noqa: S105 - a header name
    _credential_field = "token"
    _credential_env = "STOREPUSH_BAZAAR_TOKEN"
    _base_url_env = "STOREPUSH_BAZAAR_BASE_URL"
    _default_base_url = BAZAAR_BASE_URL

    def __init__(
        self,
        token: str | Secret | None = None,
        *,
        base_url: str | None = None,
        session: Session | None = None,
        allow_insecure_http: bool = False,
        retry: RetryConfig | None = None,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        verify_tls: bool | ssl.SSLContext = True,
        proxy: str | Secret | None = None,
    ) -> None:
        super().__init__(
            token,
            base_url=base_url,
            session=session,
            allow_insecure_http=allow_insecure_http,
            retry=retry,
            limits=limits,
            timeouts=timeouts,
            verify_tls=verify_tls,
            proxy=proxy,
        )

    async def _last(self, endpoint: Endpoint, options: RequestOptions | None) -> Release | None:
        response = await self._send(endpoint, options=options, hints=_HINTS)
        return release_of(response, absent_ok=True)

    def _release(self, response: Response) -> Release:
        release = release_of(response)
        assert release is not None
        return release

    # -- the seven documented endpoints -----------------------------------------------------

    async def create_release(self, *, options: RequestOptions | None = None) -> Release:
        """Create the app's uncommitted release (400 while one exists)."""
        return self._release(await self._send(_api.CREATE, options=options, hints=_HINTS))

    async def delete_release(self, *, options: RequestOptions | None = None) -> None:
        """Delete the uncommitted release (400 when there is none)."""
        response = await self._send(_api.DELETE, options=options, hints=_HINTS)
        read_answer(response, None)

    async def upload_apk(
        self,
        apk: LocalApk | str | os.PathLike[str],
        *,
        architecture: Architecture | str = Architecture.ALL,
        progress: ProgressCallback | None = None,
        options: RequestOptions | None = None,
    ) -> Package:
        """Add an APK to the uncommitted release, streamed from disk.

        `apk` is a checked `LocalApk` (its architecture is its own), or a path checked here
        with `architecture`. The server's `sha1_hash` and `apk_size` are checked against the
        bytes sent; a mismatch raises `IntegrityError`, a file that changed while it was sent
        `FileChangedError`.
        """
        local = (
            apk
            if isinstance(apk, LocalApk)
            else parse_apk(apk, architecture, field="apk", architecture_field="architecture")
        )
        name = ascii_filename(local.path, "app.apk")
        body = UploadBody(
            [("architecture", local.architecture.value)],
            [FilePart("apk", local.path, name, APK_TYPE, local.identity)],
            progress=progress,
        )
        response = await self._send(_api.UPLOAD, body=body, options=options, hints=_HINTS)
        package = package_of(response)
        _verify(package.sha1_hash, package.apk_size, body, local.path.name)
        return package

    async def commit(
        self,
        fields: CommitFields | None = None,
        *,
        changelog_en: str = "",
        changelog_fa: str = "",
        developer_note: str = "",
        staged_rollout_percentage: int = 100,
        auto_publish: bool = False,
        options: RequestOptions | None = None,
    ) -> Release:
        """Commit the uncommitted release: send it for review (`fields`, or the keywords)."""
        if fields is None:
            fields = check_commit_fields(
                changelog_en=changelog_en,
                changelog_fa=changelog_fa,
                developer_note=developer_note,
                staged_rollout_percentage=staged_rollout_percentage,
                auto_publish=auto_publish,
            )
        response = await self._send(
            _api.COMMIT,
            body=msgspec.json.encode(fields.to_json()),
            content_type="application/json",
            options=options,
            hints=_HINTS,
        )
        return self._release(response)

    async def last_committed(self, *, options: RequestOptions | None = None) -> Release | None:
        """The last committed release, or `None`."""
        return await self._last(_api.LAST_COMMITTED, options)

    async def last_uncommitted(self, *, options: RequestOptions | None = None) -> Release | None:
        """The uncommitted release (the draft), or `None`."""
        return await self._last(_api.LAST_UNCOMMITTED, options)

    async def last_published(self, *, options: RequestOptions | None = None) -> Release | None:
        """The last published release, or `None`."""
        return await self._last(_api.LAST_PUBLISHED, options)

    # -- app bundles (beyond the documents; used by working pipelines) ------------------------

    async def upload_aab(
        self,
        bundle: LocalBundle | str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
        options: RequestOptions | None = None,
    ) -> tuple[Bundle, list[str]]:
        """Upload an app bundle (part `aab`); returns the bundle and the store's warnings."""
        if isinstance(bundle, LocalBundle):
            path, identity = bundle.aab, bundle.aab_identity
        else:
            path, identity = _checked(bundle, "aab")
        body = _file_body("aab", path, identity, progress)
        response = await self._send(_api.UPLOAD_AAB, body=body, options=options, hints=_HINTS)
        answer, warnings = bundle_of(response)
        assert answer is not None
        _verify(answer.sha1, answer.size, body, path.name)
        return answer, warnings

    async def upload_bin(
        self,
        signer_bin: LocalBundle | str | os.PathLike[str],
        *,
        options: RequestOptions | None = None,
    ) -> Bundle:
        """Upload the `.bin` Bazaar's bundle signer produced for the uploaded bundle."""
        if isinstance(signer_bin, LocalBundle):
            path, identity = signer_bin.signer, signer_bin.signer_identity
        else:
            path, identity = _checked(signer_bin, "bin")
        body = _file_body("file", path, identity, None)
        response = await self._send(_api.UPLOAD_BIN, body=body, options=options, hints=_HINTS)
        answer, _ = bundle_of(response)
        assert answer is not None
        return answer

    async def bundle_status(self, *, options: RequestOptions | None = None) -> Bundle | None:
        """The bundle's processing state, or `None` when there is no bundle.

        The store asks for at most one call a minute; the `bundle-status` rate limit keeps to it.
        """
        response = await self._send(_api.BUNDLE_STATUS, options=options, hints=_HINTS)
        return bundle_of(response, absent_ok=True)[0]
