"""Interrupts: where a publish stood (from its events), the one-paragraph summary, and
`supervise` turning SIGINT, SIGTERM and the run's deadline into `Interrupted`."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from storepush.cli._interrupts import (
    Interrupted,
    Journey,
    Outcome,
    Stop,
    outcome_of,
    summary,
    supervise,
)


@pytest.mark.parametrize(
    ("phases", "started", "expected"),
    [
        ([], False, Outcome.NOT_STARTED),
        ([], True, Outcome.NOTHING),
        (["checking"], True, Outcome.NOTHING),
        (["checking", "waiting-for-lease"], True, Outcome.NOTHING),
        (["checking", "creating"], True, Outcome.DRAFT_LEFT),
        (["checking", "using-draft", "uploading"], True, Outcome.DRAFT_LEFT),
        (["checking", "creating", "uploading", "processing"], True, Outcome.DRAFT_LEFT),
        (["checking", "creating", "uploading", "committing"], True, Outcome.COMMIT_SENT),
        (["checking", "creating", "committing", "committed"], True, Outcome.COMMITTED),
        (["checking", "committed", "waiting-for-review"], True, Outcome.COMMITTED),
        (["checking", "already-committed"], True, Outcome.ALREADY),
        (["checking", "creating", "uploading", "cleaning-up"], True, Outcome.NOTHING),
        (["checking", "creating", "restarting", "checking"], True, Outcome.DRAFT_LEFT),
    ],
)
def test_outcome_of(phases: list[str], started: bool, expected: Outcome) -> None:
    assert outcome_of(phases, started=started) is expected


def test_stops() -> None:
    assert Stop("SIGINT").exit_code == 130
    assert Stop("SIGTERM").exit_code == 143
    assert Stop("deadline", 30.0).exit_code == 1
    assert "30 s" in Stop("deadline", 30.0).describe()


def _journey(name: str, *phases: str, finished: str | None = None) -> Journey:
    journey = Journey(name)
    for phase in phases:
        journey.record(phase, f"{phase} step")
    journey.finished = finished
    return journey


def test_summary_of_one_publish() -> None:
    text = summary(Stop("SIGTERM"), [_journey("publish", "checking", "creating", "uploading")])
    assert text.startswith("Stopped by SIGTERM: nothing was committed (stopped while uploading")
    assert "the draft stays" in text
    assert "Re-run the same command to resume" in text
    sent = summary(Stop("SIGINT"), [_journey("publish", "creating", "committing")])
    assert sent.startswith("Interrupted (Ctrl-C): the commit was sent")
    assert "nothing was sent" in summary(Stop("SIGINT"), [Journey("publish")])


def test_summary_of_a_batch() -> None:
    journeys = [
        _journey("a", "checking", "committed", finished="committed"),
        _journey("b", "checking", finished="failed"),
        _journey("c", "checking", "creating", "uploading"),
        _journey("d", "checking", "committing"),
        Journey("e"),
        Journey("f"),
    ]
    text = summary(Stop("deadline", 60.0), journeys)
    assert text.startswith("The run's deadline (60 s) passed: ")
    for part in (
        "1 committed (a)",
        "1 failed (b)",
        "1 left as a draft (c)",
        "1 sent, outcome unknown (d)",
        "2 not started (e, f)",
    ):
        assert part in text, text
    many = [Journey(f"item{i}") for i in range(12)]
    assert "12 not started (item0, item1" in summary(Stop("SIGINT"), many)
    assert "and 4 more" in summary(Stop("SIGINT"), many)


async def _forever() -> None:
    await asyncio.sleep(3600)


async def test_deadline_interrupts() -> None:
    with pytest.raises(Interrupted) as caught:
        await supervise(_forever(), deadline=0.05)
    assert caught.value.stop.reason == "deadline"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_signals_interrupt_and_handlers_are_restored(sig: signal.Signals) -> None:
    before = signal.getsignal(sig)
    unwound: list[str] = []

    async def work() -> None:
        try:
            asyncio.get_running_loop().call_soon(os.kill, os.getpid(), sig)
            await asyncio.sleep(3600)
        finally:
            unwound.append("closed")  # an `async with` would close its connections here

    with pytest.raises(Interrupted) as caught:
        await supervise(work())
    assert caught.value.stop.reason == sig.name
    assert unwound == ["closed"]
    assert signal.getsignal(sig) == before


async def test_a_result_and_an_error_pass_through() -> None:
    async def value() -> int:
        return 7

    async def boom() -> None:
        raise ValueError("boom")

    assert await supervise(value()) == 7
    with pytest.raises(ValueError, match="boom"):
        await supervise(boom())


def test_journey_document() -> None:
    journey = _journey("shop", "checking", "creating")
    assert journey.to_json() == {
        "name": "shop",
        "outcome": "left as a draft",
        "finished": None,
        "last_step": "creating step",
    }
