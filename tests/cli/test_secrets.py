"""No credential reaches the terminal: a server that echoes the token (in a JSON message, an
HTML page, URL-quoted, base64) is answered by every output mode with the token removed, for
credentials of unusual characters and lengths."""

from __future__ import annotations

import asyncio
import base64
import html
import json
import threading
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from aiohttp import web
from typer.testing import CliRunner

from storepush.cli import app

CREDENTIALS = [
    "tok-+/=%&<>\"'`~!@#$^*()[]{}|\\;:,.?-end",
    "x" * 3000,
    "%2F%3D-already-quoted",
    "a1",
]


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    """A server that answers 403 with the credential it was sent, in every echoed form."""

    async def echo(request: web.Request) -> web.Response:
        token = request.headers.get("CAFEBAZAAR-PISHKHAN-API-SECRET", "")
        body = {
            "type": "forbidden",
            "message": f"token {token} / {quote(token, safe='')} / "
            f"{base64.b64encode(token.encode()).decode()} / {html.escape(token)}",
        }
        return web.Response(status=403, text=json.dumps(body), content_type="application/json")

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def start() -> None:
        application = web.Application()
        application.router.add_route("*", "/{tail:.*}", echo)
        runner = web.AppRunner(application)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["runner"] = runner
        holder["port"] = runner.addresses[0][1]
        ready.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()))
    thread.start()
    assert ready.wait(30)
    yield f"http://127.0.0.1:{holder['port']}/v1"
    runner = holder["runner"]
    assert isinstance(runner, web.AppRunner)
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(30)
    loop.close()


@pytest.mark.parametrize("credential", CREDENTIALS)
@pytest.mark.parametrize(
    "args",
    [
        ["bazaar", "status"],
        ["--json", "bazaar", "status"],
        ["-v", "bazaar", "status"],
        ["-v", "--json", "bazaar", "check"],
    ],
)
def test_an_echoed_credential_never_reaches_the_output(
    echo_url: str, credential: str, args: list[str]
) -> None:
    env = {"STOREPUSH_BAZAAR_TOKEN": credential, "STOREPUSH_BAZAAR_BASE_URL": echo_url}
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 1, result.output
    forms = [credential, quote(credential, safe=""), base64.b64encode(credential.encode()).decode()]
    if len(credential) > 8:
        forms.append(html.escape(credential))
    for form in forms:
        assert form not in result.output, (args, result.output[:500])
