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
