"""The one scrubbing rule: every live credential, in every form a server echoes it, is gone."""

from __future__ import annotations

import base64
import html
import json
import logging
from urllib.parse import quote, quote_plus

import pytest

from storepush import Secret
from storepush._scrub import MASK, get_logger, scrub, variants

#: Credentials of unusual characters and lengths (all printable ASCII without spaces).
AWKWARD = [
    "abcdefgh",
    'q"uo\\te/slash',
    "per%cent+plus&amp",
    "<script>alert(1)</script>",
    "ünicode-not-allowed".encode("ascii", "replace").decode(),
    "a/b?c=d#e",
    "x" * 4096,
    "tok:en;with,punct~!@$^*()[]{}|`",
]

ECHOES = [
    ("raw", lambda v: v),
    ("url-quoted", lambda v: quote(v, safe="")),
    ("url-quoted keeping /", lambda v: quote(v)),
    ("lower-case escapes", lambda v: quote(v, safe="").lower() if "%" in quote(v, safe="") else v),
    ("quote_plus", lambda v: quote_plus(v)),
    ("json", lambda v: json.dumps(v)[1:-1]),
    ("json with \\/", lambda v: json.dumps(v)[1:-1].replace("/", "\\/")),
    (
        "go json",
        lambda v: (
            json.dumps(v)[1:-1]
            .replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
        ),
    ),
    ("json in json", lambda v: json.dumps(json.dumps(v)[1:-1])[1:-1]),
    ("html", lambda v: html.escape(v)),
    ("base64", lambda v: base64.b64encode(v.encode()).decode()),
]


@pytest.mark.parametrize("value", AWKWARD, ids=lambda v: v[:20])
@pytest.mark.parametrize(("how", "echo"), ECHOES, ids=[h for h, _ in ECHOES])
def test_every_echo_of_every_awkward_credential_is_removed(
    value: str, how: str, echo: object
) -> None:
    secret = Secret(value)
    echoed = echo(value)  # type: ignore[operator]
    if how == "lower-case escapes" and echoed == value:
        pytest.skip("nothing to escape")
    text = f"403 Forbidden: token {echoed!s} is not valid (headers: X-Token={echoed})"
    cleaned = scrub(text)
    assert echoed not in cleaned
    assert value not in cleaned
    assert MASK in cleaned
    del secret


def test_a_secret_no_longer_alive_is_no_longer_scrubbed() -> None:
    Secret("short-lived-credential-123")
    import gc

    gc.collect()
    assert scrub("short-lived-credential-123") == "short-lived-credential-123"


def test_an_equal_copy_that_dies_leaves_the_live_one_scrubbed() -> None:
    import gc

    first = Secret("twice-made-credential-42")
    second = Secret("twice-made-credential-42")
    assert first == second
    del first
    gc.collect()
    assert scrub("token twice-made-credential-42") == f"token {MASK}"
    del second


def test_secrets_collected_while_scrubbing_never_deadlock() -> None:
    """A secret in a reference cycle dies inside the garbage collector, which may run while
    `scrub` is reading the registry (any allocation can start it). With a lock taken by both
    the reader and the weakref callback, this hung the suite; it must just go on."""
    import gc
    import threading

    def churn() -> None:
        for i in range(2_000):
            holder: list[object] = [Secret(f"cyclic-credential-{i:06d}")]
            holder.append(holder)  # only the cycle collector can free it
            gc.collect(0)  # it survives a young collection, so an older one frees it later,
            del holder  # wherever that one happens to start
            for _ in range(5):
                scrub("nothing secret here")

    thresholds = gc.get_threshold()
    gc.set_threshold(1, 1, 1)
    try:
        worker = threading.Thread(target=churn, daemon=True)
        worker.start()
        worker.join(timeout=30)
    finally:
        gc.set_threshold(*thresholds)
    assert not worker.is_alive(), "scrub deadlocked against a secret's collection"


def test_finalizers_may_scrub_and_make_secrets_while_scrubbing() -> None:
    """The collector runs finalizers wherever it starts, also in the middle of a scrub: a
    finalizer that logs (so scrubs) and one that makes a `Secret` must both just work, and
    the secret made there is scrubbed afterwards."""
    import gc

    from storepush import _scrub

    made: list[Secret] = []
    seen: list[str] = []

    class Finalizer:
        def __init__(self) -> None:
            self.cycle = self

        def __del__(self) -> None:
            seen.append(scrub("said finaliser-made-credential-1"))
            made.append(Secret("finaliser-made-credential-1"))

    class CollectsWhileRead:
        armed = True

        def _scrub_variants(self) -> tuple[str, ...]:
            if self.armed:
                self.armed = False
                Finalizer()
                gc.collect()  # as an allocation inside the scrub might
            return ("reader-side-credential-2",)

    reader = CollectsWhileRead()
    _scrub.register(reader)
    assert scrub("x reader-side-credential-2 y") == f"x {MASK} y"
    assert seen == ["said finaliser-made-credential-1"], "the finalizer ran, and scrubbed"
    assert scrub("finaliser-made-credential-1") == MASK
    made.clear()
    del reader
    gc.collect()


def test_variants_are_longest_first_and_distinct() -> None:
    forms = variants("a/b<c")
    assert len(forms) == len(set(forms))
    assert [len(f) for f in forms] == sorted((len(f) for f in forms), reverse=True)


def test_storepush_loggers_scrub_their_records(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret("logged-credential-0987654321")
    log = get_logger("storepush.test_scrub")
    with caplog.at_level(logging.INFO, logger="storepush.test_scrub"):
        log.info("server said: %s", "bad token logged-credential-0987654321")
    assert "logged-credential" not in caplog.text
    assert MASK in caplog.text
    del secret
