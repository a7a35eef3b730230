"""Cancel publishes at random points: nothing is left open (file descriptors, tasks,
connections; an unclosed session or a ResourceWarning would fail the run, since warnings are
errors), and a new publish afterwards completes exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import os
import random
from pathlib import Path

import pytest

from storepush import BazaarClient, BlueMindClient, Session
from storepush.bazaar import Release
from storepush.bluemind import PluginSpec
from storepush.emulator import Emulator, Faults
from storepush.testing import make_apk, make_jar

TOKEN = "cancel-token-0123456789"
KEY = "cancel-key-0123456789"


class Journal:
    def __init__(self) -> None:
        self.dates: set[object] = set()
        self.pending = False

    def is_mine(self, draft: Release) -> bool:
        return draft.creation_date in self.dates or (self.pending and not draft.packages)

    def creating(self) -> None:
        self.pending = True

    def remember(self, draft: Release) -> None:
        self.pending = False
        self.dates.add(draft.creation_date)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("seed", range(12))
async def test_cancel_a_publish_anywhere(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    apks = [
        make_apk(tmp_path / "a.apk", package="com.cancel", version_code=3, size=3_000_000, seed=1),
        make_apk(tmp_path / "b.apk", package="com.cancel", version_code=2, size=3_000_000, seed=2),
    ]
    faults = Faults(seed=seed, latency=0.003, jitter=0.002, acted_fail_rate=0.1)
    async with Emulator(apps={TOKEN: "com.cancel"}, faults=faults) as emu:
        baseline_fds = open_fds()
        baseline_tasks = len(asyncio.all_tasks())
        journal = Journal()
        async with (
            Session() as session,
            BazaarClient(TOKEN, base_url=emu.bazaar_url, session=session) as c,
        ):
            task = asyncio.create_task(c.publish(apks, journal=journal))
            await asyncio.sleep(rng.uniform(0.0, 0.08))
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            result = await c.publish(apks, journal=journal)
            assert result.release is not None or result.already_committed
        await asyncio.sleep(0.05)  # let the server side of closed connections go
        gc.collect()
        assert open_fds() <= baseline_fds, "a file descriptor was left open"
        assert len(asyncio.all_tasks()) <= baseline_tasks, asyncio.all_tasks()
        [release] = emu.world.apps[TOKEN].releases
        assert release.committed
        assert sorted(p.sha1_hash for p in release.packages) == sorted(
            hashlib.sha1(a.read_bytes()).hexdigest() for a in apks
        )


@pytest.mark.parametrize("seed", range(6))
async def test_cancel_a_plugin_version_anywhere(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    jar = make_jar(tmp_path / "p.jar", size=2_000_000)
    spec = PluginSpec("Cancel", "s", "d", "MIT", "i")
    faults = Faults(seed=seed, latency=0.003, jitter=0.002)
    async with Emulator(users={KEY: "u"}, faults=faults) as emu:
        baseline_fds = open_fds()
        async with BlueMindClient(KEY, base_url=emu.bluemind_url) as c:
            task = asyncio.create_task(
                c.publish_version("Cancel", "1.0", "4.x", "n", jar, create=spec)
            )
            await asyncio.sleep(rng.uniform(0.0, 0.05))
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await c.publish_version("Cancel", "1.0", "4.x", "n", jar, create=spec)
        await asyncio.sleep(0.05)
        gc.collect()
        assert open_fds() <= baseline_fds
        [plugin] = emu.world.plugins.values()
        assert [v.version for v in plugin.versions] == ["1.0"]
