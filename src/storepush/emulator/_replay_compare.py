"""Where two answers differ in what a client depends on: status, envelope `type`, JSON shape.

The check behind `storepush emulator check-recording`: an answer recorded from a store and the
emulator's answer to the same request are compared on three things, and on nothing else.
Values that naturally differ between two runs (SHA-1s, dates, ids, sizes, messages) are never
compared; their *types* are.

1. **Status**, exactly.
2. **Envelope `type`** (the top-level `"type"` string Pishkhan puts in every answer; `None`
   when the body is not an object carrying one), exactly.
3. **JSON shape**, only when status and type agree (a different envelope has a different
   shape by design, so comparing it would only repeat the first difference). The shape of a
   value is its JSON type (`null`, `boolean`, `integer`, `float`, `string`, `array`,
   `object`; `integer` and `float` differ because typed clients decode them differently), an
   object's keys with their shapes, recursively, and an array's item shape:

   - **Keys**: a key on one side only is a difference (`missing` from the emulator, or
     `extra` in it), whatever its value, `null` included.
   - **`null` against a value**: not a difference by default, since optional fields go from
     `null` to a value as a release moves on (`"release": null` against an object is a state,
     not a shape). With `strict_null`, `null` is a type like any other.
   - **Arrays**: lengths and order are values, so they are not compared. The shapes of all
     of an array's items are merged into one (the union of their types and keys), and the
     two merged shapes are compared. An empty array has no item shape: nothing to compare.

Everything here is pure: values in, a list of `Difference`s out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import msgspec

__all__ = [
    "Answer",
    "Difference",
    "Shape",
    "compare_answers",
    "envelope_type",
    "merge",
    "shape_differences",
    "shape_of",
]

NULL = "null"


@dataclass(frozen=True, slots=True)
class Answer:
    """What is compared of one answer: its status and its body parsed as JSON (`UNSET` when
    the body is not JSON)."""

    status: int
    json: Any | msgspec.UnsetType = msgspec.UNSET


@dataclass(frozen=True, slots=True)
class Difference:
    """One way the emulator's answer differs from the recorded one.

    `kind` is `status`, `type`, `body` (JSON on one side only), `missing` (a key the emulator
    left out), `extra` (a key only the emulator sent) or `value-type`; `where` is a JSON path
    (`$.release.packages[].apk_size`; `[]` stands for every item of an array).
    """

    kind: str
    where: str
    recorded: str
    replayed: str

    def message(self) -> str:
        if self.kind == "status":
            return f"status {self.recorded} in the recording, {self.replayed} from the emulator"
        if self.kind == "type":
            return (
                f"envelope type {self.recorded} in the recording, {self.replayed} from the emulator"
            )
        if self.kind == "body":
            return f"the recorded body is {self.recorded}, the emulator's is {self.replayed}"
        if self.kind == "missing":
            return f"{self.where}: in the recording ({self.recorded}), missing from the emulator"
        if self.kind == "extra":
            return f"{self.where}: sent by the emulator ({self.replayed}), not in the recording"
        return f"{self.where}: {self.recorded} in the recording, {self.replayed} from the emulator"

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "where": self.where,
            "recorded": self.recorded,
            "replayed": self.replayed,
            "message": self.message(),
        }


@dataclass(frozen=True, slots=True)
class Shape:
    """The shape of one JSON value, or the merged shape of several (an array's items)."""

    kinds: frozenset[str]
    keys: Mapping[str, Shape] = field(default_factory=dict)
    items: Shape | None = None

    def describe(self, *, strict_null: bool = True) -> str:
        kinds = self.kinds if strict_null else self.kinds - {NULL}
        return " or ".join(sorted(kinds or self.kinds))


def _kind(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def merge(a: Shape, b: Shape) -> Shape:
    """The union of two shapes: every type, every key, and the union of their item shapes."""
    keys = dict(a.keys)
    for key, shape in b.keys.items():
        keys[key] = merge(keys[key], shape) if key in keys else shape
    if a.items is None or b.items is None:
        return Shape(a.kinds | b.kinds, keys, a.items or b.items)
    return Shape(a.kinds | b.kinds, keys, merge(a.items, b.items))


def shape_of(value: Any) -> Shape:
    """The shape of a decoded JSON value."""
    kind = _kind(value)
    if kind == "object":
        return Shape(frozenset({kind}), {str(k): shape_of(v) for k, v in value.items()})
    if kind == "array":
        items = reduce(merge, (shape_of(v) for v in value)) if value else None
        return Shape(frozenset({kind}), items=items)
    return Shape(frozenset({kind}))


def _child(where: str, key: str) -> str:
    return f"{where}.{key}" if key.isidentifier() else f"{where}[{json.dumps(key)}]"


def _diff(
    recorded: Shape, replayed: Shape, where: str, strict: bool, out: list[Difference]
) -> None:
    ours, theirs = recorded.kinds, replayed.kinds
    if not strict:
        ours, theirs = ours - {NULL}, theirs - {NULL}
        if not ours or not theirs:
            return  # null on one side: a value that naturally differs
    if ours != theirs:
        out.append(
            Difference(
                "value-type",
                where,
                recorded.describe(strict_null=strict),
                replayed.describe(strict_null=strict),
            )
        )
    if "object" in ours and "object" in theirs:
        for key in recorded.keys:
            if key not in replayed.keys:
                out.append(
                    Difference("missing", _child(where, key), recorded.keys[key].describe(), "")
                )
        for key in replayed.keys:
            if key not in recorded.keys:
                out.append(
                    Difference("extra", _child(where, key), "", replayed.keys[key].describe())
                )
        for key in recorded.keys:
            if key in replayed.keys:
                _diff(recorded.keys[key], replayed.keys[key], _child(where, key), strict, out)
    if "array" in ours and "array" in theirs and recorded.items and replayed.items:
        _diff(recorded.items, replayed.items, f"{where}[]", strict, out)


def shape_differences(
    recorded: Any | msgspec.UnsetType,
    replayed: Any | msgspec.UnsetType,
    *,
    strict_null: bool = False,
) -> list[Difference]:
    """How the JSON shape of `replayed` differs from `recorded` (`UNSET`: not JSON)."""
    if recorded is msgspec.UNSET or replayed is msgspec.UNSET:
        if recorded is replayed:
            return []
        words = ("JSON", "not JSON") if replayed is msgspec.UNSET else ("not JSON", "JSON")
        return [Difference("body", "$", *words)]
    out: list[Difference] = []
    _diff(shape_of(recorded), shape_of(replayed), "$", strict_null, out)
    return out


def envelope_type(body: Any | msgspec.UnsetType) -> str | None:
    """The envelope's `type` (Pishkhan's `success`, `not-exists`, ...), or `None`."""
    if isinstance(body, dict) and isinstance(body.get("type"), str):
        return str(body["type"])
    return None


def compare_answers(
    recorded: Answer, replayed: Answer, *, strict_null: bool = False
) -> list[Difference]:
    """Status, then envelope type; the JSON shape only when both of those agree."""
    out: list[Difference] = []
    if recorded.status != replayed.status:
        out.append(Difference("status", "", str(recorded.status), str(replayed.status)))
    ours, theirs = envelope_type(recorded.json), envelope_type(replayed.json)
    if ours != theirs:
        out.append(
            Difference(
                "type",
                "$.type",
                repr(ours) if ours is not None else "none",
                repr(theirs) if theirs is not None else "none",
            )
        )
    if out:
        return out
    return shape_differences(recorded.json, replayed.json, strict_null=strict_null)
