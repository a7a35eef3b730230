"""The batch manifest: a TOML file of Pishkhan apps and BlueMind plugin versions.

    [defaults]                      # shared by every item unless it says otherwise
    changelog_en = "@notes/en.txt"  # TEXT or @FILE, relative to the manifest
    auto_publish = true
    if_draft_exists = "fail"        # fail | reuse | replace
    rollout = 100
    target_bm_versions = "4.x"
    redis_url = "redis://ci-cache:6379/0"   # optional: share limits and leases (no password
                                            # here: put one in STOREPUSH_REDIS_URL instead)

    [[bazaar]]
    name = "shop"                   # unique per item; names the item in reports
    token_env = "SHOP_TOKEN"        # the token comes from this environment variable
    apks = ["build/shop-arm64.apk:arm64-v8a", "build/shop-v7.apk:armeabi-v7a"]
    # or: aab = "build/shop.aab"  and  bin = "build/shop.bin"

    [[bluemind]]
    plugin = "Calendar Sync"
    api_key_env = "BM_KEY"
    version = "1.2.0"
    release_notes = "@notes/calendar.txt"
    package = "dist/calendar-sync.jar"
    [bluemind.create]               # optional: create the plugin when it is missing
    shortdesc = "..."               # name defaults to `plugin`
    ...

Every error names the manifest's line and the field, and is found before anything is sent:
unknown keys, wrong types, missing files and unset environment variables.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import ValidationError
from .._files import check_file
from .._secrets import Secret
from ..bazaar import Architecture
from ..bluemind import PluginSpec
from ._bluemind import plugin_spec_from
from ._output import read_text_arg

__all__ = ["BazaarItem", "BlueMindItem", "Manifest", "load_manifest"]

_ARCHS = {a.value for a in Architecture}
DEFAULT_KEYS = {
    "changelog_en",
    "changelog_fa",
    "developer_note",
    "auto_publish",
    "if_draft_exists",
    "rollout",
    "target_bm_versions",
    "bazaar_base_url",
    "bluemind_base_url",
    "redis_url",
}
BAZAAR_KEYS = {
    "name",
    "token_env",
    "apks",
    "aab",
    "bin",
    "changelog_en",
    "changelog_fa",
    "developer_note",
    "auto_publish",
    "if_draft_exists",
    "rollout",
    "base_url",
}
BLUEMIND_KEYS = {
    "name",
    "plugin",
    "api_key_env",
    "version",
    "target_bm_versions",
    "release_notes",
    "package",
    "create",
    "base_url",
}


#: Which defaults apply to each section, and which default names its base URL.
_SECTION_DEFAULTS = {
    "bazaar": (
        {
            "changelog_en",
            "changelog_fa",
            "developer_note",
            "auto_publish",
            "if_draft_exists",
            "rollout",
        },
        "bazaar_base_url",
    ),
    "bluemind": ({"target_bm_versions"}, "bluemind_base_url"),
}


@dataclass
class BazaarItem:
    name: str
    token: Secret
    apks: list[tuple[Path, Architecture]]
    aab: Path | None
    signer_bin: Path | None
    changelog_en: str
    changelog_fa: str
    developer_note: str
    rollout: int
    auto_publish: bool
    if_draft_exists: str
    base_url: str | None
    line: int
    kind: str = "bazaar"


@dataclass
class BlueMindItem:
    name: str
    api_key: Secret
    plugin: str
    version: str
    target_bm_versions: str
    release_notes: str
    package: Path
    create: PluginSpec | None
    base_url: str | None
    line: int
    kind: str = "bluemind"


@dataclass
class Manifest:
    path: Path
    bazaar: list[BazaarItem] = field(default_factory=list)
    bluemind: list[BlueMindItem] = field(default_factory=list)
    redis_url: Secret | None = None  #: `[defaults] redis_url`, checked (see `_redis_url`)

    @property
    def items(self) -> list[BazaarItem | BlueMindItem]:
        return [*self.bazaar, *self.bluemind]


class _Lines:
    """Finds the line of ``[[section]]`` number ``index`` and of a key inside it."""

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
        start = self.header(section, index) if section else 0
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number in range(start, len(self.lines)):
            line = self.lines[number]
            if number > start and section and re.match(r"^\s*\[\[", line):
                break
            if pattern.match(line):
                return number + 1
        return start


class _Reader:
    def __init__(self, path: Path, lines: _Lines) -> None:
        self.path = path
        self.base = path.parent
        self.lines = lines

    def error(
        self, section: str | None, index: int, key: str, problem: str, fix: str = ""
    ) -> ValidationError:
        line = (
            self.lines.key(section, index, key.split(".")[0])
            if key
            else self.lines.header(section or "", index)
        )
        where = f"{section}[{index}].{key}" if section else key
        return ValidationError(f"{self.path.name}:{line}: {where}", problem, fix)

    def text(
        self,
        data: dict[str, Any],
        section: str,
        index: int,
        key: str,
        *,
        required: bool = False,
        default: str = "",
    ) -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            raise self.error(section, index, key, f"must be a string, not {type(value).__name__}")
        if required and not value.strip():
            raise self.error(section, index, key, "is required")
        try:
            return read_text_arg(value, field=key, base=self.base)
        except ValidationError as exc:
            raise self.error(section, index, key, exc.problem, exc.fix) from None

    def secret(self, data: dict[str, Any], section: str, index: int, key: str) -> Secret:
        variable = data.get(key)
        if not isinstance(variable, str) or not variable:
            raise self.error(
                section, index, key, "must name the environment variable holding the credential"
            )
        value = os.environ.get(variable)
        if value is None:
            raise self.error(
                section,
                index,
                key,
                f"the environment variable {variable} is not set",
                f"export {variable}=...",
            )
        try:
            return Secret(value, field=variable)
        except ValidationError as exc:
            raise self.error(section, index, key, exc.problem, exc.fix) from None

    def file(self, value: object, section: str, index: int, key: str) -> Path:
        if not isinstance(value, str):
            raise self.error(section, index, key, "must be a path (a string)")
        path = Path(value)
        path = path if path.is_absolute() else self.base / path
        try:
            return check_file(path, field=key)
        except ValidationError as exc:
            raise self.error(section, index, key, exc.problem, exc.fix) from None


def _check_keys(
    reader: _Reader, data: dict[str, Any], allowed: set[str], section: str, index: int
) -> None:
    for key in data:
        if key not in allowed:
            raise reader.error(
                section,
                index,
                key,
                "is not a known key",
                f"known keys: {', '.join(sorted(allowed))}",
            )


def _redis_url(reader: _Reader, value: object) -> Secret | None:
    if value is None:
        return None
    where = f"{reader.path.name}:{reader.lines.key(None, 0, 'redis_url')}: defaults.redis_url"
    if not isinstance(value, str):
        raise ValidationError(where, "must be a string: redis://host:port/db")
    from .._redis_link import require_redis_package
    from .._redis_url import parse_redis_url

    require_redis_package(where)
    parse_redis_url(value, field=where)  # refused here, before anything is sent
    return Secret(value.strip(), field=where)


def load_manifest(path: Path) -> Manifest:
    """Parse and check a manifest; resolve environment variables; check files exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError("manifest", f"{path} does not exist") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{path.name}", f"is not valid TOML: {exc}") from None
    reader = _Reader(path, _Lines(text))
    unknown = set(data) - {"defaults", "bazaar", "bluemind"}
    if unknown:
        key = sorted(unknown)[0]
        raise ValidationError(
            f"{path.name}:{reader.lines.key(None, 0, key)}: {key}",
            "is not a known table",
            "use defaults, bazaar or bluemind",
        )
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ValidationError(f"{path.name}: defaults", "must be a table")
    for key in defaults:
        if key not in DEFAULT_KEYS:
            raise ValidationError(
                f"{path.name}:{reader.lines.key(None, 0, key)}: defaults.{key}",
                "is not a known default",
            )
    manifest = Manifest(path, redis_url=_redis_url(reader, defaults.get("redis_url")))
    names: set[str] = set()
    for section in ("bazaar", "bluemind"):
        items = data.get(section, [])
        if not isinstance(items, list):
            raise ValidationError(
                f"{path.name}: {section}", "must be an array of tables", f"write [[{section}]]"
            )
        for index, raw in enumerate(items):
            if not isinstance(raw, dict):
                raise reader.error(section, index, "", "must be a table")
            keys, url_key = _SECTION_DEFAULTS[section]
            merged = {k: v for k, v in defaults.items() if k in keys}
            if url_key in defaults:
                merged["base_url"] = defaults[url_key]
            merged.update(raw)
            if section == "bazaar":
                _check_keys(reader, raw, BAZAAR_KEYS, section, index)
                item: BazaarItem | BlueMindItem = _bazaar(reader, merged, index)
            else:
                _check_keys(reader, raw, BLUEMIND_KEYS, section, index)
                item = _bluemind(reader, merged, index)
            if item.name in names:
                raise reader.error(
                    section,
                    index,
                    "name",
                    f"{item.name!r} names two items",
                    "give each item its own name",
                )
            names.add(item.name)
            if isinstance(item, BazaarItem):
                manifest.bazaar.append(item)
            else:
                manifest.bluemind.append(item)
    if not manifest.items:
        raise ValidationError(
            f"{path.name}", "lists no item", "add [[bazaar]] or [[bluemind]] tables"
        )
    return manifest


def _bazaar(reader: _Reader, data: dict[str, Any], index: int) -> BazaarItem:
    s = "bazaar"
    name = reader.text(data, s, index, "name", required=True)
    apks: list[tuple[Path, Architecture]] = []
    raw_apks = data.get("apks", [])
    if not isinstance(raw_apks, list):
        raise reader.error(s, index, "apks", "must be a list", 'e.g. ["app.apk:arm64-v8a"]')
    for entry in raw_apks:
        if isinstance(entry, dict):
            path_value, arch = entry.get("path"), entry.get("architecture", "all")
        elif isinstance(entry, str):
            path_value, sep, arch = entry.rpartition(":")
            if not sep or arch not in _ARCHS:
                path_value, arch = entry, "all"
        else:
            raise reader.error(s, index, "apks", "entries are paths or {path, architecture} tables")
        if arch not in _ARCHS:
            raise reader.error(
                s, index, "apks", f"{arch!r} is not an architecture", ", ".join(sorted(_ARCHS))
            )
        apks.append((reader.file(path_value, s, index, "apks"), Architecture(arch)))
    aab = reader.file(data["aab"], s, index, "aab") if "aab" in data else None
    signer = reader.file(data["bin"], s, index, "bin") if "bin" in data else None
    if bool(apks) == bool(aab):
        raise reader.error(s, index, "apks", "give apks, or aab and bin", "not both, not neither")
    if (aab is None) != (signer is None):
        raise reader.error(
            s, index, "bin" if signer is None else "aab", "an app bundle needs both aab and bin"
        )
    rollout = data.get("rollout", 100)
    if isinstance(rollout, bool) or not isinstance(rollout, int) or not 1 <= rollout <= 100:
        raise reader.error(s, index, "rollout", f"{rollout!r} is not an int from 1 to 100")
    auto = data.get("auto_publish", False)
    if not isinstance(auto, bool):
        raise reader.error(s, index, "auto_publish", "must be true or false")
    policy = data.get("if_draft_exists", "fail")
    if policy not in ("fail", "reuse", "replace"):
        raise reader.error(s, index, "if_draft_exists", f"{policy!r} is not fail, reuse or replace")
    base_url = data.get("base_url")
    if base_url is not None and not isinstance(base_url, str):
        raise reader.error(s, index, "base_url", "must be a URL string")
    return BazaarItem(
        name=name,
        token=reader.secret(data, s, index, "token_env"),
        apks=apks,
        aab=aab,
        signer_bin=signer,
        changelog_en=reader.text(data, s, index, "changelog_en"),
        changelog_fa=reader.text(data, s, index, "changelog_fa"),
        developer_note=reader.text(data, s, index, "developer_note"),
        rollout=rollout,
        auto_publish=auto,
        if_draft_exists=policy,
        base_url=base_url,
        line=reader.lines.header(s, index),
    )


def _bluemind(reader: _Reader, data: dict[str, Any], index: int) -> BlueMindItem:
    s = "bluemind"
    plugin = reader.text(data, s, index, "plugin", required=True)
    version = data.get("version")
    if isinstance(version, int | float) and not isinstance(version, bool):
        raise reader.error(s, index, "version", "must be a string", f'write version = "{version}"')
    create = data.get("create")
    spec = None
    if create is not None:
        if not isinstance(create, dict):
            raise reader.error(s, index, "create", "must be a table", "write [bluemind.create]")
        try:
            spec = plugin_spec_from({"name": plugin, **create}, base=reader.base, where="create")
        except ValidationError as exc:
            raise reader.error(s, index, exc.field, exc.problem, exc.fix) from None
    base_url = data.get("base_url")
    if base_url is not None and not isinstance(base_url, str):
        raise reader.error(s, index, "base_url", "must be a URL string")
    return BlueMindItem(
        name=reader.text(data, s, index, "name", default=f"{plugin} {version}") or plugin,
        api_key=reader.secret(data, s, index, "api_key_env"),
        plugin=plugin,
        version=reader.text(data, s, index, "version", required=True),
        target_bm_versions=reader.text(data, s, index, "target_bm_versions", required=True),
        release_notes=reader.text(data, s, index, "release_notes", required=True),
        package=reader.file(data.get("package"), s, index, "package"),
        create=spec,
        base_url=base_url,
        line=reader.lines.header(s, index),
    )
