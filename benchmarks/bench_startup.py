"""Start-up: `storepush --version` against `python -c pass`, and what the imports cost.

Each command runs 10 times, alternating, as its own process (wall time, start to exit; no
sampling). `import storepush` (the SDK alone) is measured beside them, to split the CLI's
cost from the SDK's. `PYTHONPROFILEIMPORTTIME=1 storepush --version` (after a warm-up run, so
bytecode is cached) says which imports cost the most, grouped by top-level package.
"""

from __future__ import annotations

import os
import re
import sys
from collections import defaultdict
from dataclasses import dataclass

from harness import Context, Spread, run_child
from report import Target

NAME = "startup"
TITLE = "Start-up of the command line"
REPEATS = 10
GOAL = 0.12  # seconds, absolute, on this machine

_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)")


@dataclass(frozen=True)
class ImportCost:
    module: str
    self_us: int
    cumulative_us: int
    depth: int


@dataclass(frozen=True)
class StartupBench:
    version: Spread  #: `storepush --version`
    bare: Spread  #: `python -c pass`
    sdk: Spread  #: `python -c "import storepush"`
    imports: list[ImportCost]
    output: str

    title = TITLE

    def by_package(self) -> list[tuple[str, float]]:
        """Self time (ms) summed per top-level package, largest first."""
        totals: dict[str, int] = defaultdict(int)
        for cost in self.imports:
            totals[cost.module.split(".")[0]] += cost.self_us
        return sorted(((k, v / 1000) for k, v in totals.items()), key=lambda kv: -kv[1])

    def heaviest(self, n: int = 8) -> list[ImportCost]:
        """The costliest imports of packages outside the standard library, by cumulative time
        (each package's first, outermost import, which includes what it pulls in)."""
        first: dict[str, ImportCost] = {}
        for cost in self.imports:
            root = cost.module.split(".")[0]
            if root in sys.stdlib_module_names or root.startswith("_"):
                continue
            best = first.get(root)
            if best is None or cost.cumulative_us > best.cumulative_us:
                first[root] = cost
        return sorted(first.values(), key=lambda c: -c.cumulative_us)[:n]

    def targets(self) -> list[Target]:
        v, bare = self.version.median, self.bare.median
        top = ", ".join(f"{name} {ms:.0f} ms" for name, ms in self.by_package()[:4])
        return [
            Target(
                "`storepush --version` wall time (`python -c pass` beside it)",
                f"≤ {GOAL:.2f} s",
                f"{v:.3f} s (python {bare:.3f} s)",
                v <= GOAL,
                f"the interpreter alone takes {bare:.3f} s; the other {v - bare:.3f} s are "
                f"imports, the largest by package: {top}",
            )
        ]

    def markdown(self) -> str:
        packages = "\n".join(f"| {name} | {ms:.1f} |" for name, ms in self.by_package()[:12])
        heaviest = "\n".join(
            f"| `{c.module}` | {c.cumulative_us / 1000:.1f} | {c.self_us / 1000:.1f} |"
            for c in self.heaviest()
        )
        return f"""Wall time of each process, median (min–max) of {REPEATS}, alternating.

| command | seconds |
|---|---|
| `python -c pass` | {self.bare.show("{:.3f}")} |
| `python -c "import storepush"` | {self.sdk.show("{:.3f}")} |
| `storepush --version` (printed `{self.output}`) | {self.version.show("{:.3f}")} |

Where `storepush --version` spends its import time (`PYTHONPROFILEIMPORTTIME=1`, one warm run),
self time summed per top-level package:

| package | ms |
|---|---|
{packages}

The costliest import of each package outside the standard library, cumulative (what it pulls
in included; nested packages count inside their importer too):

| module | cumulative ms | self ms |
|---|---|---|
{heaviest}
"""


def parse_importtime(text: str) -> list[ImportCost]:
    costs = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            self_us, cumulative, indent, module = m.groups()
            costs.append(ImportCost(module, int(self_us), int(cumulative), (len(indent) - 1) // 2))
    return costs


def run(ctx: Context) -> StartupBench:
    version_cmd = [ctx.storepush, "--version"]
    bare_cmd = [ctx.python, "-c", "pass"]
    sdk_cmd = [ctx.python, "-c", "import storepush"]
    first = run_child(version_cmd, sample=False).check()  # warm-up: bytecode, page cache
    run_child(sdk_cmd, sample=False).check()
    times: dict[str, list[float]] = {"version": [], "bare": [], "sdk": []}
    for _ in range(REPEATS):
        times["bare"].append(run_child(bare_cmd, sample=False).check().wall)
        times["sdk"].append(run_child(sdk_cmd, sample=False).check().wall)
        times["version"].append(run_child(version_cmd, sample=False).check().wall)
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    profiled = run_child(version_cmd, env=env, sample=False).check()
    return StartupBench(
        Spread.of(times["version"]),
        Spread.of(times["bare"]),
        Spread.of(times["sdk"]),
        parse_importtime(profiled.stderr),
        first.stdout.strip(),
    )
