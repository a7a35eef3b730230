"""The comparison behind check-recording, as tables: status, envelope type, JSON shape."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from storepush.emulator._replay_compare import (
    Answer,
    Difference,
    compare_answers,
    envelope_type,
    merge,
    shape_differences,
    shape_of,
)

UNSET = msgspec.UNSET

PACKAGE = {"apk_size": 10, "sha1_hash": "ab" * 20, "version_code": 3, "cpu_architectures": ""}
RELEASE = {"creation_date": "2026-01-01T00:00:00", "packages": [PACKAGE], "changelog_en": None}

#: recorded, replayed, strict_null, expected [(kind, where)]
SHAPES: list[tuple[Any, Any, bool, list[tuple[str, str]]]] = [
    # values never count, types do
    (1, 2, False, []),
    ("a", "b", False, []),
    (1, "1", False, [("value-type", "$")]),
    (1, 1.5, False, [("value-type", "$")]),
    (True, 1, False, [("value-type", "$")]),
    (RELEASE, {**RELEASE, "creation_date": "2027-02-02T00:00:00"}, False, []),
    # keys: missing and extra, recursively, with JSON paths
    ({"a": 1, "b": 2}, {"a": 1}, False, [("missing", "$.b")]),
    ({"a": 1}, {"a": 1, "c": None}, False, [("extra", "$.c")]),
    ({"r": {"x": 1}}, {"r": {"x": "1"}}, False, [("value-type", "$.r.x")]),
    ({"odd key": 1}, {"odd key": "s"}, False, [("value-type", '$["odd key"]')]),
    (
        {"release": RELEASE},
        {"release": {**RELEASE, "packages": [{**PACKAGE, "apk_size": "10"}]}},
        False,
        [("value-type", "$.release.packages[].apk_size")],
    ),
    # null against a value: not a difference, unless strict; a missing key always is
    (None, {"a": 1}, False, []),
    ({"a": None}, {"a": {"b": 1}}, False, []),
    ({"a": "x"}, {"a": None}, False, []),
    ({"a": "x"}, {"a": None}, True, [("value-type", "$.a")]),
    ({"a": None}, {}, False, [("missing", "$.a")]),
    # arrays: length and order are values; item shapes are merged, then compared
    ([1, 2, 3], [4], False, []),
    ([], [{"a": 1}], False, []),
    ([{"a": 1}], [], False, []),
    ([{"a": 1}, {"b": 2}], [{"a": 3, "b": 4}], False, []),
    ([{"a": 1}], [{"a": 1}, {"a": 2, "z": 0}], False, [("extra", "$[].z")]),
    ([1, "x"], ["y", 2], False, []),
    ([1, "x"], [2], False, [("value-type", "$[]")]),
    ([[{"a": 1}]], [[{"a": True}]], False, [("value-type", "$[][].a")]),
    # a type change at a node still compares what both sides have below it
    ({"a": {"k": 1}}, {"a": [1]}, False, [("value-type", "$.a")]),
    # JSON on one side only
    (UNSET, {"a": 1}, False, [("body", "$")]),
    ({"a": 1}, UNSET, False, [("body", "$")]),
    (UNSET, UNSET, False, []),
]


@pytest.mark.parametrize(("recorded", "replayed", "strict", "expected"), SHAPES)
def test_shape_differences(
    recorded: Any, replayed: Any, strict: bool, expected: list[tuple[str, str]]
) -> None:
    found = shape_differences(recorded, replayed, strict_null=strict)
    assert [(d.kind, d.where) for d in found] == expected


#: recorded, replayed, expected [(kind, recorded, replayed)]
ANSWERS: list[tuple[Answer, Answer, list[tuple[str, str, str]]]] = [
    (Answer(200, {"type": "success"}), Answer(200, {"type": "success"}), []),
    (
        Answer(200, {"type": "success"}),
        Answer(400, {"type": "bad_request"}),
        [("status", "200", "400"), ("type", "'success'", "'bad_request'")],
    ),
    (
        Answer(200, {"type": "success", "release": None}),
        Answer(200, {"type": "not-exists", "message": "none"}),
        [("type", "'success'", "'not-exists'")],
    ),
    (Answer(403, {"detail": "x"}), Answer(404, {"detail": "y"}), [("status", "403", "404")]),
    (Answer(404, UNSET), Answer(404, {"type": "not_found"}), [("type", "none", "'not_found'")]),
    (Answer(404, UNSET), Answer(404, {"detail": "Not found."}), [("body", "not JSON", "JSON")]),
    (
        Answer(200, {"type": "success", "package": {"a": 1}}),
        Answer(200, {"type": "success", "package": {}}),
        [("missing", "integer", "")],
    ),
    (Answer(201, UNSET), Answer(201, UNSET), []),
]


@pytest.mark.parametrize(("recorded", "replayed", "expected"), ANSWERS)
def test_compare_answers(
    recorded: Answer, replayed: Answer, expected: list[tuple[str, str, str]]
) -> None:
    found = compare_answers(recorded, replayed)
    assert [(d.kind, d.recorded, d.replayed) for d in found] == expected


def test_envelope_type() -> None:
    assert envelope_type({"type": "success"}) == "success"
    assert envelope_type({"type": 3}) is None
    assert envelope_type([{"type": "success"}]) is None
    assert envelope_type(UNSET) is None


def test_merged_shapes_and_messages() -> None:
    merged = merge(shape_of({"a": 1}), shape_of({"a": None, "b": [1]}))
    assert merged.describe() == "object"
    assert merged.keys["a"].describe() == "integer or null"
    assert merged.keys["a"].describe(strict_null=False) == "integer"
    assert merged.keys["b"].items == shape_of(1)
    with pytest.raises(TypeError):
        shape_of(object())
    messages = {
        Difference("status", "", "200", "400").message(): "status 200",
        Difference("type", "$.type", "'a'", "'b'").message(): "envelope type 'a'",
        Difference("body", "$", "JSON", "not JSON").message(): "is JSON",
        Difference("missing", "$.x", "string", "").message(): "missing from the emulator",
        Difference("extra", "$.x", "", "string").message(): "not in the recording",
        Difference("value-type", "$.x", "integer", "string").message(): "$.x: integer",
    }
    for message, part in messages.items():
        assert part in message
    assert (
        Difference("status", "", "1", "2").to_json()["message"]
        == "status 1 in the recording, 2 from the emulator"
    )
