"""`storepush emulator check-recording FILE`: replay a recording against a fresh emulator.

A recording made with `storepush --record FILE` (or `Session(record=...)`) against a live store
is evidence of how that store answers. This starts a fresh emulator in this process on a free
loopback port, gives it one app per recorded Pishkhan credential and one user per BlueMind
credential, sends the recorded requests in the order of the file (sample files stand in for
the uploads), and reports, exchange by exchange, where the emulator's answer differs from the
recorded one in status, envelope `type` or JSON shape (see `_replay_compare` for the rules;
values such as SHA-1s, dates, ids and sizes are never compared).

Exit codes: 0 nothing differs, 1 something does (a readable report, or `--json`), 2 the file
is not a recording (the line is named). Nothing here contacts anything but the emulator.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import aiohttp
import msgspec
from yarl import URL

from .._errors import ValidationError, excerpt
from .._recording_format import Exchange, load_recording
from ._replay_compare import Answer, Difference, compare_answers
from ._replay_requests import (
    DEFAULT_MAX_FILE_BYTES,
    Identity,
    IdMap,
    Samples,
    action_for,
    build_request,
    plan_identities,
)
from ._replay_seed import apply_seeds, plan_seeds
from ._server import Emulator

__all__ = ["Outcome", "Report", "check_recording", "main", "parser"]

PROG = "storepush emulator check-recording"
#: A review takes hours on the live store, and a recording has already waited for bundles.
REVIEW_SECONDS = 3600.0
BUNDLE_SECONDS = 0.0


@dataclass(slots=True)
class Outcome:
    """What became of one recorded exchange."""

    index: int
    line: int
    method: str
    path: str
    action: str  #: "compared", "sent" (not compared) or "skipped"
    reason: str = ""
    recorded_status: int | None = None
    status: int | None = None  #: the emulator's status
    differences: list[Difference] = field(default_factory=list)
    said: str = ""  #: an excerpt of the emulator's answer, when it differs
    after_unknown: int | None = None  #: an earlier exchange, same credential, outcome unknown

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "line": self.line,
            "method": self.method,
            "path": self.path,
            "action": self.action,
            "reason": self.reason,
            "recorded_status": self.recorded_status,
            "status": self.status,
            "differences": [d.to_json() for d in self.differences],
            "emulator_said": self.said,
            "after_unknown": self.after_unknown,
        }


@dataclass(slots=True)
class Report:
    """Every exchange's outcome, and a verdict."""

    file: str
    outcomes: list[Outcome]
    identities: list[Identity]
    notes: list[str] = field(default_factory=list)  #: what was seeded (or could not be)

    @property
    def differing(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.differences]

    @property
    def ok(self) -> bool:
        return not self.differing

    def counts(self) -> dict[str, int]:
        return {
            "exchanges": len(self.outcomes),
            "compared": sum(o.action == "compared" for o in self.outcomes),
            "differ": len(self.differing),
            "not_compared": sum(o.action != "compared" for o in self.outcomes),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "file": self.file,
            **self.counts(),
            "credentials": [
                {
                    "marketplace": i.marketplace,
                    "fingerprint": i.fingerprint,
                    "registered": i.registered,
                    "as": i.name,
                }
                for i in self.identities
            ],
            "seeded": self.notes,
            "outcomes": [o.to_json() for o in self.outcomes],
        }

    def text(self) -> str:
        counts = self.counts()
        lines = [f"{PROG}: {self.file}"]
        lines.extend(f"  {note}" for note in self.notes)
        for o in self.outcomes:
            if not o.differences and o.action != "sent":
                continue
            head = f"  #{o.index} (line {o.line}) {o.method} {o.path}"
            if not o.differences:
                lines.append(f"{head}: not compared: {o.reason}")
                continue
            if o.after_unknown is not None:
                head += f" (after #{o.after_unknown}, whose outcome is unknown)"
            lines.append(head)
            lines.extend(f"      {d.message()}" for d in o.differences)
            if o.said:
                lines.append(f"      the emulator answered: {o.said}")
        skipped = [o for o in self.outcomes if o.action == "skipped"]
        for o in skipped:
            lines.append(f"  #{o.index} (line {o.line}) {o.method} {o.path}: skipped: {o.reason}")
        verdict = "no differences" if self.ok else f"{counts['differ']} differ"
        lines.append(
            f"{counts['exchanges']} exchanges, {counts['compared']} compared: {verdict}"
            + (f" ({counts['not_compared']} not compared)" if counts["not_compared"] else "")
        )
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Settings:
    """How to replay: the comparison's null rule, the sample size cap, the emulator's clocks."""

    strict_null: bool = False
    seed: bool = True
    send_unknown: bool = False
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    review_seconds: float = REVIEW_SECONDS
    bundle_seconds: float = BUNDLE_SECONDS
    timeout: float = 60.0


def _answer(status: int, body: bytes) -> Answer:
    if not body.strip():
        return Answer(status)
    try:
        return Answer(status, msgspec.json.decode(body))
    except msgspec.DecodeError:
        return Answer(status)


def _recorded(exchange: Exchange) -> Answer:
    response = exchange.response
    assert response is not None
    return Answer(response.status, response.json)


async def _replay(
    numbered: Sequence[tuple[int, Exchange]], settings: Settings, name: str
) -> Report:
    exchanges = [exchange for _, exchange in numbered]
    identities = plan_identities(exchanges)
    emulator = Emulator(
        review_seconds=settings.review_seconds, bundle_seconds=settings.bundle_seconds
    )
    for planned in identities.values():
        if not planned.registered:
            continue
        if planned.marketplace == "bazaar":
            emulator.add_app(planned.credential, planned.name)
        else:
            emulator.add_user(planned.credential, planned.name)
    samples = Samples(max_bytes=settings.max_file_bytes)
    ids = IdMap()
    notes = (
        apply_seeds(emulator.world, identities, plan_seeds(exchanges), ids) if settings.seed else []
    )
    outcomes: list[Outcome] = []
    unknown: dict[str | None, int] = {}  # credential -> last exchange whose outcome is unknown
    timeout = aiohttp.ClientTimeout(total=settings.timeout)
    try:
        async with emulator, aiohttp.ClientSession(timeout=timeout) as http:
            for index, (line, exchange) in enumerate(numbered, 1):
                outcome = Outcome(index, line, exchange.method, exchange.path, "skipped")
                outcomes.append(outcome)
                action, outcome.reason, unsure = action_for(
                    exchange, send_unknown=settings.send_unknown
                )
                if exchange.response is not None:
                    outcome.recorded_status = exchange.response.status
                outcome.after_unknown = unknown.get(exchange.credential)
                if unsure:
                    unknown[exchange.credential] = index
                if action == "skip":
                    continue
                identity = identities.get(exchange.credential or "")
                request = build_request(exchange, identity, samples, ids, index=index)
                url = URL(emulator.url + request.target, encoded=True)
                try:
                    async with http.request(
                        request.method,
                        url,
                        headers=request.headers,
                        data=request.body,
                        allow_redirects=False,
                    ) as response:
                        status, body = response.status, await response.read()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    outcome.action = "compared" if action == "compare" else "sent"
                    outcome.differences = [
                        Difference("status", "", str(outcome.recorded_status), "no answer")
                    ]
                    outcome.said = f"{type(exc).__name__}: {exc}"
                    continue
                outcome.status = status
                replayed = _answer(status, body)
                if action == "send":
                    outcome.action = "sent"
                    continue
                outcome.action = "compared"
                recorded = _recorded(exchange)
                ids.learn(recorded.json, replayed.json)
                outcome.differences = compare_answers(
                    recorded, replayed, strict_null=settings.strict_null
                )
                if outcome.differences:
                    outcome.said = excerpt(body, 240)
    finally:
        samples.close()
    return Report(name, outcomes, list(identities.values()), notes)


def check_recording(path: str | Path, settings: Settings | None = None) -> Report:
    """Replay the recording at `path` against a fresh emulator and compare every answer.

    Raises:
        ValidationError: when `path` is not a readable recording (the line is named).
    """
    numbered = load_recording(path)
    return asyncio.run(_replay(numbered, settings or Settings(), str(path)))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Replay a recording (storepush --record FILE) against a fresh emulator and report "
            "where the emulator answers differently: status, envelope type or JSON shape."
        ),
        epilog="Exit codes: 0 no difference, 1 differences found, 2 not a recording.",
    )
    p.add_argument("file", metavar="FILE", type=Path, help="the recording (JSON lines)")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.add_argument(
        "--strict-null",
        action="store_true",
        help="count null against a value as a difference (by default it is not)",
    )
    p.add_argument(
        "--no-seed",
        action="store_true",
        help="start from an empty emulator, not from the state the recording read first",
    )
    p.add_argument(
        "--send-unknown",
        action="store_true",
        help="send (uncompared) the exchanges whose outcome is unknown (a 5xx, a lost answer), "
        "as if they had acted; by default they are skipped",
    )
    p.add_argument(
        "--max-file-bytes",
        type=int,
        default=DEFAULT_MAX_FILE_BYTES,
        metavar="N",
        help="cap on the size of each sample file standing in for an upload "
        f"(default {DEFAULT_MAX_FILE_BYTES})",
    )
    p.add_argument(
        "--review-seconds",
        type=float,
        default=REVIEW_SECONDS,
        metavar="SECONDS",
        help="the emulator's review time; long by default, as on the live store",
    )
    p.add_argument(
        "--bundle-seconds",
        type=float,
        default=BUNDLE_SECONDS,
        metavar="SECONDS",
        help="the emulator's bundle processing time; 0 by default (a recording has waited)",
    )
    return p


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the check; return the exit code (0 same, 1 differences, 2 bad input)."""
    stdout = out or sys.stdout
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    settings = Settings(
        strict_null=args.strict_null,
        seed=not args.no_seed,
        send_unknown=args.send_unknown,
        max_file_bytes=max(1, args.max_file_bytes),
        review_seconds=args.review_seconds,
        bundle_seconds=args.bundle_seconds,
    )
    try:
        report = check_recording(args.file, settings)
    except ValidationError as exc:
        if args.json:
            doc = {"ok": False, "error": {"field": exc.field, "message": str(exc)}}
            stdout.write(json.dumps(doc) + "\n")
        else:
            print(f"{PROG}: not a recording: {exc}", file=sys.stderr)
        return 2
    if args.json:
        stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
    else:
        stdout.write(report.text() + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
