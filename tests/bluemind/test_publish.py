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
