"""The emulator's server: one aiohttp application serving both marketplaces and an admin API.

Every API request passes the *gate* once its credential is known: latency, then the server
quota, then the seeded fault plan. A refusal becomes the marketplace's documented error body;
anything unexpected becomes a 400 (bad input) or a 500, never a crash: the server keeps serving.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from .._config import is_loopback_host
from ._faults import (
    FaultDecision,
    FaultPlan,
    Faults,
    Quotas,
    ServerQuotas,
    html_error,
    retry_after_header,
)
from ._state import App, Refusal, World

__all__ = ["Emulator", "EmulatorThread"]

log = logging.getLogger("storepush.emulator")

ADMIN = "/_emulator"
PISHKHAN_PREFIX = "/v1"
MAX_UPLOAD = 4 * 1024**3

# What the middleware logs of each request, set by the handlers.
MARKETPLACE = web.RequestKey("marketplace", str)
WHO = web.RequestKey("who", str)
ENDPOINT = web.RequestKey("endpoint", str)
FAULT = web.RequestKey("fault", str)


class Dropped(Exception):
    """The emulator closed the connection on purpose (a fault)."""


def fingerprint(secret: str | None) -> str:
    if not secret:
        return "anonymous"
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=msgspec.json.encode(body),
        content_type="application/json",
        headers=headers,
    )


class Emulator:
    """Both marketplaces on one loopback port, stateful, with quotas and faults on demand.

    ``apps`` maps Pishkhan tokens to package names, ``users`` maps BlueMind API keys to user
    names (``admins`` are user names that may publish to any plugin). Use it as
    ``async with Emulator(...) as emu:`` inside a running loop; ``emu.bazaar_url`` and
    ``emu.bluemind_url`` are the base URLs to give the clients.
    """

    def __init__(
        self,
        *,
        apps: Mapping[str, str] | None = None,
        users: Mapping[str, str] | None = None,
        admins: tuple[str, ...] = (),
        faults: Faults | None = None,
        quotas: Quotas | None = None,
        review_seconds: float = 2.0,
        bundle_seconds: float = 2.0,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.port = port
        self.clock = clock
        self.world = World(
            clock=clock, review_seconds=review_seconds, bundle_seconds=bundle_seconds
        )
        for token, package in (apps or {}).items():
            self.add_app(token, package)
        for key, name in (users or {}).items():
            self.add_user(key, name, admin=name in admins)
        self.set_faults(faults or Faults())
        self.set_quotas(quotas or Quotas())
        self.log: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None

    # -- configuration ----------------------------------------------------------------------

    def add_app(self, token: str, package: str) -> None:
        self.world.apps[token] = App(package_name=package)

    def add_user(self, key: str, name: str, *, admin: bool = False) -> None:
        from ._state import User

        self.world.users[key] = User(name=name, admin=admin)

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self.plan = FaultPlan(faults)

    def set_quotas(self, quotas: Quotas) -> None:
        self.quotas = quotas
        self.server_quotas = ServerQuotas(quotas, self.clock)

    def reset(self) -> None:
        """Forget every release, bundle, plugin and log entry; keep apps and users."""
        for app in self.world.apps.values():
            app.releases.clear()
            app.bundle = None
        self.world.plugins.clear()
        self.log.clear()
        self.set_faults(self.faults)
        self.set_quotas(self.quotas)

    # -- life cycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def bazaar_url(self) -> str:
        return self.url + PISHKHAN_PREFIX

    @property
    def bluemind_url(self) -> str:
        return self.url

    def application(self) -> web.Application:
        from ._admin import admin_routes
        from ._bluemind import bluemind_routes
        from ._pishkhan import pishkhan_routes

        app = web.Application(middlewares=[self._middleware], client_max_size=1024 * 1024)
        app.add_routes(pishkhan_routes(self))
        app.add_routes(bluemind_routes(self))
        app.add_routes(admin_routes(self))
        return app

    async def start(self) -> None:
        if not is_loopback_host(self.host):
            log.warning(
                "the emulator is listening on %s, which is not a loopback address", self.host
            )
        self._runner = web.AppRunner(self.application(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- the gate ---------------------------------------------------------------------------

    async def gate(
        self,
        request: web.Request,
        *,
        endpoint: str,
        credential: str | None,
        mutating: bool = False,
        upload: bool = False,
    ) -> FaultDecision:
        """Latency, quota and faults for one request whose credential is known (and valid)."""
        fp = fingerprint(credential)
        request[ENDPOINT] = endpoint
        decision = self.plan.decide(fp, endpoint, mutating=mutating, upload=upload)
        if decision.delay:
            await asyncio.sleep(decision.delay)
        wait = self.server_quotas.admit(fp, endpoint)
        if wait is not None:
            request[FAULT] = "quota"
            raise self._throttled(request, wait if self.quotas.retry_after else None)
        if decision.kind == "throttle":
            request[FAULT] = "throttle"
            raise self._throttled(request, 1.0 if decision.retry_after else None)
        if decision.kind == "error":
            request[FAULT] = "error"
            raise html_reply(decision.status)
        if decision.kind is not None:
            request[FAULT] = decision.kind
        return decision

    def _throttled(self, request: web.Request, retry_after: float | None) -> Reply:
        headers = {"Retry-After": retry_after_header(retry_after)} if retry_after else {}
        if request.get(MARKETPLACE) == "bluemind":
            body: dict[str, str] = {"detail": "Request was throttled."}
        else:
            body = {"type": "too_many_requests", "message": "Too many requests"}
        return Reply(json_response(429, body, headers))

    # -- middleware: errors, log --------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        started = self.clock()
        status: int | str
        try:
            response = await handler(request)
            status = response.status
        except Reply as reply:
            response = reply.response
            status = response.status
        except Refusal as refusal:
            response = self.refusal_response(request, refusal)
            status = response.status
        except Dropped:
            status = "dropped"
            response = web.Response(status=499)
        except web.HTTPException as exc:
            self._record(request, started, exc.status)
            raise
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            # the client went away mid-request: nothing to answer
            log.debug("client disconnected: %s", type(exc).__name__)
            status = "disconnected"
            response = web.Response(status=499)
        except (
            ValueError,
            AssertionError,
            msgspec.DecodeError,
            UnicodeDecodeError,
            HttpProcessingError,
        ) as exc:
            log.debug("bad request: %s", exc)
            response = self.refusal_response(
                request, Refusal(400, "bad_request", "The request body is malformed.")
            )
            status = response.status
        self._record(request, started, status)
        return response

    def _record(self, request: web.Request, started: float, status: int | str) -> None:
        if request.path.startswith(ADMIN):
            return
        self.log.append(
            {
                "t": round(started, 6),
                "method": request.method,
                "path": request.path,
                "endpoint": request.get(ENDPOINT),
                "who": request.get(WHO),
                "status": status,
                "fault": request.get(FAULT),
                "elapsed": round(self.clock() - started, 6),
            }
        )

    def refusal_response(self, request: web.Request, refusal: Refusal) -> web.Response:
        if request.get(MARKETPLACE) == "bluemind" or request.path.startswith("/addons"):
            return json_response(refusal.status, {"detail": refusal.message})
        return json_response(
            refusal.status, {"type": refusal.error_type, "message": refusal.message}
        )

    # -- helpers for handlers -----------------------------------------------------------------

    def counts(self, *, status: int | None = None, endpoint: str | None = None) -> int:
        """How many logged requests match (a convenience for tests)."""
        return sum(
            1
            for entry in self.log
            if (status is None or entry["status"] == status)
            and (endpoint is None or entry["endpoint"] == endpoint)
        )


class EmulatorThread:
    """An :class:`Emulator` served from a background thread with its own event loop.

    For code that cannot share a loop with the emulator: synchronous tests (requests, curl,
    a subprocess), or tests on any async framework. ``with EmulatorThread(Emulator(...)) as
    emu:`` starts it and stops it. Read its state from the test only after calls complete.
    """

    def __init__(self, emulator: Emulator, *, timeout: float = 10.0) -> None:
        self.emulator = emulator
        self._timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self.emulator.start())
        except BaseException as exc:  # surfaced in __enter__
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self.emulator.stop())
            loop.close()

    def __enter__(self) -> Emulator:
        self._thread = threading.Thread(target=self._serve, name="storepush-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(self._timeout):
            raise RuntimeError("the emulator did not start in time")
        if self._error is not None:
            raise RuntimeError("the emulator could not start") from self._error
        return self.emulator

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(self._timeout)


class Reply(Exception):
    """Raise a ready response from anywhere in a handler."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def html_reply(status: int) -> Reply:
    return Reply(web.Response(status=status, text=html_error(status), content_type="text/html"))


def acted_or(decision: FaultDecision, response: web.Response) -> web.Response:
    """The real answer, or (an "acted, then failed" fault) a 5xx after the change was made."""
    if decision.kind == "acted":
        raise html_reply(decision.status)
    return response


async def drop_midway(request: web.Request, part: BodyPartReader) -> None:
    """Read a little of a file part, then close the connection (the "dropped upload" fault)."""
    await part.read_chunk(256 * 1024)
    transport = request.transport
    if transport is not None:
        transport.close()
    raise Dropped
