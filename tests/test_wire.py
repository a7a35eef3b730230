"""The endpoint tables: one per marketplace, held against their typed names and the rules."""

from __future__ import annotations

from typing import get_args

import pytest

from storepush._wire import Endpoint
from storepush.bazaar import ENDPOINTS as BAZAAR
from storepush.bazaar._api import BazaarEndpoint
from storepush.bluemind import ENDPOINTS as BLUEMIND
from storepush.bluemind._api import BlueMindEndpoint


@pytest.mark.parametrize(
    ("table", "names", "marketplace"),
    [(BAZAAR, BazaarEndpoint, "bazaar"), (BLUEMIND, BlueMindEndpoint, "bluemind")],
)
def test_one_table_per_marketplace_matches_its_names(
    table: dict[str, Endpoint], names: object, marketplace: str
) -> None:
    assert set(table) == set(get_args(names))
    for name, endpoint in table.items():
        assert endpoint.name == name
        assert endpoint.marketplace == marketplace
        assert endpoint.safe is (endpoint.method == "GET")  # only reads are repeated blindly
        if endpoint.method != "GET":
            assert endpoint.path.endswith("/"), "a POST or DELETE must never meet a redirect"


def test_uploads_are_marked() -> None:
    assert {n for n, e in BAZAAR.items() if e.upload} == {"upload", "upload-aab", "upload-bin"}
    assert {n for n, e in BLUEMIND.items() if e.upload} == {"create", "plugin_version"}


def test_paths_fill_their_placeholders() -> None:
    assert BLUEMIND["plugin"].url_path(id=7) == "/addons/api/plugin/7/"
    assert BAZAAR["commit"].url_path() == "/apps/releases/commit/"
