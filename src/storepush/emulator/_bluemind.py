"""BlueMind MarketPlace routes: list and get plugins (GET, ``api-key`` header), create a plugin
and add a version (POST multipart: a ``json`` form part carrying ``api_key``, then files).

File parts are streamed, hashed and described, never kept. A thumbnail and screenshots must be
images by their bytes; a version's ``package`` is required.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import BodyPartReader, web

from ._ingest import Ingested, ingest_file, read_text
from ._server import MARKETPLACE, MAX_UPLOAD, WHO, acted_or, drop_midway, json_response
from ._state import Refusal, bad_request

if TYPE_CHECKING:
    from ._faults import FaultDecision
    from ._server import Emulator

__all__ = ["bluemind_routes"]

API = "/addons/api"
CREATE_FIELDS = ("name", "shortdesc", "description", "license", "installation_instructions")
VERSION_FIELDS = ("plugin_name", "version", "target_bm_versions", "release_notes")
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")


def is_image(head: bytes) -> bool:
    return head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def bluemind_routes(emu: Emulator) -> list[web.RouteDef]:
    world = emu.world

    def user_of(request: web.Request, key: str | None) -> str:
        request[MARKETPLACE] = "bluemind"
        found_key, user = world.user(key)
        request[WHO] = user.name
        return found_key

    async def list_plugins(request: web.Request) -> web.Response:
        request[MARKETPLACE] = "bluemind"
        key = user_of(request, request.headers.get("api-key"))
        await emu.gate(request, endpoint="plugins", credential=key)
        return json_response(200, [p.to_json() for p in world.plugins_of(key)])

    async def get_plugin(request: web.Request) -> web.Response:
        request[MARKETPLACE] = "bluemind"
        key = user_of(request, request.headers.get("api-key"))
        await emu.gate(request, endpoint="plugin", credential=key)
        try:
            plugin_id = int(request.match_info["plugin_id"])
        except ValueError:
            raise Refusal(404, "not_found", "Not found.") from None
        return json_response(200, world.plugin(key, plugin_id).to_json())

    async def read_form(
        request: web.Request, endpoint: str, required: tuple[str, ...]
    ) -> tuple[str, dict[str, str], dict[str, Ingested], FaultDecision]:
        """The ``json`` part (authenticated, gated) and every file part, streamed."""
        request[MARKETPLACE] = "bluemind"
        doc: dict[str, Any] | None = None
        key = ""
        decision = None
        files: dict[str, Ingested] = {}
        index = 0

        async def take_json(text: str) -> None:
            nonlocal doc, key, decision
            try:
                doc = msgspec.json.decode(text)
            except msgspec.DecodeError:
                raise bad_request("The json part is not valid JSON.") from None
            if not isinstance(doc, dict):
                raise bad_request("The json part must be a JSON object.")
            api_key = doc.get("api_key") or request.headers.get("api-key")
            key = user_of(request, api_key if isinstance(api_key, str) else None)
            decision = await emu.gate(
                request, endpoint=endpoint, credential=key, mutating=True, upload=True
            )

        if request.content_type == "application/x-www-form-urlencoded":
            # what requests sends for data={"json": ...} when there are no files
            form = await request.post()
            value = form.get("json")
            if isinstance(value, str):
                await take_json(value)
            reader = None
        elif request.content_type.startswith("multipart/"):
            reader = await request.multipart()
        else:
            raise bad_request("Expected a multipart/form-data body with a json part.")
        while reader is not None and (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise bad_request("Nested multipart bodies are not accepted.")
            if part.name == "json" and part.filename is None:
                await take_json(await read_text(part, name="json", limit=1024 * 1024))
            elif part.filename is not None:
                if decision is None:
                    raise bad_request("The json part must come before the files.")
                if decision.kind == "drop":
                    await drop_midway(request, part)
                index += 1
                files[part.name or f"file{index}"] = await ingest_file(part, max_size=MAX_UPLOAD)
            else:
                await read_text(part, name=part.name or "field", limit=64 * 1024)
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
            if not is_image(item.head):
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
        web.get(API + "/plugins/", list_plugins),
        web.get(API + "/plugin/{plugin_id}/", get_plugin),
        web.post(API + "/plugins/", create_plugin),
        web.post(API + "/plugin_version/", add_version),
    ]
