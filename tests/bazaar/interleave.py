"""Driving several publishers of one app step by step against the emulator's state model.

Each publisher is a real `Publisher` (the workflow of `storepush.bazaar`) over `WorldAPI`, an
in-memory implementation of the `PishkhanAPI` protocol that applies every call to the
emulator's own `World` (the store's rules: one draft, version codes, commit). Before each call
a publisher stops at the `Scheduler`, which lets exactly one publisher take one step at a
time, in the order a `Chooser` picks. A step can also lose its answer after acting (an
unknown outcome) or kill its publisher before or after acting (SIGKILL: no cleanup at all).

An upload is two events, as on a real link: it starts (the request goes out) and later it
lands (the store has the whole body and acts). Every other call is one event. Faults are
offered on writes only (a read that fails is simply read again).

The model's one timing assumption: **an upload that starts after a publisher's last check
lands only after that publisher's commit has reached the store** (the check and the commit
are one request apart; no upload is that fast). Without it the model lets another publisher
create a draft and fill it in the instant between someone's check and commit, which no real
link allows, and which the store's API (its commit applies to whatever draft exists) could
not defend against anyway.

A schedule is the sequence of choices; `explore` enumerates schedules depth-first (a
stateless model checker: each schedule is run from scratch), `sample` draws seeded ones.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from storepush import (
    BadRequestError,
    ConcurrentPublishError,
    DraftExistsError,
    OutcomeUnknownError,
    PermissionDeniedError,
    VersionCodeError,
)
from storepush.bazaar import CommitFields, LocalApk, Package, Publisher, Release, parse_apks
from storepush.emulator import World
from storepush.emulator._state import Package as StorePackage
from storepush.emulator._state import Refusal

#: What a publisher may end with, besides success: clear refusals, each telling what to do.
CLEAR_REFUSALS = (ConcurrentPublishError, DraftExistsError, VersionCodeError)


class Fault(enum.Enum):
    NONE = "none"
    LOST = "answer lost"  #: act, then the answer never arrives
    KILL_BEFORE = "killed before sending"
    KILL_AFTER = "killed after the store acted"


class Chooser:
    """Picks, at each choice point, one of `n` options; records what it picked."""

    def __init__(self, prefix: Sequence[int] = (), rng: random.Random | None = None) -> None:
        self.prefix = list(prefix)
        self.rng = rng
        self.trace: list[tuple[int, int]] = []  # (picked, number of options)

    def pick(self, n: int) -> int:
        depth = len(self.trace)
        if depth < len(self.prefix):
            choice = self.prefix[depth]
        elif self.rng is not None:
            choice = self.rng.randrange(n)
        else:
            choice = 0
        self.trace.append((choice, n))
        return choice


@dataclass
class Budget:
    """How many faults a schedule may hold (each one multiplies the schedules)."""

    lost: int = 0
    kills: int = 0


@dataclass
class _Waiting:
    label: str
    kind: str  #: "read", "write", "start" (an upload goes out) or "land" (it arrives)
    future: asyncio.Future[Fault]


class Scheduler:
    """Lets one publisher at a time take one step."""

    def __init__(self, chooser: Chooser, budget: Budget) -> None:
        self.chooser = chooser
        self.budget = budget
        self.waiting: dict[int, _Waiting] = {}
        self.changed = asyncio.Event()
        self.log: list[str] = []
        self.step = 0
        self.last_read: dict[int, int] = {}
        self.started: dict[int, int] = {}

    async def turn(self, pid: int, label: str, kind: str) -> Fault:
        future: asyncio.Future[Fault] = asyncio.get_running_loop().create_future()
        self.waiting[pid] = _Waiting(label, kind, future)
        self.changed.set()
        return await future

    def _allowed(self, pid: int) -> bool:
        """The timing assumption (see the module docstring)."""
        if self.waiting[pid].kind != "land":
            return True
        return not any(
            other.label == "commit" and self.started[pid] > self.last_read.get(q, -1)
            for q, other in self.waiting.items()
            if q != pid
        )

    def _faults(self) -> list[Fault]:
        options = [Fault.NONE]
        if self.budget.lost:
            options.append(Fault.LOST)
        if self.budget.kills:
            options += [Fault.KILL_BEFORE, Fault.KILL_AFTER]
        return options

    async def drive(self, tasks: dict[int, asyncio.Task[Any]]) -> None:
        for task in tasks.values():
            task.add_done_callback(lambda _: self.changed.set())
        while True:
            while not all(t.done() or pid in self.waiting for pid, t in tasks.items()):
                self.changed.clear()
                await self.changed.wait()
            ready = [p for p in sorted(self.waiting) if not tasks[p].done() and self._allowed(p)]
            if not ready:
                return
            pid = ready[self.chooser.pick(len(ready))] if len(ready) > 1 else ready[0]
            waiting = self.waiting.pop(pid)
            options = self._faults() if waiting.kind in ("write", "land") else [Fault.NONE]
            fault = options[self.chooser.pick(len(options))] if len(options) > 1 else Fault.NONE
            if fault is Fault.LOST:
                self.budget.lost -= 1
            elif fault is not Fault.NONE:
                self.budget.kills -= 1
            self.step += 1
            if waiting.kind == "read":
                self.last_read[pid] = self.step
            elif waiting.kind == "start":
                self.started[pid] = self.step
            suffix = "" if fault is Fault.NONE else f" ({fault.value})"
            self.log.append(f"p{pid} {waiting.label}{suffix}")
            waiting.future.set_result(fault)


def _to_sdk(release: Any) -> Release | None:
    if release is None:
        return None
    return msgspec.json.decode(msgspec.json.encode(release.to_json()), type=Release)


class Killed(BaseException):
    """The publisher's process died (like SIGKILL: nothing of it runs any more)."""


class WorldAPI:
    """`PishkhanAPI` over the emulator's `World`, one step at a time through a scheduler."""

    def __init__(self, world: World, token: str, pid: int, scheduler: Scheduler) -> None:
        self.world = world
        self.app = world.app(token)
        self.pid = pid
        self.scheduler = scheduler

    async def _step(self, label: str, act: Callable[[], Any], kind: str = "write") -> Any:
        fault = await self.scheduler.turn(self.pid, label, kind)
        if fault is Fault.KILL_BEFORE:
            raise Killed
        try:
            value = act()
        except Refusal as refusal:
            if refusal.status == 403:
                raise PermissionDeniedError(
                    refusal.message, status=403, method="X", url=label
                ) from None
            raise BadRequestError(
                refusal.message,
                status=refusal.status,
                method="POST",
                url=label,
                error_type=refusal.error_type,
                server_message=refusal.message,
            ) from None
        if fault is Fault.KILL_AFTER:
            raise Killed
        if fault is Fault.LOST:
            raise OutcomeUnknownError("the answer was lost", method="POST", url=label, status=None)
        return value

    async def create_release(self) -> Release:
        release = await self._step("create", lambda: self.world.create_release(self.app))
        result = _to_sdk(release)
        assert result is not None
        return result

    async def delete_release(self) -> None:
        await self._step("delete", lambda: self.world.delete_release(self.app))

    async def upload_apk(self, apk: LocalApk, *, progress: object = None) -> Package:
        sha1 = _sha1(apk.path)
        package = StorePackage(
            apk_size=apk.size,
            sha1_hash=sha1,
            version_code=apk.version_code,
            version_name="1.0",
            upload_date=datetime.now(UTC).strftime("%Y-%m-%d"),
            architecture=",".join(sorted(apk.abis)) or "all",
        )
        await self._step(f"upload {apk.path.name} goes out", lambda: None, "start")
        stored = await self._step(
            f"upload {apk.path.name} lands",
            lambda: self.world.add_package(self.app, package, apk.package_name),
            "land",
        )
        return msgspec.json.decode(msgspec.json.encode(stored.to_json()), type=Package)

    async def commit(self, fields: CommitFields) -> Release:
        release = await self._step("commit", lambda: self.world.commit(self.app, fields.to_json()))
        return msgspec.json.decode(msgspec.json.encode(release.to_json(full=True)), type=Release)

    async def _read(self, which: str) -> Release | None:
        release = await self._step(
            f"read {which}", lambda: self.world.last(self.app, which), "read"
        )
        return _to_sdk(release)

    async def last_committed(self) -> Release | None:
        return await self._read("committed")

    async def last_uncommitted(self) -> Release | None:
        return await self._read("uncommitted")

    async def last_published(self) -> Release | None:
        return await self._read("published")

    async def upload_aab(self, bundle: Any, *, progress: object = None) -> Any:
        raise NotImplementedError

    async def upload_bin(self, bundle: Any) -> Any:
        raise NotImplementedError

    async def bundle_status(self) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Build:
    """One build of the app: its APKs (with architectures)."""

    name: str
    apks: tuple[tuple[Path, str], ...]

    def local(self) -> list[LocalApk]:
        return _parsed(self.apks)

    def sha1s(self) -> frozenset[str]:
        return frozenset(_sha1(p) for p, _ in self.apks)


@functools.cache
def _parsed(apks: tuple[tuple[Path, str], ...]) -> list[LocalApk]:
    return parse_apks(list(apks))


@functools.cache
def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


@dataclass
class Outcome:
    build: Build
    result: Any = None  #: a PublishResult, an exception, or Killed
    killed: bool = False


@dataclass
class Run:
    outcomes: list[Outcome]
    releases: list[Any]
    log: list[str]
    trace: list[tuple[int, int]] = field(default_factory=list)


TOKEN = "interleave-token-0123456789"
PACKAGE = "com.example.app"


async def run_schedule(
    builds: Sequence[Build],
    chooser: Chooser,
    budget: Budget,
    *,
    rerun: bool = True,
) -> Run:
    """Run one schedule of `builds` racing (one publisher each), then (with `rerun`) re-run,
    one after the other and alone, every build whose publisher was killed, as a fresh CI
    runner would (no memory, no journal)."""
    world = World(clock=lambda: 0.0, review_seconds=1e9)
    world.apps[TOKEN] = _app()
    scheduler = Scheduler(chooser, budget)
    outcomes = [Outcome(b) for b in builds]

    async def publish(pid: int, build: Build) -> None:
        api = WorldAPI(world, TOKEN, pid, scheduler)
        try:
            outcomes[pid].result = await Publisher(api, apks=build.local(), pause=_no_pause).run()
        except Killed:
            outcomes[pid].killed = True
        except Exception as exc:  # judged by the invariants
            outcomes[pid].result = exc

    tasks = {pid: asyncio.create_task(publish(pid, b)) for pid, b in enumerate(builds)}
    await scheduler.drive(tasks)
    await asyncio.gather(*tasks.values())
    if rerun:
        for pid, outcome in enumerate(list(outcomes)):
            if outcome.killed:
                again = Outcome(outcome.build)
                outcomes.append(again)
                solo = Scheduler(Chooser(), Budget())
                task = asyncio.create_task(_rerun(world, solo, again, len(outcomes) + pid))
                await solo.drive({0: task})
                await task
    return Run(outcomes, list(world.apps[TOKEN].releases), scheduler.log, chooser.trace)


async def _rerun(world: World, scheduler: Scheduler, outcome: Outcome, pid: int) -> None:
    api = WorldAPI(world, TOKEN, 0, scheduler)
    try:
        outcome.result = await Publisher(api, apks=outcome.build.local(), pause=_no_pause).run()
    except Exception as exc:
        outcome.result = exc


async def _no_pause() -> None:
    return None


def _app() -> Any:
    from storepush.emulator._state import App

    return App(package_name=PACKAGE)


def check_invariants(run: Run) -> list[str]:
    """Every way `run` breaks the promises (empty: it keeps them)."""
    problems: list[str] = []
    committed = [r for r in run.releases if r.committed]
    seen: dict[str, int] = {}
    for index, release in enumerate(committed):
        for package in release.packages:
            if package.sha1_hash in seen:
                problems.append(f"package {package.sha1_hash[:8]} committed twice")
            seen[package.sha1_hash] = index
    for later_index, later in enumerate(committed):
        for earlier in committed[:later_index]:
            for new in later.packages:
                for old in earlier.packages:
                    overlap = (
                        new.architecture == "all"
                        or old.architecture == "all"
                        or set(new.architecture.split(",")) & set(old.architecture.split(","))
                    )
                    if overlap and (new.version_code or 0) <= (old.version_code or 0):
                        problems.append(
                            f"version code {new.version_code} committed after {old.version_code}"
                        )
    committed_sets = [frozenset(p.sha1_hash for p in r.packages) for r in committed]
    builds = {o.build.sha1s() for o in run.outcomes}
    for release_set in committed_sets:
        if release_set not in builds:  # a mixed release: the store's API cannot prevent it
            for outcome in run.outcomes:
                if (
                    outcome.build.sha1s() & release_set
                    and not outcome.killed
                    and not isinstance(outcome.result, ConcurrentPublishError | VersionCodeError)
                ):
                    problems.append(
                        f"{outcome.build.name}: a mixed release was committed, and it said "
                        f"{type(outcome.result).__name__}, not that it was mixed"
                    )
    # the re-runs finish what was killed: no draft holding packages stays behind (a draft two
    # killed builds both filled is the exception: it is refused, naming the remedy)
    left = [r for r in run.releases if not r.committed and r.packages]
    if left and sum(o.killed for o in run.outcomes) < 2:
        problems.append(f"a draft holding {len(left[0].packages)} package(s) is left behind")
    for outcome in run.outcomes:
        if outcome.killed:
            continue
        result, wanted = outcome.result, outcome.build.sha1s()
        if isinstance(result, BaseException):
            if not isinstance(result, CLEAR_REFUSALS):
                problems.append(f"{outcome.build.name}: unclear failure {result!r}")
            continue
        if result is None:
            problems.append(f"{outcome.build.name}: no result")
        elif wanted not in committed_sets:
            problems.append(f"{outcome.build.name}: reported success, but not committed")
        elif frozenset(p.sha1 for p in result.packages) != wanted:
            problems.append(f"{outcome.build.name}: the result's packages are not its own")
    return problems
