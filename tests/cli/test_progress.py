"""Progress reporters: which one `auto` picks, the 10 % steps, timestamped plain lines, JSON
lines, batch bytes, and waits that say when the next check is."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from storepush import Event
from storepush.cli._progress import (
    JsonLines,
    PlainLines,
    Quiet,
    choose_mode,
    event_line,
    make_reporter,
    megabytes,
    percent_step,
    seconds,
)
from storepush.cli._settings import ProgressMode

NOW = datetime(2026, 1, 5, 10, 31, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("requested", "tty", "expected"),
    [
        (ProgressMode.AUTO, True, ProgressMode.BAR),
        (ProgressMode.AUTO, False, ProgressMode.PLAIN),
        (ProgressMode.PLAIN, True, ProgressMode.PLAIN),
        (ProgressMode.BAR, False, ProgressMode.BAR),
        (ProgressMode.JSONL, True, ProgressMode.JSONL),
        (ProgressMode.OFF, False, ProgressMode.OFF),
    ],
)
def test_choose_mode(requested: ProgressMode, tty: bool, expected: ProgressMode) -> None:
    assert choose_mode(requested, stderr_tty=tty) is expected


@pytest.mark.parametrize(
    ("sent", "total", "step"),
    [
        (0, 100, 0),
        (9, 100, 0),
        (10, 100, 1),
        (55, 100, 5),
        (100, 100, 10),
        (150, 100, 10),
        (5, 0, 10),
        (-1, 100, 0),
    ],
)
def test_percent_step(sent: int, total: int, step: int) -> None:
    assert percent_step(sent, total) == step


@pytest.mark.parametrize(
    ("value", "text"),
    [(30.0, "30 s"), (60.4, "60 s"), (1.5, "1.5 s"), (0.5, "0.5 s"), (2.0, "2 s")],
)
def test_seconds(value: float, text: str) -> None:
    assert seconds(value) == text


@pytest.mark.parametrize(
    ("count", "text"),
    [(32_548, "33 KB"), (999_592, "1.0 MB"), (12_300_000, "12.3 MB"), (2_100_000_000, "2.10 GB")],
)
def test_megabytes(count: int, text: str) -> None:
    assert megabytes(count) == text


def test_event_lines() -> None:
    assert event_line(Event("checking", "checking the store's state")) == (
        "checking the store's state"
    )
    wait = Event("waiting-for-review", "waiting for review", seconds=30.0)
    assert event_line(wait) == "waiting for review — next check in 30 s"
    bundle = Event("processing", "waiting for bundle processing", seconds=60.0)
    assert event_line(bundle).endswith("next check in 60 s")
    lease = Event("waiting-for-lease", "another publish runs (up to 1800s)", seconds=1800.0)
    assert event_line(lease) == "another publish runs (up to 1800s)"


def test_plain_lines_for_one_publish() -> None:
    stream = io.StringIO()
    lines = PlainLines(stream, now=lambda: NOW)
    lines.event(Event("checking", "checking the store's state"))
    lines.event(Event("uploading", "uploading 1 of 2: a.apk", file="a.apk", index=1, total=2))
    for sent in range(0, 1_000_001, 50_000):
        lines.upload(sent, 1_000_000)
    lines.upload(300_000, 1_000_000)  # a retry sends the file again: its steps show again
    lines.upload(1_000_000, 1_000_000)
    out = stream.getvalue().splitlines()
    assert out[0] == "2026-01-05T10:31:07Z checking the store's state"
    assert out[1] == "2026-01-05T10:31:07Z uploading 1 of 2: a.apk"
    steps = [line.split(": ", 1)[1] for line in out[2:]]
    assert steps[:10] == [f"{p} % ({megabytes(p * 10_000)} of 1.0 MB)" for p in range(10, 101, 10)]
    assert steps[10:] == ["30 % (300 KB of 1.0 MB)", "100 % (1.0 MB of 1.0 MB)"]
    assert all(line.startswith("2026-01-05T10:31:07Z uploading a.apk: ") for line in out[2:])


def test_plain_lines_for_a_batch() -> None:
    stream = io.StringIO()
    lines = make_reporter(
        ProgressMode.PLAIN, stream, batch_total=2_000_000, items=2, now=lambda: NOW
    )
    lines.item_started("shop", 1_000_000)
    lines.event(Event("uploading", "uploading 1 of 1: s.apk", file="s.apk"), "shop")
    lines.upload(500_000, 1_000_000, "shop")
    lines.upload(1_000_000, 1_000_000, "shop")
    lines.item_finished("shop", "committed", True, 1.25)
    lines.upload(1_000_000, 1_000_000, "news")
    lines.item_finished("news", "failed: refused", False, 0.5)
    out = [line.split(" ", 1)[1] for line in stream.getvalue().splitlines()]
    assert out == [
        "shop: started (1.0 MB to send)",
        "shop: uploading 1 of 1: s.apk",
        "batch: 20 % of 2.0 MB sent (0 of 2 items done)",
        "batch: 50 % of 2.0 MB sent (0 of 2 items done)",
        "shop: finished: committed (1.2 s)",
        "batch: 100 % of 2.0 MB sent (1 of 2 items done)",
        "news: finished: failed: refused (0.5 s)",
    ]


def test_json_lines() -> None:
    stream = io.StringIO()
    lines = JsonLines(stream, now=lambda: NOW)
    lines.event(Event("uploading", "uploading 1 of 1: a.apk", file="a.apk", index=1, total=1))
    lines.upload(500_000, 1_000_000)
    lines.item_started("shop", 10)
    lines.item_finished("shop", "committed", True, 0.1234)
    docs = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert docs[0] == {
        "time": "2026-01-05T10:31:07Z",
        "phase": "uploading",
        "message": "uploading 1 of 1: a.apk",
        "file": "a.apk",
        "index": 1,
        "total": 1,
    }
    assert docs[1]["percent"] == 50
    assert docs[1]["file"] == "a.apk"
    assert docs[2] == {
        "time": "2026-01-05T10:31:07Z",
        "item": "shop",
        "phase": "item-started",
        "bytes": 10,
    }
    assert docs[3]["seconds"] == 0.123


def test_a_closed_stream_never_fails_a_publish() -> None:
    stream = io.StringIO()
    lines = PlainLines(stream)
    stream.close()
    lines.event(Event("checking", "checking"))  # no exception
    quiet = Quiet()
    quiet.event(Event("checking", "x"))
    quiet.upload(1, 2)
    quiet.item_started("a", 1)
    quiet.item_finished("a", "ok", True, 1.0)
    quiet.close()
    assert isinstance(make_reporter(ProgressMode.OFF, io.StringIO()), Quiet)
