"""The settle mechanism: act, probe, judge; bounded; never blind."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from storepush import BadRequestError, OutcomeUnknownError, RetryConfig, WorkflowError
from storepush._settle import MAX_SETTLE, Ambiguous, Settled, settle, settle_bound

UNKNOWN = OutcomeUnknownError("lost", method="POST", url="u", status=503)
REFUSED = BadRequestError("no", status=400, method="POST", url="u", server_message="no")


def script(*steps: object):  # type: ignore[no-untyped-def]
    """An act that raises or returns the given steps in turn."""
    queue = list(steps)

    async def act() -> str:
        step = queue.pop(0)
        if isinstance(step, BaseException):
            raise step
        return str(step)

    return act


@pytest.mark.parametrize(
    ("steps", "state", "verdict", "result", "probes"),
    [
        (["ok"], "-", None, "ok", 0),  # success: no probe at all
        ([UNKNOWN, "ok"], "absent", "again", "ok", 1),  # not there: act again
        ([UNKNOWN], "present", "done", "from-state", 1),  # it acted: the state says so
        ([REFUSED], "present", "done", "from-state", 1),  # a 400 the state explains
        ([REFUSED], "absent", "fail", BadRequestError, 1),  # a 400 it does not: a refusal
    ],
)
async def test_settle_table(
    steps: list[object], state: str, verdict: str | None, result: object, probes: int
) -> None:
    seen: list[int] = []

    async def probe() -> str:
        seen.append(1)
        return state

    def judge(found: str, exc: Ambiguous) -> Settled[str]:
        if found == "present":
            return Settled.ok("from-state")
        return Settled.fail(exc) if isinstance(exc, BadRequestError) else Settled.again()

    if isinstance(result, type):
        with pytest.raises(result):
            await settle(script(*steps), probe, judge, what="do it")
    else:
        assert await settle(script(*steps), probe, judge, what="do it") == result
    assert len(seen) == probes


async def test_settle_is_bounded_and_says_what_it_got() -> None:
    async def probe() -> None:
        return None

    with pytest.raises(
        WorkflowError, match="could not create: the server answered 503, on each of 3 tries"
    ):
        await settle(
            script(UNKNOWN, UNKNOWN, UNKNOWN),
            probe,
            lambda _, __: Settled.again(),
            what="create",
            bound=3,
        )


@pytest.mark.parametrize(
    ("api", "bound"),
    [
        (object(), MAX_SETTLE),  # a test double without a session
        (SimpleNamespace(session=SimpleNamespace(retry=RetryConfig(max_attempts=2))), MAX_SETTLE),
        (SimpleNamespace(session=SimpleNamespace(retry=RetryConfig(max_attempts=16))), 16),
    ],
)
def test_an_ambiguous_write_is_tried_as_often_as_the_session_allows(
    api: object, bound: int
) -> None:
    assert settle_bound(api) == bound


async def test_the_clients_pass_their_sessions_attempts_to_the_workflows() -> None:
    from storepush import BazaarClient, BlueMindClient, Session

    async with Session(retry=RetryConfig(max_attempts=16)) as session:
        assert settle_bound(BazaarClient("t" * 20, session=session)) == 16
        assert settle_bound(BlueMindClient("k" * 20, session=session)) == 16
