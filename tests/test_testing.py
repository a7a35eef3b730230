"""The pytest plugin users load to test their pipelines: the fixture is there and works."""

from __future__ import annotations

import aiohttp

from storepush.emulator import Emulator
from storepush.testing import TEST_PACKAGE, TEST_TOKEN


async def test_fixture_yields_a_running_emulator(storepush_emulator: Emulator) -> None:
    assert storepush_emulator.world.apps[TEST_TOKEN].package_name == TEST_PACKAGE
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            storepush_emulator.bazaar_url + "/apps/releases/",
            headers={"CAFEBAZAAR-PISHKHAN-API-SECRET": TEST_TOKEN},
        ) as r,
    ):
        assert r.status == 201
