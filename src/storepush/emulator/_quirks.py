"""Behaviours the evidence does not settle, each one switchable: the `Quirks` of the emulator.

Where the stores' documents and the field evidence (`docs/live-stores.md`) agree, the emulator
simply does that. Where they leave a choice open, the choice is one field of `Quirks`, so a test
can run against each possibility. Two profiles bundle them:

- `strict` (the default): refuse what no evidence shows the live store accepting, and answer as
  the documents do where they speak. A client that passes against `strict` should not be
  surprised by the live store.
- `lenient`: accept what public clients in the wild send, and answer as the field has seen the
  live store answer. Use it to test that a client copes with the field's answers.

Set them with `Emulator(quirks=...)` (a `Quirks`, or a profile name), `storepush emulator
--profile strict|lenient` plus one flag per quirk, or `PUT /_emulator/quirks` at run time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["CHOICES", "PROFILES", "QUIRK_HELP", "Quirks"]

EmptyDraft = Literal["not-exists", "null"]
Missing = Literal["refuse", "all"]
SlashlessPost = Literal["redirect", "serve"]
Chunked = Literal["refuse", "accept"]
ErrorBody = Literal["json", "html"]


@dataclass(frozen=True)
class Quirks:
    """One field per behaviour the evidence leaves open (see `QUIRK_HELP` for each).

    The defaults are the `strict` profile.
    """

    empty_draft: EmptyDraft = "not-exists"
    architecture_zero: bool = False
    architecture_query: bool = False
    architecture_missing: Missing = "refuse"
    slashless_post: SlashlessPost = "redirect"
    chunked_upload: Chunked = "refuse"
    bluemind_errors: ErrorBody = "json"

    @classmethod
    def profile(cls, name: str) -> Quirks:
        """The named profile (`strict` or `lenient`)."""
        try:
            return PROFILES[name]
        except KeyError:
            raise ValueError(
                f"unknown quirks profile {name!r}: use one of {', '.join(PROFILES)}"
            ) from None

    def to_json(self) -> dict[str, Any]:
        """The settings as a JSON object (what `GET /_emulator/quirks` answers)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, base: Quirks | None = None) -> Quirks:
        """`base` (or the profile `data["profile"]`, or `strict`) with the fields in `data`.

        Raises:
            ValueError: an unknown field, or a value the field does not take.
        """
        data = dict(data)
        profile = data.pop("profile", None)
        start = cls.profile(str(profile)) if profile is not None else (base or cls())
        unknown = set(data) - set(CHOICES)
        if unknown:
            raise ValueError(f"unknown quirks: {sorted(unknown)}; known: {sorted(CHOICES)}")
        for key, value in data.items():
            if value not in CHOICES[key] or type(value) is not type(CHOICES[key][0]):
                allowed = ", ".join(_show(c) for c in CHOICES[key])
                raise ValueError(f"quirk {key} takes {allowed}, not {value!r}")
        return dataclasses.replace(start, **data)


def _show(value: object) -> str:
    return "true" if value is True else "false" if value is False else str(value)


#: Every quirk's possible values, the first being the strict one.
CHOICES: dict[str, tuple[Any, ...]] = {
    "empty_draft": ("not-exists", "null"),
    "architecture_zero": (False, True),
    "architecture_query": (False, True),
    "architecture_missing": ("refuse", "all"),
    "slashless_post": ("redirect", "serve"),
    "chunked_upload": ("refuse", "accept"),
    "bluemind_errors": ("json", "html"),
}

#: What each quirk switches, for `--help` and the docs.
QUIRK_HELP: dict[str, str] = {
    "empty_draft": (
        "last-uncommitted with no draft: 'not-exists' answers the documented "
        '{"type": "not-exists"}; \'null\' answers {"type": "success", "release": null}, '
        "as the live store was seen to"
    ),
    "architecture_zero": (
        'accept architecture="0" (sent by a popular unmaintained action) as "all"; '
        "strict refuses it"
    ),
    "architecture_query": (
        "read architecture from the query string when the form has none (one public client "
        "sends it there); strict reads the form only"
    ),
    "architecture_missing": (
        "an upload with no architecture at all: 'refuse' (400) or treat it as 'all'"
    ),
    "slashless_post": (
        "POST to a path without its trailing slash: 'redirect' (301, as Django's "
        "APPEND_SLASH does; clients then lose the body) or 'serve' it"
    ),
    "chunked_upload": (
        "a multipart upload without Content-Length (chunked): 'refuse' (411) or 'accept' it"
    ),
    "bluemind_errors": (
        "BlueMind's error bodies (undocumented): 'json' ({\"detail\": ...}, as Django REST "
        "framework) or 'html' (Django's error pages)"
    ),
}

PROFILES: dict[str, Quirks] = {
    "strict": Quirks(),
    "lenient": Quirks(
        empty_draft="null",
        architecture_zero=True,
        architecture_query=True,
        architecture_missing="all",
        slashless_post="serve",
        chunked_upload="accept",
        bluemind_errors="json",
    ),
}
