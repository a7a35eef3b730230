"""`BlueMindClient`: the MarketPlace's endpoints plus `publish_version`."""

from __future__ import annotations

import os

from .._uploads import ProgressCallback
from ._calls import BlueMindAPI
from ._checks import check_package, check_spec, check_version
from ._models import PluginSpec
from ._publish import VersionResult, publish_version

__all__ = ["BlueMindClient"]


class BlueMindClient(BlueMindAPI):
    """A BlueMind MarketPlace client for one user (one API key; with none it is read from
    `STOREPUSH_BLUEMIND_API_KEY`)."""

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
        """Add a version exactly once, creating the plugin first when it is missing and
        `create` is given. Everything is checked before the first request."""
        fields = check_version(plugin_name, version, target_bm_versions, release_notes)
        checked = check_package(package)
        spec = check_spec(create) if create is not None else None
        return await publish_version(self, fields, checked, create=spec, progress=progress)
