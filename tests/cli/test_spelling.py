"""CLI errors speak CLI: the library's field names, remedies and Python spellings become the
flags, arguments and manifest keys the user typed; real library errors are checked too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storepush import BusyError, Remedy, ValidationError, WorkflowError
from storepush._config import check_base_url
from storepush.bazaar import check_commit_fields, check_policy, parse_apks
from storepush.bazaar._rules import Ours, judge_start
from storepush.cli._spelling import FIELDS, FLAGS, MANIFEST, Spelling, render_error
from storepush.emulator._state import Package
from storepush.testing import make_apk

#: What no command-line message may contain: Python spellings of the library.
LIBRARY_SPELLING = re.compile(
    r"staged_rollout_percentage|\w+=('|\.\.\.|True|False)|pass \w+=|BazaarClient|"
    r"check_access\(\)|PluginSpec\(|\baction\.\.|\ba APK"
)
#: ...and, on the command line (not in a manifest, where they are the keys), field names.
FIELD_NAMES = re.compile(
    r"\b(if_draft_exists|if_busy|busy_timeout|changelog_en|auto_publish)\b|\bapks\["
)


@pytest.mark.parametrize(
    ("name", "flags", "manifest"),
    [
        ("staged_rollout_percentage", "--rollout", "rollout"),
        ("changelog_en", "--changelog-en", "changelog_en"),
        ("if_draft_exists", "--if-draft-exists", "if_draft_exists"),
        ("apks", "APK", "apks"),
        ("apks[1]", "APK 2 (b.apk)", "apks[1] (b.apk)"),
        (
            "apks[0].architecture",
            "the architecture of APK 1 (a.apk)",
            "apks[0].architecture (a.apk)",
        ),
        ("bin", "--bin", "bin"),
        ("plugin_name", "--plugin", "plugin"),
        ("installation_instructions", "--instructions", "create.installation_instructions"),
        ("screenshots[1]", "--screenshot 2", "create.screenshots[1]"),
        ("--already-a-flag", "--already-a-flag", "--already-a-flag"),
        ("STOREPUSH_TIMEOUT", "STOREPUSH_TIMEOUT", "STOREPUSH_TIMEOUT"),
    ],
)
def test_field_table(name: str, flags: str, manifest: str) -> None:
    paths = ["a.apk", "b.apk"]
    assert Spelling("flags", apks=paths).field(name) == flags
    assert Spelling("manifest", apks=paths).field(name) == manifest


@pytest.mark.parametrize(
    ("remedy", "flags", "manifest"),
    [
        (
            Remedy("if_draft_exists", "reuse", "add this build to it"),
            "use --if-draft-exists reuse to add this build to it",
            'use if_draft_exists = "reuse" to add this build to it',
        ),
        (
            Remedy("busy_timeout", None, "wait longer"),
            "use --busy-timeout SECONDS to wait longer",
            "use busy_timeout = SECONDS to wait longer",
        ),
        (
            Remedy("create", None, "create it from a plugin spec"),
            "use --create-from PLUGIN.toml to create it from a plugin spec",
            "use a [bluemind.create] table in the item to create it from a plugin spec",
        ),
        (
            Remedy("some_new_option", "yes", "do it"),
            "use --some-new-option yes to do it",
            'use some_new_option = "yes" to do it',
        ),
    ],
)
def test_remedy_table(remedy: Remedy, flags: str, manifest: str) -> None:
    assert FLAGS.remedy(remedy) == flags
    assert MANIFEST.remedy(remedy) == manifest


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        (
            "pass allow_insecure_http=True if you mean it",
            "use --allow-insecure-http if you mean it",
        ),
        ("pass if_draft_exists='reuse' to add it", "use --if-draft-exists reuse to add it"),
        ("set auto_publish=False", "set --no-auto-publish"),
        ("apks[0] is the same file as apks[1]", "APK 1 (a.apk) is the same file as APK 2 (b.apk)"),
        (
            "it differs in changelog_en, staged_rollout_percentage",
            "it differs in --changelog-en, --rollout",
        ),
        ("run BazaarClient.check_access() first", "run `storepush bazaar check` first"),
        ("this is not a APK file", "this is not an APK file"),
        ("stop the action.. now", "stop the action. now"),
        ("wait... for it", "wait... for it"),
        ("see ../notes.txt", "see ../notes.txt"),
        ("an ordinary sentence, with a_path/x.apk", "an ordinary sentence, with a_path/x.apk"),
    ],
)
def test_free_text(text: str, flags: str) -> None:
    assert Spelling("flags", apks=["a.apk", "b.apk"]).text(text) == flags


def _library_errors(tmp_path: Path) -> list[Exception]:
    """Real errors raised by the library, each spelled the Python way."""
    errors: list[Exception] = []
    apk = make_apk(tmp_path / "a.apk", package="com.example.x", version_code=3)
    twin = make_apk(tmp_path / "b.apk", package="com.example.x", version_code=3, seed=2)
    attempts = [
        lambda: check_commit_fields(staged_rollout_percentage=0),
        lambda: check_commit_fields(changelog_en="x" * 9000),
        lambda: check_commit_fields(developer_note="\x00binary"),
        lambda: check_policy("maybe"),
        lambda: parse_apks([apk, apk]),
        lambda: parse_apks([apk, twin]),
        lambda: parse_apks([(apk, "x86")]),
        lambda: parse_apks([tmp_path / "missing.apk"]),
        lambda: check_base_url("http://example.com/v1", allow_insecure=False),
    ]
    for attempt in attempts:
        try:
            attempt()
        except ValidationError as exc:
            errors.append(exc)
    draft = __import__("storepush").bazaar.Release(
        packages=[
            __import__("storepush").bazaar.Package(apk_size=1, sha1_hash="f" * 40, version_code=9)
        ]
    )
    start = judge_start(
        draft=draft,
        committed=None,
        published=None,
        ours=[Ours("apks[0]", 3, frozenset(), "a" * 40)],
        policy="fail",
    )
    assert start.error is not None
    errors.append(start.error)
    errors.append(
        BusyError("another publish of this app is running").with_remedies(
            ("if_busy", "wait", "wait for it"), ("busy_timeout", None, "wait longer")
        )
    )
    errors.append(
        WorkflowError("no plugin named 'x'").with_remedies(
            ("create", None, "create it from a plugin spec")
        )
    )
    return errors


@pytest.mark.parametrize("spelling", [FLAGS, MANIFEST])
def test_no_library_spelling_in_real_errors(tmp_path: Path, spelling: Spelling) -> None:
    errors = _library_errors(tmp_path)
    assert len(errors) >= 12
    for error in errors:
        assert isinstance(error, Exception)
        rendered = render_error(error, spelling)  # type: ignore[arg-type]
        text = " ".join([rendered.message, rendered.where or "", *rendered.remedies])
        assert not LIBRARY_SPELLING.search(text), text
        if spelling is FLAGS:
            assert not FIELD_NAMES.search(text), text


def test_rendered_error_document() -> None:
    error = ValidationError("staged_rollout_percentage", "0 is outside 1..100", "100 is everyone")
    rendered = render_error(error)
    assert rendered.bad_input
    assert rendered.to_json() == {
        "type": "ValidationError",
        "message": "--rollout: 0 is outside 1..100 (100 is everyone)",
        "field": "--rollout",
    }
    busy = render_error(BusyError("busy").with_remedies(("if_busy", "wait", "wait for it")))
    assert busy.to_json()["remedies"] == ["use --if-busy wait to wait for it"]
    assert "Fix: use --if-busy wait to wait for it" in busy.message


def test_the_table_has_one_row_per_library_name() -> None:
    names = [name for name, _, _ in FIELDS]
    assert len(names) == len(set(names))
    assert Package  # the emulator's model is importable alongside (used by other tests)
