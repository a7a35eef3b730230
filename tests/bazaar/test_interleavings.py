"""The proof of exactly once: publishers of one app, every interleaving of their requests.

Two (then three) publishers race through the real `Publisher` against the emulator's state
model, one request at a time (see `interleave.py`). Small configurations are enumerated
exhaustively; larger ones are sampled from seeds. Every schedule is checked against the
invariants: no package committed twice; version codes only go up per architecture; every
publisher either succeeded with its own build committed, or was refused with a clear error;
a killed publisher's re-run (a fresh runner, no memory) finishes the job; and, for one build,
no draft is left behind.

The default run keeps to a few seconds; `-m slow` explores and samples much more.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from storepush.testing import make_apk

from .interleave import PACKAGE, Budget, Build, Chooser, Run, check_invariants, run_schedule

Builds = Callable[..., list[Build]]


@pytest.fixture
def builds(tmp_path: Path) -> Builds:
    def make(*codes: Sequence[int], same: bool | str = False) -> list[Build]:
        """Builds of these version codes: the same files (`same`), other files, or other
        files but the first (`"overlap"`)."""
        made: list[Build] = []
        for index, build_codes in enumerate(codes):
            apks = []
            for position, code in enumerate(build_codes):
                shared = same is True or (same == "overlap" and position == 0)
                seed = code if shared else code * 100 + index
                path = tmp_path / f"b{0 if shared else index}-{code}.apk"
                if not path.exists():
                    make_apk(path, package=PACKAGE, version_code=code, size=4096, seed=seed)
                apks.append((path, "all"))
            made.append(Build(f"build{index}" + ("(same)" if same is True else ""), tuple(apks)))
        return made

    return make


async def explore(
    builds: Sequence[Build], budget: Callable[[], Budget], *, limit: int
) -> tuple[int, list[tuple[Run, list[str]]]]:
    """Every schedule, depth first, up to `limit` schedules; returns (count, failures)."""
    failures: list[tuple[Run, list[str]]] = []
    prefix: list[int] = []
    count = 0
    while count < limit:
        run = await run_schedule(builds, Chooser(prefix), budget())
        count += 1
        problems = check_invariants(run) + _no_draft_for_one_build(run, builds)
        if problems:
            failures.append((run, problems))
        # the next schedule: the deepest choice that still has an untried option, moved on
        trace = run.trace
        while trace and trace[-1][0] + 1 >= trace[-1][1]:
            trace = trace[:-1]
        if not trace:
            return count, failures
        prefix = [choice for choice, _ in trace[:-1]] + [trace[-1][0] + 1]
    return count, failures


async def sample(
    builds: Sequence[Build], budget: Callable[[], Budget], *, seeds: range
) -> list[tuple[int, Run, list[str]]]:
    failures = []
    for seed in seeds:
        run = await run_schedule(builds, Chooser(rng=random.Random(seed)), budget())
        problems = check_invariants(run) + _no_draft_for_one_build(run, builds)
        if problems:
            failures.append((seed, run, problems))
    return failures


def _no_draft_for_one_build(run: Run, builds: Sequence[Build]) -> list[str]:
    """For one build, every publisher that was not killed succeeds (there is nothing to
    refuse: the build is committed, by it or a twin), and no draft is left behind: none
    holding packages, ever; and an empty one only where a publisher was killed right after
    creating it (it blocks nothing, the next publish adopts it, and nobody may delete an
    empty draft it cannot prove is its own)."""
    if len({b.sha1s() for b in builds}) != 1:
        return []
    problems = [
        f"{o.build.name}: one build, and it failed: {o.result!r}"
        for o in run.outcomes
        if not o.killed and isinstance(o.result, BaseException)
    ]
    left = [r for r in run.releases if not r.committed]
    if not left:
        return problems
    killed = any(o.killed for o in run.outcomes)
    if left[0].packages or not killed:
        problems.append(f"a draft is left behind ({len(left[0].packages)} packages)")
    return problems


def _report(failures: Sequence[tuple[object, ...]]) -> str:
    lines = []
    for failure in failures[:3]:
        run = next(f for f in failure if isinstance(f, Run))
        problems = failure[-1]
        lines.append(f"{problems}\n  schedule: " + "; ".join(run.log))
    return "\n".join(lines)


# -- two publishers: depth first, from the first schedule on ---------------------------------
# Every schedule of these is too many to run in CI (hundreds of thousands); the default run
# walks the first few thousand depth first (which covers every ordering of the later steps)
# and `-m slow` walks far more. The seeded samples below cover the whole space more thinly.

DFS_LIMIT = 2_000


async def test_two_jobs_same_build_depth_first(builds: Builds) -> None:
    count, failures = await explore(builds([2], [2], same=True), Budget, limit=DFS_LIMIT)
    assert not failures, _report(failures)
    assert count == DFS_LIMIT


async def test_two_jobs_different_builds_depth_first(builds: Builds) -> None:
    _, failures = await explore(builds([2], [3]), Budget, limit=DFS_LIMIT)
    assert not failures, _report(failures)


async def test_rebuild_with_the_same_version_code_depth_first(builds: Builds) -> None:
    # same version code, other bytes: one release, one refusal
    _, failures = await explore(builds([5], [5]), Budget, limit=DFS_LIMIT)
    assert not failures, _report(failures)


# -- seeded samples: one or two APKs per build, two or three publishers, lost answers, kills --

CONFIGS = [
    pytest.param([(2,), (2,)], True, (1, 1), id="same build, 1 APK"),
    pytest.param([(2, 3), (2, 3)], True, (2, 1), id="same build, 2 APKs"),
    pytest.param([(2, 3), (4, 5)], False, (2, 1), id="two builds"),
    pytest.param([(5,), (5,)], False, (1, 1), id="rebuild, same code"),
    pytest.param([(2, 3), (2, 3), (2, 3)], True, (2, 2), id="three jobs, same build"),
    pytest.param([(2, 3), (4, 5), (6, 7)], False, (2, 1), id="three builds"),
    pytest.param([(5,), (5,), (5,)], False, (1, 1), id="three rebuilds"),
    # two builds that share a file (one ABI's APK unchanged): a draft holding only the shared
    # one looks like either build's
    pytest.param([(2, 3), (2, 4)], "overlap", (1, 1), id="two builds sharing an APK"),
]


@pytest.mark.parametrize(("codes", "same", "faults"), CONFIGS)
async def test_sampled_schedules(
    builds: Builds, codes: list[tuple[int, ...]], same: bool | str, faults: tuple[int, int]
) -> None:
    chosen = builds(*codes, same=same)
    failures = await sample(chosen, lambda: Budget(*faults), seeds=range(200))
    assert not failures, _report(failures)


@pytest.mark.slow
@pytest.mark.parametrize(("codes", "same", "faults"), CONFIGS)
async def test_many_sampled_schedules(
    builds: Builds, codes: list[tuple[int, ...]], same: bool | str, faults: tuple[int, int]
) -> None:
    chosen = builds(*codes, same=same)
    lost, kills = faults
    failures = await sample(chosen, lambda: Budget(lost + 1, kills + 1), seeds=range(5_000))
    assert not failures, _report(failures)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("codes", "same"),
    [([(2,), (2,)], True), ([(2,), (3,)], False), ([(5,), (5,)], False)],
)
async def test_far_more_schedules_depth_first(
    builds: Builds, codes: list[tuple[int, ...]], same: bool
) -> None:
    _, failures = await explore(builds(*codes, same=same), lambda: Budget(1, 1), limit=150_000)
    assert not failures, _report(failures)
