"""The cleaning rules of a recorded line, one by one, and the last-resort withholding."""

from __future__ import annotations

import json
from typing import Any

import pytest

from storepush import Secret
from storepush._recording_clean import EXCERPT_CHARS, Cleaner, encode_clean
from storepush._recording_format import FORMAT, Exchange, ResponseRecord

SECRET = "cl/ean&<tok>%+"


@pytest.fixture
def cleaner() -> Cleaner:
    return Cleaner([Secret(SECRET)])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"raw {SECRET} raw", "raw *** raw"),
        ("quoted cl/ean%26%3Ctok%3E%25%2B", "quoted ***"),
        ("lower cl%2fean%26%3ctok%3e%25%2b", "lower ***"),
        ("go cl/ean\\u0026\\u003ctok\\u003e%+", "go ***"),
        ("nothing here", "nothing here"),
    ],
)
def test_text(cleaner: Cleaner, text: str, expected: str) -> None:
    assert cleaner.text(text) == expected


#: value, deep, expected
JSON: list[tuple[Any, bool, Any]] = [
    ({"api_key": "k", "Token": "t", "n": 1}, False, {"api_key": "***", "Token": "***", "n": 1}),
    ({"password": 5}, False, {"password": 5}),  # not a string: its type is evidence
    ([{"secret": "s"}], False, [{"secret": "***"}]),
    ({SECRET: SECRET}, False, {SECRET: SECRET}),  # the shallow pass leaves text to the line check
    ({SECRET: [SECRET]}, True, {"***": ["***"]}),
]


@pytest.mark.parametrize(("value", "deep", "expected"), JSON)
def test_json(cleaner: Cleaner, value: Any, deep: bool, expected: Any) -> None:
    assert cleaner.json(value, deep=deep) == expected


def test_headers(cleaner: Cleaner) -> None:
    headers = [
        ("api-key", "k"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Authorization", "Bearer x"),
        ("X-Echo", SECRET),
        ("Vary", "Accept"),
        ("Vary", "Origin"),
    ]
    assert cleaner.headers(headers, ["API-Key"], deep=True) == {
        "api-key": "***",
        "Set-Cookie": "***, ***",
        "Authorization": "***",
        "X-Echo": "***",
        "Vary": "Accept, Origin",
    }


def test_excerpt_is_cleaned_before_the_cut(cleaner: Cleaner) -> None:
    body = ("x" * (EXCERPT_CHARS - 3) + SECRET).encode()
    excerpt = cleaner.excerpt(body)
    assert len(excerpt) == EXCERPT_CHARS
    assert excerpt.endswith("***")
    assert SECRET[:3] not in excerpt[-6:]


def exchange(excerpt: str) -> Exchange:
    return Exchange(
        format=FORMAT,
        time="2026-01-01T00:00:00.000Z",
        method="GET",
        path="/v1/x",
        response=ResponseRecord(status=200, excerpt=excerpt),
    )


def test_a_clean_line_is_written_as_it_is(cleaner: Cleaner) -> None:
    line = encode_clean(exchange("fine"), cleaner)
    assert json.loads(line)["response"]["excerpt"] == "fine"
    assert json.loads(line)["withheld"] is False


def test_a_line_with_a_credential_is_cleaned_string_by_string(cleaner: Cleaner) -> None:
    line = encode_clean(exchange(f"leak {SECRET}"), cleaner)
    assert SECRET.encode() not in line
    assert json.loads(line)["response"]["excerpt"] == "leak ***"


def test_a_line_that_cannot_be_cleaned_is_withheld() -> None:
    # JSON-encoding the innocent text 'x"y' writes x\"y: exactly this credential.
    secret = Secret('x\\"y')
    line = encode_clean(exchange('say x"y'), Cleaner([secret]))
    assert b'x\\"y' not in line
    decoded = json.loads(line)
    assert decoded["withheld"] is True
    assert (decoded["path"], decoded["response"]["status"]) == ("/v1/x", 200)
    assert "excerpt" not in decoded["response"] or decoded["response"]["excerpt"] == ""
