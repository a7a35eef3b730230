"""`storepush emulator check-recording`: the shipped recording replays clean; alterations,
bad files and unanswered exchanges are reported as they should be."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import storepush
from storepush import Session
from storepush.emulator._replay import Settings, check_recording, main

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


# -- recordings with holes, and a store that answers otherwise ------------------------------


def test_unanswered_and_withheld_exchanges_are_not_compared(tmp_path: Path) -> None:
    lines = fixture_lines()[:3]
    lost = json.loads(json.dumps(lines[0]))
    lost["response"] = None
    lost["error"] = {"type": "TimeoutError", "message": "idle", "sent": True}
    never = json.loads(json.dumps(lines[1]))
    never["response"] = None
    never["error"] = {"type": "ConnectError", "message": "refused", "sent": False}
    throttled = json.loads(json.dumps(lines[2]))
    throttled["response"]["status"] = 429
    withheld = {**lines[2], "withheld": True}
    altered = json.loads(json.dumps(lines[2]))
    altered["response"]["status"] = 404
    path = tmp_path / "holes.jsonl"
    rows = [lost, never, throttled, withheld, lines[2], altered]
    path.write_text("".join(json.dumps(d) + "\n" for d in rows))

    report = check_recording(path)
    assert [o.action for o in report.outcomes] == ["skipped"] * 4 + ["compared"] * 2
    assert [o.after_unknown for o in report.outcomes] == [None, 1, 1, 1, 1, 1]
    text = report.text()
    assert "skipped: no answer was recorded (TimeoutError), so whether it acted is unknown" in text
    assert "skipped: it never reached the server (ConnectError)" in text
    assert "skipped: the store throttled it (429): it did not act" in text
    assert "#6 (line 6) GET /v1/apps/releases/last-uncommitted (after #1, whose outcome" in text
    assert "(4 not compared)" in text

    sent = check_recording(path, Settings(send_unknown=True))
    assert [o.action for o in sent.outcomes][:2] == ["sent", "skipped"]
    assert sent.outcomes[0].status == 200
    assert "not compared: no answer was recorded" in sent.text()


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
        assert await client.last_uncommitted() is None  # the SDK reads both shapes
    report = await _check_in_thread(record)
    (outcome,) = report.outcomes
    assert [(d.kind, d.recorded, d.replayed) for d in outcome.differences] == [
        ("type", "'success'", "'not-exists'")
    ]


async def _check_in_thread(path: Path) -> Any:
    import asyncio

    return await asyncio.to_thread(check_recording, path, Settings())


# -- a store with a history ----------------------------------------------------------------

HISTORY_TOKEN = "history-token-5e4d3c2b1a"
HISTORY_KEY = "history-key-0f1e2d3c4b"
OTHER_KEY = "history-other-key-99aa88"


async def _record_against_a_store_with_history(tmp_path: Path) -> Path:
    """The live-store situation: releases published and plugins created long before the
    recording starts (here on an emulator, outside the recording)."""
    from storepush._samples import make_apk, make_jar
    from storepush.emulator import Emulator

    package = "com.example.history"
    store = Emulator(
        apps={HISTORY_TOKEN: package},
        users={HISTORY_KEY: "hist", OTHER_KEY: "other"},
        review_seconds=3600,
    )
    record = tmp_path / "history.jsonl"
    async with store:
        async with storepush.Session() as before:
            bazaar = storepush.BazaarClient(
                HISTORY_TOKEN, base_url=store.bazaar_url, session=before
            )
            await bazaar.publish([make_apk(tmp_path / "v1.apk", package=package, version_code=10)])
            app = store.world.app(HISTORY_TOKEN)
            store.world.decide(app, "published")
            await bazaar.publish([make_apk(tmp_path / "v2.apk", package=package, version_code=11)])
            other = storepush.BlueMindClient(OTHER_KEY, base_url=store.bluemind_url, session=before)
            await other.create_plugin("Someone else's", "s", "d", "MIT", "i")
            mine = storepush.BlueMindClient(
                HISTORY_KEY, base_url=store.bluemind_url, session=before
            )
            await mine.create_plugin("Old plugin", "s", "d", "MIT", "i")
            await mine.add_version("Old plugin", "0.9", "4.x", "old", make_jar(tmp_path / "o.jar"))
        async with storepush.Session(record=record) as session:
            bazaar = storepush.BazaarClient(
                HISTORY_TOKEN, base_url=store.bazaar_url, session=session
            )
            result = await bazaar.publish(
                [make_apk(tmp_path / "v3.apk", package=package, version_code=12)]
            )
            assert result.release.committed
            bluemind = storepush.BlueMindClient(
                HISTORY_KEY, base_url=store.bluemind_url, session=session
            )
            (plugin,) = await bluemind.list_plugins()
            assert plugin.id == 2
            await bluemind.get_plugin(plugin.id)
            await bluemind.add_version(
                "Old plugin", "1.0", "4.x", "new", make_jar(tmp_path / "n.jar")
            )
            await bluemind.get_plugin(plugin.id)
    return record


async def test_the_starting_state_is_seeded_from_the_first_reads(tmp_path: Path) -> None:
    import asyncio

    record = await _record_against_a_store_with_history(tmp_path)
    report = await asyncio.to_thread(check_recording, record, Settings())
    assert report.ok, report.text()
    assert report.notes == [
        "com.example.history: seeded the published release the recording read first",
        "com.example.history: seeded the committed release the recording read first",
        "replay-user-1: seeded plugin 'Old plugin' (id 2)",
    ]
    # recorded plugin 2 is the emulator's plugin 1: the paths were translated
    assert [o.status for o in report.outcomes if "/plugin/" in o.path] == [200, 200]

    bare = await asyncio.to_thread(check_recording, record, Settings(seed=False))
    kinds = {d.kind for o in bare.differing for d in o.differences}
    assert "type" in kinds  # last-published: success recorded, not-exists from an empty store
    assert "status" in kinds  # GET plugin/2/: 200 recorded, 404 from an empty store
    code, out = await asyncio.to_thread(run, "--no-seed", str(record))
    assert code == 1
    assert "seeded" not in out


async def test_a_recording_made_under_faults_replays_clean(tmp_path: Path) -> None:
    """Throttles, 5xx before acting and dropped uploads: the recording holds every attempt,
    and the replay skips what the store did not decide, so the rest matches."""
    import asyncio

    from storepush import Limits, RateLimit, RetryConfig
    from storepush._samples import make_apk
    from storepush.emulator import Emulator, Faults

    tokens = {f"faulty-token-{i}-abcdef": f"com.example.faulty{i}" for i in range(3)}
    faults = Faults(seed=11, error_rate=0.2, throttle_rate=0.2, drop_rate=0.2, retry_after_ratio=0)
    record = tmp_path / "faulty.jsonl"
    retry = RetryConfig(max_attempts=8, backoff_base=0.001, backoff_max=0.005)
    async with Emulator(apps=tokens, faults=faults, review_seconds=3600) as store:
        limits = Limits(default=RateLimit(1000, 1000), adaptive=False)
        async with Session(record=record, retry=retry, limits=limits) as session:

            async def publish(i: int, token: str, package: str) -> None:
                client = storepush.BazaarClient(token, base_url=store.bazaar_url, session=session)
                apk = make_apk(tmp_path / f"{i}.apk", package=package, version_code=3)
                assert (await client.publish([apk])).release.committed

            await asyncio.gather(*(publish(i, t, p) for i, (t, p) in enumerate(tokens.items())))
    statuses = {
        json.loads(line)["response"]["status"]
        for line in record.read_text().splitlines()
        if json.loads(line)["response"]
    }
    assert {429} <= statuses  # faults did happen
    report = await asyncio.to_thread(check_recording, record, Settings())
    assert report.ok, report.text()
    assert report.counts()["not_compared"] > 0
