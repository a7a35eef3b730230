"""Behaviours known from the field (public clients, user reports): one test per row of
`docs/live-stores.md` whose source is "field", in each setting of its switch."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from storepush._samples import make_aab, make_apk, make_bin
from storepush.emulator import Emulator, Quirks, Quota, Quotas

from .conftest import KEY, OTHER_TOKEN, TOKEN, Clock, H, apk_form, releases, send

STRICT = Quirks()
LENIENT = Quirks.profile("lenient")
FORBIDDEN = {
    "type": "access_forbidden",
    "message": "You do not have permission to perform this action.",
}


@pytest.fixture
def apk(tmp_path: Path) -> Path:
    return make_apk(tmp_path / "app.apk", package="com.example.one", version_code=5)


async def draft(emu: Emulator, http: aiohttp.ClientSession) -> None:
    assert (await send(http, "POST", releases(emu) + "/"))[0] == 201


async def test_p3_token_with_a_trailing_newline(emu: Emulator) -> None:
    """P3: a raw trailing newline in the token header is a 403 access_forbidden, in JSON."""
    reader, writer = await asyncio.open_connection(emu.host, emu.port)
    writer.write(
        f"GET /v1/apps/releases/last-published HTTP/1.1\r\nHost: x\r\n{H}: {TOKEN}\n\r\n".encode()
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(65536), 5)
    writer.close()
    head, body = answer.split(b"\r\n\r\n", 1)
    assert b" 403 " in head.split(b"\r\n")[0]
    assert b"application/json" in head
    assert json.loads(body) == FORBIDDEN


def form_without_architecture(apk: Path) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("apk", apk.read_bytes(), filename=apk.name)
    return data


@pytest.mark.parametrize(
    ("quirks", "accepted"),
    [(STRICT, False), (LENIENT, True), (Quirks(architecture_missing="all"), True)],
)
async def test_p7_no_architecture(
    emu: Emulator, http: aiohttp.ClientSession, apk: Path, quirks: Quirks, accepted: bool
) -> None:
    """P7: no architecture at all: strict refuses, naming the field and the values; lenient
    takes it as all."""
    emu.set_quirks(quirks)
    await draft(emu, http)
    status, body = await send(
        http, "POST", releases(emu) + "/upload/", data=form_without_architecture(apk)
    )
    if accepted:
        assert status == 200
    else:
        assert (status, body["type"]) == (400, "bad_request")
        assert (
            body["message"]
            == "The field architecture is required: one of all, armeabi-v7a, arm64-v8a."
        )


@pytest.mark.parametrize(
    ("quirks", "accepted"),
    [(STRICT, False), (LENIENT, True), (Quirks(architecture_zero=True), True)],
)
async def test_p8_architecture_zero(
    emu: Emulator, http: aiohttp.ClientSession, apk: Path, quirks: Quirks, accepted: bool
) -> None:
    """P8: architecture "0" (the popular action's numeric-enum bug)."""
    emu.set_quirks(quirks)
    await draft(emu, http)
    status, body = await send(http, "POST", releases(emu) + "/upload/", data=apk_form(apk, "0"))
    if accepted:
        assert status == 200
        assert emu.world.apps[TOKEN].draft.packages[0].architecture == "all"  # type: ignore[union-attr]
    else:
        assert (status, body["type"]) == (400, "bad_request")
        assert "'0'" in str(body["message"])


@pytest.mark.parametrize(
    ("quirks", "accepted"),
    [(STRICT, False), (LENIENT, True), (Quirks(architecture_query=True), True)],
)
async def test_p9_architecture_in_the_query(
    emu: Emulator, http: aiohttp.ClientSession, apk: Path, quirks: Quirks, accepted: bool
) -> None:
    """P9: architecture as a query parameter: a form parser does not see it (strict)."""
    emu.set_quirks(quirks)
    await draft(emu, http)
    url = releases(emu) + "/upload/?architecture=arm64-v8a"
    status, body = await send(http, "POST", url, data=form_without_architecture(apk))
    if accepted:
        assert status == 200
        assert emu.world.apps[TOKEN].draft.packages[0].architecture == "arm64-v8a"  # type: ignore[union-attr]
    else:
        assert (status, body["type"]) == (400, "bad_request")
        assert "architecture" in str(body["message"])


async def chunked_body(apk: Path) -> AsyncIterator[bytes]:
    boundary = "chunkedboundary"
    yield f'--{boundary}\r\nContent-Disposition: form-data; name="architecture"\r\n\r\nall\r\n'.encode()
    yield f'--{boundary}\r\nContent-Disposition: form-data; name="apk"; filename="a.apk"\r\n\r\n'.encode()
    data = apk.read_bytes()
    for start in range(0, len(data), 10_000):
        yield data[start : start + 10_000]
    yield f"\r\n--{boundary}--\r\n".encode()


@pytest.mark.parametrize(("quirks", "accepted"), [(STRICT, False), (LENIENT, True)])
async def test_p10_chunked_upload(
    emu: Emulator, http: aiohttp.ClientSession, apk: Path, quirks: Quirks, accepted: bool
) -> None:
    """P10: an upload sent chunked, without Content-Length (as the popular Node action)."""
    emu.set_quirks(quirks)
    await draft(emu, http)
    headers = {H: TOKEN, "Content-Type": "multipart/form-data; boundary=chunkedboundary"}
    async with http.post(releases(emu) + "/upload/", data=chunked_body(apk), headers=headers) as r:
        body = await r.json()
        assert r.request_info.headers.get("Transfer-Encoding") == "chunked"
        if accepted:
            assert r.status == 200
            assert body["package"]["sha1_hash"] == hashlib.sha1(apk.read_bytes()).hexdigest()
        else:
            assert (r.status, body["type"]) == (411, "bad_request")
            assert "Content-Length" in body["message"]


@pytest.mark.parametrize(("quirks", "redirected"), [(STRICT, True), (LENIENT, False)])
@pytest.mark.parametrize(
    ("method", "path"), [("POST", ""), ("POST", "/upload"), ("POST", "/commit"), ("DELETE", "")]
)
async def test_p11_post_without_trailing_slash(
    emu: Emulator,
    http: aiohttp.ClientSession,
    quirks: Quirks,
    redirected: bool,
    method: str,
    path: str,
) -> None:
    """P11: strict answers 301 to the slashed path (Django's APPEND_SLASH); lenient serves."""
    emu.set_quirks(quirks)
    url = releases(emu) + path
    async with http.request(method, url + "?x=1", headers={H: TOKEN}, allow_redirects=False) as r:
        if redirected:
            assert r.status == 301
            assert r.headers["Location"] == f"/v1/apps/releases{path}/?x=1"
            assert emu.world.apps[TOKEN].releases == []  # nothing was acted on
        else:
            assert r.status != 301
            assert (await r.json())["type"] in ("success", "bad_request")


@pytest.mark.parametrize(
    "which", ["last-committed", "last-uncommitted", "last-published", "bundle-status"]
)
async def test_p12_reads_with_or_without_slash(
    emu: Emulator, http: aiohttp.ClientSession, which: str
) -> None:
    """P12: the GETs answer with or without the trailing slash."""
    for suffix in ("", "/"):
        status, body = await send(http, "GET", f"{releases(emu)}/{which}{suffix}")
        assert (status, body["type"]) == (200, "not-exists")


async def test_p13_empty_draft_both_shapes(emu: Emulator, http: aiohttp.ClientSession) -> None:
    """P13: last-uncommitted with no draft: the document's not-exists (strict), or the
    field's success with release null (lenient)."""
    url = releases(emu) + "/last-uncommitted"
    assert await send(http, "GET", url) == (
        200,
        {"type": "not-exists", "message": "There is not an uncommitted release."},
    )
    emu.set_quirks(LENIENT)
    assert await send(http, "GET", url) == (
        200,
        {
            "type": "success",
            "message": "Last uncommitted release successfully retrived.",
            "release": None,
        },
    )
    await draft(emu, http)  # with a draft, both settings answer it
    status, body = await send(http, "GET", url)
    assert (status, body["type"]) == (200, "success")
    assert body["release"]["packages"] == []  # type: ignore[index]
    emu.set_quirks(STRICT)
    assert (await send(http, "GET", url))[1]["type"] == "success"
    # the other reads keep the documented not-exists in both settings
    for setting in (STRICT, LENIENT):
        emu.set_quirks(setting)
        assert (await send(http, "GET", releases(emu) + "/last-published"))[1][
            "type"
        ] == "not-exists"


async def test_p20_bundle_flow_on_the_clock(
    emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path, emu_clock: Clock
) -> None:
    """P20: upload-aab, upload-bin, states U S P D on the clock; the package joins the draft
    with the bundle's real version code and name, with nobody polling."""
    aab = make_aab(
        tmp_path / "app.aab", package="com.example.one", version_code=31, version_name="3.1"
    )
    base = releases(emu)
    await draft(emu, http)
    form = aiohttp.FormData()
    form.add_field("aab", aab.read_bytes(), filename="app.aab")
    status, body = await send(http, "POST", base + "/upload-aab/", data=form)
    assert (status, body["bundle"]["state"], body["warnings"]) == (200, "U", [])  # type: ignore[index]
    form = aiohttp.FormData()
    form.add_field("file", make_bin(tmp_path / "app.bin").read_bytes(), filename="app.bin")
    status, body = await send(http, "POST", base + "/upload-bin/", data=form)
    assert body["bundle"]["state"] == "S"  # type: ignore[index]
    emu_clock.now += 2
    assert (await send(http, "GET", base + "/bundle-status/"))[1]["bundle"]["state"] == "P"  # type: ignore[index]
    emu_clock.now += 2
    status, body = await send(http, "POST", base + "/commit/", json={})  # no poll in between
    assert status == 200, body
    [package] = body["release"]["packages"]  # type: ignore[index]
    assert package["sha1_hash"] == hashlib.sha1(aab.read_bytes()).hexdigest()
    assert (package["version_code"], package["version_name"]) == (31, "3.1")
    assert package["cpu_architectures"] == "arm64-v8a"


async def test_p24_account_quota(tmp_path: Path) -> None:
    """P24: one account's apps share a quota; its 429s are counted per app and account."""
    emu = Emulator(
        apps={TOKEN: "com.example.one", OTHER_TOKEN: "com.example.two"},
        accounts={"agency": [TOKEN, OTHER_TOKEN]},
        quotas=Quotas(account=Quota(1, 1)),
        clock=Clock(),
    )
    async with emu, aiohttp.ClientSession() as http:
        url = releases(emu) + "/last-published"
        assert (await send(http, "GET", url, token=TOKEN))[0] == 200
        assert (await send(http, "GET", url, token=OTHER_TOKEN))[0] == 429
        async with http.get(emu.url + "/_emulator/quotas") as r:
            throttled = (await r.json())["throttled"]
        assert throttled["accounts"] == {"agency": 1}
        assert throttled["apps"] == {"com.example.two": 1}


async def test_b4_slashless_get_redirects(emu: Emulator, http: aiohttp.ClientSession) -> None:
    """B4: GET .../plugin/1 without its slash: 301 to the slashed path (the vendor's client
    follows it), in both settings."""
    for setting in (STRICT, LENIENT):
        emu.set_quirks(setting)
        for path, target in (
            ("/addons/api/plugin/1", "/addons/api/plugin/1/"),
            ("/addons/api/plugins", "/addons/api/plugins/"),
        ):
            async with http.get(
                emu.url + path, headers={"api-key": KEY}, allow_redirects=False
            ) as r:
                assert (r.status, r.headers["Location"]) == (301, target)
    async with http.get(emu.url + "/addons/api/plugins", headers={"api-key": KEY}) as r:
        assert (r.status, await r.json()) == (200, [])  # followed, as the vendor's client does


async def test_b5_doubled_leading_slash(emu: Emulator, http: aiohttp.ClientSession) -> None:
    """B5: //addons/... (the vendor sample's URLs): a GET is sent to the collapsed path."""
    async with http.get(
        emu.url + "//addons/api/plugins/", headers={"api-key": KEY}, allow_redirects=False
    ) as r:
        assert (r.status, r.headers["Location"]) == (301, "/addons/api/plugins/")


@pytest.mark.parametrize(
    ("quirks", "content_type"),
    [
        (STRICT, "application/json"),
        (LENIENT, "application/json"),
        (Quirks(bluemind_errors="html"), "text/html"),
    ],
)
async def test_b7_error_bodies(
    emu: Emulator, http: aiohttp.ClientSession, quirks: Quirks, content_type: str
) -> None:
    """B7: BlueMind's errors are {"detail": ...} or Django's HTML page, by switch."""
    emu.set_quirks(quirks)
    for path, status in (
        ("/addons/api/plugins/", 403),
        ("/addons/api/plugin/999/", 404),
        ("/addons/api/nothing/", 404),
    ):
        headers = {"api-key": KEY} if status == 404 else {}
        async with http.get(emu.url + path, headers=headers) as r:
            assert (r.status, r.content_type) == (status, content_type)
            if content_type == "application/json":
                assert set(await r.json()) == {"detail"}


async def test_b10_key_quota() -> None:
    """B10: one quota per API key across BlueMind's endpoints; 429 counted per user."""
    emu = Emulator(users={KEY: "alice"}, quotas=Quotas(key=Quota(1, 1)), clock=Clock())
    async with emu, aiohttp.ClientSession() as http:
        headers = {"api-key": KEY}
        async with http.get(emu.url + "/addons/api/plugins/", headers=headers) as r:
            assert r.status == 200
        async with http.get(emu.url + "/addons/api/plugin/1/", headers=headers) as r:
            assert r.status == 429
            assert await r.json() == {"detail": "Request was throttled."}
        async with http.get(emu.url + "/_emulator/quotas") as r:
            assert (await r.json())["throttled"]["users"] == {"alice": 1}
