"""The error tree: messages, remedies in both spellings, and the names users see."""

from __future__ import annotations

import pytest

import storepush
from storepush import DraftExistsError, Remedy, ServerError, ValidationError


def test_remedies_are_spelled_by_whoever_prints_them() -> None:
    error = DraftExistsError("a draft exists").with_remedies(
        ("if_draft_exists", "reuse", "add to it"), ("busy_timeout", None, "wait longer")
    )
    assert str(error) == (
        "a draft exists. Fix: pass if_draft_exists='reuse' to add to it; "
        "or pass busy_timeout=... to wait longer"
    )

    def cli(r: Remedy) -> str:
        flag = "--" + r.option.replace("_", "-")
        return f"{flag} {r.value} to {r.effect}" if r.value else f"{flag} N to {r.effect}"

    assert error.describe(cli).endswith(
        "--if-draft-exists reuse to add to it; or --busy-timeout N to wait longer"
    )


def test_an_error_says_how_many_attempts_and_why_it_stopped() -> None:
    error = ServerError("HTTP 503", status=503, method="GET", url="u").gave_up(
        5, "gave up after 5 attempts"
    )
    assert str(error) == "HTTP 503 [503 on GET u] (gave up after 5 attempts)"
    assert error.attempts == 5


@pytest.mark.parametrize("name", [n for n in storepush.__all__ if n.endswith("Error")])
def test_errors_print_as_the_public_name(name: str) -> None:
    assert getattr(storepush, name).__module__ == "storepush"


def test_validation_error_names_field_and_fix() -> None:
    error = ValidationError("apks[0]", "is empty", "build the file again")
    assert str(error) == "apks[0]: is empty (build the file again)"
    assert isinstance(error, ValueError)
