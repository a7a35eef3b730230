"""`Quirks`: the profiles, JSON in and out, and every quirk switchable at run time."""

from __future__ import annotations

import dataclasses

import aiohttp
import pytest

from storepush.emulator import Emulator, Quirks
from storepush.emulator._quirks import CHOICES, PROFILES, QUIRK_HELP


def test_profiles() -> None:
    assert Quirks.profile("strict") == Quirks() == PROFILES["strict"]
    lenient = Quirks.profile("lenient")
    for field in dataclasses.fields(Quirks):
        strict_value, lenient_value = getattr(Quirks(), field.name), getattr(lenient, field.name)
        assert strict_value == CHOICES[field.name][0]  # strict is the first choice
        assert lenient_value in CHOICES[field.name]
    assert lenient.empty_draft == "null"
    assert lenient.architecture_zero is True
    with pytest.raises(ValueError, match="unknown quirks profile"):
        Quirks.profile("loose")


def test_every_quirk_has_choices_and_help() -> None:
    names = {f.name for f in dataclasses.fields(Quirks)}
    assert names == set(CHOICES) == set(QUIRK_HELP)
    assert all(len(CHOICES[n]) == 2 for n in names)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, Quirks()),
        ({"profile": "lenient"}, Quirks.profile("lenient")),
        (
            {"profile": "lenient", "empty_draft": "not-exists"},
            dataclasses.replace(Quirks.profile("lenient"), empty_draft="not-exists"),
        ),
        ({"architecture_zero": True}, Quirks(architecture_zero=True)),
        ({"bluemind_errors": "html"}, Quirks(bluemind_errors="html")),
    ],
)
def test_from_json(data: dict[str, object], expected: Quirks) -> None:
    assert Quirks.from_json(data) == expected
    assert Quirks.from_json(expected.to_json()) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"empty_drafts": "null"}, "unknown quirks"),
        ({"empty_draft": "none"}, "takes not-exists, null"),
        ({"architecture_zero": "yes"}, "takes false, true"),
        ({"architecture_zero": 1}, "takes false, true"),
        ({"profile": "loose"}, "unknown quirks profile"),
    ],
)
def test_from_json_refuses(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Quirks.from_json(data)


def test_from_json_keeps_the_base() -> None:
    base = Quirks(empty_draft="null")
    assert Quirks.from_json({"architecture_zero": True}, base=base) == Quirks(
        empty_draft="null", architecture_zero=True
    )


async def test_emulator_quirks_and_admin_api() -> None:
    assert Emulator(quirks="lenient").quirks == Quirks.profile("lenient")
    async with Emulator() as emu, aiohttp.ClientSession() as http:
        assert emu.quirks == Quirks()
        async with http.get(emu.url + "/_emulator/quirks") as r:
            assert await r.json() == Quirks().to_json()
        async with http.put(emu.url + "/_emulator/quirks", json={"empty_draft": "null"}) as r:
            assert r.status == 200
            assert (await r.json())["empty_draft"] == "null"
        assert emu.quirks == Quirks(empty_draft="null")
        async with http.put(emu.url + "/_emulator/quirks", json={"profile": "lenient"}) as r:
            assert r.status == 200
        assert emu.quirks == Quirks.profile("lenient")
        async with http.put(emu.url + "/_emulator/quirks", json={"nope": 1}) as r:
            assert r.status == 400
            assert "unknown quirks" in (await r.json())["error"]
        assert emu.quirks == Quirks.profile("lenient")
