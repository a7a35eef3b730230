"""Secrets never leak: every workflow, success and failure, with debug logging; exceptions,
their reprs and causes, results, clients and the emulator's admin output."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest

from storepush import BazaarClient, BlueMindClient, RetryConfig, Session, StorePushError
from storepush.bluemind import PluginSpec
from storepush.emulator import Emulator, Faults
from storepush.testing import make_apk, make_jar

TOKEN = "leak-check-token-9f8e7d6c5b4a"
KEY = "leak-check-key-1a2b3c4d5e6f"


def chain(exc: BaseException) -> list[BaseException]:
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return seen


async def test_no_secret_anywhere(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    apk = make_apk(tmp_path / "a.apk", package="com.leak", version_code=2)
    jar = make_jar(tmp_path / "p.jar")
    texts: list[str] = []
    faults = Faults(seed=9, error_rate=0.3, throttle_rate=0.2, acted_fail_rate=0.2)
    async with Emulator(apps={TOKEN: "com.leak"}, users={KEY: "u"}, faults=faults) as emu:
        retry = RetryConfig(max_attempts=8, backoff_base=0.001, backoff_max=0.01)
        async with Session(retry=retry) as session:
            bazaar = BazaarClient(TOKEN, base_url=emu.bazaar_url, session=session)
            bluemind = BlueMindClient(KEY, base_url=emu.bluemind_url, session=session)
            texts += [repr(bazaar), str(bazaar), repr(bluemind), repr(session.stats)]
            result = await bazaar.publish([apk])
            texts += [repr(result), str(result.to_json())]
            version = await bluemind.publish_version(
                "Leak", "1", "4.x", "n", jar, create=PluginSpec("Leak", "s", "d", "MIT", "i")
            )
            texts += [repr(version), str(version.to_json())]
            failing = [
                BazaarClient("wrong-token-value", base_url=emu.bazaar_url, session=session).publish(
                    [apk]
                ),
                bazaar.publish([apk], if_draft_exists="fail"),
                bazaar.delete_release(),
                BlueMindClient(
                    "wrong-key-value", base_url=emu.bluemind_url, session=session
                ).list_plugins(),
                bluemind.get_plugin(999),
            ]
            for call in failing:
                try:
                    await call
                except StorePushError as exc:
                    for link in chain(exc):
                        texts += [str(link), repr(link), str(link.args)]
        async with aiohttp.ClientSession() as http:
            for path in ("/_emulator/state", "/_emulator/log"):
                async with http.get(emu.url + path) as r:
                    texts.append(await r.text())
    texts.append(caplog.text)
    joined = "\n".join(texts)
    assert "retrying" in caplog.text  # the faults did happen
    assert TOKEN not in joined
    assert KEY not in joined


ECHO_TOKEN = 'echo"tok\\en/with%odd+chars&<>-0123456789'
ECHO_KEY = "echo-key-" + "k" * 300


async def test_servers_that_echo_the_credential_never_get_it_printed(
    serve: object, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 403 quoting the token, an HTML 500 listing the request headers (seen in `-v` retry
    logs), a BlueMind 400 echoing the `json` part with its `api_key`: none of it reaches a
    message, a repr or a log line."""
    import html
    import json as jsonlib

    from aiohttp import web

    async def forbidden(request: web.Request) -> web.Response:
        token = request.headers["CAFEBAZAAR-PISHKHAN-API-SECRET"]
        body = {"type": "access_forbidden", "message": f"Token {token} is not valid."}
        return web.json_response(body, status=403)

    async def html_500(request: web.Request) -> web.Response:
        rows = "".join(
            f"<tr><td>{k}</td><td>{html.escape(v)}</td></tr>" for k, v in request.headers.items()
        )
        return web.Response(
            status=500, text=f"<html><table>{rows}</table></html>", content_type="text/html"
        )

    async def echo_form(request: web.Request) -> web.Response:
        form = await request.post()
        return web.json_response({"detail": f"bad request: {form['json']}"}, status=400)

    server = await serve(  # type: ignore[operator]
        [
            web.get("/v1/apps/releases/last-published", forbidden),
            web.get("/v1/apps/releases/last-committed", html_500),
            web.post("/addons/api/plugin_version/", echo_form),
        ]
    )
    base = str(server.make_url("/")).rstrip("/")
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    retry = RetryConfig(max_attempts=2, backoff_base=0.001, backoff_max=0.001)
    async with Session(retry=retry) as session:
        bazaar = BazaarClient(ECHO_TOKEN, base_url=base + "/v1", session=session)
        bluemind = BlueMindClient(ECHO_KEY, base_url=base, session=session)
        jar = make_jar(tmp_path / "p.jar")
        for call in (
            bazaar.last_published(),
            bazaar.last_committed(),
            bluemind.add_version("P", "1.0", "4.x", "notes", jar),
        ):
            with pytest.raises(StorePushError) as info:
                await call
            for link in chain(info.value):
                texts += [str(link), repr(link), str(getattr(link, "body_excerpt", ""))]
                texts.append(str(getattr(link, "server_message", "")))
    texts.append(caplog.text)
    joined = "\n".join(texts)
    assert "retrying" in caplog.text  # the HTML 500 was logged, and retried
    for secret in (ECHO_TOKEN, ECHO_KEY):
        for form in (secret, html.escape(secret), jsonlib.dumps(secret)[1:-1]):
            assert form not in joined
    assert "***" in joined
