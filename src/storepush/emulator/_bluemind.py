"""BlueMind MarketPlace routes: list and get plugins (GET, `api-key` header), create a plugin
and add a version (POST multipart: a `json` form part carrying `api_key`, and files).

The parts may come in any order (the documents fix none). A file part is streamed, counted and
hashed as it arrives, whether or not the `json` part came first: only its size, SHA-1 and first
bytes are ever needed, so nothing is spooled to disk. The request is authenticated (and passes
the gate) when the `json` part arrives, and refused at the end of the body if the key is wrong:
the outcome a Django service reaches after spooling the files. A slashless GET gets a 301 to
the slashed path (Django's APPEND_SLASH, which the vendor's HTTP client follows), and so does a
path with a doubled leading slash (`//addons/...`, which the vendor's sample builds).

The wire constants below are restated from the documents on purpose, not imported from the
SDK: `tests/emulator/test_wire_constants.py` holds the two copies against each other.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from .._formats import sniff_image
from ._faults import FaultDecision
from ._ingest import Ingested, drop_midway, ingest_file, open_form, read_text
from ._rules import Refusal, bad_request
from ._state import World
from ._web import (
    MARKETPLACE,
    MAX_UPLOAD,
    WHO,
    Dropped,
    Gate,
    acted_or,
    canonical,
    json_response,
    tolerant,
)

__all__ = ["Wire", "bluemind_routes"]


class Wire:
    """BlueMind's paths, its credential header, and the multipart convention's names."""

    API_KEY_HEADER = "api-key"
    API_KEY_FIELD = "api_key"
    JSON_PART = "json"
    PLUGINS = "/addons/api/plugins/"
    PLUGIN = "/addons/api/plugin/{id}/"
    PLUGIN_VERSION = "/addons/api/plugin_version/"


CREATE_FIELDS = ("name", "shortdesc", "description", "license", "installation_instructions")
VERSION_FIELDS = ("plugin_name", "version", "target_bm_versions", "release_notes")
_JSON_LIMIT = 1024 * 1024
_TEXT_LIMIT = 64 * 1024


def bluemind_routes(emu: Gate, world: World) -> list[web.RouteDef]:
    def user_of(request: web.Request, key: str | None) -> str:
        request[MARKETPLACE] = "bluemind"
        found_key, user = world.user(key)
        request[WHO] = user.name
        return found_key

    async def list_plugins(request: web.Request) -> web.Response:
        key = user_of(request, request.headers.get(Wire.API_KEY_HEADER))
        await emu.gate(request, endpoint="plugins", credential=key)
        return json_response(200, [p.to_json() for p in world.plugins_of(key)])

    async def get_plugin(request: web.Request) -> web.Response:
        key = user_of(request, request.headers.get(Wire.API_KEY_HEADER))
        await emu.gate(request, endpoint="plugin", credential=key)
        try:
            plugin_id = int(request.match_info["id"])
        except ValueError:
            raise Refusal(404, "not_found", "Not found.") from None
        return json_response(200, world.plugin(key, plugin_id).to_json())

    async def read_form(
        request: web.Request, endpoint: str, required: tuple[str, ...]
    ) -> tuple[str, dict[str, str], dict[str, Ingested], FaultDecision]:
        """The `json` part (authenticated, gated) and every file part, in any order."""
        request[MARKETPLACE] = "bluemind"
        doc: dict[str, Any] | None = None
        key = ""
        decision: FaultDecision | None = None
        files: dict[str, Ingested] = {}

        async def take_json(text: str) -> FaultDecision:
            nonlocal doc, key
            try:
                doc = msgspec.json.decode(text)
            except msgspec.DecodeError:
                raise bad_request("The json part is not valid JSON.") from None
            if not isinstance(doc, dict):
                raise bad_request("The json part must be a JSON object.")
            api_key = doc.get(Wire.API_KEY_FIELD) or request.headers.get(Wire.API_KEY_HEADER)
            key = user_of(request, api_key if isinstance(api_key, str) else None)
            return await emu.gate(
                request, endpoint=endpoint, credential=key, mutating=True, upload=True
            )

        if request.content_type == "application/x-www-form-urlencoded":
            # what requests sends for data={"json": ...} when there are no files
            form = await request.post()
            value = form.get(Wire.JSON_PART)
            if isinstance(value, str):
                decision = await take_json(value)
        else:
            reader = open_form(request, emu.quirks)
            while (part := await reader.next()) is not None:
                if part.name == Wire.JSON_PART and part.filename is None:
                    text = await read_text(reader, name=Wire.JSON_PART, limit=_JSON_LIMIT)
                    decision = await take_json(text)
                    if decision.kind == "drop" and files:
                        if request.transport is not None:
                            request.transport.close()
                        raise Dropped
                elif part.filename is not None:
                    if decision is not None and decision.kind == "drop":
                        await drop_midway(request, reader)
                    name = part.name or f"file{len(files) + 1}"
                    files[name] = await ingest_file(
                        reader,
                        max_size=MAX_UPLOAD,
                        filename=part.filename,
                        content_type=part.content_type,
                    )
                else:
                    await read_text(reader, name=part.name or "field", limit=_TEXT_LIMIT)
        if doc is None or decision is None:
            raise bad_request("The json part is required.")
        fields: dict[str, str] = {}
        for name in required:
            value = doc.get(name)
            if not isinstance(value, str) or not value.strip():
                raise bad_request(f"The field {name} is required.")
            fields[name] = value
        home = doc.get("home_url")
        if isinstance(home, str) and home:
            fields["home_url"] = home
        return key, fields, files, decision

    async def create_plugin(request: web.Request) -> web.Response:
        key, fields, files, decision = await read_form(request, "create", CREATE_FIELDS)
        for name, item in files.items():
            if sniff_image(item.head[:16]) is None:
                raise bad_request(f"The file {name} is not an image.")
        thumbnail = files.pop("thumbnail", None)
        plugin = world.create_plugin(
            key,
            fields,
            thumbnail.describe() if thumbnail else None,
            [item.describe() for item in files.values()],
        )
        return acted_or(decision, json_response(201, plugin.to_json()))

    async def add_version(request: web.Request) -> web.Response:
        key, fields, files, decision = await read_form(request, "plugin_version", VERSION_FIELDS)
        package = files.get("package")
        if package is None:
            raise bad_request("The package file is required.")
        plugin, version = world.add_version(key, fields, package.describe())
        return acted_or(
            decision,
            json_response(
                201,
                {
                    "plugin": plugin.id,
                    "name": plugin.name,
                    "version": version.version,
                    **version.package,
                },
            ),
        )

    return [
        web.get(tolerant(Wire.PLUGINS), canonical(emu, list_plugins)),
        web.get(tolerant(Wire.PLUGIN), canonical(emu, get_plugin)),
        web.post(tolerant(Wire.PLUGINS), canonical(emu, create_plugin)),
        web.post(tolerant(Wire.PLUGIN_VERSION), canonical(emu, add_version)),
    ]
