"""`storepush emulator check-recording`: the shipped recording replays clean; alterations,
bad files and unanswered exchanges are reported as they should be."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import storepush
from storepush import Session
from storepush._recording import android_info
from storepush._recording_format import (
    FORMAT,
    AndroidInfo,
    Body,
    ErrorRecord,
    Exchange,
    Part,
    RequestRecord,
    ResponseRecord,
)
from storepush.emulator._replay import Settings, check_recording, main
from storepush.emulator._replay_requests import (
    Identity,
    IdMap,
    Samples,
    action_for,
    build_request,
    plan_identities,
)

FIXTURE = Path(__file__).parent.parent / "fixtures" / "recordings" / "documented-flows.jsonl"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def fixture_lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


def index_of(lines: list[dict[str, Any]], method: str, path: str, nth: int = 0) -> int:
    found = [i for i, d in enumerate(lines) if (d["method"], d["path"]) == (method, path)]
    return found[nth]


# -- the shipped recording -----------------------------------------------------------------


def test_the_shipped_recording_covers_the_documented_flows() -> None:
    lines = fixture_lines()
    calls = {(d["method"], d["path"], d["response"]["status"]) for d in lines}
    base = "/v1/apps/releases"
    for call in [
        ("GET", f"{base}/last-published", 200),
        ("GET", f"{base}/last-committed", 200),
        ("GET", f"{base}/last-uncommitted", 200),
        ("POST", f"{base}/", 201),
        ("POST", f"{base}/upload/", 200),
        ("POST", f"{base}/commit/", 200),
        ("DELETE", f"{base}/", 200),
        ("GET", f"{base}/last-published", 403),
        ("GET", "/addons/api/plugins/", 200),
        ("POST", "/addons/api/plugins/", 201),
        ("POST", "/addons/api/plugin_version/", 201),
        ("GET", "/addons/api/plugin/1/", 200),
    ]:
        assert call in calls
    uploads = [d for d in lines if d["path"] == f"{base}/upload/"]
    abis = [
        p["android"]["abis"]
        for d in uploads
        for p in d["request"]["body"]["parts"]
        if "android" in p
    ]
    assert abis == [["arm64-v8a"], ["armeabi-v7a"]]
    create = lines[index_of(lines, "POST", "/addons/api/plugins/")]
    assert [p["name"] for p in create["request"]["body"]["parts"]] == [
        "json",
        "thumbnail",
        "screenshot1",
    ]


def test_the_shipped_recording_replays_without_differences() -> None:
    code, out = run(str(FIXTURE))
    assert code == 0, out
    assert "compared: no differences" in out
    code, out = run("--json", str(FIXTURE))
    doc = json.loads(out)
    assert code == 0
    assert doc["ok"] is True
    assert doc["differ"] == 0
    assert doc["compared"] == doc["exchanges"] == len(fixture_lines())
    registered = {c["registered"] for c in doc["credentials"] if c["marketplace"] == "bazaar"}
    assert registered == {True, False}  # the wrong token got no app


def test_an_altered_recording_is_reported_alteration_by_alteration(tmp_path: Path) -> None:
    lines = fixture_lines()
    base = "/v1/apps/releases"
    status_at = index_of(lines, "POST", f"{base}/upload/")
    lines[status_at]["response"]["status"] = 400
    type_at = index_of(lines, "GET", f"{base}/last-committed")
    lines[type_at]["response"]["json"]["type"] = "success"
    removed_at = index_of(lines, "GET", f"{base}/last-committed", 1)
    del lines[removed_at]["response"]["json"]["release"]["packages"]
    retyped_at = index_of(lines, "GET", "/addons/api/plugin/1/")
    lines[retyped_at]["response"]["json"]["name"] = 42
    altered = tmp_path / "altered.jsonl"
    altered.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in lines))

    code, out = run(str(altered))
    assert code == 1
    assert f"#{status_at + 1} (line {status_at + 1}) POST {base}/upload/" in out
    assert "status 400 in the recording, 200 from the emulator" in out
    assert "envelope type 'success' in the recording, 'not-exists' from the emulator" in out
    assert "$.release.packages: sent by the emulator (array), not in the recording" in out
    assert "$.name: integer in the recording, string from the emulator" in out
    assert "4 differ" in out

    code, out = run("--json", str(altered))
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False
    found = {
        (o["index"] - 1, d["kind"], d["where"]) for o in doc["outcomes"] for d in o["differences"]
    }
    assert found == {
        (status_at, "status", ""),
        (type_at, "type", "$.type"),
        (removed_at, "extra", "$.release.packages"),
        (retyped_at, "value-type", "$.name"),
    }
    said = [o["emulator_said"] for o in doc["outcomes"] if o["index"] - 1 == type_at]
    assert "not-exists" in said[0]


# -- bad input -----------------------------------------------------------------------------


def test_a_bad_file_exits_2_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(FIXTURE.read_text().splitlines()[0] + "\n{oops\n")
    code, out = run(str(bad))
    assert code == 2
    assert f"{bad}:2" in capsys.readouterr().err
    code, out = run("--json", str(bad))
    assert code == 2
    assert json.loads(out)["error"]["field"] == f"{bad}:2"
    assert run(str(tmp_path / "missing.jsonl"))[0] == 2
    assert run()[0] == 2
    assert run("--help")[0] == 0
    assert "storepush emulator check-recording" in capsys.readouterr().out


# -- what is sent, as what -----------------------------------------------------------------


def exchange(
    status: int | None = 200,
    *,
    market: str | None = "bazaar",
    fp: str | None = "f1",
    error: ErrorRecord | None = None,
    withheld: bool = False,
    parts: list[Part] | None = None,
    headers: dict[str, str] | None = None,
    path: str = "/v1/apps/releases/",
) -> Exchange:
    body = Body(kind="multipart", parts=parts) if parts is not None else None
    return Exchange(
        format=FORMAT,
        time="t",
        method="POST",
        path=path,
        marketplace=market,
        credential=fp,
        credential_header={"bazaar": "CAFEBAZAAR-PISHKHAN-API-SECRET", "bluemind": "api-key"}.get(
            market or ""
        ),
        request=RequestRecord(headers=headers or {}, body=body),
        response=None if status is None else ResponseRecord(status=status),
        error=error,
        withheld=withheld,
    )


@pytest.mark.parametrize(
    ("recorded", "action"),
    [
        (exchange(200), "compare"),
        (exchange(500), "compare"),
        (exchange(None, error=ErrorRecord("ConnectError", "refused", sent=False)), "skip"),
        (exchange(None, error=ErrorRecord("TimeoutError", "idle", sent=True)), "send"),
        (exchange(None, error=ErrorRecord("CancelledError", "", sent=None)), "send"),
        (exchange(None), "send"),
        (exchange(200, withheld=True), "skip"),
    ],
)
def test_action_for(recorded: Exchange, action: str) -> None:
    assert action_for(recorded)[0] == action


APK_PART = Part(
    name="apk",
    filename="a.apk",
    size=9000,
    android=AndroidInfo(kind="apk", package="com.example.real", version_code=5, abis=["x86"]),
)


@pytest.mark.parametrize(
    ("exchanges", "expected"),
    [
        # a token refused everywhere gets no account; one refused once still does
        ([exchange(403), exchange(403)], {"f1": (False, "com.example.replay")}),
        ([exchange(403), exchange(200)], {"f1": (True, "com.example.replay")}),
        ([exchange(None)], {"f1": (True, "com.example.replay")}),
        # the package comes from the first recorded APK
        (
            [exchange(200), exchange(200, parts=[APK_PART])],
            {"f1": (True, "com.example.real")},
        ),
        # one account per fingerprint and marketplace; no credential, no account
        (
            [
                exchange(200),
                exchange(200, fp="f2"),
                exchange(200, market="bluemind", fp="k1"),
                exchange(200, market=None, fp=None),
            ],
            {
                "f1": (True, "com.example.replay"),
                "f2": (True, "com.example.replay2"),
                "k1": (True, "replay-user-1"),
            },
        ),
    ],
)
def test_plan_identities(exchanges: list[Exchange], expected: dict[str, tuple[bool, str]]) -> None:
    planned = plan_identities(exchanges)
    assert {fp: (i.registered, i.name) for fp, i in planned.items()} == expected


def test_ids_are_learned_and_translated() -> None:
    ids = IdMap()
    ids.learn({"id": 57, "name": "x", "versions": [{"plugin": "57"}]}, {"id": 1, "name": "x"})
    ids.learn([{"release_id": 9, "flag": True}], [{"release_id": 3, "flag": False}])
    ids.learn({"id": True}, {"id": 4})
    assert ids.ids == {"57": "1", "9": "3"}
    assert ids.path("/addons/api/plugin/57/") == "/addons/api/plugin/1/"
    assert ids.path("/addons/api/plugin/58/") == "/addons/api/plugin/58/"


def test_samples_carry_the_recorded_metadata(tmp_path: Path) -> None:
    samples = Samples(tmp_path, max_bytes=4096)
    data = samples.data(APK_PART, package="com.example.default", key="k")
    assert samples.data(APK_PART, package="com.example.default", key="k") is data
    apk = tmp_path / "check.apk"
    apk.write_bytes(data)
    info = android_info(apk, "check.apk", None)
    assert info is not None
    assert (info.package, info.version_code, info.abis) == ("com.example.real", 5, ["x86"])
    assert len(data) < 9000
    bundle = Part(
        name="aab", filename="b.aab", size=5000, android=AndroidInfo(kind="aab", abis=["arm64-v8a"])
    )
    with zipfile.ZipFile(io.BytesIO(samples.data(bundle, package="p", key="b"))) as archive:
        assert "base/lib/arm64-v8a/libreplay.so" in archive.namelist()
        assert "base/manifest/AndroidManifest.xml" in archive.namelist()
    png = samples.data(Part(name="thumbnail", filename="t.png", size=99), package="p", key="t")
    assert png.startswith(b"\x89PNG")
    jar = samples.data(Part(name="package", filename="x.jar", size=3000), package="p", key="j")
    assert zipfile.is_zipfile(io.BytesIO(jar))
    other = samples.data(Part(name="file", filename="x.bin", size=10**9), package="p", key="o")
    assert len(other) == 4096


def test_requests_are_rebuilt_with_the_replay_credential(tmp_path: Path) -> None:
    identity = Identity("bluemind", "k1", "replay-bluemind-k1", True, "u")
    recorded = exchange(
        201,
        market="bluemind",
        fp="k1",
        path="/addons/api/plugins/",
        headers={
            "Accept": "application/json",
            "api-key": "***",
            "Cookie": "***",
            "Content-Length": "10",
            "Content-Type": "multipart/form-data; boundary=x",
        },
        parts=[
            Part(name="json", json={"api_key": "***", "name": "P"}),
            Part(name="note", value="a *** b", content_type="text/plain"),
            Part(name="thumbnail", filename="t.png", content_type="image/png", size=70),
        ],
    )
    outgoing = build_request(recorded, identity, Samples(tmp_path), IdMap(), index=1)
    assert outgoing.headers == {"Accept": "application/json", "api-key": "replay-bluemind-k1"}
    parts = list(outgoing.body)  # type: ignore[arg-type]
    assert json.loads(parts[0][0].decode()) == {"api_key": "replay-bluemind-k1", "name": "P"}
    assert "Content-Type" not in parts[0][0].headers
    assert parts[1][0].decode() == "a replay-bluemind-k1 b"
    assert parts[1][0].headers["Content-Type"] == "text/plain"
    assert parts[2][0].headers["Content-Type"] == "image/png"
    assert 'filename="t.png"' in parts[2][0].headers["Content-Disposition"]


# -- recordings with holes, and a store that answers otherwise ------------------------------


def test_unanswered_and_withheld_exchanges_are_not_compared(tmp_path: Path) -> None:
    lines = fixture_lines()[:3]
    sent = json.loads(json.dumps(lines[0]))
    sent["response"] = None
    sent["error"] = {"type": "TimeoutError", "message": "idle", "sent": True}
    never = json.loads(json.dumps(lines[1]))
    never["response"] = None
    never["error"] = {"type": "ConnectError", "message": "refused", "sent": False}
    withheld = {**lines[2], "withheld": True}
    path = tmp_path / "holes.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in [sent, never, withheld, lines[2]]))
    report = check_recording(path)
    assert [o.action for o in report.outcomes] == ["sent", "skipped", "skipped", "compared"]
    assert report.ok
    assert report.outcomes[0].status == 200
    text = report.text()
    assert "not compared: no answer was recorded (TimeoutError)" in text
    assert "skipped: it never reached the server (ConnectError)" in text
    assert "(3 not compared)" in text


async def test_a_store_answering_otherwise_is_caught(tmp_path: Path, serve: Any) -> None:
    """Record against a stand-in for the live store that answers an empty draft with
    `{"type": "success", "release": null}` (the field evidence), then check the emulator."""

    async def empty_draft(request: web.Request) -> web.Response:
        return web.json_response({"type": "success", "message": "ok", "release": None})

    server: TestServer = await serve([web.get("/v1/apps/releases/last-uncommitted", empty_draft)])
    record = tmp_path / "live.jsonl"
    async with Session(record=record) as session:
        client = storepush.BazaarClient(
            "field-token-123", base_url=str(server.make_url("/v1")), session=session
        )
        with pytest.raises(storepush.DecodeError):
            await client.last_uncommitted()
    report = await _check_in_thread(record)
    (outcome,) = report.outcomes
    assert [(d.kind, d.recorded, d.replayed) for d in outcome.differences] == [
        ("type", "'success'", "'not-exists'")
    ]


async def _check_in_thread(path: Path) -> Any:
    import asyncio

    return await asyncio.to_thread(check_recording, path, Settings())
