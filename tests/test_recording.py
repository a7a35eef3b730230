"""Recording exchanges: what a line holds, what it never holds, and that lines stay whole."""

from __future__ import annotations

import asyncio
import base64
import html
import json
import re
import threading
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from typer.testing import CliRunner

import storepush
from storepush import Recorder, Request, RetryConfig, Secret, Session, ValidationError
from storepush import _recording as recording_module
from storepush._recording import RecordingTransport, active_recorder, android_info, recording
from storepush._recording_format import FORMAT, AndroidInfo, load_recording
from storepush._samples import make_apk, make_jar, make_png
from storepush._uploads import FilePart, UploadBody
from storepush.cli import app
from storepush.emulator import Emulator, EmulatorThread

Serve = Callable[..., Awaitable[TestServer]]

TOKEN = "rec-token-0a1b2c3d4e5f"
KEY = "rec-key-9f8e7d6c5b4a"
PACKAGE = "com.example.recorded"
MARKER = b"UPLOADED-BYTES-MUST-NEVER-BE-RECORDED"

#: Credentials a careless recorder would leak: every character JSON, URLs, HTML and shells
#: treat specially, and the longest value a Secret accepts.
AWKWARD = [
    "quo\"te's-token",
    "back\\slash\\\\token",
    "per%cent%41plus+slash/amp&lt<gt>",
    "=?&#;:@!$*(),[]{}|^`~",
    "x" * 4096,
    "A1/+" * 700,
]


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def forms(value: str) -> set[str]:
    """The credential and every encoding a server could echo it in."""
    in_json = json.dumps(value)[1:-1]
    return {
        value,
        quote(value),
        quote(value, safe=""),
        re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quote(value, safe="")),
        quote_plus(value, safe=""),
        in_json,
        in_json.replace("/", "\\/"),
        in_json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"),
        json.dumps(in_json)[1:-1],
        html.escape(value),
        html.escape(value, quote=False),
        base64.b64encode(value.encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(value.encode()).decode().rstrip("="),
    }


def strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


def assert_clean(path: Path, *secrets: str) -> None:
    """No form of a credential in the file, nor in any string a reader decodes from it."""
    text = path.read_text(encoding="utf-8")
    decoded = [s for line in text.splitlines() for s in strings(json.loads(line))]
    for secret in secrets:
        for form in forms(secret):
            assert form not in text, f"a form of a credential is in the file: {form[:40]!r}"
            for found in decoded:
                assert form not in found, f"a form of a credential decodes: {form[:40]!r}"


def apk_with_abis(path: Path, abis: tuple[str, ...], *, code: int) -> Path:
    make_apk(path, package=PACKAGE, version_code=code, version_name=f"1.{code}")
    with zipfile.ZipFile(path, "a") as archive:
        for abi in abis:
            archive.writestr(f"lib/{abi}/libnative.so", b"\x7fELF" + MARKER)
        archive.writestr("assets/marker.txt", MARKER * 4)
    return path


# -- end to end against the emulator -------------------------------------------------------


async def test_documented_calls_are_recorded_without_secrets_or_bytes(tmp_path: Path) -> None:
    record = tmp_path / "rec.jsonl"
    arm = apk_with_abis(tmp_path / "arm.apk", ("arm64-v8a",), code=12)
    both = apk_with_abis(tmp_path / "fat.apk", ("armeabi-v7a", "x86"), code=11)
    emulator = Emulator(apps={TOKEN: PACKAGE}, users={KEY: "alice"})
    async with emulator as emu, Session(record=record) as session:
        bazaar = storepush.BazaarClient(TOKEN, base_url=emu.bazaar_url, session=session)
        assert await bazaar.last_uncommitted() is None
        await bazaar.create_release()
        await bazaar.upload_apk(arm, architecture="arm64-v8a")
        await bazaar.upload_apk(both, architecture="armeabi-v7a")
        await bazaar.commit(changelog_en="Faster", changelog_fa="سریع‌تر")
        bluemind = storepush.BlueMindClient(KEY, base_url=emu.bluemind_url, session=session)
        await bluemind.create_plugin(
            "Sync", "s", "d", "MIT", "i", thumbnail=make_png(tmp_path / "t.png")
        )
        await bluemind.add_version("Sync", "1.0", "4.x", "n", make_jar(tmp_path / "p.jar"))
    assert_clean(record, TOKEN, KEY)
    assert MARKER not in record.read_bytes()
    exchanges = [exchange for _, exchange in load_recording(record)]
    assert [(e.method, e.path) for e in exchanges] == [
        ("GET", "/v1/apps/releases/last-uncommitted"),
        ("POST", "/v1/apps/releases/"),
        ("POST", "/v1/apps/releases/upload/"),
        ("POST", "/v1/apps/releases/upload/"),
        ("POST", "/v1/apps/releases/commit/"),
        ("POST", "/addons/api/plugins/"),
        ("POST", "/addons/api/plugin_version/"),
    ]
    assert {e.format for e in exchanges} == {FORMAT}
    assert [e.marketplace for e in exchanges] == ["bazaar"] * 5 + ["bluemind"] * 2
    assert {e.credential for e in exchanges[:5]} == {Secret(TOKEN).fingerprint}
    assert {e.credential for e in exchanges[5:]} == {Secret(KEY).fingerprint}
    assert [e.response.status for e in exchanges if e.response] == [
        200,
        201,
        200,
        200,
        200,
        201,
        201,
    ]
    first = exchanges[0]
    assert first.response is not None
    assert first.request is not None
    assert first.response.json == {"type": "not-exists", "message": first.response.json["message"]}
    assert first.request.headers["CAFEBAZAAR-PISHKHAN-API-SECRET"] == "***"

    upload = exchanges[3].request
    assert upload is not None
    assert upload.body is not None
    assert upload.body.kind == "multipart"
    text, file = upload.body.parts
    assert (text.name, text.value) == ("architecture", "armeabi-v7a")
    assert (file.name, file.filename, file.size) == ("apk", "fat.apk", both.stat().st_size)
    assert file.content_type == "application/vnd.android.package-archive"
    assert file.sha1 == exchanges[3].response.json["package"]["sha1_hash"]  # type: ignore[union-attr]
    assert file.android is not None
    assert (file.android.kind, file.android.package) == ("apk", PACKAGE)
    assert (file.android.version_code, file.android.version_name) == (11, "1.11")
    assert file.android.abis == ["armeabi-v7a", "x86"]

    commit = exchanges[4].request
    assert commit is not None
    assert commit.body is not None
    assert commit.body.kind == "json"
    assert commit.body.json["changelog_fa"] == "سریع‌تر"

    create = exchanges[5].request
    assert create is not None
    assert create.body is not None
    json_part, thumbnail = create.body.parts
    assert json_part.json["api_key"] == "***"
    assert json_part.json["name"] == "Sync"
    assert (thumbnail.name, thumbnail.content_type) == ("thumbnail", "image/png")
    assert thumbnail.sha1 is not None
    assert thumbnail.android is None


async def test_every_attempt_and_redirect_is_a_line(tmp_path: Path, serve: Serve) -> None:
    seen = {"flaky": 0}

    async def flaky(request: web.Request) -> web.Response:
        seen["flaky"] += 1
        if seen["flaky"] == 1:
            return web.Response(status=503, text="<html>busy</html>", content_type="text/html")
        return web.json_response({"type": "success"})

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/flaky")

    server = await serve([web.get("/flaky", flaky), web.get("/moved", moved)])
    record = tmp_path / "rec.jsonl"
    retry = RetryConfig(max_attempts=3, backoff_base=0.001, backoff_max=0.002)
    async with Session(record=record, retry=retry) as session:
        await session.request(
            Request("GET", str(server.make_url("/moved")), "x", safe=True),
            marketplace="t",
            credential=Secret(TOKEN),
        )
    lines = lines_of(record)
    assert [(line["path"], line["response"]["status"]) for line in lines] == [
        ("/moved", 301),
        ("/flaky", 503),
        ("/moved", 301),
        ("/flaky", 200),
    ]
    assert lines[1]["response"]["excerpt"] == "<html>busy</html>"
    assert "json" not in lines[1]["response"]
    assert lines[0]["response"]["headers"]["Location"] == "/flaky"
    assert lines[0]["marketplace"] is None
    assert lines[0]["credential"] is None


async def test_a_failed_attempt_is_recorded_and_still_raised(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    record = tmp_path / "rec.jsonl"
    retry = RetryConfig(max_attempts=2, backoff_base=0.001, backoff_max=0.002)
    async with Session(record=record, retry=retry) as session:
        with pytest.raises(storepush.ConnectError):
            await session.request(
                Request("GET", f"http://127.0.0.1:{unused_tcp_port}/v1/x", "x", safe=True),
                marketplace="t",
                credential=Secret(TOKEN),
            )
    lines = lines_of(record)
    assert len(lines) == 2
    for line in lines:
        assert line["response"] is None
        assert line["error"]["type"] == "ConnectError"
        assert line["error"]["sent"] is False
        assert line["path"] == "/v1/x"


async def test_a_cancelled_exchange_is_recorded(tmp_path: Path, serve: Serve) -> None:
    started = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        started.set()
        await asyncio.sleep(30)
        return web.Response()

    server = await serve([web.get("/slow", slow)])
    record = tmp_path / "rec.jsonl"
    async with Session(record=record) as session:
        call = asyncio.ensure_future(
            session.request(
                Request("GET", str(server.make_url("/slow")), "x", safe=True),
                marketplace="t",
                credential=Secret(TOKEN),
            )
        )
        await started.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
    (line,) = lines_of(record)
    assert line["error"]["type"] == "CancelledError"


# -- hostile servers -----------------------------------------------------------------------


def echo_routes(header: str) -> list[web.RouteDef]:
    """A server that sends every credential it gets back, in every encoding it can think of."""

    async def echo(request: web.Request) -> web.Response:
        value = request.headers.get(header, "")
        if request.content_type.startswith("multipart/"):
            async for part in await request.multipart():  # type: ignore[union-attr]
                text = (await part.read()).decode()
                if part.name == "json":  # type: ignore[union-attr]
                    value = value or json.loads(text)["api_key"]
        body = {
            "type": "error",
            "raw": value,
            value: "as a key",
            "token": "a token of the server's own",
            "nested": [{"message": f"Invalid key '{value}': not {quote(value)}"}],
            "request": json.dumps({"api_key": value}),
        }
        echoed = "\n".join(sorted(forms(value)))
        text = json.dumps(body) + "\n" + echoed + "\n<p>" + html.escape(value) + "</p>" + value
        return web.Response(
            status=403,
            text=text,
            content_type="application/json",
            headers={"X-Echo": value, header: value, "Set-Cookie": "sessionid=abc; Path=/"},
        )

    return [
        web.get("/v1/apps/releases/last-published", echo),
        web.post("/addons/api/plugins/", echo),
    ]


async def record_refused(marketplace: str, secret: str, serve: Serve, record: Path) -> Any:
    """One refused call to the echoing server, recorded; the recorded line."""
    header = "api-key" if marketplace == "bluemind" else "CAFEBAZAAR-PISHKHAN-API-SECRET"
    server = await serve(echo_routes(header))
    async with Session(record=record) as session:
        if marketplace == "bluemind":
            bluemind = storepush.BlueMindClient(
                secret, base_url=str(server.make_url("")), session=session
            )
            with pytest.raises(storepush.PermissionDeniedError):
                await bluemind.create_plugin("P", "s", "d", "MIT", "i")
        else:
            bazaar = storepush.BazaarClient(
                secret, base_url=str(server.make_url("/v1")), session=session
            )
            with pytest.raises(storepush.PermissionDeniedError):
                await bazaar.last_published()
    assert_clean(record, secret)
    (line,) = lines_of(record)
    assert line["response"]["status"] == 403
    assert line["response"]["headers"]["Set-Cookie"] == "***"
    assert line["response"]["headers"][header] == "***"
    assert line["credential"] == Secret(secret).fingerprint
    return line


@pytest.mark.parametrize("secret", AWKWARD, ids=lambda s: s[:12])
async def test_echoed_credentials_never_reach_the_file(
    secret: str, tmp_path: Path, serve: Serve
) -> None:
    await record_refused("bazaar", secret, serve, tmp_path / "rec.jsonl")


@pytest.mark.parametrize("secret", AWKWARD[:4], ids=lambda s: s[:12])
async def test_an_api_key_inside_the_form_never_reaches_the_file(
    secret: str, tmp_path: Path, serve: Serve
) -> None:
    line = await record_refused("bluemind", secret, serve, tmp_path / "rec.jsonl")
    assert line["request"]["body"]["parts"][0]["json"]["api_key"] == "***"


# -- one writer, whole lines ---------------------------------------------------------------


async def test_many_tasks_share_one_recorder(tmp_path: Path, serve: Serve) -> None:
    async def answer(request: web.Request) -> web.Response:
        await asyncio.sleep(0)
        return web.json_response({"n": request.query["n"], "pad": "x" * 5000})

    server = await serve([web.get("/n", answer)])
    record = tmp_path / "rec.jsonl"
    with Recorder(record) as recorder:
        sessions = [Session(record=recorder) for _ in range(2)]

        async def one(i: int) -> None:
            await sessions[i % 2].request(
                Request("GET", str(server.make_url(f"/n?n={i}")), "x", safe=True),
                marketplace="t",
                credential=Secret(f"{TOKEN}-{i % 5}"),
            )

        await asyncio.gather(*(one(i) for i in range(120)))
        for session in sessions:
            await session.aclose()
        assert recorder.lines == 120
        # a shared recorder stays open after its sessions close
        recorder.write_line(b"{}\n")
    lines = record.read_text().splitlines()
    assert sorted(json.loads(line)["query"] for line in lines[:-1]) == sorted(
        f"n={i}" for i in range(120)
    )


def test_threads_write_whole_lines(tmp_path: Path) -> None:
    record = tmp_path / "rec.jsonl"
    with Recorder(record) as recorder:

        def write(n: int) -> None:
            for i in range(200):
                recorder.write_line(
                    json.dumps({"n": n, "i": i, "pad": "y" * 3000}).encode() + b"\n"
                )

        threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(lines) == 800


def test_a_recorder_appends_and_refuses_a_bad_path(tmp_path: Path) -> None:
    record = tmp_path / "rec.jsonl"
    record.write_text('{"earlier": true}\n')
    with Recorder(record) as recorder:
        recorder.write_line(b'{"later": true}\n')
    assert record.read_text().splitlines() == ['{"earlier": true}', '{"later": true}']
    with pytest.raises(RuntimeError, match="closed"):
        recorder.write_line(b"{}\n")
    with pytest.raises(ValidationError) as caught:
        Recorder(tmp_path / "missing" / "rec.jsonl")
    assert caught.value.field == "record"
    assert "Recorder(" in repr(recorder)
    assert "lines=1" in repr(recorder)


async def test_session_owns_the_recorder_it_opened(tmp_path: Path) -> None:
    session = Session(record=tmp_path / "rec.jsonl")
    transport = session._transport
    assert isinstance(transport, RecordingTransport)
    await session.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        transport.recorder.write_line(b"{}\n")


async def test_recording_context_reaches_sessions_made_inside(tmp_path: Path) -> None:
    assert active_recorder() is None
    assert not isinstance(Session()._transport, RecordingTransport)
    with recording(tmp_path / "rec.jsonl") as recorder:
        assert active_recorder() is recorder
        inside = Session()
        assert isinstance(inside._transport, RecordingTransport)
        assert inside._transport.recorder is recorder
        await inside.aclose()
    assert active_recorder() is None


def test_android_info(tmp_path: Path) -> None:
    apk = apk_with_abis(tmp_path / "a.apk", ("arm64-v8a", "armeabi-v7a"), code=7)
    info = android_info(apk, "a.apk", None)
    assert info is not None
    assert (info.kind, info.package, info.version_code) == ("apk", PACKAGE, 7)
    assert info.abis == ["arm64-v8a", "armeabi-v7a"]
    bundle = tmp_path / "b.aab"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("base/manifest/AndroidManifest.xml", b"\x0a\x00")
        archive.writestr("base/lib/x86_64/libx.so", b"")
    info = android_info(bundle, "b.aab", None)
    assert info is not None
    assert (info.kind, info.abis) == ("aab", ["x86_64"])
    broken = tmp_path / "broken.apk"
    broken.write_bytes(b"not a zip")
    assert android_info(broken, None, None) == AndroidInfo(kind="apk")
    assert android_info(make_jar(tmp_path / "p.jar"), "p.jar", "application/java-archive") is None


# -- reading it back -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "where", "problem"),
    [
        ('{"format": 1, "time": "t", "method": "GET", "path": "/"}\nnot json\n', ":2", "JSON"),
        ('\n{"format": 2, "time": "t", "method": "GET", "path": "/"}\n', ":2", "format 2"),
        ('{"time": "t"}\n', ":1", "format None"),
        (
            '{"format": 1, "time": "t", "method": "GET", "path": "/", "response": {"status": "x"}}',
            ":1",
            "$.response.status",
        ),
        ('{"format": 1, "time": "t", "path": "/"}', ":1", "method"),
        ("\n\n", "", "no exchange"),
    ],
)
def test_bad_recordings_name_the_line(
    tmp_path: Path, content: str, where: str, problem: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(ValidationError) as caught:
        load_recording(path)
    assert caught.value.field == f"{path}{where}"
    assert problem in caught.value.problem


def test_a_missing_recording_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot be read"):
        load_recording(tmp_path / "nope.jsonl")


# -- the command line ----------------------------------------------------------------------


def test_cli_record_option(tmp_path: Path) -> None:
    record = tmp_path / "cli.jsonl"
    with EmulatorThread(Emulator(apps={TOKEN: PACKAGE})) as emu:
        env = {"STOREPUSH_BAZAAR_TOKEN": TOKEN, "STOREPUSH_BAZAAR_BASE_URL": emu.bazaar_url}
        runner = CliRunner()
        result = runner.invoke(app, ["--record", str(record), "bazaar", "status"], env=env)
        assert result.exit_code == 0, result.output
        bad = runner.invoke(app, ["--record", str(tmp_path / "no" / "x"), "bazaar", "status"])
        assert bad.exit_code == 2
        assert "--record" in bad.output
    paths = [exchange.path for _, exchange in load_recording(record)]
    assert sorted(paths) == [
        "/v1/apps/releases/last-committed",
        "/v1/apps/releases/last-published",
        "/v1/apps/releases/last-uncommitted",
    ]
    assert_clean(record, TOKEN)


async def test_a_recording_failure_never_fails_the_exchange(
    tmp_path: Path, serve: Serve, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"type": "success"})

    server = await serve([web.post("/up", ok), web.get("/get", ok)])
    recorder = Recorder(tmp_path / "rec.jsonl")
    recorder.close()
    async with Session(record=recorder) as session:
        response = await session.request(
            Request("GET", str(server.make_url("/get")), "x", safe=True),
            marketplace="t",
            credential=Secret(TOKEN),
        )
    assert response.status == 200
    assert "could not record GET /get: RuntimeError" in caplog.text

    def broken(*args: object) -> None:
        raise zipfile.BadZipFile("a surprise")

    monkeypatch.setattr(recording_module, "android_info", broken)
    apk = apk_with_abis(tmp_path / "a.apk", (), code=1)
    body = UploadBody([], [FilePart("apk", apk, "a.apk", "x")])
    async with Session(record=tmp_path / "other.jsonl") as session:
        response = await session.request(
            Request("POST", str(server.make_url("/up")), "x", body=body),
            marketplace="t",
            credential=Secret(TOKEN),
        )
    assert response.status == 200
    assert "could not record POST /up: BadZipFile" in caplog.text
