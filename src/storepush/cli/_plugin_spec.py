"""Plugin specs: the `[bluemind.create]` table of a manifest and `--create-from plugin.toml`.

Both are read by one function, [`spec_from_table`][storepush.cli._plugin_spec.spec_from_table]:
`name` may be left out (it is the plugin being released) and, when given, must be that name;
long texts may be `@FILE`; image paths are relative to the file. The TOML line finder used to
name an error's line lives here too, shared with the manifest.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._errors import ValidationError
from ..bluemind import PluginSpec
from ._inputs import MANIFEST_MAX_BYTES, read_text_arg, read_text_file

__all__ = ["SPEC_KEYS", "TomlLines", "load_plugin_spec", "spec_from_table"]

SPEC_KEYS: tuple[tuple[str, bool, str], ...] = (
    ("name", False, "the plugin's name (default: the plugin being released)"),
    ("shortdesc", True, "a one-line description"),
    ("description", True, "TEXT or @FILE"),
    ("license", True, "its licence (`Apache-2.0`)"),
    ("installation_instructions", True, "TEXT or @FILE"),
    ("home_url", False, "an https:// address"),
    ("thumbnail", False, "the logo: a PNG, JPEG, GIF or WebP file"),
    ("screenshots", False, "a list of image files"),
)


class TomlLines:
    """Finds the line of `[[section]]` number `index`, and of a key inside it."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def header(self, section: str, index: int) -> int:
        pattern = re.compile(rf"^\s*\[\[\s*{re.escape(section)}\s*\]\]")
        seen = -1
        for number, line in enumerate(self.lines, 1):
            if pattern.match(line):
                seen += 1
                if seen == index:
                    return number
        return 0

    def key(self, section: str | None, index: int, key: str) -> int:
        """The line of `key` (`create.shortdesc`: in the item's `[section.create]` table)."""
        if section == "defaults":
            start = next(
                (n for n, line in enumerate(self.lines) if re.match(r"^\s*\[defaults\]", line)), 0
            )
        else:
            start = self.header(section, index) if section else 0
        table, _, sub = key.partition(".")
        if sub and section:
            found = self._find(
                start, rf"^\s*\[\s*{re.escape(section)}\.{re.escape(table)}\s*\]", section
            )
            if found:
                return self._find(found, rf"^\s*{re.escape(sub)}\s*=", section) or found
            return start
        name = re.escape(key)
        return self._find(start, rf"^\s*({name}\s*=|\[+\s*{name}\s*\]+)", section) or start

    def _find(self, start: int, pattern: str, section: str | None) -> int:
        compiled = re.compile(pattern)
        for number in range(start, len(self.lines)):
            line = self.lines[number]
            if number > start and section and re.match(r"^\s*\[\[", line):
                break
            if compiled.match(line):
                return number + 1
        return 0


def spec_from_table(
    data: dict[str, Any], *, plugin: str, base: Path, locate: Callable[[str], str]
) -> PluginSpec:
    """A `PluginSpec` from a TOML table; `name` defaults to `plugin` (and must match it);
    texts may be `@FILE`, paths are relative to `base`; `locate(key)` names a key's place."""
    known = {key for key, _, _ in SPEC_KEYS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValidationError(
            locate(unknown[0]), "is not a plugin field", f"known: {', '.join(sorted(known))}"
        )
    name = data.get("name", plugin)
    if name != plugin:
        raise ValidationError(
            locate("name"),
            f"is {name!r}, but the plugin being released is {plugin!r}",
            "leave name out: it defaults to the plugin's name",
        )
    texts: dict[str, str] = {}
    for key, required, _ in SPEC_KEYS:
        if key in ("name", "thumbnail", "screenshots", "home_url"):
            continue
        value = data.get(key)
        if not isinstance(value, str) or (required and not value.strip()):
            raise ValidationError(locate(key), "is required, as a string")
        try:
            texts[key] = read_text_arg(value, field=locate(key), base=base)
        except ValidationError as exc:
            raise ValidationError(locate(key), exc.problem, exc.fix) from None
    home = data.get("home_url")
    if home is not None and not isinstance(home, str):
        raise ValidationError(locate("home_url"), "must be a string")
    shots = data.get("screenshots", [])
    if not isinstance(shots, list) or not all(isinstance(s, str) for s in shots):
        raise ValidationError(locate("screenshots"), "must be a list of paths")
    thumb = data.get("thumbnail")
    if thumb is not None and not isinstance(thumb, str):
        raise ValidationError(locate("thumbnail"), "must be a path")
    return PluginSpec(
        name=plugin,
        shortdesc=texts["shortdesc"],
        description=texts["description"],
        license=texts["license"],
        installation_instructions=texts["installation_instructions"],
        home_url=home,
        thumbnail=None if thumb is None else base / thumb,
        screenshots=tuple(base / s for s in shots),
    )


def load_plugin_spec(path: Path, *, plugin: str, field: str = "--create-from") -> PluginSpec:
    """`--create-from plugin.toml`: a plugin spec file (its errors name its line and key)."""
    text = read_text_file(path, field=field, limit=MANIFEST_MAX_BYTES)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(field, f"{path.name} is not valid TOML: {exc}") from None
    lines = TomlLines(text)

    def locate(key: str) -> str:
        line = lines.key(None, 0, key)
        return f"{path.name}:{line}: {key}" if line else f"{path.name}: {key}"

    return spec_from_table(data, plugin=plugin, base=path.parent, locate=locate)
