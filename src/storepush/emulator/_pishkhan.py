"""Pishkhan routes: the seven documented endpoints and the AAB flow, with the documented bodies.

Handlers only parse: the token, the form, the JSON body. Every rule (drafts, version codes per
architecture, the architecture field, bundle processing) is the state model's (`_state.py`,
`_rules.py`). Paths are served under `/v1` as on the live base URL. POST and DELETE paths
carry a trailing slash; without it the answer is a 301, as a Django service gives (or the
request is served, with the `slashless_post` quirk). The GETs answer with or without it.

The wire constants below are restated from the documents on purpose, not imported from the
SDK: `tests/emulator/test_wire_constants.py` holds the two copies against each other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from aiohttp import web

from .._formats import MANIFEST, is_bundle, native_abis
from ._ingest import Ingested, drop_midway, ingest_file, open_form, read_text
from ._rules import bad_request, choose_architecture
from ._state import App, Bundle, Package, World
from ._web import (
    MARKETPLACE,
    MAX_UPLOAD,
    PISHKHAN_PREFIX,
    WHO,
    Gate,
    Handler,
    acted_or,
    canonical,
    json_response,
    tolerant,
)

__all__ = ["Wire", "pishkhan_routes"]


class Wire:
    """Pishkhan's paths (below the `/v1` base URL) and its credential header."""

    SECRET_HEADER = "CAFEBAZAAR-PISHKHAN-API-SECRET"  # noqa: S105 - a header name
    CREATE = "/apps/releases/"
    DELETE = "/apps/releases/"
    UPLOAD = "/apps/releases/upload/"
    COMMIT = "/apps/releases/commit/"
    LAST_COMMITTED = "/apps/releases/last-committed"
    LAST_UNCOMMITTED = "/apps/releases/last-uncommitted"
    LAST_PUBLISHED = "/apps/releases/last-published"
    UPLOAD_AAB = "/apps/releases/upload-aab/"
    UPLOAD_BIN = "/apps/releases/upload-bin/"
    BUNDLE_STATUS = "/apps/releases/bundle-status/"


_NOT_EXISTS = {
    "committed": "There is not a committed release.",
    "uncommitted": "There is not an uncommitted release.",
    "published": "There is not a published release.",
}
_LAST_MESSAGES = {
    "committed": "Last committed release successfully retrived.",
    "uncommitted": "Last uncommitted release successfully retrived.",
    "published": "Last published release successfully retrived.",
}
_TEXT_LIMIT = 64 * 1024


def success(message: str, status: int = 200, **extra: Any) -> web.Response:
    return json_response(status, {"type": "success", "message": message, **extra})


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def pishkhan_routes(emu: Gate, world: World) -> list[web.RouteDef]:
    def app_of(request: web.Request) -> tuple[App, str | None]:
        request[MARKETPLACE] = "bazaar"
        token = request.headers.get(Wire.SECRET_HEADER)
        app = world.app(token)
        request[WHO] = app.package_name
        return app, token

    async def file_parts(
        request: web.Request, file_field: str, decision_kind: str | None
    ) -> tuple[dict[str, str], Ingested | None]:
        """The form's text fields and its file part (streamed, hashed, never kept whole)."""
        reader = open_form(request, emu.quirks)
        fields: dict[str, str] = {}
        ingested = None
        while (part := await reader.next()) is not None:
            if part.name == file_field and part.filename is not None:
                if decision_kind == "drop":
                    await drop_midway(request, reader)
                ingested = await ingest_file(
                    reader,
                    max_size=MAX_UPLOAD,
                    filename=part.filename,
                    content_type=part.content_type,
                )
            elif part.name and part.filename is None:
                fields[part.name] = await read_text(reader, name=part.name, limit=_TEXT_LIMIT)
        return fields, ingested

    async def create(request: web.Request) -> web.Response:
        app, token = app_of(request)
        decision = await emu.gate(request, endpoint="create", credential=token, mutating=True)
        release = world.create_release(app)
        return acted_or(
            decision,
            success("New Release successfully created.", 201, release=release.to_json()),
        )

    async def delete(request: web.Request) -> web.Response:
        app, token = app_of(request)
        decision = await emu.gate(request, endpoint="delete", credential=token, mutating=True)
        world.delete_release(app)
        return acted_or(decision, success("Release successfully deleted."))

    async def upload(request: web.Request) -> web.Response:
        app, token = app_of(request)
        decision = await emu.gate(
            request, endpoint="upload", credential=token, mutating=True, upload=True
        )
        world.require_draft(app)
        fields, ingested = await file_parts(request, "apk", decision.kind)
        try:
            architecture = choose_architecture(
                fields.get("architecture"), request.query.get("architecture"), emu.quirks
            )
        except ValueError as exc:
            raise bad_request(str(exc)) from None
        if ingested is None:
            raise bad_request("The field apk is required: the APK file, as a file part.")
        names = ingested.zip_names()
        if names is None and not ingested.is_zip():
            raise bad_request("The uploaded file is not a valid APK.")
        if names is not None and MANIFEST not in names:
            raise bad_request(f"The uploaded file is not a valid APK: it has no {MANIFEST}.")
        manifest = ingested.manifest()
        package = Package(
            apk_size=ingested.size,
            sha1_hash=ingested.sha1,
            version_code=manifest.version_code if manifest else None,
            version_name=manifest.version_name if manifest else None,
            upload_date=_today(),
            architecture=architecture,
            abis=native_abis(names) if names is not None else None,
        )
        world.add_package(app, package, manifest.package if manifest else None)
        return acted_or(
            decision,
            success("Package successfully added to release.", package=package.to_json()),
        )

    async def commit(request: web.Request) -> web.Response:
        app, token = app_of(request)
        decision = await emu.gate(request, endpoint="commit", credential=token, mutating=True)
        world.require_draft(app)
        raw = await request.read()
        try:
            body = msgspec.json.decode(raw) if raw.strip() else {}
        except msgspec.DecodeError:
            raise bad_request("The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        release = world.commit(app, body)
        return acted_or(
            decision,
            success("Release successfully committed.", release=release.to_json(full=True)),
        )

    def last(which: str) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            app, token = app_of(request)
            await emu.gate(request, endpoint=f"last-{which}", credential=token)
            release = world.last(app, which)
            if release is not None:
                return success(_LAST_MESSAGES[which], release=release.to_json())
            if which == "uncommitted" and emu.quirks.empty_draft == "null":
                return success(_LAST_MESSAGES[which], release=None)
            return json_response(200, {"type": "not-exists", "message": _NOT_EXISTS[which]})

        return handler

    async def upload_aab(request: web.Request) -> web.Response:
        app, token = app_of(request)
        decision = await emu.gate(
            request, endpoint="upload-aab", credential=token, mutating=True, upload=True
        )
        world.require_draft(app)
        _, ingested = await file_parts(request, "aab", decision.kind)
        if ingested is None:
            raise bad_request("The field aab is required: the app bundle, as a file part.")
        names = ingested.zip_names()
        if names is None or not is_bundle(names):
            raise bad_request(
                "The uploaded file is not a valid Android App Bundle: "
                "it has no base/manifest/AndroidManifest.xml."
            )
        manifest = ingested.bundle_manifest()
        bundle = Bundle(
            sha1=ingested.sha1,
            size=ingested.size,
            uploaded_at=emu.clock(),
            valid=True,
            package_name=(manifest.package if manifest else None) or app.package_name,
            version_code=manifest.version_code if manifest else None,
            version_name=manifest.version_name if manifest else None,
            abis=native_abis(names, bundle=True),
        )
        world.add_bundle(app, bundle)
        return acted_or(
            decision,
            success("Bundle successfully uploaded.", bundle=world.bundle_json(app), warnings=[]),
        )

    async def upload_bin(request: web.Request) -> web.Response:
        app, token = app_of(request)
        decision = await emu.gate(
            request, endpoint="upload-bin", credential=token, mutating=True, upload=True
        )
        bundle = app.bundle
        if bundle is None or bundle.bin_at is not None:
            raise bad_request("There is not a bundle waiting for its bin file.")
        _, ingested = await file_parts(request, "file", decision.kind)
        if ingested is None:
            raise bad_request("The field file is required: the .bin file, as a file part.")
        world.add_bin(app)
        return acted_or(
            decision, success("Bin file successfully uploaded.", bundle=world.bundle_json(app))
        )

    async def bundle_status(request: web.Request) -> web.Response:
        app, token = app_of(request)
        await emu.gate(request, endpoint="bundle-status", credential=token)
        found = world.bundle_json(app)
        if found is None:
            return json_response(200, {"type": "not-exists", "message": "There is not a bundle."})
        return success("Bundle status successfully retrived.", bundle=found)

    def at(path: str) -> str:
        return tolerant(PISHKHAN_PREFIX + path)

    routes = [
        web.post(at(Wire.CREATE), canonical(emu, create)),
        web.delete(at(Wire.DELETE), canonical(emu, delete)),
        web.post(at(Wire.UPLOAD), canonical(emu, upload)),
        web.post(at(Wire.COMMIT), canonical(emu, commit)),
        web.post(at(Wire.UPLOAD_AAB), canonical(emu, upload_aab)),
        web.post(at(Wire.UPLOAD_BIN), canonical(emu, upload_bin)),
        web.get(at(Wire.BUNDLE_STATUS), canonical(emu, bundle_status, either_slash=True)),
    ]
    for which, path in (
        ("committed", Wire.LAST_COMMITTED),
        ("uncommitted", Wire.LAST_UNCOMMITTED),
        ("published", Wire.LAST_PUBLISHED),
    ):
        routes.append(web.get(at(path), canonical(emu, last(which), either_slash=True)))
    return routes
