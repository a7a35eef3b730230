from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from storepush.emulator import Emulator

TOKEN = "tok-app-one-123456"
OTHER_TOKEN = "tok-app-two-654321"
KEY = "key-alice-abcdef123456"
BOB_KEY = "key-bob-abcdef654321"
ADMIN_KEY = "key-admin-000000000000"
H = "CAFEBAZAAR-PISHKHAN-API-SECRET"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def emu_clock() -> Clock:
    return Clock()


@pytest.fixture
async def emu(emu_clock: Clock) -> AsyncIterator[Emulator]:
    emulator = Emulator(
        apps={TOKEN: "com.example.one", OTHER_TOKEN: "com.example.two"},
        users={KEY: "alice", BOB_KEY: "bob", ADMIN_KEY: "root"},
        admins=("root",),
        review_seconds=10,
        bundle_seconds=4,
        clock=emu_clock,
    )
    async with emulator:
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def apk_form(path: Path, architecture: str = "all", field: str = "apk") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("architecture", architecture)
    form.add_field(
        field,
        io.BytesIO(path.read_bytes()),
        filename=path.name,
        content_type="application/vnd.android.package-archive",
    )
    return form


async def send(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    token: str | None = TOKEN,
    **kw: object,
) -> tuple[int, dict[str, object]]:
    """One Pishkhan call without following redirects: status and JSON body."""
    headers: dict[str, str] = {H: token} if token else {}
    headers.update(kw.pop("headers", None) or {})  # type: ignore[arg-type]
    async with http.request(method, url, headers=headers, allow_redirects=False, **kw) as r:  # type: ignore[arg-type]
        return r.status, await r.json(content_type=None)


def releases(emu: Emulator) -> str:
    return emu.bazaar_url + "/apps/releases"
