"""The pytest plugin users load to test their pipelines: the fixture works from sync and
async tests alike, because the emulator runs on its own thread and loop."""

from __future__ import annotations

import requests

from storepush import BazaarClient
from storepush.emulator import Emulator
from storepush.testing import TEST_PACKAGE, TEST_TOKEN, make_apk


def test_fixture_from_a_sync_test(storepush_emulator: Emulator) -> None:
    assert storepush_emulator.world.apps[TEST_TOKEN].package_name == TEST_PACKAGE
    response = requests.post(
        storepush_emulator.bazaar_url + "/apps/releases/",
        headers={"CAFEBAZAAR-PISHKHAN-API-SECRET": TEST_TOKEN},
        timeout=10,
    )
    assert response.status_code == 201


async def test_fixture_from_an_async_test(storepush_emulator: Emulator, tmp_path) -> None:  # type: ignore[no-untyped-def]
    apk = make_apk(tmp_path / "a.apk", package=TEST_PACKAGE, version_code=3)
    async with BazaarClient(TEST_TOKEN, base_url=storepush_emulator.bazaar_url) as client:
        result = await client.publish([apk], auto_publish=True)
        assert result.release is not None
        published = await client.wait_for_publication(interval=0.05, deadline=10)
    assert published.sha1s == result.release.sha1s
