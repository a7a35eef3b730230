from __future__ import annotations

import logging
import pickle

import pytest

from storepush import Secret, SecretWhitespaceWarning, ValidationError

TOKEN = "tok-3f9a1c77e2b54d"


def test_secret_never_prints() -> None:
    secret = Secret(TOKEN)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret}"):
        assert TOKEN not in text
    assert secret.reveal() == TOKEN


def test_secret_not_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("storepush").debug("using %s / %r", Secret(TOKEN), Secret(TOKEN))
    assert TOKEN not in caplog.text


def test_surrounding_whitespace_stripped_with_warning() -> None:
    with pytest.warns(SecretWhitespaceWarning, match="whitespace"):
        secret = Secret(TOKEN + "\n")
    assert secret.reveal() == TOKEN
    assert secret == Secret(TOKEN)


@pytest.mark.parametrize("value", ["ab cd", "ab\tcd", "ab\ncd", "ab\x00cd", "توکن"])
def test_inner_whitespace_or_garbage_refused(value: str) -> None:
    with pytest.raises(ValidationError) as info:
        Secret(value, field="token")
    assert info.value.field == "token"
    assert value not in str(info.value)


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_empty_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="empty"):
        Secret(value)


def test_not_a_string() -> None:
    with pytest.raises(ValidationError, match="string"):
        Secret(123)  # type: ignore[arg-type]


def test_pickle_refused() -> None:
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(Secret(TOKEN))


def test_fingerprint_is_stable_and_not_the_token() -> None:
    assert Secret(TOKEN).fingerprint == Secret(TOKEN).fingerprint
    assert Secret(TOKEN).fingerprint != Secret(TOKEN + "x").fingerprint
    assert TOKEN not in Secret(TOKEN).fingerprint
    assert hash(Secret(TOKEN)) == hash(Secret(TOKEN))
