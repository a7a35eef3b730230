"""Quality gates: `nox` runs tests, lint and typecheck; bench and demo run on demand."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "docs", "demo"]
nox.options.error_on_missing_interpreters = True

#: Raised as the suite grows; never lowered to make a change pass.
COVERAGE_FLOOR = 92


@nox.session
def tests(session: nox.Session) -> None:
    """pytest with warnings as errors, under coverage with a floor.

    coverage runs pytest (rather than pytest-cov starting inside it) because storepush's own
    pytest plugin is loaded through an entry point before pytest-cov could start measuring.
    """
    session.install("-e", ".[test]")
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", "-W", "error", *session.posargs)
    session.run("coverage", "report", f"--fail-under={COVERAGE_FLOOR}")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    session.install("ruff>=0.8")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/."""
    session.install("-e", ".[typecheck]")
    session.run("mypy", "--strict", "src")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation (mkdocs-material + mkdocstrings), strict: warnings fail."""
    session.install("-e", ".[cli]", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.26")
    session.run("mkdocs", "build", "--strict", "--quiet", env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: `storepush demo` publishes a batch to the emulator, with faults, and
    checks the result (extra arguments go to the demo, e.g. `nox -s demo -- --apps 100`)."""
    session.install("-e", ".[cli]")
    session.run("storepush", "demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against curl, raw aiohttp and the documented sequential way; rewrites
    benchmarks/RESULTS.md (`nox -s bench -- --quick` for small sizes in seconds)."""
    session.install("-e", ".[cli]", "requests", "matplotlib", "pydantic>=2")
    session.run("python", "benchmarks/run.py", *session.posargs)
