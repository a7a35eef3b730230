"""The admin API under `/_emulator/` (for tests and demos; unauthenticated, loopback only).

- `GET  /_emulator/state`: every app's releases and every plugin (by package and user name;
  never a token or key)
- `GET  /_emulator/log`: method, path, endpoint, status, fault of every API request
- `POST /_emulator/reset`: forget releases, bundles, plugins, the log and the 429 counts
- `POST /_emulator/apps` `{"token", "package", "account"?}`; `POST /_emulator/users`
  `{"key", "name", "admin"?}`; `POST /_emulator/accounts` `{"name", "tokens": [...]}`
- `POST /_emulator/bazaar/{package}/publish` or `/reject`: decide the pending review
- `POST /_emulator/bazaar/{package}/bundle-error` `{"message"}`: make the bundle fail
- `PUT  /_emulator/faults` (see `Faults`)
- `GET|PUT /_emulator/quotas`: the quota settings (`{"default", "per_endpoint", "account",
  "key", "retry_after"}`, each quota `{"rate", "burst"}` or null); GET also answers
  `"throttled"`: the 429s so far per app, user, account and cause
- `GET|PUT /_emulator/quirks`: the quirks (`{"profile"?, <quirk>: value, ...}`; see `Quirks`)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from ._faults import Faults
from ._quirks import Quirks
from ._quotas import Quotas
from ._rules import bad_request
from ._state import App
from ._web import ADMIN, json_response

if TYPE_CHECKING:
    from ._server import Emulator

__all__ = ["admin_routes"]


def admin_routes(emu: Emulator) -> list[web.RouteDef]:
    world = emu.world

    async def body(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        try:
            data = msgspec.json.decode(raw) if raw.strip() else {}
        except msgspec.DecodeError:
            raise bad_request("expected a JSON object") from None
        if not isinstance(data, dict):
            raise bad_request("expected a JSON object")
        return data

    def required(data: dict[str, Any], *names: str) -> list[str]:
        missing = [n for n in names if not isinstance(data.get(n), str) or not data[n]]
        if missing:
            raise bad_request(f"required: {', '.join(missing)}")
        return [data[n] for n in names]

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
        token, package = required(data, "token", "package")
        account = data.get("account")
        emu.add_app(token, package, account=str(account) if account else None)
        return json_response(201, {"package": package, "account": account})

    async def add_user(request: web.Request) -> web.Response:
        data = await body(request)
        key, name = required(data, "key", "name")
        emu.add_user(key, name, admin=bool(data.get("admin", False)))
        return json_response(201, {"name": name})

    async def add_account(request: web.Request) -> web.Response:
        data = await body(request)
        (name,) = required(data, "name")
        tokens = data.get("tokens")
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise bad_request("tokens is a list of app tokens")
        try:
            emu.add_account(name, tokens)
        except KeyError as exc:
            raise bad_request(str(exc.args[0])) from None
        return json_response(201, {"name": name, "apps": len(tokens)})

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

    async def get_quotas(request: web.Request) -> web.Response:
        return json_response(200, {**emu.quotas.to_json(), "throttled": emu.throttled.to_json()})

    async def put_quotas(request: web.Request) -> web.Response:
        try:
            emu.set_quotas(Quotas.from_json(await body(request)))
        except (TypeError, ValueError) as exc:
            raise bad_request(f"bad quota: {exc}") from None
        return json_response(200, {"ok": True})

    async def get_quirks(request: web.Request) -> web.Response:
        return json_response(200, emu.quirks.to_json())

    async def put_quirks(request: web.Request) -> web.Response:
        try:
            emu.set_quirks(Quirks.from_json(await body(request), base=emu.quirks))
        except ValueError as exc:
            raise bad_request(str(exc)) from None
        return json_response(200, emu.quirks.to_json())

    return [
        web.get(ADMIN + "/state", state),
        web.get(ADMIN + "/log", request_log),
        web.post(ADMIN + "/reset", reset),
        web.post(ADMIN + "/apps", add_app),
        web.post(ADMIN + "/users", add_user),
        web.post(ADMIN + "/accounts", add_account),
        web.post(ADMIN + "/bazaar/{package}/{action:publish|reject}", decide),
        web.post(ADMIN + "/bazaar/{package}/bundle-error", bundle_error),
        web.put(ADMIN + "/faults", faults),
        web.get(ADMIN + "/quotas", get_quotas),
        web.put(ADMIN + "/quotas", put_quotas),
        web.get(ADMIN + "/quirks", get_quirks),
        web.put(ADMIN + "/quirks", put_quirks),
    ]
