from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from storepush.cli import app
from storepush.emulator import Emulator, EmulatorThread

TOKEN = "cli-token-5d1c0e9f8a7b"
OTHER = "cli-token-other-2b3c4d"
KEY = "cli-bm-key-77aa88bb99cc"
PACKAGE = "com.example.cli"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    emulator = Emulator(
        apps={TOKEN: PACKAGE, OTHER: "com.example.other"},
        users={KEY: "alice"},
        review_seconds=0.0,
        bundle_seconds=0.0,
    )
    with EmulatorThread(emulator) as running:
        yield running


class Cli:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.runner = CliRunner()
        self.env = {
            "STOREPUSH_BAZAAR_TOKEN": TOKEN,
            "STOREPUSH_BLUEMIND_API_KEY": KEY,
            "STOREPUSH_BAZAAR_BASE_URL": emu.bazaar_url,
            "STOREPUSH_BLUEMIND_BASE_URL": emu.bluemind_url,
        }

    def __call__(self, *args: str, env: dict[str, str | None] | None = None) -> Any:
        result = self.runner.invoke(app, list(args), env={**self.env, **(env or {})})
        for secret in (TOKEN, KEY, OTHER):
            assert secret not in result.output, "a secret reached the output"
        return result

    def json(self, *args: str, code: int = 0, env: dict[str, str | None] | None = None) -> Any:
        result = self("--json", *args, env=env)
        assert result.exit_code == code, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli(emu: Emulator) -> Cli:
    return Cli(emu)


@pytest.fixture
def apk(tmp_path: Path) -> Path:
    from storepush.testing import make_apk

    return make_apk(tmp_path / "app.apk", package=PACKAGE, version_code=4, size=150_000)
