"""Adding a plugin version exactly once, creating the plugin first when asked to.

Find the plugin by name among the user's plugins; create it when it is missing and a
:class:`PluginSpec` is given; read the plugin back and report a version it already lists
(a re-run, or an earlier attempt whose answer was lost) instead of sending it again; after an
unknown outcome of either POST, read the state before deciding.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._errors import BadRequestError, OutcomeUnknownError, ValidationError, WorkflowError
from .._scrub import get_logger
from .._session import track_calls
from .._uploads import ProgressCallback
from ._checks import check_package, check_spec, check_version
from ._models import Plugin, PluginSpec

if TYPE_CHECKING:
    from ._client import BlueMindClient, VersionUpload

__all__ = ["VersionResult", "publish_version"]

log = get_logger("storepush.bluemind")
MAX_RECONCILE = 6


@dataclass
class VersionResult:
    """What :meth:`BlueMindClient.publish_version` did."""

    plugin: Plugin
    version: str
    already_published: bool = False
    created_plugin: bool = False
    upload: VersionUpload | None = None
    reconciled: int = 0
    seconds: float = 0.0
    requests: int = 0
    retries: int = 0
    throttled: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "plugin": {"id": self.plugin.id, "name": self.plugin.name},
            "version": self.version,
            "already_published": self.already_published,
            "created_plugin": self.created_plugin,
            "sha1": self.upload.sha1 if self.upload else None,
            "size": self.upload.size if self.upload else None,
            "reconciled": self.reconciled,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "retries": self.retries,
            "throttled": self.throttled,
        }


async def _find(client: BlueMindClient, name: str) -> Plugin | None:
    return next((p for p in await client.list_plugins() if p.name == name), None)


async def publish_version(
    client: BlueMindClient,
    plugin_name: str,
    version: str,
    target_bm_versions: str,
    release_notes: str,
    package: str | os.PathLike[str],
    *,
    create: PluginSpec | None,
    progress: ProgressCallback | None,
) -> VersionResult:
    started = time.monotonic()
    check_version(plugin_name, version, target_bm_versions, release_notes)
    check_package(package)
    if create is not None:
        check_spec(create)
        if create.name != plugin_name:
            raise ValidationError(
                "create.name", f"{create.name!r} differs from plugin_name {plugin_name!r}"
            )
    reconciled = 0
    with track_calls() as calls:
        plugin = await _find(client, plugin_name)
        created = False
        if plugin is None:
            if create is None:
                raise WorkflowError(
                    f"no plugin named {plugin_name!r} among this user's plugins; "
                    "pass create=PluginSpec(...) to create it"
                )
            plugin, reconciled = await _create(client, create)
            created = True
        current = await client.get_plugin(plugin.id)
        result = VersionResult(current, version, created_plugin=created)
        if current.has_version(version):
            log.info("%s %s is already published; nothing to do", plugin_name, version)
            result.already_published = True
        else:
            for _ in range(MAX_RECONCILE):
                try:
                    result.upload = await client.add_version(
                        plugin_name,
                        version,
                        target_bm_versions,
                        release_notes,
                        package,
                        progress=progress,
                    )
                    break
                except OutcomeUnknownError as exc:
                    reconciled += 1
                    log.info("add version: outcome unknown (%s); reading the plugin", exc)
                    current = await client.get_plugin(plugin.id)
                    if current.has_version(version):
                        break
            else:
                raise WorkflowError(f"could not add version {version} to {plugin_name}")
            result.plugin = await client.get_plugin(plugin.id)
    result.reconciled = reconciled
    result.seconds = time.monotonic() - started
    result.requests, result.retries, result.throttled = (
        calls.requests,
        calls.retries,
        calls.throttled,
    )
    return result


async def _create(client: BlueMindClient, spec: PluginSpec) -> tuple[Plugin, int]:
    reconciled = 0
    for _ in range(MAX_RECONCILE):
        try:
            created = await client.create_plugin(
                spec.name,
                spec.shortdesc,
                spec.description,
                spec.license,
                spec.installation_instructions,
                home_url=spec.home_url,
                thumbnail=spec.thumbnail,
                screenshots=spec.screenshots,
            )
        except OutcomeUnknownError as exc:
            reconciled += 1
            log.info("create plugin: outcome unknown (%s); listing plugins", exc)
        except BadRequestError as exc:
            raise WorkflowError(
                f"the MarketPlace refused to create {spec.name!r} ({exc.server_message}); "
                "a plugin of that name may belong to another user"
            ) from exc
        else:
            if created is not None:
                return created, reconciled
        found = await _find(client, spec.name)
        if found is not None:
            return found, reconciled
    raise WorkflowError(f"could not create the plugin {spec.name!r}")
