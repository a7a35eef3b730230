"""Pishkhan routes: the seven documented endpoints and the AAB flow, with the documented bodies.

Paths: ``/v1/apps/releases/`` (POST create, DELETE), ``upload/``, ``commit/``, ``upload-aab/``,
``upload-bin/`` (POST, trailing slash; without it the answer is a 301, as a Django service
gives, which drops a POST body), and the GETs ``last-committed``, ``last-uncommitted``,
``last-published``, ``bundle-status`` (with or without the slash).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import BodyPartReader, web

from ._ingest import Ingested, ingest_file, read_text
from ._server import (
    MARKETPLACE,
    MAX_UPLOAD,
    PISHKHAN_PREFIX,
    WHO,
    acted_or,
    drop_midway,
    json_response,
)
from ._state import App, Bundle, Package, bad_request

if TYPE_CHECKING:
    from ._server import Emulator

__all__ = ["pishkhan_routes"]

SECRET_HEADER = "CAFEBAZAAR-PISHKHAN-API-SECRET"  # noqa: S105 - a header name
ARCHITECTURES = ("all", "armeabi-v7a", "arm64-v8a")
BASE = PISHKHAN_PREFIX + "/apps/releases"

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


def success(message: str, status: int = 200, **extra: Any) -> web.Response:
    return json_response(status, {"type": "success", "message": message, **extra})


def pishkhan_routes(emu: Emulator) -> list[web.RouteDef]:
    world = emu.world

    def app_of(request: web.Request) -> tuple[App, str | None]:
        request[MARKETPLACE] = "bazaar"
        token = request.headers.get(SECRET_HEADER)
        app = world.app(token)
        request[WHO] = app.package_name
        return app, token

    async def file_parts(
        request: web.Request, file_field: str, decision_kind: str | None
    ) -> tuple[dict[str, str], Ingested | None]:
        if not request.content_type.startswith("multipart/"):
            raise bad_request("Expected a multipart/form-data body.")
        reader = await request.multipart()
        fields: dict[str, str] = {}
        ingested = None
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise bad_request("Nested multipart bodies are not accepted.")
            if part.name == file_field and part.filename is not None:
                if decision_kind == "drop":
                    await drop_midway(request, part)
                ingested = await ingest_file(part, max_size=MAX_UPLOAD)
            elif part.name and part.filename is None:
                fields[part.name] = await read_text(part, name=part.name, limit=64 * 1024)
            else:
                while await part.read_chunk(1024 * 1024):
                    pass
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
        architecture = fields.get("architecture", request.query.get("architecture"))
        if architecture not in ARCHITECTURES:
            raise bad_request(f"architecture must be one of {', '.join(ARCHITECTURES)}.")
        if ingested is None:
            raise bad_request("The apk field is required.")
        if not ingested.is_zip():
            raise bad_request("The uploaded file is not a valid APK.")
        manifest = ingested.manifest()
        package = Package(
            apk_size=ingested.size,
            sha1_hash=ingested.sha1,
            version_code=manifest.version_code if manifest else None,
            version_name=manifest.version_name if manifest else None,
            upload_date=datetime.now(UTC).strftime("%Y-%m-%d"),
            architecture=architecture,
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

    def last(which: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            app, token = app_of(request)
            await emu.gate(request, endpoint=f"last-{which}", credential=token)
            release = world.last(app, which)
            if release is None:
                return json_response(200, {"type": "not-exists", "message": _NOT_EXISTS[which]})
            return success(_LAST_MESSAGES[which], release=release.to_json())

        return handler

    def bundle_json(bundle: Bundle) -> dict[str, Any]:
        now = emu.clock()
        state = bundle.state(now, world.bundle_seconds)
        return {
            "state": state,
            "errors": bundle.errors() if state == "E" else [],
            "sha1": bundle.sha1,
            "size": bundle.size,
            "package_name": bundle.package_name,
        }

    async def upload_aab(request: web.Request) -> web.Response:
        app, token = app_of(request)
        decision = await emu.gate(
            request, endpoint="upload-aab", credential=token, mutating=True, upload=True
        )
        world.require_draft(app)
        _, ingested = await file_parts(request, "aab", decision.kind)
        if ingested is None:
            raise bad_request("The aab field is required.")
        names: set[str] = set()
        if ingested.is_zip():
            import zipfile

            try:
                with zipfile.ZipFile(ingested.zip_view()) as archive:
                    names = set(archive.namelist())
            except (zipfile.BadZipFile, ValueError, OSError):
                names = set()
        valid = "BundleConfig.pb" in names or "base/manifest/AndroidManifest.xml" in names
        app.bundle = Bundle(
            sha1=ingested.sha1,
            size=ingested.size,
            uploaded_at=emu.clock(),
            valid=valid,
            package_name=app.package_name,
        )
        warnings = [] if valid else ["The file does not look like an Android App Bundle."]
        return acted_or(
            decision,
            success(
                "Bundle successfully uploaded.", bundle=bundle_json(app.bundle), warnings=warnings
            ),
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
            raise bad_request("The file field is required.")
        bundle.bin_at = emu.clock()
        return acted_or(
            decision, success("Bin file successfully uploaded.", bundle=bundle_json(bundle))
        )

    async def bundle_status(request: web.Request) -> web.Response:
        app, token = app_of(request)
        await emu.gate(request, endpoint="bundle-status", credential=token)
        bundle = app.bundle
        if bundle is None:
            return json_response(200, {"type": "not-exists", "message": "There is not a bundle."})
        body = bundle_json(bundle)
        draft = app.draft
        done = body["state"] == "D" and draft is not None
        if done and draft and not any(p.sha1_hash == bundle.sha1 for p in draft.packages):
            draft.packages.append(
                Package(
                    apk_size=bundle.size,
                    sha1_hash=bundle.sha1,
                    version_code=None,
                    version_name=None,
                    upload_date=datetime.now(UTC).strftime("%Y-%m-%d"),
                    kind="aab",
                )
            )
        return success("Bundle status successfully retrived.", bundle=body)

    async def add_slash(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(request.path + "/")

    routes = [
        web.post(BASE + "/", create),
        web.delete(BASE + "/", delete),
        web.post(BASE + "/upload/", upload),
        web.post(BASE + "/commit/", commit),
        web.post(BASE + "/upload-aab/", upload_aab),
        web.post(BASE + "/upload-bin/", upload_bin),
    ]
    for path in ("", "/upload", "/commit", "/upload-aab", "/upload-bin"):
        routes.append(web.post(BASE + path, add_slash))
    routes.append(web.delete(BASE, add_slash))
    for which in ("committed", "uncommitted", "published"):
        handler = last(which)
        routes.append(web.get(f"{BASE}/last-{which}", handler))
        routes.append(web.get(f"{BASE}/last-{which}/", handler))
    routes.append(web.get(BASE + "/bundle-status", bundle_status))
    routes.append(web.get(BASE + "/bundle-status/", bundle_status))
    return routes
