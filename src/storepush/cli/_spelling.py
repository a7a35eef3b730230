"""Errors in the command line's own words: flags and arguments, or manifest keys; never Python.

The library names its fields and remedies as a Python caller would (`staged_rollout_percentage`,
`apks[0]`, `if_draft_exists='reuse'`). A person at the command line typed `--rollout`, a path,
`--if-draft-exists reuse`; a manifest says `rollout = 30`. `FIELDS` is the one table between
the two. A [`Spelling`][storepush.cli._spelling.Spelling] applies it
to a field name, to a remedy, and to the free text of a message (every `name=value` and every
library name in it), so nothing the command line prints reads like a Python call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .._errors import Remedy, StorePushError, ValidationError

__all__ = ["FIELDS", "FLAGS", "MANIFEST", "RenderedError", "Spelling", "render_error"]

Context = Literal["flags", "manifest"]

#: The library's name of a field, how the command line spells it, and how a manifest does.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("staged_rollout_percentage", "--rollout", "rollout"),
    ("changelog_en", "--changelog-en", "changelog_en"),
    ("changelog_fa", "--changelog-fa", "changelog_fa"),
    ("developer_note", "--developer-note", "developer_note"),
    ("auto_publish", "--auto-publish", "auto_publish"),
    ("if_draft_exists", "--if-draft-exists", "if_draft_exists"),
    ("if_busy", "--if-busy", "if_busy"),
    ("busy_timeout", "--busy-timeout", "busy_timeout"),
    ("max_attempts", "--max-attempts", "max_attempts"),
    ("apks", "APK", "apks"),
    ("aab", "--aab", "aab"),
    ("bin", "--bin", "bin"),
    ("signer_bin", "--bin", "bin"),
    ("base_url", "--base-url", "base_url"),
    ("allow_insecure_http", "--allow-insecure-http", "allow_insecure_http"),
    ("token", "the token's environment variable", "token_env"),
    ("api_key", "the API key's environment variable", "api_key_env"),
    ("plugin_name", "--plugin", "plugin"),
    ("plugin_id", "ID", "plugin"),
    ("version", "--version", "version"),
    ("target_bm_versions", "--target-bm-versions", "target_bm_versions"),
    ("release_notes", "--release-notes", "release_notes"),
    ("package", "PACKAGE", "package"),
    ("create", "--create-from", "create"),
    ("create.name", "--plugin", "create.name"),
    ("name", "--name", "create.name"),
    ("shortdesc", "--shortdesc", "create.shortdesc"),
    ("description", "--description", "create.description"),
    ("license", "--license", "create.license"),
    ("installation_instructions", "--instructions", "create.installation_instructions"),
    ("home_url", "--home-url", "create.home_url"),
    ("thumbnail", "--thumbnail", "create.thumbnail"),
    ("screenshots", "--screenshot", "create.screenshots"),
)
#: What a remedy without a value asks for, as a flag's metavar.
_METAVARS = {"busy_timeout": "SECONDS", "create": "PLUGIN.toml", "max_attempts": "N"}
#: Remedies whose manifest spelling is not `key = value`.
_MANIFEST_REMEDIES = {"create": "a [bluemind.create] table in the item"}
#: Library words that are no command line's: the command that does the same.
_PHRASES = (
    ("BazaarClient.check_access()", "`storepush bazaar check`"),
    ("check_access()", "`storepush bazaar check`"),
)

_BY_NAME = {name: (flag, key) for name, flag, key in FIELDS}
_INDEXED = re.compile(r"^(?P<name>[a-z_]+)\[(?P<index>\d+)\](?P<rest>(\.[a-z_]+)?)$")
_APK_REF = re.compile(r"\bapks\[(\d+)\](\.architecture)?")
_SCREENSHOT_REF = re.compile(r"\bscreenshots\[(\d+)\]")
_ASSIGNMENT = re.compile(
    r"\b(?:pass )?(?P<name>[a-z]+(?:_[a-z]+)+)="
    r"(?P<value>'[^']*'|\"[^\"]*\"|True|False|\.\.\.|[\w.-]+)"
)
_IDENTIFIER = re.compile(r"\b(?P<name>[a-z]+(?:_[a-z]+)+)\b")
_ARTICLE = re.compile(r"\ba (?=[AEIOU][A-Z]{2,}\b)")
_DOUBLE_STOP = re.compile(r"(?<=\w)\.\.(?=\s|$)")


@dataclass(frozen=True)
class Spelling:
    """How one command spells the library's names: as flags, or as manifest keys.

    `apks` lists how the user named each APK (the path typed, or the manifest entry), so that
    `apks[1]` reads `APK 2 (build/app-v7.apk)`.
    """

    context: Context = "flags"
    apks: Sequence[str] = ()
    overrides: dict[str, str] = field(default_factory=dict)

    def _name(self, name: str) -> str | None:
        if name in self.overrides:
            return self.overrides[name]
        spelled = _BY_NAME.get(name)
        if spelled is None:
            return None
        return spelled[0] if self.context == "flags" else spelled[1]

    def _apk(self, index: int, architecture: bool) -> str:
        path = f" ({self.apks[index]})" if index < len(self.apks) else ""
        if self.context == "manifest":
            return f"apks[{index}]{'.architecture' if architecture else ''}{path}"
        what = f"APK {index + 1}{path}"
        return f"the architecture of {what}" if architecture else what

    def field(self, name: str) -> str:
        """The field as the user typed it (unknown names, already spelled, stay as they are)."""
        found = self._name(name)
        if found is not None:
            return found
        indexed = _INDEXED.match(name)
        if indexed and indexed["name"] == "apks":
            return self._apk(int(indexed["index"]), indexed["rest"] == ".architecture")
        if indexed and indexed["name"] == "screenshots":
            base = self._name("screenshots") or "screenshots"
            number = int(indexed["index"])
            return f"{base}[{number}]" if self.context == "manifest" else f"{base} {number + 1}"
        return name

    def remedy(self, remedy: Remedy) -> str:
        """A remedy as the user would apply it: `use --if-draft-exists reuse to ...`."""
        return f"use {self.option(remedy.option, remedy.value)} to {remedy.effect}"

    def option(self, name: str, value: str | None) -> str:
        if self.context == "manifest":
            if name in _MANIFEST_REMEDIES:
                return _MANIFEST_REMEDIES[name]
            key = self._name(name) or name
            shown = _METAVARS.get(name, "...") if value is None else _toml(value)
            return f"{key} = {shown}"
        flag = self._name(name) or "--" + name.replace("_", "-")
        if value is None:
            metavar = _METAVARS.get(name, "VALUE")
            return f"{flag} {metavar}" if not flag.endswith(metavar) else flag
        if value in ("True", "true"):
            return flag
        if value in ("False", "false"):
            return "--no-" + flag.removeprefix("--")
        return f"{flag} {value}"

    def text(self, text: str) -> str:
        """Free text with every library spelling replaced by this command's."""
        if not text:
            return text
        for old, new in _PHRASES:
            text = text.replace(old, new)
        text = _APK_REF.sub(lambda m: self._apk(int(m[1]), bool(m[2])), text)
        text = _SCREENSHOT_REF.sub(lambda m: self.field(m[0]), text)
        text = _ASSIGNMENT.sub(self._assignment, text)
        text = _IDENTIFIER.sub(lambda m: self._name(m["name"]) or m[0], text)
        text = _ARTICLE.sub("an ", text)
        return _DOUBLE_STOP.sub(".", text)

    def _assignment(self, match: re.Match[str]) -> str:
        value = match["value"]
        if value == "...":
            plain: str | None = None
        else:
            plain = value.strip("'\"")
        spelled = self.option(match["name"], plain)
        return ("use " if match[0].startswith("pass ") else "") + spelled


def _toml(value: str) -> str:
    if value in ("True", "False"):
        return value.lower()
    return '"' + value.replace('"', '\\"') + '"'


FLAGS = Spelling("flags")
MANIFEST = Spelling("manifest")


@dataclass(frozen=True)
class RenderedError:
    """An error as the command line shows it: a label, the field, the message, the remedies."""

    kind: str
    message: str
    where: str | None = None  #: the field, as the user typed it
    remedies: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def bad_input(self) -> bool:
        return self.kind == "ValidationError"

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.kind, "message": self.message}
        if self.where is not None:
            doc["field"] = self.where
        if self.remedies:
            doc["remedies"] = list(self.remedies)
        doc.update(self.extra)
        return doc


def render_error(exc: StorePushError, spelling: Spelling = FLAGS) -> RenderedError:
    """`exc` in `spelling`'s words (the message keeps the store's own text, scrubbed)."""
    kind = type(exc).__name__
    remedies = tuple(spelling.text(spelling.remedy(r)) for r in exc.remedies)
    if isinstance(exc, ValidationError):
        where = spelling.field(exc.field)
        message = f"{where}: {spelling.text(exc.problem)}"
        if exc.fix:
            message += f" ({spelling.text(exc.fix)})"
        return RenderedError(kind, message, where, remedies)
    extra: dict[str, Any] = {}
    for name in ("status", "server_message"):
        value = getattr(exc, name, None)
        if value is not None:
            extra[name] = spelling.text(str(value)) if isinstance(value, str) else value
    return RenderedError(kind, spelling.text(exc.describe(spelling.remedy)), None, remedies, extra)
