"""Shared helpers of the routes and the server: which store a path is for, error envelopes."""

from __future__ import annotations

import json

import pytest

from storepush.emulator import Quirks
from storepush.emulator._rules import Refusal
from storepush.emulator._web import error_response, marketplace_of, tolerant


@pytest.mark.parametrize(
    ("path", "store"),
    [
        ("/v1", "bazaar"),
        ("/v1/apps/releases/", "bazaar"),
        ("//v1/apps/releases/", "bazaar"),
        ("/v10/x", None),
        ("/addons", "bluemind"),
        ("/addons/api/plugin/1/", "bluemind"),
        ("//addons/api/plugins/", "bluemind"),
        ("/addonsx", None),
        ("/_emulator/state", None),
        ("/", None),
    ],
)
def test_marketplace_of(path: str, store: str | None) -> None:
    assert marketplace_of(path) == store


def body(response: object) -> object:
    return json.loads(bytes(response.body))  # type: ignore[attr-defined]


def test_error_envelopes() -> None:
    refusal = Refusal(400, "bad_request", "Why.")
    pishkhan = error_response("/v1/apps/releases/", refusal, Quirks())
    assert (pishkhan.status, body(pishkhan)) == (400, {"type": "bad_request", "message": "Why."})
    bluemind = error_response("/addons/api/plugins/", refusal, Quirks())
    assert body(bluemind) == {"detail": "Why."}
    html = error_response("/addons/api/plugins/", refusal, Quirks(bluemind_errors="html"))
    assert html.content_type == "text/html"
    assert "Bad Request (400)" in html.text  # type: ignore[operator]
    assert "Why." in html.text  # type: ignore[operator]
    forced = error_response("/", refusal, Quirks(), marketplace="bazaar")
    assert body(forced)["type"] == "bad_request"  # type: ignore[index]
    other = error_response("/elsewhere", refusal, Quirks(), headers={"X": "1"})
    assert (body(other), other.headers["X"]) == ({"error": "Why."}, "1")


def test_tolerant_pattern() -> None:
    assert tolerant("/v1/apps/releases/upload/") == "/{lead:/*}v1/apps/releases/upload{slash:/?}"
    assert tolerant("/addons/api/plugin/{id}/") == "/{lead:/*}addons/api/plugin/{id}{slash:/?}"
