"""``storepush demo`` end to end (small sizes), and the console script as a real process."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from storepush.cli import app


def test_demo_passes_its_own_check() -> None:
    result = CliRunner().invoke(
        app, ["--json", "demo", "--apps", "12", "--plugins", "3", "--apk-mib", "0.25"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is True
    assert doc["demo"]["check"] == "passed"
    assert doc["totals"]["items"] == 15
    assert doc["demo"]["faults_injected"]


def test_demo_human_summary() -> None:
    result = CliRunner().invoke(app, ["demo", "--apps", "3", "--plugins", "1", "--apk-mib", "0.1"])
    assert result.exit_code == 0, result.output
    assert "exactly-once check: passed" in result.stdout


def test_console_script_and_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "storepush", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert done.stdout.startswith("storepush ")
    usage = subprocess.run(
        [sys.executable, "-m", "storepush", "bazaar", "publish", "--rollout", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert usage.returncode == 2


def test_demo_summary_has_no_raw_values() -> None:
    from storepush.cli._demo import summary_lines

    doc = {
        "ok": True,
        "totals": {"items": 2, "failed": 0, "bytes_sent": 2_000_000, "seconds": 1.0, "retries": 3},
        "demo": {
            "apps": 1,
            "plugins": 1,
            "throttled_429": 2,
            "faults_injected": {"error": 2, "drop": 1},
            "problems": [],
        },
    }
    lines = summary_lines(doc)
    assert "faults injected: 1 drop, 2 error" in lines[2]
    assert not any("{" in line or "}" in line for line in lines)
    doc["demo"]["faults_injected"] = {}  # type: ignore[index]
    assert "faults injected: none" in summary_lines(doc)[2]
