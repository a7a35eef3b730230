"""The BlueMind MarketPlace endpoints as methods: list and get plugins, create a plugin, add
a version.

Authentication as documented: the `api-key` header on GET; on POST the key travels inside the
multipart form field `json` (sent first, as a plain field) as `api_key`, and the header is
sent too. The field's value is built only inside the per-attempt body factory, so the key
lives in no long-lived object. Files are streamed from disk with a fresh body per attempt.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from .._client import BaseClient
from .._config import BLUEMIND_BASE_URL, RequestOptions, Timeouts
from .._errors import ValidationError
from .._limiter import Limits
from .._retry import RetryConfig
from .._secrets import Secret
from .._session import Session
from .._uploads import ProgressCallback, UploadBody
from .._wire import Endpoint
from . import _api
from ._checks import CheckedPlugin, PackageFile, VersionFields, check_package, check_spec
from ._checks import check_version as check_version_fields
from ._envelope import plugin_list, read_json, to_plugin
from ._models import Plugin, PluginSpec

__all__ = ["FORBIDDEN_HINT", "BlueMindAPI", "VersionUpload"]

FORBIDDEN_HINT = (
    "The MarketPlace refused the API key: check the key shown in your account's admin area, "
    "and that the plugin belongs to this account (403 is also the answer for a plugin another "
    "user owns)"
)
_HINTS = {403: FORBIDDEN_HINT}


@dataclass(frozen=True, slots=True)
class VersionUpload:
    """What an added version's upload sent, and what the server answered (if anything)."""

    sha1: str | None
    size: int
    answer: dict[str, Any] | None


class BlueMindAPI(BaseClient):
    """The MarketPlace's endpoints for one user (one API key); `BlueMindClient` adds the
    workflow."""

    marketplace = "bluemind"
    _secret_header = "api-key"  # noqa: S105 - a header name
    _credential_field = "api_key"
    _credential_env = "STOREPUSH_BLUEMIND_API_KEY"
    _base_url_env = "STOREPUSH_BLUEMIND_BASE_URL"
    _default_base_url = BLUEMIND_BASE_URL

    def __init__(
        self,
        api_key: str | Secret | None = None,
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
            api_key,
            base_url=base_url,
            session=session,
            allow_insecure_http=allow_insecure_http,
            retry=retry,
            limits=limits,
            timeouts=timeouts,
            verify_tls=verify_tls,
            proxy=proxy,
        )

    # -- reads ------------------------------------------------------------------------------

    async def list_plugins(self, *, options: RequestOptions | None = None) -> list[Plugin]:
        """The user's plugins."""
        response = await self._send(_api.PLUGINS, options=options, hints=_HINTS)
        return plugin_list(read_json(response), response)

    async def get_plugin(
        self, plugin_id: int | str, *, options: RequestOptions | None = None
    ) -> Plugin:
        """One plugin (403 if it belongs to another user)."""
        if isinstance(plugin_id, bool) or not str(plugin_id).isdigit():
            raise ValidationError(
                "plugin_id", f"{plugin_id!r} is not a plugin id", "pass its number"
            )
        response = await self._send(
            _api.PLUGIN, path_args={"id": plugin_id}, options=options, hints=_HINTS
        )
        return to_plugin(read_json(response), response)

    # -- writes -----------------------------------------------------------------------------

    def _json_field(self, document: dict[str, str]) -> Callable[[], str]:
        def build() -> str:
            return msgspec.json.encode({"api_key": self._credential.reveal(), **document}).decode()

        return build

    async def _post(
        self, endpoint: Endpoint, body: UploadBody, options: RequestOptions | None
    ) -> tuple[Any, Any]:
        response = await self._send(endpoint, body=body, options=options, hints=_HINTS)
        return read_json(response), response

    async def create_plugin(
        self,
        name: str | PluginSpec | CheckedPlugin,
        shortdesc: str = "",
        description: str = "",
        license: str = "",
        installation_instructions: str = "",
        *,
        home_url: str | None = None,
        thumbnail: str | os.PathLike[str] | None = None,
        screenshots: Sequence[str | os.PathLike[str]] = (),
        options: RequestOptions | None = None,
    ) -> Plugin | None:
        """Create a plugin (`name` may be a whole `PluginSpec`); `thumbnail` is its logo,
        each screenshot its own part. Returns the plugin when the answer describes it, else
        `None` (the service documents no answer body)."""
        if isinstance(name, PluginSpec | CheckedPlugin):
            checked = check_spec(name)
        else:
            if isinstance(screenshots, str | os.PathLike):
                raise ValidationError("screenshots", "must be a list of paths", "wrap it in a list")
            checked = check_spec(
                PluginSpec(
                    name,
                    shortdesc,
                    description,
                    license,
                    installation_instructions,
                    home_url,
                    thumbnail,
                    tuple(screenshots),
                )
            )
        body = UploadBody([("json", self._json_field(checked.document))], checked.files)
        data, response = await self._post(_api.CREATE, body, options)
        if isinstance(data, dict) and "id" in data and "name" in data:
            return to_plugin(data, response)
        return None

    async def add_version(
        self,
        plugin_name: str | VersionFields,
        version: str = "",
        target_bm_versions: str = "",
        release_notes: str = "",
        package: str | os.PathLike[str] | PackageFile = "",
        *,
        progress: ProgressCallback | None = None,
        options: RequestOptions | None = None,
    ) -> VersionUpload:
        """Add a version to a plugin, the package streamed from disk."""
        if isinstance(plugin_name, VersionFields):
            fields = plugin_name
        else:
            fields = check_version_fields(plugin_name, version, target_bm_versions, release_notes)
        checked = check_package(package)
        body = UploadBody(
            [("json", self._json_field(fields.to_json()))], [checked.part()], progress=progress
        )
        data, _ = await self._post(_api.PLUGIN_VERSION, body, options)
        return VersionUpload(
            body.sent_sha1(), checked.size, data if isinstance(data, dict) else None
        )
