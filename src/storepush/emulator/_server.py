"""The emulator's server: one aiohttp application serving both marketplaces and an admin API.

Every API request passes the *gate* once its credential is known: latency, then the server
quotas, then the seeded fault plan. A refusal becomes the marketplace's documented error body,
and so does every other answer on a store's path: an unknown path, a wrong method, a malformed
or even unparseable request (`_protocol.py`). Anything unexpected becomes a 400 (bad input) or
a 500, never a crash: the server keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import msgspec
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from .._config import is_loopback_host
from .._formats import fingerprint
from ._admin import admin_routes
from ._bluemind import bluemind_routes
from ._faults import FaultDecision, FaultPlan, Faults, retry_after_header
from ._multipart import MultipartError
from ._pishkhan import pishkhan_routes
from ._plugins import User
from ._protocol import EnvelopeRunner
from ._quirks import Quirks
from ._quotas import Quotas, ServerQuotas, ThrottleCounts
from ._rules import Refusal, bad_request
from ._state import App, World
from ._web import (
    ADMIN,
    ENDPOINT,
    FAULT,
    MARKETPLACE,
    PISHKHAN_PREFIX,
    WHO,
    Dropped,
    Reply,
    error_response,
    html_reply,
    marketplace_of,
)

__all__ = ["Emulator", "EmulatorThread"]

log = logging.getLogger("storepush.emulator")

#: aiohttp's buffer for one request body: large, so uploads flow without pausing the socket.
READ_BUFFER = 1024 * 1024


class Emulator:
    """Both marketplaces on one loopback port, stateful, with quotas and faults on demand.

    `apps` maps Pishkhan tokens to package names, `users` maps BlueMind API keys to user
    names (`admins` are user names that may publish to any plugin), `accounts` maps an account
    name to the app tokens it holds (for the account-wide quota). `quirks` (a `Quirks`, or a
    profile name: `strict`, the default, or `lenient`) settles what the evidence leaves open.
    Use it as `async with Emulator(...) as emu:` inside a running loop; `emu.bazaar_url` and
    `emu.bluemind_url` are the base URLs to give the clients.
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
        quirks: Quirks | str | None = None,
        accounts: Mapping[str, Iterable[str]] | None = None,
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
        for account, tokens in (accounts or {}).items():
            self.add_account(account, tokens)
        self.set_quirks(quirks if quirks is not None else Quirks())
        self.set_faults(faults or Faults())
        self.set_quotas(quotas or Quotas())
        self.log: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None

    # -- configuration ----------------------------------------------------------------------

    def add_app(self, token: str, package: str, *, account: str | None = None) -> None:
        self.world.apps[token] = App(package_name=package, account=account)

    def add_user(self, key: str, name: str, *, admin: bool = False) -> None:
        self.world.users[key] = User(name=name, admin=admin)

    def add_account(self, name: str, tokens: Iterable[str]) -> None:
        """Put the apps of `tokens` (already added) in account `name`.

        Raises:
            KeyError: a token of no app.
        """
        tokens = list(tokens)
        unknown = [t for t in tokens if t not in self.world.apps]
        if unknown:
            raise KeyError(f"account {name}: {len(unknown)} token(s) belong to no app")
        for token in tokens:
            self.world.apps[token].account = name

    @property
    def quirks(self) -> Quirks:
        """The quirks in force (see `Quirks`)."""
        return self._quirks

    def set_quirks(self, quirks: Quirks | str) -> None:
        self._quirks = Quirks.profile(quirks) if isinstance(quirks, str) else quirks

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self.plan = FaultPlan(faults)

    def set_quotas(self, quotas: Quotas) -> None:
        self.quotas = quotas
        self.server_quotas = ServerQuotas(quotas, self.clock)
        self.throttled = ThrottleCounts()

    def reset(self) -> None:
        """Forget every release, bundle, plugin, log entry and 429 count; keep apps, users,
        accounts, quirks and settings."""
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
        """The Pishkhan base URL (as `https://api.pishkhan.cafebazaar.ir/v1` is live)."""
        return self.url + PISHKHAN_PREFIX

    @property
    def bluemind_url(self) -> str:
        """The BlueMind base URL (as `https://marketplace.blue-mind.net` is live): the API's
        paths, `/addons/api/...`, go after it."""
        return self.url

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1024 * 1024)
        app.add_routes(pishkhan_routes(self, self.world))
        app.add_routes(bluemind_routes(self, self.world))
        app.add_routes(admin_routes(self))
        return app

    async def start(self) -> None:
        """Listen. Raises `OSError` when the port is taken."""
        if not is_loopback_host(self.host):
            log.warning(
                "the emulator is listening on %s, which is not a loopback address", self.host
            )
        runner = EnvelopeRunner(
            self.application(),
            quirks_of=lambda: self.quirks,
            access_log=None,
            handle_signals=False,
            read_bufsize=READ_BUFFER,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
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
        """Latency, quotas and faults for one request whose credential is known (and valid)."""
        fp = fingerprint(credential) if credential else "anonymous"
        store = request.get(MARKETPLACE) or marketplace_of(request.path) or "bazaar"
        app = self.world.apps.get(credential or "") if store == "bazaar" else None
        account = app.account if app is not None else None
        request[ENDPOINT] = endpoint
        # the plan draws from the fingerprint's first 12 digits, as it always has: a seed
        # gives the same faults as it did in earlier versions
        decision = self.plan.decide(fp[:12], endpoint, mutating=mutating, upload=upload)
        if decision.delay:
            await asyncio.sleep(decision.delay)
        transport = request.transport
        if transport is None or transport.is_closing():
            # the client went away while the answer was delayed: the request is not acted on
            raise ConnectionResetError("the client closed the connection")
        throttle = self.server_quotas.admit(fp, endpoint, marketplace=store, account=account)
        if throttle is not None:
            request[FAULT] = "quota"
            self._count_429(request, store, account, throttle.scope)
            raise self._throttled(request, throttle.wait if self.quotas.retry_after else None)
        if decision.kind == "throttle":
            request[FAULT] = "throttle"
            self._count_429(request, store, account, "fault")
            raise self._throttled(request, 1.0 if decision.retry_after else None)
        if decision.kind == "error":
            request[FAULT] = "error"
            raise html_reply(decision.status)
        if decision.kind is not None:
            request[FAULT] = decision.kind
        return decision

    def _count_429(self, request: web.Request, store: str, account: str | None, cause: str) -> None:
        who = request.get(WHO) or "anonymous"
        self.throttled.record(marketplace=store, who=who, account=account, cause=cause)

    def _throttled(self, request: web.Request, retry_after: float | None) -> Reply:
        headers = {"Retry-After": retry_after_header(retry_after)} if retry_after else {}
        if request.get(MARKETPLACE) == "bluemind":
            refusal = Refusal(429, "throttled", "Request was throttled.")
        else:
            refusal = Refusal(429, "too_many_requests", "Too many requests")
        return Reply(self.refusal_response(request, refusal, headers))

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
            if marketplace_of(request.path) is None or exc.status < 400:
                self._record(request, started, exc.status)
                raise
            response = self.refusal_response(request, _refusal_for(request, exc))
            status = response.status
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            # the client went away mid-request: nothing to answer
            log.debug("client disconnected: %s", type(exc).__name__)
            status = "disconnected"
            response = web.Response(status=499)
        except (
            MultipartError,
            ValueError,
            AssertionError,
            msgspec.DecodeError,
            UnicodeDecodeError,
            HttpProcessingError,
        ) as exc:
            log.debug("bad request: %s", type(exc).__name__)
            response = self.refusal_response(request, bad_request("The request body is malformed."))
            status = response.status
        except Exception as exc:  # a bug of the emulator's: answered, logged, never a crash
            log.error("the emulator failed on %s %s: %r", request.method, request.path, exc)
            failure = Refusal(500, "server_error", "The emulator failed on this request.")
            response = self.refusal_response(request, failure)
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

    def refusal_response(
        self,
        request: web.Request,
        refusal: Refusal,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        """A refusal in the envelope of the store the request was for."""
        return error_response(
            request.path,
            refusal,
            self.quirks,
            marketplace=request.get(MARKETPLACE),
            headers=headers,
        )

    # -- helpers for tests -----------------------------------------------------------------

    def counts(self, *, status: int | None = None, endpoint: str | None = None) -> int:
        """How many logged requests match (a convenience for tests)."""
        return sum(
            1
            for entry in self.log
            if (status is None or entry["status"] == status)
            and (endpoint is None or entry["endpoint"] == endpoint)
        )


def _refusal_for(request: web.Request, exc: web.HTTPException) -> Refusal:
    """The store's envelope for an answer aiohttp made: unknown path, wrong method, too big."""
    if exc.status == 404:
        return Refusal(404, "not_found", "Not found.")
    if exc.status == 405:
        return Refusal(405, "method_not_allowed", f'Method "{request.method}" not allowed.')
    if exc.status == 413:
        return Refusal(413, "bad_request", "The request body is too large.")
    return Refusal(exc.status, "bad_request", exc.reason or "The request was refused.")


class EmulatorThread:
    """An `Emulator` served from a background thread with its own event loop.

    For code that cannot share a loop with the emulator: synchronous tests (requests, curl,
    a subprocess), or tests on any async framework. `with EmulatorThread(Emulator(...)) as
    emu:` starts it and stops it. Read its state from the test only after calls complete.
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
