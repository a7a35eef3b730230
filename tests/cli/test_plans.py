"""Dry runs in words: a Pishkhan plan as a sentence, and a BlueMind plan made from reads only,
refusing what the real run refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from storepush import VersionExistsError, WorkflowError
from storepush.bluemind import BlueMindClient, PluginSpec
from storepush.cli._plans import bluemind_plan, describe_plan
from storepush.emulator import Emulator
from storepush.testing import make_jar

RELEASE = {"creation_date": "2026-01-05T10:31:07", "packages": [{"sha1_hash": "a" * 40}]}


@pytest.mark.parametrize(
    ("plan", "words"),
    [
        ({"action": "already committed"}, "nothing to send: this build is already committed"),
        ({"action": "create"}, "create a draft, upload 2 files (3.0 MB), then commit"),
        (
            {"action": "replace", "release": RELEASE},
            "delete the draft created 2026-01-05T10:31:07 (holding 1 other package(s))",
        ),
        ({"action": "resume", "release": RELEASE}, "resume the draft created"),
        ({"action": "adopt", "release": {"packages": []}}, "adopt the draft, left empty"),
        (
            {"action": "reuse", "release": RELEASE, "foreign_packages": ["a" * 40]},
            "keeping its 1 other package(s)",
        ),
    ],
)
def test_describe_plan(plan: dict[str, Any], words: str) -> None:
    assert words in describe_plan(plan, files=2, size=3_000_000)


async def test_bluemind_plan(tmp_path: Path) -> None:
    jar = make_jar(tmp_path / "p.jar")
    other = make_jar(tmp_path / "q.jar", seed=5)
    spec = PluginSpec("Sync", "s", "d", "MIT", "i")
    async with (
        Emulator(users={"plan-key-0123456789": "alice"}) as emu,
        BlueMindClient("plan-key-0123456789", base_url=emu.bluemind_url) as client,
    ):

        async def plan(package: Path, *, can_create: bool = True) -> str:
            found = await bluemind_plan(
                client,
                plugin="Sync",
                version="1.0",
                package=package,
                create=spec if can_create else None,
            )
            return str(found["action"])

        with pytest.raises(WorkflowError) as missing:
            await plan(jar, can_create=False)
        assert missing.value.remedies[0].option == "create"
        assert await plan(jar) == "create the plugin and add the version"
        await client.publish_version("Sync", "0.9", "4.x", "n", jar, create=spec)
        assert await plan(jar) == "add the version"
        writes = [e for e in emu.log if e["method"] == "POST"]
        await client.publish_version("Sync", "1.0", "4.x", "n", jar)
        assert await plan(jar) == "already published"
        with pytest.raises(VersionExistsError, match="another package"):
            await plan(other)
        assert len([e for e in emu.log if e["method"] == "POST"]) == len(writes) + 1
