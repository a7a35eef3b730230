"""BlueMind's state (`storepush.emulator._plugins`): users, plugins, versions, ownership."""

from __future__ import annotations

from typing import Any

import pytest

from storepush.emulator._plugins import PluginWorld, User
from storepush.emulator._rules import Refusal


def refusal(call: Any) -> Refusal:
    with pytest.raises(Refusal) as info:
        call()
    return info.value


def test_plugin_rules() -> None:
    world = PluginWorld()
    world.users["k"] = User("alice")
    world.users["b"] = User("bob")
    world.users["r"] = User("root", admin=True)
    fields = {"name": "P", "shortdesc": "s", "description": "d", "license": "MIT"}
    plugin = world.create_plugin("k", {**fields, "installation_instructions": "i"}, None, [])
    assert refusal(lambda: world.create_plugin("k", dict(fields), None, [])).status == 400
    version = {"plugin_name": "P", "version": "1", "target_bm_versions": "4", "release_notes": "n"}
    world.add_version("k", version, {"sha1": "x"})
    assert refusal(lambda: world.add_version("k", version, {})).status == 400
    assert refusal(lambda: world.add_version("b", {**version, "version": "2"}, {})).status == 403
    world.add_version("r", {**version, "version": "3"}, {})
    assert (
        refusal(lambda: world.add_version("k", {**version, "plugin_name": "Q"}, {})).status == 404
    )
    assert world.plugin("k", plugin.id) is plugin
    assert refusal(lambda: world.plugin("b", plugin.id)).status == 403
    assert refusal(lambda: world.plugin("k", 99)).status == 404
    assert [p.name for p in world.plugins_of("k")] == ["P"]
    assert refusal(lambda: world.user("nope")).status == 403
    assert world.plugins[plugin.id].to_json()["current_version"] == "3"


def test_check_version_refuses_before_any_file_is_stored() -> None:
    world = PluginWorld()
    world.users["k"] = User("alice")
    fields = {
        "plugin_name": "Nope",
        "version": "1",
        "target_bm_versions": "4",
        "release_notes": "n",
    }
    assert refusal(lambda: world.check_version("k", fields)).status == 404


def test_dump_names_users_not_keys() -> None:
    world = PluginWorld()
    world.users["secret-key"] = User("alice")
    assert world.dump_plugins() == {"users": ["alice"], "plugins": []}
