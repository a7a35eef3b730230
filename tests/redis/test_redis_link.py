"""The link's state machine, and its refusals before any request."""

from __future__ import annotations

import importlib.util

import pytest

from storepush import ValidationError
from storepush._redis_link import next_state, require_redis_package

STATES = [
    # state, ok, now, down_until -> state, down_until, flag
    ("up", None, 10.0, 0.0, ("up", 0.0, True)),
    ("down", None, 10.0, 12.0, ("down", 12.0, False)),
    ("down", None, 12.0, 12.0, ("down", 12.0, True)),
    ("up", True, 10.0, 0.0, ("up", 0.0, False)),
    ("up", False, 10.0, 0.0, ("down", 15.0, True)),
    ("down", False, 13.0, 12.0, ("down", 18.0, False)),
    ("down", True, 13.0, 12.0, ("up", 12.0, True)),
]


@pytest.mark.parametrize(("state", "ok", "now", "down_until", "expected"), STATES)
def test_next_state(
    state: str, ok: bool | None, now: float, down_until: float, expected: object
) -> None:
    assert (
        next_state(state, ok=ok, now=now, down_until=down_until, retry_every=5.0)  # type: ignore[arg-type]
        == expected
    )


def test_without_redis_py_a_url_is_refused_before_any_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "redis" else real(name, *a)
    )
    with pytest.raises(ValidationError, match=r"storepush\[redis\]") as caught:
        require_redis_package("STOREPUSH_REDIS_URL")
    assert caught.value.field == "STOREPUSH_REDIS_URL"
