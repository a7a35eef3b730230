"""What a MarketPlace answer means, without a documented schema: a table."""

from __future__ import annotations

import pytest

from storepush import DecodeError
from storepush._http import Response
from storepush.bluemind._envelope import plugin_list, read_json


def answer(method: str, body: bytes) -> Response:
    return Response(200, {}, body, method, "https://m.example/addons/api/plugins/")


@pytest.mark.parametrize(
    ("method", "body", "expected"),
    [
        ("GET", b'[{"id": 1, "name": "a"}]', [{"id": 1, "name": "a"}]),
        ("POST", b"", None),  # a success that says nothing
        ("POST", b"  \n", None),
        ("POST", b"<html>created</html>", None),  # the documents allow a non-JSON success
        ("POST", b'{"id": 3, "name": "x"}', {"id": 3, "name": "x"}),
        ("GET", b"", DecodeError),  # a read must say something
        ("GET", b"<html>maintenance</html>", DecodeError),
    ],
)
def test_read_json_table(method: str, body: bytes, expected: object) -> None:
    if expected is DecodeError:
        with pytest.raises(DecodeError):
            read_json(answer(method, body))
    else:
        assert read_json(answer(method, body)) == expected


@pytest.mark.parametrize(
    "data",
    [
        [{"id": 1, "name": "a"}],
        {"plugins": [{"id": 1, "name": "a"}]},
        {"results": [{"id": 1, "name": "a"}], "count": 1},
        {"data": [{"id": 1, "name": "a"}]},
    ],
)
def test_plugin_lists_in_every_plausible_shape(data: object) -> None:
    [plugin] = plugin_list(data, answer("GET", b"[]"))
    assert (plugin.id, plugin.name) == (1, "a")


@pytest.mark.parametrize("data", [{"count": 3}, "plugins", 5, None])
def test_a_list_that_is_not_one_is_a_decode_error_not_bad_input(data: object) -> None:
    with pytest.raises(DecodeError, match="neither a list"):
        plugin_list(data, answer("GET", b"{}"))
