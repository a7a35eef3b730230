"""The batch manifest: a TOML file of Pishkhan apps and BlueMind plugin versions.

The format is described, key by key, on the docs page "The batch manifest"
(`docs/guide/manifest.md`, its tables generated from [`KEYS`][storepush.cli._manifest.KEYS]).
This module reads a manifest once: the file (a regular UTF-8 file of at most 4 MiB), its
TOML, every key's type and range, `@FILE` texts, credentials from their variables, paths
relative to the manifest. Every error names the manifest's line and key
(`release.toml:12: bazaar[0].rollout`) and is found before anything is sent; what needs the
files themselves (APKs parsed, duplicates, base URLs) is checked next, by `_preflight.py`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import ValidationError
from .._secrets import Secret
from ..bluemind import PluginSpec
from ._inputs import MANIFEST_MAX_BYTES, ArchitectureName, read_text_arg, read_text_file
from ._inputs import split_apk_arg as _split
from ._plugin_spec import TomlLines, spec_from_table
from ._settings import (
    BUSY_TIMEOUT,
    CONCURRENCY,
    DEADLINE,
    IF_BUSY,
    IF_DRAFT_EXISTS,
    MAX_ATTEMPTS,
    PROGRESS,
    TIMEOUT,
    IfBusy,
    IfDraftExists,
    Setting,
)

__all__ = ["KEYS", "BazaarEntry", "BlueMindEntry", "Manifest", "load_manifest"]

#: Every key, where it may appear, and what it means: the docs' tables come from here.
#: Sections: `defaults`, `bazaar`, `bluemind`, `create` (the `[bluemind.create]` table).
KEYS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("name", ("bazaar", "bluemind"), "the item's name in reports (bluemind: `PLUGIN VERSION`)"),
    ("token_env", ("bazaar",), "the environment variable holding the app's Pishkhan token"),
    ("apks", ("bazaar",), 'APKs: `"path[:ARCH]"` strings or `{path, architecture}` tables'),
    ("aab", ("bazaar",), "an app bundle instead of APKs (with `bin`)"),
    ("bin", ("bazaar",), "the `.bin` Bazaar's bundle signer made for `aab`"),
    ("changelog_en", ("defaults", "bazaar"), "TEXT or @FILE (relative to the manifest)"),
    ("changelog_fa", ("defaults", "bazaar"), "TEXT or @FILE"),
    ("developer_note", ("defaults", "bazaar"), "TEXT or @FILE: a note for the reviewers"),
    ("rollout", ("defaults", "bazaar"), "staged rollout percentage, 1 to 100 (default 100)"),
    ("auto_publish", ("defaults", "bazaar"), "publish once the review accepts it (true/false)"),
    ("if_draft_exists", ("defaults", "bazaar"), IF_DRAFT_EXISTS.what),
    ("if_busy", ("defaults", "bazaar"), IF_BUSY.what),
    ("busy_timeout", ("defaults", "bazaar"), BUSY_TIMEOUT.what),
    ("plugin", ("bluemind",), "the plugin's name on the MarketPlace"),
    ("api_key_env", ("bluemind",), "the environment variable holding the BlueMind API key"),
    ("version", ("bluemind",), 'the version to add, a string (`"1.2.0"`)'),
    ("target_bm_versions", ("defaults", "bluemind"), "BlueMind versions it runs on (`4.x`)"),
    ("release_notes", ("bluemind",), "TEXT or @FILE"),
    ("package", ("bluemind",), "the `.jar` (or other package) to upload"),
    ("create", ("bluemind",), "`[bluemind.create]`: create the plugin when it is missing"),
    ("base_url", ("bazaar", "bluemind"), "this item's store base URL"),
    ("bazaar_base_url", ("defaults",), "every Pishkhan item's base URL"),
    ("bluemind_base_url", ("defaults",), "every BlueMind item's base URL"),
    ("allow_insecure_http", ("defaults", "bazaar", "bluemind"), "allow http:// to a remote host"),
    ("max_attempts", ("defaults",), MAX_ATTEMPTS.what),
    ("timeout", ("defaults",), TIMEOUT.what),
    ("deadline", ("defaults",), DEADLINE.what),
    ("progress", ("defaults",), "auto, bar, plain, jsonl or off (see `--progress`)"),
    ("concurrency", ("defaults",), CONCURRENCY.what),
    (
        "redis_url",
        ("defaults",),
        "share limits and leases through this Redis (no password here: put a URL with one in "
        "`STOREPUSH_REDIS_URL` instead; `--redis-url` and the variable win over this key)",
    ),
    # one row a key: a new `[defaults]` key is a row here, read from `Manifest.defaults`
)
_ALLOWED = {
    section: {key for key, sections, _ in KEYS if section in sections}
    for section in ("defaults", "bazaar", "bluemind")
}
#: `[defaults]` keys that configure the whole run (not merged into items).
_RUN: dict[str, Setting[Any]] = {
    s.key: s for s in (MAX_ATTEMPTS, TIMEOUT, DEADLINE, PROGRESS, CONCURRENCY)
}
_URL_DEFAULT = {"bazaar": "bazaar_base_url", "bluemind": "bluemind_base_url"}


@dataclass
class BazaarEntry:
    """One `[[bazaar]]` item, read and typed (its files are parsed by the pre-flight check)."""

    name: str
    index: int
    token: Secret
    apks: list[tuple[Path, ArchitectureName]]
    apk_labels: list[str]
    aab: Path | None
    signer_bin: Path | None
    changelog_en: str = ""
    changelog_fa: str = ""
    developer_note: str = ""
    rollout: int = 100
    auto_publish: bool = False
    base_url: str | None = None
    allow_insecure_http: bool = False
    if_draft_exists: IfDraftExists | None = None
    if_busy: IfBusy | None = None
    busy_timeout: float | None = None
    line: int = 0
    kind: str = "bazaar"


@dataclass
class BlueMindEntry:
    """One `[[bluemind]]` item, read and typed."""

    name: str
    index: int
    api_key: Secret
    plugin: str
    version: str
    target_bm_versions: str
    release_notes: str
    package: Path
    create: PluginSpec | None = None
    base_url: str | None = None
    allow_insecure_http: bool = False
    line: int = 0
    kind: str = "bluemind"


@dataclass
class Manifest:
    """A whole manifest: its items, and the run settings of its `[defaults]`."""

    path: Path
    bazaar: list[BazaarEntry] = field(default_factory=list)
    bluemind: list[BlueMindEntry] = field(default_factory=list)
    run: dict[str, Any] = field(default_factory=dict)
    #: the `[defaults]` table as written (keys another setting reads)
    defaults: dict[str, Any] = field(default_factory=dict)
    #: `[defaults] redis_url`, checked when the manifest is read (see `storepush._redis_url`)
    redis_url: Secret | None = None
    text: str = ""

    @property
    def items(self) -> list[BazaarEntry | BlueMindEntry]:
        return [*self.bazaar, *self.bluemind]

    @property
    def resume_file(self) -> Path:
        """`MANIFEST.state.json`, beside the manifest (see the docs' "The resume file")."""
        return self.path.with_name(self.path.name + ".state.json")

    def where(self, section: str | None, index: int, key: str) -> str:
        """`release.toml:12: bazaar[0].rollout`: the line of `key` in that item."""
        lines = TomlLines(self.text)
        base = key.split("[")[0]
        if key and section:
            line = lines.key(section, index, base)
        elif section:
            line = lines.header(section, index)
        else:
            line = lines.key(None, 0, base)
        place = f"{self.path.name}:{line}" if line else self.path.name
        if section == "defaults":
            return f"{place}: defaults.{key}"
        if section:
            return f"{place}: {section}[{index}]{'.' + key if key else ''}"
        return f"{place}: {key}"

    def error(
        self, section: str | None, index: int, key: str, problem: str, fix: str = ""
    ) -> ValidationError:
        return ValidationError(self.where(section, index, key), problem, fix)


class _Item:
    """Reads one table's keys, raising errors located in the manifest."""

    def __init__(self, manifest: Manifest, section: str, index: int, data: dict[str, Any]):
        self.m, self.section, self.index, self.data = manifest, section, index, data

    def error(self, key: str, problem: str, fix: str = "") -> ValidationError:
        return self.m.error(self.section, self.index, key, problem, fix)

    def relocate(self, key: str, exc: ValidationError) -> ValidationError:
        return self.error(key, exc.problem, exc.fix)

    def text(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, not {type(value).__name__} {value!r}")
        if required and not value.strip():
            raise self.error(key, "is required")
        try:
            return read_text_arg(value, field=key, base=self.m.path.parent)
        except ValidationError as exc:
            raise self.relocate(key, exc) from None

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {value!r}")
        return value

    def url(self, key: str = "base_url") -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self.error(key, "must be a URL string")
        return value

    def secret(self, key: str) -> Secret:
        variable = self.data.get(key)
        if not isinstance(variable, str) or not variable:
            raise self.error(key, "must name the environment variable holding the credential")
        value = os.environ.get(variable)
        if value is None:
            raise self.error(
                key, f"the environment variable {variable} is not set", f"export {variable}=..."
            )
        try:
            return Secret(value, field=variable)
        except ValidationError as exc:
            raise self.relocate(key, exc) from None

    def path(self, value: object, key: str) -> Path:
        if not isinstance(value, str) or not value:
            raise self.error(key, f"must be a path (a string), not {value!r}")
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.m.path.parent / path

    def setting(self, setting: Setting[Any]) -> Any:
        if setting.key not in self.data:
            return None
        where = self.m.where(self.section, self.index, setting.key)
        return setting.parse(self.data[setting.key], where)


def _redis_url(reader: _Item, value: object) -> Secret | None:
    """`[defaults] redis_url`, refused here (naming its line) before anything is sent."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise reader.error("redis_url", "must be a string: redis://host:port/db")
    from .._redis_link import require_redis_package
    from .._redis_url import parse_redis_url

    where = reader.m.where("defaults", 0, "redis_url")
    require_redis_package(where)
    parse_redis_url(value, field=where)
    return Secret(value.strip(), field=where)


def load_manifest(path: Path) -> Manifest:
    """Read and check a manifest (see the module docstring)."""
    text = read_text_file(path, field="MANIFEST", limit=MANIFEST_MAX_BYTES)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(path.name, f"is not valid TOML: {exc}") from None
    manifest = Manifest(path, text=text)
    unknown = sorted(set(data) - {"defaults", "bazaar", "bluemind"})
    if unknown:
        raise manifest.error(
            None, 0, unknown[0], "is not a known table", "use [defaults], [[bazaar]], [[bluemind]]"
        )
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ValidationError(f"{path.name}: defaults", "must be a table", "write [defaults]")
    manifest.defaults = dict(defaults)
    reader = _Item(manifest, "defaults", 0, defaults)
    for key in defaults:
        if key not in _ALLOWED["defaults"]:
            known = ", ".join(sorted(_ALLOWED["defaults"]))
            raise reader.error(key, "is not a known default", f"known: {known}")
    for key, setting in _RUN.items():
        if key in defaults:
            manifest.run[key] = reader.setting(setting)
    manifest.redis_url = _redis_url(reader, defaults.get("redis_url"))
    names: set[str] = set()
    for section in ("bazaar", "bluemind"):
        items = data.get(section, [])
        if not isinstance(items, list):
            raise ValidationError(
                f"{path.name}: {section}", "must be an array of tables", f"write [[{section}]]"
            )
        for index, raw in enumerate(items):
            if not isinstance(raw, dict):
                raise manifest.error(section, index, "", "must be a table")
            unknown_keys = sorted(set(raw) - _ALLOWED[section])
            if unknown_keys:
                known = ", ".join(sorted(_ALLOWED[section]))
                raise manifest.error(
                    section, index, unknown_keys[0], "is not a known key", f"known: {known}"
                )
            merged = {k: v for k, v in defaults.items() if k in _ALLOWED[section]}
            if _URL_DEFAULT[section] in defaults:
                merged["base_url"] = defaults[_URL_DEFAULT[section]]
            merged.update(raw)
            item = _Item(manifest, section, index, merged)
            entry: BazaarEntry | BlueMindEntry = (
                _bazaar(item) if section == "bazaar" else _bluemind(item)
            )
            if entry.name in names:
                raise item.error(
                    "name", f"{entry.name!r} names two items", "give each item its own name"
                )
            names.add(entry.name)
            if isinstance(entry, BazaarEntry):
                manifest.bazaar.append(entry)
            else:
                manifest.bluemind.append(entry)
    if not manifest.items:
        raise ValidationError(path.name, "lists no item", "add [[bazaar]] or [[bluemind]] tables")
    return manifest


def _apks(item: _Item) -> tuple[list[tuple[Path, ArchitectureName]], list[str]]:
    raw = item.data.get("apks", [])
    if not isinstance(raw, list):
        raise item.error("apks", "must be a list", 'e.g. ["app.apk:arm64-v8a"]')
    apks: list[tuple[Path, ArchitectureName]] = []
    labels: list[str] = []
    for number, entry in enumerate(raw):
        key = f"apks[{number}]"
        if isinstance(entry, dict):
            extra = sorted(set(entry) - {"path", "architecture"})
            if extra:
                raise item.error(key, f"{extra[0]!r} is not a key of an APK table")
            value, arch = entry.get("path"), entry.get("architecture", "all")
            if not isinstance(arch, str) or not arch:
                raise item.error(key, f"architecture must be a string, not {arch!r}")
            try:
                _, checked = _split(f"x:{arch}", field=key)
            except ValidationError as exc:
                raise item.relocate(key, exc) from None
            if checked != arch:
                raise item.error(key, f"{arch!r} is not an architecture")
            label = str(value)
        elif isinstance(entry, str):
            try:
                value, checked = _split(entry, field=key)
            except ValidationError as exc:
                raise item.relocate(key, exc) from None
            label = value
        else:
            raise item.error(key, "must be a path string or a {path, architecture} table")
        apks.append((item.path(value, key), checked))
        labels.append(label)
    return apks, labels


def _bazaar(item: _Item) -> BazaarEntry:
    apks, labels = _apks(item)
    data = item.data
    aab = item.path(data["aab"], "aab") if "aab" in data else None
    signer = item.path(data["bin"], "bin") if "bin" in data else None
    if bool(apks) == (aab is not None):
        raise item.error("apks", "give apks, or aab and bin", "not both, and not neither")
    if (aab is None) != (signer is None):
        raise item.error("bin" if signer is None else "aab", "an app bundle needs aab and bin")
    rollout = data.get("rollout", 100)
    if isinstance(rollout, bool) or not isinstance(rollout, int) or not 1 <= rollout <= 100:
        raise item.error("rollout", f"must be a whole number from 1 to 100, not {rollout!r}")
    return BazaarEntry(
        name=item.text("name", required=True),
        index=item.index,
        token=item.secret("token_env"),
        apks=apks,
        apk_labels=labels,
        aab=aab,
        signer_bin=signer,
        changelog_en=item.text("changelog_en"),
        changelog_fa=item.text("changelog_fa"),
        developer_note=item.text("developer_note"),
        rollout=rollout,
        auto_publish=item.flag("auto_publish"),
        base_url=item.url(),
        allow_insecure_http=item.flag("allow_insecure_http"),
        if_draft_exists=item.setting(IF_DRAFT_EXISTS),
        if_busy=item.setting(IF_BUSY),
        busy_timeout=item.setting(BUSY_TIMEOUT),
        line=TomlLines(item.m.text).header("bazaar", item.index),
    )


def _bluemind(item: _Item) -> BlueMindEntry:
    data = item.data
    plugin = item.text("plugin", required=True)
    version = data.get("version")
    if isinstance(version, int | float) and not isinstance(version, bool):
        raise item.error("version", "must be a string", f'write version = "{version}"')
    version_text = item.text("version", required=True)
    create = data.get("create")
    spec = None
    if create is not None:
        if not isinstance(create, dict):
            raise item.error("create", "must be a table", "write [bluemind.create]")
        spec = spec_from_table(
            create,
            plugin=plugin,
            base=item.m.path.parent,
            locate=lambda key: item.m.where("bluemind", item.index, f"create.{key}"),
        )
    if "package" not in data:
        raise item.error("", "needs a package", 'add package = "dist/plugin.jar"')
    return BlueMindEntry(
        name=item.text("name", default=f"{plugin} {version_text}") or plugin,
        index=item.index,
        api_key=item.secret("api_key_env"),
        plugin=plugin,
        version=version_text,
        target_bm_versions=item.text("target_bm_versions", required=True),
        release_notes=item.text("release_notes", required=True),
        package=item.path(data["package"], "package"),
        create=spec,
        base_url=item.url(),
        allow_insecure_http=item.flag("allow_insecure_http"),
        line=TomlLines(item.m.text).header("bluemind", item.index),
    )
