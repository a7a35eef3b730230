"""Start-up: `--help`, `--version` and argument errors import none of aiohttp, msgspec or the
marketplace packages (rich only to render help), and `storepush --version` not even typer.

`storepush/__init__.py` itself imports the whole library today, so these run the command with
the package's `__init__` skipped (a bare package module in its place): what is measured is
what the command line adds on top of `import storepush`.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PRELUDE = """
import importlib.util, json, sys, types
spec = importlib.util.find_spec("storepush")
package = types.ModuleType("storepush")
package.__path__ = list(spec.submodule_search_locations)
sys.modules["storepush"] = package
"""
REPORT = """
heavy = ("aiohttp", "msgspec", "yarl", "multidict", "tenacity", "aiofiles", "rich", "typer")
library = ("storepush.bazaar", "storepush.bluemind", "storepush.emulator", "storepush._session",
           "storepush._http", "storepush._recording")
loaded = {m.split(".")[0] if not m.startswith("storepush") else m for m in sys.modules
          if m.split(".")[0] in heavy or m.startswith(library)}
print(json.dumps(sorted(loaded)), file=sys.stderr)
"""


def _imported(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + code + REPORT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    ("argv", "allowed"),
    [
        (["--help"], {"typer", "rich"}),
        (["bazaar", "publish", "--help"], {"typer", "rich"}),
        (["batch", "--help"], {"typer", "rich"}),
        (["bazaar", "publish", "--rollout", "ten"], {"typer", "rich"}),
        (["bazaar", "--version"], {"typer"}),
    ],
)
def test_help_and_argument_errors_stay_light(argv: list[str], allowed: set[str]) -> None:
    code = (
        "from storepush.cli._app import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
    )
    assert _imported(code) <= allowed


def test_version_imports_nothing_of_the_command_tree() -> None:
    code = "sys.argv = ['storepush', '--version']\nfrom storepush.cli import main\nmain()\n"
    assert _imported(code) == set()
