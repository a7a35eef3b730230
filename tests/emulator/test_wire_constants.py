"""The one place where the emulator's wire constants meet the SDK's.

The emulator restates paths and header names from the stores' documents on purpose, instead of
importing the SDK's: if the SDK had a path wrong, an emulator sharing the constant would agree
with it and every test would pass. This test holds the two copies against each other, so a
change to either is a decision someone makes, in one visible place.
"""

from __future__ import annotations

import storepush.bazaar
import storepush.bluemind
from storepush import BazaarClient, BlueMindClient
from storepush._config import BAZAAR_BASE_URL
from storepush.emulator._bluemind import Wire as BlueMindWire
from storepush.emulator._pishkhan import Wire as PishkhanWire
from storepush.emulator._web import PISHKHAN_PREFIX

PISHKHAN_PATHS = (
    "CREATE",
    "DELETE",
    "UPLOAD",
    "COMMIT",
    "LAST_COMMITTED",
    "LAST_UNCOMMITTED",
    "LAST_PUBLISHED",
    "UPLOAD_AAB",
    "UPLOAD_BIN",
    "BUNDLE_STATUS",
)
BLUEMIND_PATHS = ("PLUGINS", "PLUGIN", "PLUGIN_VERSION")


def test_pishkhan_paths_and_header() -> None:
    sdk = storepush.bazaar.Paths
    assert {name: getattr(sdk, name) for name in PISHKHAN_PATHS} == {
        name: getattr(PishkhanWire, name) for name in PISHKHAN_PATHS
    }
    assert BazaarClient._secret_header == PishkhanWire.SECRET_HEADER
    assert BAZAAR_BASE_URL.endswith(PISHKHAN_PREFIX)  # the emulator serves under the same /v1


def test_bluemind_paths_and_header() -> None:
    sdk = storepush.bluemind.Paths
    assert {name: getattr(sdk, name) for name in BLUEMIND_PATHS} == {
        name: getattr(BlueMindWire, name) for name in BLUEMIND_PATHS
    }
    assert BlueMindClient._secret_header == BlueMindWire.API_KEY_HEADER


def test_every_sdk_path_is_restated() -> None:
    """A path the SDK gains must be restated in the emulator, and this test extended."""
    for paths, known in (
        (storepush.bazaar.Paths, PISHKHAN_PATHS),
        (storepush.bluemind.Paths, BLUEMIND_PATHS),
    ):
        names = {n for n in vars(paths) if n.isupper()}
        assert names == set(known), paths
