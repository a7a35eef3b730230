"""The BlueMind MarketPlace client: list and get plugins, create a plugin, add a version.

Authentication as documented: the ``api-key`` header on GET; on POST the key travels inside
the multipart form field ``json`` (sent first, as a plain field) as ``api_key``, and the
header is sent too. Files are streamed from disk with a fresh body per attempt. A POST's
answer may be empty or not JSON: that is a success, not an error.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from .._client import BaseClient
from .._config import BLUEMIND_BASE_URL, RequestOptions, Timeouts
from .._decode import convert
from .._errors import ValidationError
from .._files import ascii_filename
from .._http import Response
from .._limiter import Limits
from .._retry import RetryConfig
from .._scrub import get_logger
from .._secrets import Secret, as_secret
from .._session import Session
from .._uploads import FilePart, ProgressCallback, UploadBody
from ._checks import check_package, check_spec, check_version
from ._models import Plugin, PluginSpec
from ._publish import VersionResult, publish_version

__all__ = ["BlueMindClient", "Paths", "VersionUpload"]

log = get_logger("storepush.bluemind")

FORBIDDEN_HINT = (
    "BlueMind refused the request: the API key is wrong, or the plugin belongs to another "
    "user (only a MarketPlace administrator may publish to a plugin it does not own)"
)


class Paths:
    """The path of each endpoint (trailing slashes are part of them)."""

    PLUGINS = "/addons/api/plugins/"
    PLUGIN = "/addons/api/plugin/{id}/"
    PLUGIN_VERSION = "/addons/api/plugin_version/"


@dataclass(frozen=True, slots=True)
class VersionUpload:
    """What an added version's upload sent, and what the server answered (if anything)."""

    sha1: str | None
    size: int
    answer: dict[str, Any] | None


def _plugins_from(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("plugins", "results", "items", "data"):
            if isinstance(data.get(key), list):
                return list(data[key])
    raise ValidationError("response", "the plugin list is neither a list nor holds one")


class BlueMindClient(BaseClient):
    """A BlueMind MarketPlace client for one user (one API key)."""

    marketplace = "bluemind"
    _secret_header = "api-key"  # noqa: S105 - a header name

    def __init__(
        self,
        api_key: str | Secret,
        *,
        base_url: str = BLUEMIND_BASE_URL,
        session: Session | None = None,
        allow_insecure_http: bool = False,
        retry: RetryConfig | None = None,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        verify_tls: bool | ssl.SSLContext = True,
        proxy: str | Secret | None = None,
    ) -> None:
        super().__init__(
            as_secret(api_key, field="api_key"),
            base_url=base_url,
            session=session,
            allow_insecure_http=allow_insecure_http,
            retry=retry,
            limits=limits,
            timeouts=timeouts,
            verify_tls=verify_tls,
            proxy=proxy,
        )

    @staticmethod
    def _convert(data: Any, response: Response) -> Plugin:
        plugin = convert(
            data,
            Plugin,
            body=response.body,
            status=response.status,
            method=response.method,
            url=response.url,
        )
        if isinstance(data, dict):
            plugin.raw = data
        return plugin

    async def _get(self, path: str, endpoint: str, options: RequestOptions | None) -> Response:
        return await self._send(
            "GET", path, endpoint, safe=True, options=options, hints={403: FORBIDDEN_HINT}
        )

    # -- reads ------------------------------------------------------------------------------

    async def list_plugins(self, *, options: RequestOptions | None = None) -> list[Plugin]:
        """The user's plugins."""
        response = await self._get(Paths.PLUGINS, "plugins", options)
        data: Any = self._decode(response, object)
        return [self._convert(item, response) for item in _plugins_from(data)]

    async def get_plugin(
        self, plugin_id: int | str, *, options: RequestOptions | None = None
    ) -> Plugin:
        """One plugin (403 if it belongs to another user)."""
        if isinstance(plugin_id, bool) or not str(plugin_id).isdigit():
            raise ValidationError(
                "plugin_id", f"{plugin_id!r} is not a plugin id", "pass its number"
            )
        response = await self._get(Paths.PLUGIN.format(id=plugin_id), "plugin", options)
        return self._convert(self._decode(response, object), response)

    # -- writes -----------------------------------------------------------------------------

    def _json_field(self, document: dict[str, str]) -> Any:
        def build() -> str:
            return msgspec.json.encode({"api_key": self._credential.reveal(), **document}).decode()

        return build

    async def _post(
        self, path: str, endpoint: str, body: UploadBody, options: RequestOptions | None
    ) -> Any:
        response = await self._send(
            "POST", path, endpoint, body=body, options=options, hints={403: FORBIDDEN_HINT}
        )
        if not response.body.strip():
            return None
        try:
            return msgspec.json.decode(response.body)
        except msgspec.DecodeError:
            log.info("POST %s answered %d with a body that is not JSON", path, response.status)
            return None

    async def create_plugin(
        self,
        name: str,
        shortdesc: str,
        description: str,
        license: str,
        installation_instructions: str,
        *,
        home_url: str | None = None,
        thumbnail: str | os.PathLike[str] | None = None,
        screenshots: Sequence[str | os.PathLike[str]] = (),
        options: RequestOptions | None = None,
    ) -> Plugin | None:
        """Create a plugin; ``thumbnail`` is its logo, each screenshot its own part.

        Returns the created plugin when the answer describes it, else ``None`` (the service
        documents no answer body).
        """
        if isinstance(screenshots, str | os.PathLike):
            raise ValidationError("screenshots", "must be a list of paths", "wrap it in a list")
        spec = PluginSpec(
            name,
            shortdesc,
            description,
            license,
            installation_instructions,
            home_url,
            thumbnail,
            tuple(screenshots),
        )
        document, files = check_spec(spec)
        body = UploadBody([("json", self._json_field(document))], files)
        data = await self._post(Paths.PLUGINS, "create", body, options)
        if isinstance(data, dict) and "id" in data and "name" in data:
            return self._convert(data, Response(200, {}, b"", "POST", self.url(Paths.PLUGINS)))
        return None

    async def add_version(
        self,
        plugin_name: str,
        version: str,
        target_bm_versions: str,
        release_notes: str,
        package: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
        options: RequestOptions | None = None,
    ) -> VersionUpload:
        """Add a version to a plugin, the package streamed from disk."""
        document = check_version(plugin_name, version, target_bm_versions, release_notes)
        path, content_type = check_package(package)
        body = UploadBody(
            [("json", self._json_field(document))],
            [FilePart("package", path, ascii_filename(path, "package.jar"), content_type)],
            progress=progress,
        )
        data = await self._post(Paths.PLUGIN_VERSION, "plugin_version", body, options)
        return VersionUpload(
            body.sent_sha1(), path.stat().st_size, data if isinstance(data, dict) else None
        )

    async def publish_version(
        self,
        plugin_name: str,
        version: str,
        target_bm_versions: str,
        release_notes: str,
        package: str | os.PathLike[str],
        *,
        create: PluginSpec | None = None,
        progress: ProgressCallback | None = None,
    ) -> VersionResult:
        """Add a version exactly once, creating the plugin first when missing and ``create``
        is given. See :func:`~storepush.bluemind.publish_version`."""
        return await publish_version(
            self,
            plugin_name,
            version,
            target_bm_versions,
            release_notes,
            package,
            create=create,
            progress=progress,
        )
