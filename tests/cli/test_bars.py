"""The terminal's bars: they name the file and its place, count items and bytes, count down
waits, and print messages with markup off (brackets survive)."""

from __future__ import annotations

import io

from storepush import Event
from storepush.cli._bars import Bars


def test_one_publish() -> None:
    stream = io.StringIO()
    bars = Bars(stream)
    bars.event(Event("checking", "checking [bazaar] state"))
    bars.event(Event("uploading", "uploading 1 of 2: a.apk", file="a.apk", index=1, total=2))
    assert bars.file_task is not None
    bars.upload(500, 1000)
    task = bars.progress.tasks[0]
    assert task.description == "uploading 1 of 2: a.apk"
    assert (task.completed, task.total) == (500, 1000)
    bars.event(Event("uploading", "uploading 2 of 2: b.apk", file="b.apk", index=2, total=2))
    assert bars.progress.tasks[0].description == "uploading 2 of 2: b.apk"
    assert bars.progress.tasks[0].completed == 0
    bars.event(Event("waiting-for-review", "waiting for review", seconds=30.0))
    assert bars.wait_task is not None
    assert bars.file_task is None  # the uploads are over
    wait = next(t for t in bars.progress.tasks if t.id == bars.wait_task)
    assert "next check in" in str(bars.progress.columns[2].render(wait))  # type: ignore[union-attr]
    bars.event(Event("committed", "published"))
    assert bars.wait_task is None
    bars.close()
    assert "checking [bazaar] state" in stream.getvalue()


def test_a_batch_shows_items_and_bytes() -> None:
    stream = io.StringIO()
    bars = Bars(stream, batch_total=3000, items=2)
    bars.event(Event("checking", "ignored in a batch"), "shop")
    bars.upload(1000, 2000, "shop")
    bars.upload(2000, 2000, "shop")
    bars.upload(1000, 1000, "news")
    bars.item_finished("shop", "committed", True, 1.0)
    bars.item_finished("news", "failed: [] refused", False, 1.0)
    by_kind = {t.fields["kind"]: t for t in bars.progress.tasks}
    assert by_kind["bytes"].completed == 3000
    assert by_kind["items"].completed == 2
    bars.close()
    text = stream.getvalue()
    assert "done: shop: committed" in text
    assert "FAILED: news: failed: [] refused" in text
    assert "ignored in a batch" not in text
