"""The report writer: renders benchmarks/RESULTS.md from the benchmarks' typed results.

The targets table comes first (every target of every section that ran, each met or not and,
when not, what limits it), then one section per benchmark: its own target lines, then its
tables, prose and plots. A section that failed says so, with the error, instead of figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


@dataclass(frozen=True)
class Target:
    """One target: what is measured, the goal, the figure from this run, met or not, and why.

    ``met`` is None when the figure could not be measured in this run (``measured`` says
    why) or when the line is information rather than a goal.
    """

    figure: str
    goal: str
    measured: str
    met: bool | None
    limit: str = ""

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "not measured" if self.goal else ""
        return "met" if self.met else "**not met**"


class Result(Protocol):
    """What every benchmark's `run` returns."""

    @property
    def title(self) -> str: ...

    def targets(self) -> list[Target]: ...

    def markdown(self) -> str: ...


@dataclass(frozen=True)
class Failed:
    """A benchmark that raised: the report shows the error instead of its figures."""

    title: str
    error: str

    def targets(self) -> list[Target]:
        return [Target(self.title, "", f"failed: {self.error[:120]}", None)]

    def markdown(self) -> str:
        return (
            f"This benchmark failed in this run, so it has no figures:\n\n```\n{self.error}\n```\n"
        )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def targets_table(results: Sequence[Result]) -> str:
    rows = []
    for result in results:
        for t in result.targets():
            if not t.goal and t.met is None and not isinstance(result, Failed):
                continue  # information only: in its section, not in the targets table
            limit = "" if t.met else t.limit
            rows.append(
                f"| {_cell(t.figure)} | {_cell(t.goal)} | {_cell(t.measured)} | {t.verdict} "
                f"| {_cell(limit)} |"
            )
    return (
        "## Targets\n\n"
        "| figure | target | measured | | what limits it |\n"
        "|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )


def target_lines(result: Result) -> str:
    lines = []
    for t in result.targets():
        if isinstance(result, Failed):
            continue
        head = f"- {t.figure}: **{t.measured}**"
        if t.goal:
            head += f" (target {t.goal}): {t.verdict}"
        if t.limit and t.met is not True:
            head += f"; {t.limit}"
        lines.append(head)
    return "\n".join(lines) + "\n\n" if lines else ""


@dataclass(frozen=True)
class Header:
    machine: str
    versions: str
    revision: str | None
    quick: bool
    sections: Sequence[str]
    all_sections: Sequence[str]
    seconds: float


def render(header: Header, results: Sequence[Result]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    partial = (
        ""
        if list(header.sections) == list(header.all_sections)
        else f"Only these sections ran: {', '.join(header.sections)}.\n"
    )
    revision = f" at commit {header.revision}" if header.revision else ""
    intro = f"""# Benchmark results

Measured {when} UTC{revision} on {header.machine}; {header.versions}.
{"**Quick mode** (small sizes; a smoke test, not the figures to quote). " if header.quick else ""}\
The whole run took {header.seconds / 60:.1f} minutes. {partial}\
This machine is shared and noisy: compare the ratios, which are measured within one run, not
absolute figures across runs. Every figure below comes from this run.

Reproduce: `python3 -m nox -s bench` (or `python benchmarks/run.py [--quick] [--only NAME...]`).
"""
    parts = [intro, targets_table(results)]
    for number, result in enumerate(results, start=1):
        parts.append(f"## {number}. {result.title}\n\n{target_lines(result)}{result.markdown()}")
    return "\n".join(parts)
