"""Adding a plugin version exactly once, creating the plugin first when asked to.

Find the plugin by name among the user's plugins; create it when it is missing and a
`PluginSpec` is given; read the plugin back and judge the version (`_rules.judge_version`):
add it, report it as already published, or refuse a different package under the same
version. Every ambiguous write is settled by reading the state (`_settle.settle`).

The workflow depends only on [`MarketplaceAPI`][storepush.bluemind.MarketplaceAPI].
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from .._errors import BadRequestError, ValidationError, VersionExistsError, WorkflowError
from .._files import file_sha1
from .._scrub import get_logger
from .._settle import Ambiguous, Settled, settle, settle_bound
from .._stats import track_calls
from .._uploads import ProgressCallback
from ._calls import VersionUpload
from ._checks import CheckedPlugin, PackageFile, VersionFields
from ._models import Plugin
from ._rules import VersionVerdict, judge_version

__all__ = ["MarketplaceAPI", "VersionPlan", "VersionResult", "plan_version", "publish_version"]

log = get_logger("storepush.bluemind")


class MarketplaceAPI(Protocol):
    """The endpoint methods `publish_version` needs; `BlueMindClient` implements them."""

    async def list_plugins(self) -> list[Plugin]: ...

    async def get_plugin(self, plugin_id: int | str) -> Plugin: ...

    async def create_plugin(self, name: CheckedPlugin) -> Plugin | None: ...

    async def add_version(
        self,
        plugin_name: VersionFields,
        *,
        package: PackageFile,
        progress: ProgressCallback | None = None,
    ) -> VersionUpload: ...


@dataclass
class VersionResult:
    """What `BlueMindClient.publish_version` did."""

    plugin: Plugin
    version: str
    already_published: bool = False
    verified: bool = True  #: False when the service did not show the stored package
    created_plugin: bool = False
    upload: VersionUpload | None = None
    warnings: list[str] = field(default_factory=list)
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
            "verified": self.verified,
            "created_plugin": self.created_plugin,
            "sha1": self.upload.sha1 if self.upload else None,
            "size": self.upload.size if self.upload else None,
            "warnings": self.warnings,
            "reconciled": self.reconciled,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "retries": self.retries,
            "throttled": self.throttled,
        }


@dataclass
class VersionPlan:
    """What `publish_version` would do (a dry run): the same rules, reads only.

    `action` is `"create the plugin and add the version"`, `"add the version"` or
    `"already published"`; `verified` is False when the listing does not show the stored
    package. A refusal is raised exactly as the real run would raise it.
    """

    action: str
    plugin: Plugin | None = None
    verified: bool = True

    def to_json(self) -> dict[str, Any]:
        plugin = None if self.plugin is None else {"id": self.plugin.id, "name": self.plugin.name}
        return {"dry_run": True, "action": self.action, "plugin": plugin, "verified": self.verified}


class _Run:
    def __init__(self, api: MarketplaceAPI, fields: VersionFields, package: PackageFile) -> None:
        self.api = api
        self.settle_bound = settle_bound(api)
        self.fields = fields
        self.package = package
        self.sha1: str | None = None
        self.reconciled = 0

    def settled(self) -> None:
        self.reconciled += 1

    async def find(self, name: str) -> Plugin | None:
        return next((p for p in await self.api.list_plugins() if p.name == name), None)

    async def create(self, spec: CheckedPlugin) -> Plugin:
        async def act() -> Plugin | None:
            created = await self.api.create_plugin(spec)
            return created if created is not None else await self.find(spec.name)

        def judge(found: Plugin | None, exc: Ambiguous) -> Settled[Plugin | None]:
            if found is not None:
                return Settled.ok(found)
            if isinstance(exc, BadRequestError):
                return Settled.fail(
                    WorkflowError(
                        f"the MarketPlace refused to create {spec.name!r} "
                        f"({exc.server_message}); a plugin of that name may belong to another user"
                    )
                )
            return Settled.again()

        plugin = await settle(
            act,
            lambda: self.find(spec.name),
            judge,
            what=f"create the plugin {spec.name!r}",
            on_settle=self.settled,
            bound=self.settle_bound,
        )
        if plugin is None:
            raise WorkflowError(f"the plugin {spec.name!r} was created but is not listed")
        return plugin

    async def verdict(self, plugin: Plugin) -> VersionVerdict:
        if plugin.find_version(self.fields.version) is not None and self.sha1 is None:
            self.sha1 = await file_sha1(self.package.path, self.package.identity)
        return judge_version(plugin, self.fields.version, sha1=self.sha1, size=self.package.size)

    async def add(self, plugin_id: int | str, progress: ProgressCallback | None) -> VersionUpload:
        async def act() -> VersionUpload:
            upload = await self.api.add_version(
                self.fields, package=self.package, progress=progress
            )
            self.sha1 = upload.sha1 or self.sha1
            return upload

        async def probe() -> tuple[Plugin, VersionVerdict]:
            plugin = await self.api.get_plugin(plugin_id)
            return plugin, await self.verdict(plugin)

        def judge(state: tuple[Plugin, VersionVerdict], exc: Ambiguous) -> Settled[VersionUpload]:
            _, verdict = state
            if verdict is VersionVerdict.REFUSE:
                return Settled.fail(self.refusal())
            if verdict is not VersionVerdict.ADD:
                return Settled.ok(VersionUpload(self.sha1, self.package.size, None))
            return Settled.fail(exc) if isinstance(exc, BadRequestError) else Settled.again()

        return await settle(
            act,
            probe,
            judge,
            what=f"add version {self.fields.version}",
            on_settle=self.settled,
            bound=self.settle_bound,
        )

    def refusal(self) -> VersionExistsError:
        return VersionExistsError(
            f"{self.fields.plugin_name} {self.fields.version} is already published with another "
            f"package (this one is {self.package.path.name}, SHA-1 {self.sha1}); a listed version "
            "cannot be replaced: give the new package a new version"
        )


async def plan_version(
    api: MarketplaceAPI,
    fields: VersionFields,
    package: PackageFile,
    *,
    create: CheckedPlugin | None,
) -> VersionPlan:
    """The dry run of `publish_version`: its first decisions, with no write."""
    run = _Run(api, fields, package)
    plugin = await run.find(fields.plugin_name)
    if plugin is None:
        if create is None:
            raise _missing_plugin(fields)
        return VersionPlan("create the plugin and add the version")
    current = await api.get_plugin(plugin.id)
    verdict = await run.verdict(current)
    if verdict is VersionVerdict.REFUSE:
        raise run.refusal()
    if verdict is VersionVerdict.ADD:
        return VersionPlan("add the version", current)
    return VersionPlan("already published", current, verdict is VersionVerdict.ALREADY)


def _missing_plugin(fields: VersionFields) -> WorkflowError:
    return WorkflowError(
        f"no plugin named {fields.plugin_name!r} among this user's plugins"
    ).with_remedies(("create", None, "create it from a plugin spec"))


async def publish_version(
    api: MarketplaceAPI,
    fields: VersionFields,
    package: PackageFile,
    *,
    create: CheckedPlugin | None,
    progress: ProgressCallback | None,
) -> VersionResult:
    """Add `fields.version` exactly once (see the module's docstring)."""
    if create is not None and create.name != fields.plugin_name:
        raise ValidationError(
            "create.name", f"{create.name!r} differs from plugin_name {fields.plugin_name!r}"
        )
    started = time.monotonic()
    run = _Run(api, fields, package)
    with track_calls() as calls:
        plugin = await run.find(fields.plugin_name)
        created = False
        if plugin is None:
            if create is None:
                raise _missing_plugin(fields)
            plugin = await run.create(create)
            created = True
        current = await api.get_plugin(plugin.id)
        result = VersionResult(current, fields.version, created_plugin=created)
        verdict = await run.verdict(current)
        if verdict is VersionVerdict.REFUSE:
            raise run.refusal()
        if verdict is VersionVerdict.ADD:
            result.upload = await run.add(plugin.id, progress)
            result.plugin = await api.get_plugin(plugin.id)
            verdict = await run.verdict(result.plugin)
            if verdict is VersionVerdict.REFUSE:
                raise run.refusal()
        else:
            result.already_published = True
            log.info(
                "%s %s is already published; nothing to do", fields.plugin_name, fields.version
            )
        if verdict is VersionVerdict.ALREADY_UNVERIFIED:
            result.verified = False
            note = (
                f"the MarketPlace lists {fields.plugin_name} {fields.version} but does not show "
                "its stored package, so storepush cannot tell whether it is this one"
            )
            log.warning("%s", note)
            result.warnings.append(note)
    result.reconciled = run.reconciled
    result.seconds = time.monotonic() - started
    result.requests, result.retries, result.throttled = (
        calls.requests,
        calls.retries,
        calls.throttled,
    )
    return result
