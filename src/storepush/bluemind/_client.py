"""`BlueMindClient`: the MarketPlace's endpoints plus `publish_version`."""

from __future__ import annotations

import os
from typing import Literal, overload

from .._uploads import ProgressCallback
from ._calls import BlueMindAPI
from ._checks import check_package, check_spec, check_version
from ._models import PluginSpec
from ._publish import VersionPlan, VersionResult, plan_version, publish_version

__all__ = ["BlueMindClient"]


class BlueMindClient(BlueMindAPI):
    """A BlueMind MarketPlace client for one user (one API key; with none it is read from
    `STOREPUSH_BLUEMIND_API_KEY`)."""

    @overload
    async def publish_version(
        self,
        plugin_name: str,
        version: str,
        target_bm_versions: str,
        release_notes: str,
        package: str | os.PathLike[str],
        *,
        create: PluginSpec | None = ...,
        progress: ProgressCallback | None = ...,
        dry_run: Literal[False] = ...,
    ) -> VersionResult: ...

    @overload
    async def publish_version(
        self,
        plugin_name: str,
        version: str,
        target_bm_versions: str,
        release_notes: str,
        package: str | os.PathLike[str],
        *,
        create: PluginSpec | None = ...,
        progress: ProgressCallback | None = ...,
        dry_run: Literal[True],
    ) -> VersionPlan: ...

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
        dry_run: bool = False,
    ) -> VersionResult | VersionPlan:
        """Add a version exactly once, creating the plugin first when it is missing and
        `create` is given. Everything is checked before the first request. `dry_run=True`
        returns the [`VersionPlan`][storepush.bluemind.VersionPlan] the real run would follow."""
        fields = check_version(plugin_name, version, target_bm_versions, release_notes)
        checked = check_package(package)
        spec = check_spec(create) if create is not None else None
        if dry_run:
            return await plan_version(self, fields, checked, create=spec)
        return await publish_version(self, fields, checked, create=spec, progress=progress)
