"""Installed without extras: the command names the missing `cli` extra, and `storepush.testing`
works without pytest. (`nox -s package` checks the same from the built wheel in a fresh venv.)"""

from __future__ import annotations

import subprocess
import sys

import pytest

from storepush.cli import missing_extra_message

PY = "/venv/bin/python"
PLACEHOLDER = "/venv/bin/python -m pip install '/path/to/storepush-checkout-or-wheel[cli]'"


@pytest.mark.parametrize(
    ("direct_url", "command"),
    [
        (
            '{"url": "file:///src/storepush", "dir_info": {}}',
            "/venv/bin/python -m pip install '/src/storepush[cli]'",
        ),
        (
            '{"url": "file:///src/storepush", "dir_info": {"editable": true}}',
            "/venv/bin/python -m pip install -e '/src/storepush[cli]'",
        ),
        (
            '{"url": "file:///tmp/dist/storepush-0.1.0-py3-none-any.whl", "archive_info": {}}',
            "/venv/bin/python -m pip install '/tmp/dist/storepush-0.1.0-py3-none-any.whl[cli]'",
        ),
        (
            '{"url": "file:///home/me/my%20code/storepush", "dir_info": {}}',
            "/venv/bin/python -m pip install '/home/me/my code/storepush[cli]'",
        ),
        # no record, an index or VCS install, unreadable JSON: a placeholder, never a bare name
        (None, PLACEHOLDER),
        (
            '{"url": "https://example.invalid/x.whl"}',
            PLACEHOLDER,
        ),
        ("{not json", PLACEHOLDER),
        ("[]", PLACEHOLDER),
    ],
)
def test_missing_extra_message(direct_url: str | None, command: str) -> None:
    message = missing_extra_message("typer", direct_url, PY)
    assert message == (
        "storepush: the command line needs the 'cli' extra (typer is not installed); "
        f"install it with: {command}"
    )
    assert "\n" not in message


def run_without(module: str, code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter where importing `module` fails as if not installed."""
    prelude = f"import sys; sys.modules[{module!r}] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "code",
    [
        "from storepush.cli import main; main()",
        "import runpy; runpy.run_module('storepush', run_name='__main__')",
    ],
)
@pytest.mark.parametrize("module", ["typer", "rich"])
def test_command_without_the_extra_is_one_line_and_exit_2(module: str, code: str) -> None:
    done = run_without(module, code)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "'cli' extra" in lines[0]
    assert f"({module} is not installed)" in lines[0]
    assert "[cli]" in lines[0]
    assert "Traceback" not in done.stderr


def test_library_imports_without_the_extra() -> None:
    done = run_without("typer", "import storepush, storepush.bazaar, storepush.bluemind")
    assert done.returncode == 0, done.stderr


def test_testing_helpers_without_pytest(tmp_path: object) -> None:
    code = (
        "import storepush.testing as t\n"
        "from storepush.testing import make_apk, make_emulator\n"
        "from storepush.emulator import EmulatorThread\n"
        "assert not hasattr(t, 'storepush_emulator')\n"
        "assert 'storepush_emulator' not in t.__all__\n"
        f"make_apk({str(tmp_path)!r} + '/a.apk', package=t.TEST_PACKAGE, version_code=2)\n"
        "with EmulatorThread(make_emulator()) as emu:\n"
        "    assert emu.bazaar_url.startswith('http://127.0.0.1:')\n"
        "print('ok')\n"
    )
    done = run_without("pytest", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"


def test_the_fixture_is_there_under_pytest() -> None:
    import storepush.testing

    assert "storepush_emulator" in storepush.testing.__all__
