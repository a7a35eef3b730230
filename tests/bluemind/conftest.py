from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storepush import BlueMindClient, RetryConfig, Session
from storepush._samples import make_jar, make_png
from storepush.bluemind import PluginSpec
from storepush.emulator import Emulator

from ..conftest import FakeClock

KEY = "bm-key-alice-0123456789abcdef"
BOB = "bm-key-bob-0123456789abcdef"


@pytest.fixture
async def emu(clock: FakeClock) -> AsyncIterator[Emulator]:
    async with Emulator(users={KEY: "alice", BOB: "bob"}, clock=clock) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: Emulator, clock: FakeClock) -> AsyncIterator[BlueMindClient]:
    """A client whose session sleeps on the emulator's fake clock: no real waiting."""
    retry = RetryConfig(max_attempts=8, backoff_base=0.1, backoff_max=2.0)
    async with (
        Session(retry=retry, clock=clock, sleep=clock.sleep) as session,
        BlueMindClient(KEY, base_url=emu.bluemind_url, session=session) as c,
    ):
        yield c


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "thumb": make_png(tmp_path / "logo.png"),
        "shot1": make_png(tmp_path / "one.png", width=6),
        "shot2": make_png(tmp_path / "two.png", width=7),
        "jar": make_jar(tmp_path / "plugin.jar", size=200_000),
    }


@pytest.fixture
def spec(files: dict[str, Path]) -> PluginSpec:
    return PluginSpec(
        name="Calendar Sync",
        shortdesc="Syncs calendars",
        description="A longer description.",
        license="Apache-2.0",
        installation_instructions="Copy the jar into /usr/share/bm-core/extensions.",
        home_url="https://example.com/calendar-sync",
        thumbnail=files["thumb"],
        screenshots=(files["shot1"], files["shot2"]),
    )
