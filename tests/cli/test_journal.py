"""The resume file: which drafts a batch created, per item; atomic writes; dry runs only read."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from storepush.bazaar import Package, Release
from storepush.cli._journal import JsonJournal

DRAFT = Release(creation_date=datetime(2026, 1, 5, 10, 31, 7, 123456))
FULL = Release(
    creation_date=datetime(2026, 1, 6, 9, 0, 0),
    packages=[Package(apk_size=1, sha1_hash="a" * 40, version_code=3)],
)


def test_creating_then_remembering(tmp_path: Path) -> None:
    path = tmp_path / "release.toml.state.json"
    shop = JsonJournal(path, "shop")
    assert not shop.is_mine(DRAFT)
    shop.creating()
    assert shop.is_mine(DRAFT)  # an empty draft while a create was in flight: ours
    assert not shop.is_mine(FULL)  # one holding packages is not, without its date
    shop.remember(DRAFT)
    shop.remember(DRAFT)  # once only
    assert json.loads(path.read_text()) == {
        "shop": {"drafts": ["2026-01-05T10:31:07.123456"], "creating": False}
    }
    assert shop.is_mine(Release(creation_date=DRAFT.creation_date, packages=FULL.packages))
    news = JsonJournal(path, "news")
    news.creating()
    assert set(json.loads(path.read_text())) == {"shop", "news"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".storepush-")]


def test_read_only_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "release.toml.state.json"
    dry = JsonJournal(path, "shop", read_only=True)
    dry.creating()
    dry.remember(DRAFT)
    assert not path.exists()
    JsonJournal(path, "shop").remember(DRAFT)
    assert JsonJournal(path, "shop", read_only=True).is_mine(DRAFT)


def test_a_damaged_entry_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"shop": {"drafts": "oops"}, "other": 1}')
    journal = JsonJournal(path, "shop")
    assert not journal.is_mine(DRAFT)
    journal.remember(DRAFT)
    assert json.loads(path.read_text())["shop"]["drafts"] == ["2026-01-05T10:31:07.123456"]
    path.write_text("not json")
    assert not JsonJournal(path, "shop").is_mine(DRAFT)


def test_a_failed_write_is_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    journal = JsonJournal(tmp_path / "gone" / "state.json", "shop")
    with caplog.at_level("WARNING", logger="storepush.cli"):
        journal.creating()
        journal.remember(DRAFT)
    assert "cannot be written" in caplog.text
    assert not (tmp_path / "gone").exists()
