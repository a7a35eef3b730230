"""Rebuilding recorded requests: what is sent, as whom, with which files and ids."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

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
from storepush.emulator._replay_requests import (
    Identity,
    IdMap,
    Samples,
    action_for,
    build_request,
    plan_identities,
)


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
    ("recorded", "plain", "with_unknown"),
    [
        (exchange(200), "compare", "compare"),
        (exchange(404), "compare", "compare"),
        (exchange(429), "skip", "skip"),
        (exchange(500), "skip", "send"),
        (exchange(504), "skip", "send"),
        (exchange(None, error=ErrorRecord("ConnectError", "refused", sent=False)), "skip", "skip"),
        (exchange(None, error=ErrorRecord("TimeoutError", "idle", sent=True)), "skip", "send"),
        (exchange(None, error=ErrorRecord("CancelledError", "", sent=None)), "skip", "send"),
        (exchange(None), "skip", "send"),
        (exchange(200, withheld=True), "skip", "skip"),
    ],
)
def test_action_for(recorded: Exchange, plain: str, with_unknown: str) -> None:
    assert action_for(recorded).what == plain
    sent = action_for(recorded, send_unknown=True)
    assert sent.what == with_unknown
    assert sent.unknown == (with_unknown == "send")


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
