"""The GitHub Action: `action.yml`'s steps run with bash as a runner runs them, against the
emulator; and the publish step's decisions as tables.

The runner is imitated: inputs with their defaults, `${{ inputs.x }}`, `${{ github.action_path }}`
and `${{ steps.id.outputs.x }}` substituted, each step's `env:`, `GITHUB_OUTPUT` per step, and
`INPUT_<NAME>` variables (upper-cased, hyphens kept) as a runner sets them for other kinds of
action. A composite action gets no `INPUT_*` from a real runner (actions/runner#665), so one
run leaves them out. The install step is skipped: storepush is installed already.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from storepush.emulator import Emulator
from storepush.testing import TEST_PACKAGE, TEST_TOKEN, make_apk

ROOT = Path(__file__).resolve().parent.parent
ACTION: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
OLD_ACTION_INPUTS = {
    "cafebazaar-pishkhaan-api-secret",
    "app_file",
    "changelog_en",
    "changelog_fa",
    "developer_note",
    "staged_rollout_percentage",
    "auto_publish",
}


def _load_publish() -> ModuleType:
    spec = importlib.util.spec_from_file_location("action_publish", ROOT / "action" / "publish.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


publish = _load_publish()


@dataclass
class Run:
    returncode: int
    log: str
    outputs: dict[str, str]


def _read_outputs(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    for line in lines:
        name, _, value = line.partition("=")
        values[name] = value
    return values


def run_action(
    inputs: dict[str, str],
    *,
    workspace: Path,
    runner_inputs: bool = True,
    extra_env: dict[str, str] | None = None,
    skip: tuple[str, ...] = ("install",),
) -> Run:
    """Run the action's steps the way a runner would (install skipped); return the outcome."""
    declared: dict[str, dict[str, Any]] = ACTION["inputs"]
    assert set(inputs) <= set(declared), f"not inputs of the action: {set(inputs) - set(declared)}"
    values = {
        name: inputs.get(name, str(spec.get("default", ""))) for name, spec in declared.items()
    }
    steps: dict[str, dict[str, str]] = {"install": {"python": sys.executable}}  # if skipped
    context = {"github.action_path": str(ROOT)}

    def evaluate(expression: str) -> str:
        if expression in context:
            return context[expression]
        scope, _, rest = expression.partition(".")
        if scope == "inputs":
            return values[rest]
        if scope == "steps":
            step, _, output = rest.partition(".outputs.")
            return steps.get(step, {}).get(output, "")
        raise AssertionError(f"the test runner does not know ${{{{ {expression} }}}}")

    def substitute(text: str) -> str:
        return EXPRESSION.sub(lambda m: evaluate(m.group(1)), str(text))

    base = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    base.update(CI="true", GITHUB_ACTIONS="true", GITHUB_ACTION_PATH=str(ROOT))
    base.update(GITHUB_WORKSPACE=str(workspace), RUNNER_TEMP=str(workspace.parent))
    base.pop("STOREPUSH_BAZAAR_TOKEN", None)
    if runner_inputs:
        base.update({f"INPUT_{name.upper()}": value for name, value in values.items()})
    base.update(extra_env or {})
    log: list[str] = []
    for index, step in enumerate(ACTION["runs"]["steps"]):
        if step.get("id") in skip:
            continue
        assert step["shell"] == "bash"
        output_file = workspace.parent / f"output-{index}"
        output_file.unlink(missing_ok=True)
        script = workspace.parent / f"step-{index}.sh"
        script.write_text(substitute(step["run"]), encoding="utf-8")
        env = {**base, **{k: substitute(v) for k, v in (step.get("env") or {}).items()}}
        env["GITHUB_OUTPUT"] = str(output_file)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],  # noqa: S607
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        log.append(done.stdout + done.stderr)
        steps[step["id"]] = _read_outputs(output_file)
        if done.returncode != 0:
            return Run(done.returncode, "".join(log), {})
    outputs = {name: substitute(spec["value"]) for name, spec in ACTION["outputs"].items()}
    run = Run(0, "".join(log), outputs)
    assert TEST_TOKEN not in run.log
    return run


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "workspace"
    (folder / "app" / "build" / "arm64").mkdir(parents=True)
    (folder / "app" / "build" / "v7").mkdir(parents=True)
    make_apk(folder / "app/build/arm64/app-release.apk", package=TEST_PACKAGE, version_code=41)
    make_apk(folder / "app/build/v7/app-release.apk", package=TEST_PACKAGE, version_code=40)
    return folder


def common(emu: Emulator, **inputs: str) -> dict[str, str]:
    return {
        "cafebazaar-pishkhaan-api-secret": TEST_TOKEN,
        "base_url": emu.bazaar_url,
        **inputs,
    }


# -- action.yml itself -----------------------------------------------------------------------


def test_the_old_actions_inputs_are_all_there() -> None:
    assert set(ACTION["inputs"]) >= OLD_ACTION_INPUTS
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["outputs"]) == {"release_id", "version_codes", "already_committed"}


def test_inputs_reach_scripts_only_through_the_environment() -> None:
    """No `${{ ... }}` inside a script: a changelog with quotes or `$(...)` stays text."""
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step["run"], step["name"]


def test_the_token_goes_through_the_environment() -> None:
    (step,) = (s for s in ACTION["runs"]["steps"] if s["id"] == "publish")
    assert step["env"]["STOREPUSH_BAZAAR_TOKEN"] == "${{ inputs.cafebazaar-pishkhaan-api-secret }}"
    assert "cafebazaar" not in step["run"]


def test_it_installs_from_its_own_checkout() -> None:
    (step,) = (s for s in ACTION["runs"]["steps"] if s["id"] == "install")
    assert '"${GITHUB_ACTION_PATH}[cli]"' in step["run"]
    assert "pip install storepush" not in step["run"]


# -- runs against the emulator ---------------------------------------------------------------


@pytest.mark.parametrize("runner_inputs", [True, False])
def test_several_files_by_glob_with_architectures(
    storepush_emulator: Emulator, workspace: Path, runner_inputs: bool
) -> None:
    inputs = common(
        storepush_emulator,
        app_file="app/build/**/*.apk",
        architectures="arm64-v8a, armeabi-v7a",  # sorted: arm64/ before v7/
        changelog_en="Faster sync",
        changelog_fa="همگام‌سازی سریع‌تر",
        developer_note="built by CI",
        staged_rollout_percentage="100",
    )
    run = run_action(inputs, workspace=workspace, runner_inputs=runner_inputs)
    assert run.returncode == 0, run.log
    (release,) = storepush_emulator.world.apps[TEST_TOKEN].releases
    assert release.committed
    assert [(p.version_code, p.architecture) for p in release.packages] == [
        (41, "arm64-v8a"),
        (40, "armeabi-v7a"),
    ]
    assert (release.changelog_en, release.changelog_fa) == ("Faster sync", "همگام‌سازی سریع‌تر")
    assert release.developer_note == "built by CI"
    assert release.auto_publish is False
    assert run.outputs == {
        "release_id": str(release.id),
        "version_codes": "41,40",
        "already_committed": "false",
    }
    assert f"committed release {release.id} with version codes 41,40" in run.log


@pytest.mark.parametrize(("given", "expected"), [("true", True), ("false", False), ("", False)])
def test_auto_publish_is_a_real_boolean(
    storepush_emulator: Emulator, workspace: Path, given: str, expected: bool
) -> None:
    app_file = "app/build/arm64/*.apk:arm64-v8a\napp/build/v7/*.apk:armeabi-v7a\n"
    run = run_action(
        common(storepush_emulator, app_file=app_file, auto_publish=given), workspace=workspace
    )
    assert run.returncode == 0, run.log
    (release,) = storepush_emulator.world.apps[TEST_TOKEN].releases
    assert release.auto_publish is expected
    assert [p.architecture for p in release.packages] == ["arm64-v8a", "armeabi-v7a"]


def test_dry_run_changes_nothing(storepush_emulator: Emulator, workspace: Path) -> None:
    inputs = common(storepush_emulator, app_file="app/build/**/*.apk", dry_run="true")
    run = run_action(inputs, workspace=workspace)
    assert run.returncode == 0, run.log
    assert storepush_emulator.world.apps[TEST_TOKEN].releases == []
    assert run.outputs == {"release_id": "", "version_codes": "", "already_committed": "false"}
    assert "dry run: the inputs are valid" in run.log


def test_a_re_run_finds_it_already_committed(storepush_emulator: Emulator, workspace: Path) -> None:
    inputs = common(storepush_emulator, app_file="app/build/**/*.apk", architectures="arm64-v8a")
    first = run_action(inputs, workspace=workspace)
    again = run_action(inputs, workspace=workspace)
    assert first.returncode == 0, first.log
    assert again.returncode == 0, again.log
    assert len(storepush_emulator.world.apps[TEST_TOKEN].releases) == 1
    assert first.outputs["already_committed"] == "false"
    assert again.outputs == {
        "release_id": "",
        "version_codes": "41,40",
        "already_committed": "true",
    }
    assert "already committed" in again.log


def test_wait_until_published(storepush_emulator: Emulator, workspace: Path) -> None:
    inputs = common(
        storepush_emulator, app_file="app/build/v7/*.apk", auto_publish="true", wait="true"
    )
    run = run_action(inputs, workspace=workspace)
    assert run.returncode == 0, run.log
    assert "--wait --wait-deadline 3600" in run.log  # the command, as the log shows it
    assert storepush_emulator.world.apps[TEST_TOKEN].releases[0].decision == "published"


@pytest.mark.parametrize("token", ["", "   "])
def test_a_missing_token_is_a_clear_error(
    storepush_emulator: Emulator, workspace: Path, token: str
) -> None:
    inputs = common(storepush_emulator, app_file="app/build/**/*.apk")
    inputs["cafebazaar-pishkhaan-api-secret"] = token
    run = run_action(inputs, workspace=workspace)
    assert run.returncode == 2
    assert "::error title=storepush::the input cafebazaar-pishkhaan-api-secret is empty" in run.log
    assert storepush_emulator.log == []  # nothing was sent


def test_a_wrong_token_fails_with_the_stores_answer(
    storepush_emulator: Emulator, workspace: Path
) -> None:
    inputs = common(storepush_emulator, app_file="app/build/**/*.apk")
    inputs["cafebazaar-pishkhaan-api-secret"] = "not-the-token-4f3e2d1c"
    run = run_action(inputs, workspace=workspace)
    assert run.returncode == 1
    assert "::error title=storepush::" in run.log
    assert "403" in run.log
    assert "not-the-token-4f3e2d1c" not in run.log


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"app_file": "app/build/**/*.apk", "auto_publish": "yes"}, "auto_publish: must be true"),
        ({"app_file": "nothing/*.apk"}, "'nothing/*.apk' matches no file"),
        ({"app_file": ""}, "app_file: is empty and no aab is given"),
        (
            {"app_file": "app/build/**/*.apk", "architectures": "a b c"},
            "3 architectures for 2 files (in this order: app/build/arm64/app-release.apk, "
            "app/build/v7/app-release.apk)",
        ),
        ({"app_file": "app/build/v7/*.apk:mips"}, "'mips' is not an architecture"),
    ],
)
def test_bad_inputs_fail_before_any_request(
    storepush_emulator: Emulator, workspace: Path, inputs: dict[str, str], message: str
) -> None:
    run = run_action(common(storepush_emulator, **inputs), workspace=workspace)
    assert run.returncode == 2, run.log
    assert "::error title=storepush::" in run.log
    assert message in run.log
    assert storepush_emulator.world.apps[TEST_TOKEN].releases == []


def test_an_old_python_is_refused_with_the_fix(tmp_path: Path, workspace: Path) -> None:
    old = tmp_path / "python3.10"
    old.write_text('#!/bin/sh\n[ "$1" = -V ] && echo "Python 3.10.12"\nexit 1\n')
    old.chmod(0o755)
    run = run_action({"python": str(old)}, workspace=workspace, skip=("publish",))
    assert run.returncode == 2
    assert "storepush needs Python 3.11 or newer" in run.log
    assert "is Python 3.10.12" in run.log
    assert "actions/setup-python" in run.log


@pytest.mark.slow
def test_the_whole_action_with_its_install_step(
    storepush_emulator: Emulator, workspace: Path
) -> None:
    """The install step for real: a fresh venv under RUNNER_TEMP, storepush from this checkout
    (pip builds it, so the package index must be reachable), then the publish step with it."""
    inputs = common(storepush_emulator, app_file="app/build/**/*.apk")
    run = run_action(inputs, workspace=workspace, skip=())
    assert run.returncode == 0, run.log
    assert run.outputs["version_codes"] == "41,40"
    assert (workspace.parent / "storepush-action-venv" / "bin" / "storepush").exists()


def test_text_inputs_are_never_run_as_shell(storepush_emulator: Emulator, workspace: Path) -> None:
    hostile = 'Fixes "quotes" and $(touch pwned) and `touch pwned2`; exit 3'
    inputs = common(storepush_emulator, app_file="app/build/v7/*.apk", changelog_en=hostile)
    run = run_action(inputs, workspace=workspace)
    assert run.returncode == 0, run.log
    assert not (workspace / "pwned").exists()
    assert not (workspace / "pwned2").exists()
    assert storepush_emulator.world.apps[TEST_TOKEN].releases[0].changelog_en == hostile


# -- the publish step's decisions, as tables -------------------------------------------------


@pytest.mark.parametrize(
    ("app_file", "architectures", "expected"),
    [
        ("a/*.apk", "", [("a/one.apk", "all"), ("a/two.apk", "all")]),
        ("a/*.apk", "arm64-v8a", [("a/one.apk", "arm64-v8a"), ("a/two.apk", "arm64-v8a")]),
        (
            "a/*.apk",
            "arm64-v8a\narmeabi-v7a",
            [("a/one.apk", "arm64-v8a"), ("a/two.apk", "armeabi-v7a")],
        ),
        (
            "a/two.apk:armeabi-v7a\na/one.apk:arm64-v8a",
            "",
            [("a/two.apk", "armeabi-v7a"), ("a/one.apk", "arm64-v8a")],
        ),
        ("**/*.apk", "", [("a/one.apk", "all"), ("a/two.apk", "all"), ("b/c/three.apk", "all")]),
        ("a/one.apk\n  a/*.apk  \n\n", "", [("a/one.apk", "all"), ("a/two.apk", "all")]),
        ("", "", []),
    ],
)
def test_find_files(
    tmp_path: Path, app_file: str, architectures: str, expected: list[tuple[str, str]]
) -> None:
    for name in ("a/one.apk", "a/two.apk", "b/c/three.apk"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"PK")
    (tmp_path / "a" / "dir.apk").mkdir()  # a folder is never a file to upload
    assert publish.find_files(app_file, architectures, root=tmp_path) == expected


@pytest.mark.parametrize(
    ("app_file", "architectures", "problem"),
    [
        ("a/*.apk", "x y z", "3 architectures for 2 files"),
        ("a/one.apk:all", "all", "not both"),
        ("zzz/*.apk", "", "matches no file"),
    ],
)
def test_find_files_refuses(
    tmp_path: Path, app_file: str, architectures: str, problem: str
) -> None:
    (tmp_path / "a").mkdir()
    for name in ("one.apk", "two.apk"):
        (tmp_path / "a" / name).write_bytes(b"PK")
    with pytest.raises(publish.InputError, match=problem):
        publish.find_files(app_file, architectures, root=tmp_path)


@pytest.mark.parametrize(
    ("inputs", "tail"),
    [
        ({}, ["--no-auto-publish", "--no-wait"]),
        (
            {"auto_publish": "TRUE", "wait": "true", "wait_deadline": "60"},
            ["--auto-publish", "--wait", "--wait-deadline", "60"],
        ),
        ({"dry_run": "true"}, ["--no-auto-publish", "--no-wait", "--dry-run"]),
        (
            {"changelog_en": "@notes/en.txt", "staged_rollout_percentage": "20"},
            [
                "--changelog-en",
                "@notes/en.txt",
                "--rollout",
                "20",
                "--no-auto-publish",
                "--no-wait",
            ],
        ),
        (
            {"if_draft_exists": "replace", "base_url": "http://127.0.0.1:1/v1"},
            [
                "--if-draft-exists",
                "replace",
                "--base-url",
                "http://127.0.0.1:1/v1",
                "--no-auto-publish",
                "--no-wait",
            ],
        ),
    ],
)
def test_publish_arguments(inputs: dict[str, str], tail: list[str]) -> None:
    args = publish.publish_arguments(inputs, [("x.apk", "all")])
    assert args == ["--json", "bazaar", "publish", "x.apk:all", *tail]


def test_publish_arguments_for_a_bundle() -> None:
    args = publish.publish_arguments({"aab": "app.aab", "bin": "app.bin"}, [])
    assert args[:5] == ["--json", "bazaar", "publish", "--aab", "app.aab"]
    assert args[5:7] == ["--bin", "app.bin"]


@pytest.mark.parametrize(
    ("inputs", "files", "problem"),
    [
        ({}, [], "is empty and no aab"),
        ({"aab": "a.aab", "bin": "a.bin"}, [("x.apk", "all")], "not both"),
        ({"aab": "a.aab"}, [], "input bin: aab and bin go together"),
        ({"bin": "a.bin"}, [("x.apk", "all")], "input aab: aab and bin go together"),
        ({"wait": "1"}, [("x.apk", "all")], "wait: must be true or false"),
        ({"dry_run": "no"}, [("x.apk", "all")], "dry_run: must be true or false"),
    ],
)
def test_publish_arguments_refuses(
    inputs: dict[str, str], files: list[tuple[str, str]], problem: str
) -> None:
    with pytest.raises(publish.InputError, match=problem):
        publish.publish_arguments(inputs, files)


@pytest.mark.parametrize(
    ("document", "outputs"),
    [
        (
            {"release": {"id": 7, "packages": []}, "packages": [{"version_code": 3}]},
            {"release_id": "7", "version_codes": "3", "already_committed": "false"},
        ),
        (
            {
                "release": {"id": None, "packages": [{"version_code": 3}, {"version_code": 4}]},
                "packages": [],
                "already_committed": True,
            },
            {"release_id": "", "version_codes": "3,4", "already_committed": "true"},
        ),
        (
            {"release": None, "packages": [], "dry_run": True},
            {"release_id": "", "version_codes": "", "already_committed": "false"},
        ),
    ],
)
def test_action_outputs(document: dict[str, Any], outputs: dict[str, str]) -> None:
    assert publish.action_outputs(document) == outputs


@pytest.mark.parametrize(
    ("message", "escaped"),
    [("plain", "plain"), ("two\nlines", "two%0Alines"), ("100%\r", "100%25%0D")],
)
def test_command_text(message: str, escaped: str) -> None:
    assert publish.command_text(message) == escaped
