"""The docs generated from the code (the CLI reference, the configuration and manifest tables),
the pages that use them, and the README's examples: its pytest examples run as written, on
plain pytest and with pytest-asyncio, and its configuration table lists every setting."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from storepush.cli._app import app
from storepush.cli._reference import MARKERS, cli_reference, manifest_keys, render, settings_table
from storepush.cli._settings import SETTINGS

ROOT = Path(__file__).resolve().parents[2]


def _commands(command: object, path: str) -> list[str]:
    found = [path]
    for name, sub in getattr(command, "commands", {}).items():
        found += _commands(sub, f"{path} {name}")
    return found


def test_the_reference_lists_every_command_and_option() -> None:
    text = cli_reference()
    for path in _commands(typer.main.get_command(app), "storepush"):
        assert f"`{path}`" in text, path
    for setting in SETTINGS:
        assert f"`{setting.flag}" in text, setting.flag
    assert "`storepush emulator`" in text
    assert "--if-draft-exists <fail\\|reuse\\|replace>" in text  # pipes escaped in tables


def test_tables() -> None:
    table = settings_table()
    for setting in SETTINGS:
        assert f"`{setting.flag}`" in table
        if setting.env:
            assert f"`{setting.env}`" in table
    for name in ("STOREPUSH_PROXY", "STOREPUSH_REDIS_URL", "STOREPUSH_BAZAAR_TOKEN"):
        assert name in table
    assert "`concurrency`" in manifest_keys()


def test_pages_use_the_markers_and_the_hook_renders_them() -> None:
    pages = {
        "docs/reference/cli.md": "<!-- storepush:cli-reference -->",
        "docs/guide/configuration.md": "<!-- storepush:settings -->",
        "docs/guide/manifest.md": "<!-- storepush:manifest-keys -->",
    }
    for page, marker in pages.items():
        assert marker in (ROOT / page).read_text(), page
    rendered = render("\n".join(MARKERS))
    assert "<!-- storepush:" not in rendered
    hooks = (ROOT / "mkdocs.yml").read_text()
    assert "docs/hooks/storepush_docs.py" in hooks
    assert "guide/resume-file.md" in hooks
    guide = (ROOT / "docs/guide/cli.md").read_text()
    assert "install.md" in guide
    assert "pip install 'storepush[cli]'" not in guide


def test_readme_configuration_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Configuration") :]
    for setting in SETTINGS:
        assert setting.flag in section, setting.flag
        if setting.env:
            assert setting.env in section, setting.env


def _readme_tests() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(# (test_\w+\.py): .*?)```", readme, re.DOTALL)
    return {name: code for code, name in blocks}


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("test_release.py", ["-p", "no:asyncio"]),
        ("test_release_async.py", ["-o", "asyncio_mode=auto"]),
    ],
)
def test_readme_pytest_examples_run(tmp_path: Path, name: str, options: list[str]) -> None:
    tests = _readme_tests()
    assert set(tests) == {"test_release.py", "test_release_async.py"}
    (tmp_path / name).write_text(tests[name])
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options, name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
