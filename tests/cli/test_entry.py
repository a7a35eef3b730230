"""The console script's entry point: the fast `--version`, the app, and the one-line message
when the `cli` extra is missing (the message itself is tested in tests/test_packaging.py)."""

from __future__ import annotations

import pytest

import storepush.cli as cli


def test_version_fast_path(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["storepush", "--version"])
    cli.main()
    assert capsys.readouterr().out.startswith("storepush ")


def test_the_app_runs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["storepush", "bazaar", "--version"])
    with pytest.raises(SystemExit) as done:
        cli.main()
    assert done.value.code in (0, None)
    assert capsys.readouterr().out.startswith("storepush ")
    assert cli.app is not None  # `storepush.cli.app`, imported on first use
    with pytest.raises(AttributeError):
        _ = cli.nothing_here  # type: ignore[attr-defined]


@pytest.mark.parametrize("argv", [["--version"], ["bazaar", "status"]])
def test_a_missing_extra_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["storepush", *argv])
    monkeypatch.setattr(cli, "_missing_module", lambda: "rich")
    with pytest.raises(SystemExit) as done:
        cli.main()
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "(rich is not installed)" in err


def test_missing_module_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli._missing_module() is None
    monkeypatch.setitem(__import__("sys").modules, "rich", None)
    assert cli._missing_module() == "rich"
