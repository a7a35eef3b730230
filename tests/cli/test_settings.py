"""The settings table: one precedence rule (flag > environment > manifest > default), and
every value checked where it came from, naming the flag, the variable or the manifest key."""

from __future__ import annotations

import math

import pytest

from storepush import ValidationError
from storepush.cli._settings import (
    BUSY_TIMEOUT,
    DEADLINE,
    IF_DRAFT_EXISTS,
    MAX_ATTEMPTS,
    PROGRESS,
    SETTINGS,
    TIMEOUT,
    IfBusy,
    IfDraftExists,
    ProgressMode,
    busy_policy,
    draft_policy,
    parse_count,
    parse_seconds,
    resolve,
    retry_config,
)

ENV = "STOREPUSH_BUSY_TIMEOUT"


@pytest.mark.parametrize(
    ("flag", "environ", "manifest", "expected"),
    [
        (None, {}, None, 1800.0),  # the default
        (None, {}, 5, 5.0),  # the manifest
        (None, {ENV: "7"}, 5, 7.0),  # the environment beats the manifest
        (3.0, {ENV: "7"}, 5, 3.0),  # the flag beats everything
        (None, {ENV: ""}, 5, 5.0),  # an empty variable is unset
        (None, {ENV: "  "}, None, 1800.0),
        (0.0, {}, None, 0.0),  # zero is a value, not "not given"
    ],
)
def test_precedence(
    flag: float | None, environ: dict[str, str], manifest: object, expected: float
) -> None:
    assert resolve(BUSY_TIMEOUT, flag=flag, environ=environ, manifest=manifest) == expected


def test_a_default_can_be_overridden_per_command() -> None:
    assert resolve(MAX_ATTEMPTS, environ={}, default=8) == 8
    assert resolve(MAX_ATTEMPTS, environ={"STOREPUSH_MAX_ATTEMPTS": "3"}, default=8) == 3


@pytest.mark.parametrize(
    ("flag", "environ", "manifest", "where"),
    [
        (-5.0, {}, None, "--busy-timeout"),
        (None, {ENV: "abc"}, None, ENV),
        (None, {ENV: "-1"}, None, ENV),
        (None, {}, "soon", "release.toml:3: bazaar[0].busy_timeout"),
        (None, {}, True, "release.toml:3: bazaar[0].busy_timeout"),
    ],
)
def test_errors_name_where_the_value_came_from(
    flag: float | None, environ: dict[str, str], manifest: object, where: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        resolve(
            BUSY_TIMEOUT,
            flag=flag,
            environ=environ,
            manifest=manifest,
            where="release.toml:3: bazaar[0].busy_timeout",
        )
    assert caught.value.field == where


@pytest.mark.parametrize(
    ("value", "zero", "expected"),
    [
        (1, False, 1.0),
        (0.5, False, 0.5),
        ("2.5", False, 2.5),
        (0, True, 0.0),
        (0, False, None),
        (-5, False, None),
        (math.inf, False, None),
        (math.nan, False, None),
        ("inf", True, None),
        (True, False, None),
        ([1], False, None),
    ],
)
def test_parse_seconds(value: object, zero: bool, expected: float | None) -> None:
    if expected is None:
        with pytest.raises(ValidationError, match="--x"):
            parse_seconds(value, "--x", zero=zero)
    else:
        assert parse_seconds(value, "--x", zero=zero) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        ("100", 100),
        (5.0, 5),
        (0, None),
        (101, None),
        (2.5, None),
        ("x", None),
        (False, None),
    ],
)
def test_parse_count(value: object, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(ValidationError, match="--n"):
            parse_count(value, "--n", low=1, high=100)
    else:
        assert parse_count(value, "--n", low=1, high=100) == expected


def test_choices_are_typed_and_checked() -> None:
    env = {"STOREPUSH_IF_DRAFT_EXISTS": "reuse", "STOREPUSH_PROGRESS": " jsonl "}
    assert resolve(IF_DRAFT_EXISTS, environ=env) is IfDraftExists.REUSE
    assert resolve(PROGRESS, environ=env) is ProgressMode.JSONL
    assert resolve(IF_DRAFT_EXISTS, flag=IfDraftExists.REPLACE, environ=env) is (
        IfDraftExists.REPLACE
    )
    with pytest.raises(ValidationError, match="fail, reuse, replace"):
        resolve(IF_DRAFT_EXISTS, environ={"STOREPUSH_IF_DRAFT_EXISTS": "maybe"})
    assert draft_policy(IfDraftExists.REUSE) == "reuse"
    assert busy_policy(IfBusy.FAIL) == "fail"


def test_every_setting_documents_itself() -> None:
    keys = [s.key for s in SETTINGS]
    assert len(keys) == len(set(keys))
    for setting in SETTINGS:
        assert setting.flag.startswith("--")
        assert setting.help().endswith(".")
        assert "Default:" in setting.help()
        if setting.env:
            assert setting.env.startswith("STOREPUSH_")
            assert setting.env in setting.help()
    assert resolve(DEADLINE, environ={}) is None
    assert "none" in DEADLINE.help()


def test_timeout_bounds_uploads_only_when_given() -> None:
    default = retry_config(5, None)
    assert default.max_attempts == 5
    assert default.upload_deadline is None
    given = retry_config(3, resolve(TIMEOUT, flag=60.0, environ={}))
    assert (given.max_attempts, given.deadline, given.upload_deadline) == (3, 60.0, 60.0)
