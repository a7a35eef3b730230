"""BlueMindClient's four endpoints against the emulator, and its request shape on the wire."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import TestServer

from storepush import (
    BlueMindClient,
    DecodeError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from storepush.bluemind import Paths, PluginSpec
from storepush.emulator import Emulator

from .conftest import BOB, KEY

Serve = Callable[..., Awaitable[TestServer]]


async def test_plugin_and_version(
    client: BlueMindClient, emu: Emulator, spec: PluginSpec, files: dict[str, Path]
) -> None:
    assert await client.list_plugins() == []
    plugin = await client.create_plugin(
        spec.name,
        spec.shortdesc,
        spec.description,
        spec.license,
        spec.installation_instructions,
        home_url=spec.home_url,
        thumbnail=spec.thumbnail,
        screenshots=spec.screenshots,
    )
    assert plugin is not None
    assert plugin.name == spec.name
    assert plugin.raw["thumbnail"]["sha1"] == hashlib.sha1(files["thumb"].read_bytes()).hexdigest()
    assert len(plugin.raw["screenshots"]) == 2
    [listed] = await client.list_plugins()
    assert listed.id == plugin.id
    progress: list[tuple[int, int]] = []
    upload = await client.add_version(
        spec.name,
        "1.0.2",
        "4.x",
        "Fixes",
        files["jar"],
        progress=lambda s, t: progress.append((s, t)),
    )
    assert upload.sha1 == hashlib.sha1(files["jar"].read_bytes()).hexdigest()
    assert upload.answer is not None
    assert progress[-1][0] == files["jar"].stat().st_size
    fetched = await client.get_plugin(plugin.id)
    assert fetched.has_version("1.0.2")
    assert fetched.current_version == "1.0.2"
    assert fetched.raw["versions"][0]["sha1"] == upload.sha1


async def test_other_users_plugin_is_403(
    client: BlueMindClient, emu: Emulator, spec: PluginSpec, files: dict[str, Path]
) -> None:
    await client.publish_version(spec.name, "1.0", "4.x", "first", files["jar"], create=spec)
    [plugin] = emu.world.plugins.values()
    async with BlueMindClient(BOB, base_url=emu.bluemind_url) as bob:
        with pytest.raises(PermissionDeniedError, match="another user"):
            await bob.get_plugin(plugin.id)
        with pytest.raises(PermissionDeniedError):
            await bob.add_version(spec.name, "2.0", "4.x", "mine now", files["jar"])
    with pytest.raises(NotFoundError):
        await client.get_plugin(9999)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"shortdesc": "  "}, "shortdesc"),
        ({"license": None}, "license"),
        ({"installation_instructions": 3}, "installation_instructions"),
        ({"home_url": "example.com"}, "home_url"),
        ({"thumbnail": "missing.png"}, "thumbnail"),
        ({"screenshots": "one.png"}, "screenshots"),
    ],
)
async def test_create_checks_before_sending(
    client: BlueMindClient, emu: Emulator, spec: PluginSpec, change: dict[str, Any], field: str
) -> None:
    values = {**spec.__dict__, **change}
    with pytest.raises(ValidationError) as info:
        await client.create_plugin(
            values["name"],
            values["shortdesc"],
            values["description"],
            values["license"],
            values["installation_instructions"],
            home_url=values["home_url"],
            thumbnail=values["thumbnail"],
            screenshots=values["screenshots"],
        )
    assert info.value.field == field
    assert emu.log == []


async def test_images_and_packages_checked_by_their_bytes(
    client: BlueMindClient, emu: Emulator, spec: PluginSpec, tmp_path: Path
) -> None:
    fake = tmp_path / "fake.png"
    fake.write_text("not an image at all")
    with pytest.raises(ValidationError, match="not an image") as info:
        await client.create_plugin(
            spec.name,
            "s",
            "d",
            "l",
            "i",
            screenshots=[spec.thumbnail, fake],  # type: ignore[list-item]
        )
    assert info.value.field == "screenshots[1]"
    jar = tmp_path / "broken.jar"
    jar.write_text("not a zip")
    with pytest.raises(ValidationError, match="not a JAR") as info:
        await client.add_version(spec.name, "1.0", "4.x", "n", jar)
    assert info.value.field == "package"
    with pytest.raises(ValidationError) as info:
        await client.add_version(spec.name, "", "4.x", "n", jar)
    assert info.value.field == "version"
    with pytest.raises(ValidationError) as info:
        await client.get_plugin("abc")
    assert info.value.field == "plugin_id"
    assert emu.log == []


async def test_key_travels_in_header_and_json_part(serve: Serve, files: dict[str, Path]) -> None:
    seen: list[dict[str, Any]] = []

    async def record(request: web.Request) -> web.Response:
        reader = await request.multipart()
        parts = []
        while (part := await reader.next()) is not None:
            data = await part.read()  # type: ignore[union-attr]
            parts.append((part.name, part.filename, part.headers.get("Content-Type"), data))  # type: ignore[union-attr]
        seen.append({"header": request.headers.get("api-key"), "parts": parts})
        return web.Response(status=204)  # an empty success: not an error

    server = await serve([web.post(Paths.PLUGIN_VERSION, record)])
    async with BlueMindClient(KEY, base_url=str(server.make_url(""))) as client:
        upload = await client.add_version("P", "1.0", "4.x", "n", files["jar"])
    assert upload.answer is None
    [request] = seen
    assert request["header"] == KEY
    name, filename, ctype, data = request["parts"][0]
    assert (name, filename, ctype) == ("json", None, None)
    assert json.loads(data) == {
        "api_key": KEY,
        "plugin_name": "P",
        "version": "1.0",
        "target_bm_versions": "4.x",
        "release_notes": "n",
    }
    assert request["parts"][1][:3] == ("package", "plugin.jar", "application/java-archive")


async def test_sdk_and_documented_requests_are_equivalent(
    serve: Serve, spec: PluginSpec, files: dict[str, Path]
) -> None:
    """The vendor's documented shape (requests, files=, data={'json': ...}) and the SDK's
    requests carry the same parts, JSON and file bytes."""
    captured: list[list[tuple[str | None, str | None, Any]]] = []

    async def record(request: web.Request) -> web.Response:
        reader = await request.multipart()
        parts = []
        while (part := await reader.next()) is not None:
            data = await part.read()  # type: ignore[union-attr]
            value: Any = json.loads(data) if part.name == "json" else hashlib.sha1(data).hexdigest()  # type: ignore[union-attr]
            parts.append((part.name, part.filename, value))  # type: ignore[union-attr]
        captured.append(parts)
        return web.json_response({"id": 1, "name": spec.name}, status=201)

    server = await serve([web.post(Paths.PLUGINS, record), web.post(Paths.PLUGIN_VERSION, record)])
    base = str(server.make_url(""))
    document = {
        "api_key": KEY,
        "name": spec.name,
        "shortdesc": spec.shortdesc,
        "description": spec.description,
        "license": spec.license,
        "installation_instructions": spec.installation_instructions,
        "home_url": spec.home_url,
    }
    version = {
        "api_key": KEY,
        "plugin_name": spec.name,
        "version": "1.0",
        "target_bm_versions": "4.x",
        "release_notes": "n",
    }

    def documented() -> None:
        with (
            open(files["thumb"], "rb") as t,
            open(files["shot1"], "rb") as s1,
            open(files["shot2"], "rb") as s2,
        ):
            requests.post(
                base + Paths.PLUGINS,
                timeout=10,
                data={"json": json.dumps(document)},
                files={
                    "thumbnail": ("logo.png", t),
                    "screenshot1": ("one.png", s1),
                    "screenshot2": ("two.png", s2),
                },
            )
        with open(files["jar"], "rb") as j:
            requests.post(
                base + Paths.PLUGIN_VERSION,
                timeout=10,
                data={"json": json.dumps(version)},
                files={"package": ("plugin.jar", j)},
            )

    await asyncio.to_thread(documented)
    async with BlueMindClient(KEY, base_url=base) as client:
        await client.create_plugin(
            spec.name,
            spec.shortdesc,
            spec.description,
            spec.license,
            spec.installation_instructions,
            home_url=spec.home_url,
            thumbnail=spec.thumbnail,
            screenshots=spec.screenshots,
        )
        await client.add_version(spec.name, "1.0", "4.x", "n", files["jar"])
    doc_create, doc_version, sdk_create, sdk_version = captured
    assert sdk_create == doc_create
    assert sdk_version == doc_version


@pytest.mark.parametrize(
    "body",
    [
        b'{"plugins": [{"id": 3, "name": "x", "extra": {"a": 1}}]}',
        b'{"results": [{"id": "3", "name": "x"}]}',
    ],
)
async def test_tolerant_list_shapes(serve: Serve, body: bytes) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    server = await serve([web.get(Paths.PLUGINS, answer)])
    async with BlueMindClient(KEY, base_url=str(server.make_url(""))) as client:
        [plugin] = await client.list_plugins()
    assert plugin.name == "x"


@pytest.mark.parametrize("body", [b'{"nothing": true}', b'[{"id": 1}]', b"<html>login</html>"])
async def test_unusable_answers_are_typed(serve: Serve, body: bytes) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/html")

    server = await serve([web.get(Paths.PLUGINS, answer)])
    async with BlueMindClient(KEY, base_url=str(server.make_url(""))) as client:
        with pytest.raises((DecodeError, ValidationError)):
            await client.list_plugins()
