"""The admin API under ``/_emulator/`` (for tests and demos; unauthenticated, loopback only).

- ``GET  /_emulator/state``: every app's releases and every plugin (by package and user name;
  never a token or key)
- ``GET  /_emulator/log``: method, path, endpoint, status, fault of every API request
- ``POST /_emulator/reset``: forget releases, bundles, plugins and the log
- ``POST /_emulator/apps`` ``{"token", "package"}``; ``POST /_emulator/users`` ``{"key", "name"}``
- ``POST /_emulator/bazaar/{package}/publish`` or ``/reject``: decide the pending review
- ``POST /_emulator/bazaar/{package}/bundle-error`` ``{"message"}``: make the bundle fail
- ``PUT  /_emulator/faults`` (see :class:`Faults`), ``PUT /_emulator/quotas``
  ``{"default": {"rate", "burst"} | null, "per_endpoint": {...}, "retry_after": bool}``
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from ._faults import Faults, Quota, Quotas
from ._server import ADMIN, json_response
from ._state import App, bad_request

if TYPE_CHECKING:
    from ._server import Emulator

__all__ = ["admin_routes"]


def _quota(value: Any) -> Quota | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("a quota is {rate, burst} or null")
    return Quota(rate=float(value["rate"]), burst=int(value.get("burst", 1)))


def admin_routes(emu: Emulator) -> list[web.RouteDef]:
    world = emu.world

    async def body(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        data = msgspec.json.decode(raw) if raw.strip() else {}
        if not isinstance(data, dict):
            raise bad_request("expected a JSON object")
        return data

    def app_named(package: str) -> App:
        for app in world.apps.values():
            if app.package_name == package:
                return app
        raise web.HTTPNotFound(text=f"no app {package}")

    async def state(request: web.Request) -> web.Response:
        return json_response(200, world.dump())

    async def request_log(request: web.Request) -> web.Response:
        return json_response(200, emu.log)

    async def reset(request: web.Request) -> web.Response:
        emu.reset()
        return json_response(200, {"reset": True})

    async def add_app(request: web.Request) -> web.Response:
        data = await body(request)
        emu.add_app(str(data["token"]), str(data["package"]))
        return json_response(201, {"package": data["package"]})

    async def add_user(request: web.Request) -> web.Response:
        data = await body(request)
        emu.add_user(str(data["key"]), str(data["name"]), admin=bool(data.get("admin", False)))
        return json_response(201, {"name": data["name"]})

    async def decide(request: web.Request) -> web.Response:
        app = app_named(request.match_info["package"])
        decision = {"publish": "published", "reject": "rejected"}[request.match_info["action"]]
        release = world.decide(app, decision)
        return json_response(200, {"id": release.id, "decision": release.decision})

    async def bundle_error(request: web.Request) -> web.Response:
        app = app_named(request.match_info["package"])
        if app.bundle is None:
            raise bad_request("no bundle")
        app.bundle.forced_error = str((await body(request)).get("message", "Processing failed."))
        return json_response(200, {"ok": True})

    async def faults(request: web.Request) -> web.Response:
        try:
            emu.set_faults(Faults.from_json(await body(request)))
        except (TypeError, ValueError) as exc:
            raise bad_request(str(exc)) from None
        return json_response(200, {"ok": True})

    async def quotas(request: web.Request) -> web.Response:
        data = await body(request)
        try:
            emu.set_quotas(
                Quotas(
                    default=_quota(data.get("default")),
                    per_endpoint={
                        k: q for k, v in data.get("per_endpoint", {}).items() if (q := _quota(v))
                    },
                    retry_after=bool(data.get("retry_after", False)),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise bad_request(f"bad quota: {exc}") from None
        return json_response(200, {"ok": True})

    return [
        web.get(ADMIN + "/state", state),
        web.get(ADMIN + "/log", request_log),
        web.post(ADMIN + "/reset", reset),
        web.post(ADMIN + "/apps", add_app),
        web.post(ADMIN + "/users", add_user),
        web.post(ADMIN + "/bazaar/{package}/{action:publish|reject}", decide),
        web.post(ADMIN + "/bazaar/{package}/bundle-error", bundle_error),
        web.put(ADMIN + "/faults", faults),
        web.put(ADMIN + "/quotas", quotas),
    ]
