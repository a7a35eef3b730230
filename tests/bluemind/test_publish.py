"""publish_version(): find or create, exactly once, re-runs reported, ambiguous POSTs settled."""

from __future__ import annotations

from pathlib import Path

import pytest

from storepush import BlueMindClient, PermissionDeniedError, ValidationError, WorkflowError
from storepush.bluemind import PluginSpec
from storepush.emulator import Emulator, Faults

from .conftest import BOB


def versions(emu: Emulator) -> list[str]:
    return [v.version for p in emu.world.plugins.values() for v in p.versions]


async def test_create_then_publish_then_rerun(
    client: BlueMindClient, emu: Emulator, spec: PluginSpec, files: dict[str, Path]
) -> None:
    first = await client.publish_version(
        spec.name, "1.0", "4.x", "first", files["jar"], create=spec
    )
    assert first.created_plugin
    assert not first.already_published
    assert first.plugin.has_version("1.0")
    again = await client.publish_version(
        spec.name, "1.0", "4.x", "first", files["jar"], create=spec
    )
    assert again.already_published
    assert not again.created_plugin
    assert versions(emu) == ["1.0"]
    assert len(emu.world.plugins) == 1
    assert again.to_json()["already_published"] is True


async def test_missing_plugin_without_spec(client: BlueMindClient, files: dict[str, Path]) -> None:
    with pytest.raises(WorkflowError, match="pass create="):
        await client.publish_version("Nope", "1.0", "4.x", "n", files["jar"])


async def test_spec_name_must_match(
    client: BlueMindClient, emu: Emulator, spec: PluginSpec, files: dict[str, Path]
) -> None:
    with pytest.raises(ValidationError) as info:
        await client.publish_version("Other", "1.0", "4.x", "n", files["jar"], create=spec)
    assert info.value.field == "create.name"
    assert emu.log == []


@pytest.mark.parametrize("endpoint", ["create", "plugin_version"])
async def test_acted_then_failed_posts_are_settled(
    client: BlueMindClient, emu: Emulator, spec: PluginSpec, files: dict[str, Path], endpoint: str
) -> None:
    emu.set_faults(Faults(seed=2, acted_fail_rate=1.0, endpoints=frozenset({endpoint})))
    result = await client.publish_version(spec.name, "1.0", "4.x", "n", files["jar"], create=spec)
    assert result.reconciled == 1
    assert len(emu.world.plugins) == 1
    assert versions(emu) == ["1.0"]


async def test_chaos(
    client: BlueMindClient, emu: Emulator, spec: PluginSpec, files: dict[str, Path]
) -> None:
    emu.set_faults(
        Faults(seed=5, error_rate=0.2, throttle_rate=0.2, drop_rate=0.2, acted_fail_rate=0.2)
    )
    for n in range(6):
        await client.publish_version(spec.name, f"1.{n}", "4.x", "n", files["jar"], create=spec)
    assert sorted(versions(emu)) == [f"1.{n}" for n in range(6)]
    assert len(emu.world.plugins) == 1


async def test_plugin_of_another_user(
    client: BlueMindClient, emu: Emulator, spec: PluginSpec, files: dict[str, Path]
) -> None:
    await client.publish_version(spec.name, "1.0", "4.x", "n", files["jar"], create=spec)
    async with BlueMindClient(BOB, base_url=emu.bluemind_url) as bob:
        with pytest.raises(WorkflowError, match="another user"):
            await bob.publish_version(spec.name, "2.0", "4.x", "n", files["jar"], create=spec)
        with pytest.raises(WorkflowError, match="pass create="):
            await bob.publish_version(spec.name, "2.0", "4.x", "n", files["jar"])
        with pytest.raises(PermissionDeniedError):
            await bob.add_version(spec.name, "2.0", "4.x", "n", files["jar"])


async def test_a_listed_version_with_another_jar_is_refused(
    client: BlueMindClient, emu: Emulator, spec: PluginSpec, files: dict[str, Path], tmp_path: Path
) -> None:
    from storepush import VersionExistsError
    from storepush._samples import make_jar

    await client.publish_version(spec.name, "1.0", "4.x", "first", files["jar"], create=spec)
    other = make_jar(tmp_path / "rebuilt.jar", size=200_000, seed=99)
    with pytest.raises(VersionExistsError, match=r"already published with another package"):
        await client.publish_version(spec.name, "1.0", "4.x", "first", other, create=spec)
    assert versions(emu) == ["1.0"]


@pytest.mark.parametrize(
    ("listed", "verified", "refused"),
    [
        ({"version": "1.0"}, False, False),  # the service shows nothing of the package
        ({"version": "1.0", "size": "fits"}, False, False),  # a size only, and it fits
        ({"version": "1.0", "size": 5}, None, True),  # a size that does not fit
        ({"version": "1.0", "sha1": "0" * 40}, None, True),  # another package
    ],
)
async def test_what_a_listing_can_tell_about_the_stored_package(
    serve: object,
    files: dict[str, Path],
    listed: dict[str, object],
    verified: bool | None,
    refused: bool,
) -> None:
    from aiohttp import web

    from storepush import VersionExistsError

    if listed.get("size") == "fits":
        listed = {**listed, "size": files["jar"].stat().st_size}
    plugin = {"id": 7, "name": "Calendar Sync", "versions": [listed]}

    async def plugins(request: web.Request) -> web.Response:
        return web.json_response([plugin])

    async def one(request: web.Request) -> web.Response:
        return web.json_response(plugin)

    server = await serve(  # type: ignore[operator]
        [web.get("/addons/api/plugins/", plugins), web.get("/addons/api/plugin/7/", one)]
    )
    async with BlueMindClient("bm-key-field-0123456789", base_url=str(server.make_url(""))) as c:
        if refused:
            with pytest.raises(VersionExistsError):
                await c.publish_version("Calendar Sync", "1.0", "4.x", "n", files["jar"])
            return
        result = await c.publish_version("Calendar Sync", "1.0", "4.x", "n", files["jar"])
    assert result.already_published
    assert result.verified is verified
    assert "cannot tell whether it is this one" in result.warnings[0]
