"""Output: one JSON document or plain text, exit codes, warnings once each (naming the batch
item), interrupts as a paragraph or a document, and every write scrubbed of credentials."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import sys

import pytest
import typer

from storepush import BusyError, Secret, ValidationError
from storepush.cli._interrupts import Journey
from storepush.cli._output import (
    CURRENT_ITEM,
    Output,
    ScrubbedStream,
    format_table,
    scrubbed_streams,
)
from storepush.cli._spelling import MANIFEST

CREDENTIAL = "out-test-credential-9f8e7d6c5b"


def test_every_write_is_scrubbed(capsys: pytest.CaptureFixture[str]) -> None:
    secret = Secret(CREDENTIAL, field="token")
    inner = io.StringIO()
    stream = ScrubbedStream(inner)
    stream.write(f"echoed {secret.reveal()} and %s" % CREDENTIAL.replace("-", "%2D"))
    assert CREDENTIAL not in inner.getvalue()
    assert "***" in inner.getvalue()
    assert stream.isatty() is False
    with scrubbed_streams():
        print(f"token={secret.reveal()}")
        print(f"token={secret.reveal()}", file=sys.stderr)
    captured = capsys.readouterr()
    assert CREDENTIAL not in captured.out + captured.err
    assert captured.out == "token=***\n"
    del secret


def test_format_table() -> None:
    assert format_table(["a", "long header"], [["x", "1"], ["yyyy", "22"]]) == [
        "a     long header",
        "x     1",
        "yyyy  22",
    ]


def test_json_and_human(capsys: pytest.CaptureFixture[str]) -> None:
    Output(json_mode=True).emit({"ok": True, "x": "[bazaar]"}, lambda: ["unused"])
    Output().emit({"ok": True}, lambda: ["first [bazaar] line", "second []"])
    out = capsys.readouterr().out.splitlines()
    assert json.loads(out[0]) == {"ok": True, "x": "[bazaar]"}
    assert out[1:] == ["first [bazaar] line", "second []"]


def test_warnings_once_each_and_named_by_item(capsys: pytest.CaptureFixture[str]) -> None:
    out = Output()
    out.warn("differs in staged_rollout_percentage")
    out.warn("differs in staged_rollout_percentage")
    out.warn("a note", item="shop")
    token = CURRENT_ITEM.set("news")
    try:
        out.warn("a note")  # from the library's log, inside the item's task
        out.warn("a note", item="news")  # the same one, from the item's result
    finally:
        CURRENT_ITEM.reset(token)
    assert capsys.readouterr().err.splitlines() == [
        "warning: differs in --rollout",
        "warning: shop: a note",
        "warning: news: a note",
    ]
    lines = Output(jsonl=True, spelling=MANIFEST)
    lines.warn("differs in staged_rollout_percentage", item="shop")
    doc = json.loads(capsys.readouterr().err)
    assert (doc["item"], doc["warning"]) == ("shop", "differs in rollout")


def test_errors_map_to_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    async def bad_input() -> None:
        raise ValidationError("staged_rollout_percentage", "0 is outside 1..100")

    async def refused() -> None:
        raise BusyError("another publish runs").with_remedies(("if_busy", "wait", "wait for it"))

    with pytest.raises(typer.Exit) as caught:
        Output().run(bad_input)
    assert caught.value.exit_code == 2
    assert capsys.readouterr().err == "bad input: --rollout: 0 is outside 1..100\n"
    with pytest.raises(typer.Exit) as caught:
        Output(json_mode=True).run(refused)
    assert caught.value.exit_code == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False
    assert doc["error"]["type"] == "BusyError"
    assert doc["error"]["remedies"] == ["use --if-busy wait to wait for it"]
    with pytest.raises(typer.Exit) as caught, Output().check():
        raise ValidationError("--x", "bad")
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("json_mode", "sig", "code"), [(False, signal.SIGTERM, 143), (True, signal.SIGINT, 130)]
)
def test_an_interrupt_is_a_paragraph_or_a_document(
    capsys: pytest.CaptureFixture[str], json_mode: bool, sig: signal.Signals, code: int
) -> None:
    journey = Journey("publish")

    async def work() -> None:
        journey.record("creating", "creating the draft")
        asyncio.get_running_loop().call_soon(os.kill, os.getpid(), sig)
        await asyncio.sleep(3600)

    with pytest.raises(typer.Exit) as caught:
        Output(json_mode=json_mode).run(
            work, journeys=lambda: [journey], partial=lambda: {"items": []}
        )
    assert caught.value.exit_code == code
    captured = capsys.readouterr()
    if json_mode:
        doc = json.loads(captured.out)
        assert doc["interrupted"] is True
        assert doc["ok"] is False
        assert doc["reason"] == sig.name
        assert doc["items"] == []
        assert doc["steps"][0]["outcome"] == "left as a draft"
        assert "Re-run the same command" in doc["summary"]
    else:
        assert captured.out == ""
        assert captured.err.startswith("Stopped by SIGTERM: nothing was committed")
