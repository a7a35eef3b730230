"""What a Pishkhan 2xx says: one reader, a table."""

from __future__ import annotations

import pytest

from storepush import APIError, DecodeError
from storepush._http import Response
from storepush.bazaar._envelope import package_of, read_answer, release_of

RELEASE = b'"release": {"packages": [], "creation_date": "2026-12-01T08:00:00.000001"}'


def answer(body: bytes) -> Response:
    return Response(200, {}, body, "GET", "https://api.example/v1/apps/releases/last-committed")


@pytest.mark.parametrize(
    ("body", "absent_ok", "expected"),
    [
        (b'{"type": "success", "message": "ok", ' + RELEASE + b"}", False, "release"),
        (b'{"type": "success", "message": "ok", ' + RELEASE + b"}", True, "release"),
        (b'{"type": "success", "message": "ok", "release": null}', True, None),  # the field
        (b'{"type": "not-exists", "message": "There is not a release."}', True, None),  # the doc
        (b'{"type": "success", "message": "ok", "release": null}', False, DecodeError),
        (b'{"type": "success", "message": "ok"}', True, DecodeError),  # missing, not null
        (b'{"type": "not-exists"}', False, APIError),
        (b'{"type": "bad_request", "message": "nope"}', True, APIError),
        (b"[]", True, DecodeError),
    ],
)
def test_release_answers_table(body: bytes, absent_ok: bool, expected: object) -> None:
    if isinstance(expected, type):
        with pytest.raises(expected):
            release_of(answer(body), absent_ok=absent_ok)
        return
    release = release_of(answer(body), absent_ok=absent_ok)
    assert (release is None) is (expected is None)


def test_a_delete_answer_needs_only_its_type() -> None:
    envelope = read_answer(
        answer(b'{"type": "success", "message": "Release successfully deleted."}'), None
    )
    assert envelope.type == "success"


def test_an_error_envelope_on_a_2xx_names_its_type() -> None:
    with pytest.raises(APIError, match="the answer's type is 'bad_request', not 'success'"):
        package_of(answer(b'{"type": "bad_request", "message": "The apk field is required."}'))
