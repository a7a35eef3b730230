"""``storepush bluemind ...``: plugins, plugin, create, release."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .._config import BLUEMIND_BASE_URL
from .._errors import ValidationError
from ..bluemind import BlueMindClient, Plugin, PluginSpec
from ._output import Output, read_text_arg, secret_from_env

__all__ = ["bluemind_app", "plugin_spec_from"]

bluemind_app = typer.Typer(help="BlueMind MarketPlace: plugins and their versions.")

KEY_ENV = "STOREPUSH_BLUEMIND_API_KEY"
BASE_URL_ENV = "STOREPUSH_BLUEMIND_BASE_URL"
SPEC_KEYS = {
    "name",
    "shortdesc",
    "description",
    "license",
    "installation_instructions",
    "home_url",
    "thumbnail",
    "screenshots",
}

BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url", help=f"MarketPlace base URL (env {BASE_URL_ENV}).", show_default=False
    ),
]
TokenEnv = Annotated[
    str, typer.Option("--token-env", help="Environment variable holding the API key.")
]
Insecure = Annotated[
    bool, typer.Option("--allow-insecure-http", help="Allow http:// to a non-loopback host.")
]


def client_for(token_env: str, base_url: str | None, insecure: bool) -> BlueMindClient:
    return BlueMindClient(
        secret_from_env(token_env, field="api_key"),
        base_url=base_url or os.environ.get(BASE_URL_ENV) or BLUEMIND_BASE_URL,
        allow_insecure_http=insecure,
    )


def plugin_doc(plugin: Plugin | None) -> dict[str, Any] | None:
    if plugin is None:
        return None
    return plugin.raw or {"id": plugin.id, "name": plugin.name}


def plugin_spec_from(data: dict[str, Any], *, base: Path, where: str) -> PluginSpec:
    """A :class:`PluginSpec` from a TOML table; paths relative to ``base``."""
    unknown = set(data) - SPEC_KEYS
    if unknown:
        raise ValidationError(f"{where}.{sorted(unknown)[0]}", "is not a plugin field")
    for key in ("name", "shortdesc", "description", "license", "installation_instructions"):
        if not isinstance(data.get(key), str):
            raise ValidationError(f"{where}.{key}", "is required and must be a string")
    shots = data.get("screenshots", [])
    if not isinstance(shots, list) or not all(isinstance(s, str) for s in shots):
        raise ValidationError(f"{where}.screenshots", "must be a list of paths")
    thumb = data.get("thumbnail")
    if thumb is not None and not isinstance(thumb, str):
        raise ValidationError(f"{where}.thumbnail", "must be a path")
    return PluginSpec(
        name=data["name"],
        shortdesc=data["shortdesc"],
        description=data["description"],
        license=data["license"],
        installation_instructions=read_text_arg(
            data["installation_instructions"], field=f"{where}.installation_instructions", base=base
        ),
        home_url=data.get("home_url"),
        thumbnail=None if thumb is None else base / thumb,
        screenshots=tuple(base / s for s in shots),
    )


@bluemind_app.command()
def plugins(
    ctx: typer.Context,
    base_url: BaseUrl = None,
    token_env: TokenEnv = KEY_ENV,
    allow_insecure_http: Insecure = False,
) -> None:
    """List your plugins."""
    out: Output = ctx.obj

    async def work() -> list[Plugin]:
        async with client_for(token_env, base_url, allow_insecure_http) as client:
            return await client.list_plugins()

    found = out.run(work)

    def human(console: Console) -> None:
        table = Table("id", "name", "current version", "published")
        for p in found:
            table.add_row(str(p.id), p.name, str(p.current_version or "-"), str(p.published))
        console.print(table)

    out.emit({"ok": True, "plugins": [plugin_doc(p) for p in found]}, human)


@bluemind_app.command()
def plugin(
    ctx: typer.Context,
    plugin_id: Annotated[str, typer.Argument(metavar="ID")],
    base_url: BaseUrl = None,
    token_env: TokenEnv = KEY_ENV,
    allow_insecure_http: Insecure = False,
) -> None:
    """Show one plugin."""
    out: Output = ctx.obj

    async def work() -> Plugin:
        async with client_for(token_env, base_url, allow_insecure_http) as client:
            return await client.get_plugin(plugin_id)

    found = out.run(work)
    versions = ", ".join(v.label for v in found.versions) or "none"
    out.emit(
        {"ok": True, "plugin": plugin_doc(found)},
        lambda c: c.print(f"{found.id}: {found.name} (versions: {versions})"),
    )


@bluemind_app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name")],
    shortdesc: Annotated[str, typer.Option("--shortdesc")],
    description: Annotated[str, typer.Option("--description", help="TEXT or @FILE.")],
    license: Annotated[str, typer.Option("--license")],
    instructions: Annotated[str, typer.Option("--instructions", help="TEXT or @FILE.")],
    home_url: Annotated[str | None, typer.Option("--home-url")] = None,
    thumbnail: Annotated[Path | None, typer.Option("--thumbnail")] = None,
    screenshot: Annotated[list[Path] | None, typer.Option("--screenshot")] = None,
    base_url: BaseUrl = None,
    token_env: TokenEnv = KEY_ENV,
    allow_insecure_http: Insecure = False,
) -> None:
    """Create a plugin (thumbnail and screenshots are streamed from disk)."""
    out: Output = ctx.obj

    async def work() -> Plugin | None:
        async with client_for(token_env, base_url, allow_insecure_http) as client:
            return await client.create_plugin(
                name,
                shortdesc,
                read_text_arg(description, field="--description"),
                license,
                read_text_arg(instructions, field="--instructions"),
                home_url=home_url,
                thumbnail=thumbnail,
                screenshots=screenshot or [],
            )

    created = out.run(work)
    out.emit(
        {"ok": True, "plugin": plugin_doc(created)},
        lambda c: c.print(f"created plugin {name!r}"),
    )


@bluemind_app.command()
def release(
    ctx: typer.Context,
    package: Annotated[Path, typer.Argument(metavar="PACKAGE")],
    plugin_name: Annotated[str, typer.Option("--plugin")],
    version: Annotated[str, typer.Option("--version")],
    target_bm_versions: Annotated[str, typer.Option("--target-bm-versions")],
    release_notes: Annotated[str, typer.Option("--release-notes", help="TEXT or @FILE.")],
    create_from: Annotated[
        Path | None, typer.Option("--create-from", help="A TOML plugin spec, used if missing.")
    ] = None,
    base_url: BaseUrl = None,
    token_env: TokenEnv = KEY_ENV,
    allow_insecure_http: Insecure = False,
) -> None:
    """Add a version exactly once (creating the plugin from --create-from when missing)."""
    out: Output = ctx.obj

    async def work() -> dict[str, Any]:
        spec = None
        if create_from is not None:
            try:
                data = tomllib.loads(create_from.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise ValidationError("--create-from", f"{create_from} does not exist") from None
            except tomllib.TOMLDecodeError as exc:
                raise ValidationError("--create-from", f"{create_from}: {exc}") from None
            spec = plugin_spec_from(data, base=create_from.parent, where=str(create_from))
        notes = read_text_arg(release_notes, field="--release-notes")
        async with client_for(token_env, base_url, allow_insecure_http) as client:
            total = package.stat().st_size if package.is_file() else 0
            with out.upload_progress("uploading", total) as progress:
                result = await client.publish_version(
                    plugin_name,
                    version,
                    target_bm_versions,
                    notes,
                    package,
                    create=spec,
                    progress=progress,
                )
        return {"ok": True, **result.to_json()}

    doc = out.run(work)

    def human(console: Console) -> None:
        if doc["already_published"]:
            console.print(f"{plugin_name} {version} was already published; nothing sent")
        else:
            created = " (plugin created)" if doc["created_plugin"] else ""
            console.print(f"published {plugin_name} {version}{created}")

    out.emit(doc, human)
