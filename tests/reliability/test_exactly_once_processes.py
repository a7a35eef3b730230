"""Exactly once through the real `storepush` command, in separate processes.

The emulator runs in its own process (with latency, so that requests overlap the way they do
over a real link); each publisher is a `python -m storepush` process. "Different hosts" are
processes with their own lock folder (they share nothing but the store); "the same host"
share one. Kills are SIGKILL: no cleanup at all. Every scenario ends checked in the
emulator's state: one committed release per build, no draft left, exit codes that say what
happened.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from storepush.testing import make_apk

TOKEN = "process-token-4c3b2a1f0e9d"
PACKAGE = "com.example.app"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmulatorProcess:
    def __init__(self, latency: float, apps: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "storepush.emulator",
            "--port",
            str(self.port),
            *(f"--app={token}={package}" for token, package in (apps or {TOKEN: PACKAGE}).items()),
            "--review-seconds",
            "100000",
            "--latency",
            str(latency),
        ]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 20
        while time.monotonic() < end:
            try:
                requests.get(self.url + "/_emulator/state", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("the emulator did not start")

    def state(self, package: str = PACKAGE) -> dict[str, Any]:
        return requests.get(self.url + "/_emulator/state", timeout=5).json()["apps"][package]

    def log(self) -> list[dict[str, Any]]:
        return requests.get(self.url + "/_emulator/log", timeout=5).json()

    def reset(self) -> None:
        requests.post(self.url + "/_emulator/reset", timeout=5)

    def releases(self, package: str = PACKAGE) -> tuple[list[set[str]], list[dict[str, Any]]]:
        releases = self.state(package)["releases"]
        committed = [{p["sha1_hash"] for p in r["packages"]} for r in releases if r["committed"]]
        drafts = [r for r in releases if not r["committed"]]
        return committed, drafts

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorProcess]:
    running = EmulatorProcess(latency=0.02)
    yield running
    running.stop()


@pytest.fixture
def store(emu: EmulatorProcess) -> EmulatorProcess:
    emu.reset()
    return emu


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


class Publisher:
    """A `storepush bazaar publish` process."""

    def __init__(self, emu: EmulatorProcess, lock_dir: Path, *args: str) -> None:
        env = {
            **os.environ,
            "STOREPUSH_BAZAAR_TOKEN": TOKEN,
            "STOREPUSH_BAZAAR_BASE_URL": emu.url + "/v1",
            "STOREPUSH_LOCK_DIR": str(lock_dir),
        }
        command = [sys.executable, "-m", "storepush", "--json", "bazaar", "publish", *args]
        self.proc = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def result(self, timeout: float = 120) -> tuple[int, dict[str, Any], str]:
        out, err = self.proc.communicate(timeout=timeout)
        assert TOKEN not in out + err
        document = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        return self.proc.returncode, document, err


@pytest.fixture
def hosts(tmp_path: Path) -> Callable[[str], Path]:
    def lock_dir(name: str) -> Path:
        folder = tmp_path / f"host-{name}"
        folder.mkdir(exist_ok=True)
        return folder

    return lock_dir


@pytest.fixture
def apk(tmp_path: Path) -> Callable[..., Path]:
    def make(code: int, *, seed: int | None = None, size: int = 400_000, name: str = "") -> Path:
        path = tmp_path / (name or f"app-{code}-{seed}.apk")
        return make_apk(path, package=PACKAGE, version_code=code, size=size, seed=seed or code)

    return make


REFUSALS = {"VersionCodeError", "ConcurrentPublishError", "DraftExistsError"}


@pytest.mark.parametrize("offset", [0.0, 0.03, 0.08, 0.15, 0.3])
def test_two_hosts_one_build_at_swept_offsets(
    store: EmulatorProcess, hosts: Callable[[str], Path], apk: Callable[..., Path], offset: float
) -> None:
    build = apk(2)
    first = Publisher(store, hosts("a"), str(build))
    time.sleep(offset)
    second = Publisher(store, hosts("b"), str(build))
    outcomes = [first.result(), second.result()]
    assert [code for code, _, _ in outcomes] == [0, 0], outcomes
    committed, drafts = store.releases()
    assert committed == [{sha1(build)}]
    assert drafts == []
    assert sum(1 for _, doc, _ in outcomes if doc["already_committed"]) <= 1


@pytest.mark.parametrize("offset", [0.0, 0.05, 0.2])
def test_two_hosts_two_rebuilds_of_one_version_code(
    store: EmulatorProcess, hosts: Callable[[str], Path], apk: Callable[..., Path], offset: float
) -> None:
    one, other = apk(5, seed=1), apk(5, seed=2)
    first = Publisher(store, hosts("a"), str(one))
    time.sleep(offset)
    second = Publisher(store, hosts("b"), str(other))
    outcomes = [first.result(), second.result()]
    codes = sorted(code for code, _, _ in outcomes)
    assert codes == [0, 1], outcomes
    refused = next(doc for code, doc, _ in outcomes if code == 1)
    assert refused["error"]["type"] in REFUSALS, refused
    committed, drafts = store.releases()
    assert committed in ([{sha1(one)}], [{sha1(other)}])
    assert drafts == []


@pytest.mark.parametrize("offset", [0.0, 0.2])
def test_an_orphaned_empty_draft_and_two_builds_racing_for_it(
    store: EmulatorProcess, hosts: Callable[[str], Path], apk: Callable[..., Path], offset: float
) -> None:
    """A job killed right after its create left an empty draft; two other hosts, with two
    builds, find it at once. Each watches it before writing; whatever they then see of each
    other, the app ends with one release of one build and no draft, and each run exits with
    success or a named refusal (found by a hostile sweep: both used to give up, or mix)."""
    response = requests.post(
        store.url + "/v1/apps/releases/",
        headers={"CAFEBAZAAR-PISHKHAN-API-SECRET": TOKEN},
        timeout=5,
    )
    assert response.status_code == 201, response.text
    older, newer = apk(3, seed=1), apk(4, seed=2)
    first = Publisher(store, hosts("a"), str(older))
    time.sleep(offset)
    second = Publisher(store, hosts("b"), str(newer))
    outcomes = [first.result(), second.result()]
    assert 0 in [code for code, _, _ in outcomes], outcomes
    for code, document, _ in outcomes:
        assert code in (0, 1), outcomes
        if code == 1:
            assert document["error"]["type"] in REFUSALS, document
    committed, drafts = store.releases()
    assert drafts == []
    # one release per build that said it published, each exactly that build
    published = [
        {sha1(f)} for f, (code, _, _) in zip((older, newer), outcomes, strict=True) if code == 0
    ]
    assert sorted(map(sorted, committed)) == sorted(map(sorted, published))


def test_same_host_second_job_waits_then_finds_it_committed(
    store: EmulatorProcess, hosts: Callable[[str], Path], apk: Callable[..., Path]
) -> None:
    build = apk(2, size=2_000_000)
    lock = hosts("shared")
    first = Publisher(store, lock, str(build))
    time.sleep(0.05)
    second = Publisher(store, lock, str(build))
    (code1, doc1, _), (code2, doc2, _) = first.result(), second.result()
    assert (code1, code2) == (0, 0)
    assert [doc1["already_committed"], doc2["already_committed"]].count(True) == 1
    committed, drafts = store.releases()
    assert committed == [{sha1(build)}]
    assert drafts == []


def _wait_for(emu: EmulatorProcess, seen: Callable[[list[dict[str, Any]]], bool]) -> None:
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if seen(emu.log()):
            return
        time.sleep(0.005)
    raise AssertionError("the phase to kill at never came")


def _after(endpoint: str, status: int | None = None) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda log: any(
        e["endpoint"] == endpoint and (status is None or e["status"] == status) for e in log
    )


def _reading_after(endpoint: str, read: str) -> Callable[[list[dict[str, Any]]], bool]:
    """The check `read` that comes right after `endpoint` (the next write is being sent)."""

    def seen(log: list[dict[str, Any]]) -> bool:
        names = [e["endpoint"] for e in log]
        return endpoint in names and read in names[names.index(endpoint) + 1 :]

    return seen


#: Where to kill: what the emulator's log must show first, then how long to wait, and whether
#: the store answers late (0.4 s before it reads a body or answers: an upload of a few MB is
#: then surely in flight 0.1 s after the create's answer).
PHASES: dict[str, tuple[Callable[[list[dict[str, Any]]], bool], float, float]] = {
    "after create": (_after("create", 201), 0.0, 0.0),
    "during the first upload": (_after("create", 201), 0.1, 0.4),
    "after the first upload": (_after("upload", 200), 0.0, 0.0),
    "during the commit": (_reading_after("upload", "last-uncommitted"), 0.0, 0.0),
    "after the commit": (_after("commit", 200), 0.0, 0.0),
}


@pytest.mark.parametrize("phase", list(PHASES))
def test_sigkill_at_each_phase_then_a_fresh_runner_finishes(
    store: EmulatorProcess, hosts: Callable[[str], Path], apk: Callable[..., Path], phase: str
) -> None:
    seen, pause, latency = PHASES[phase]
    emulator = EmulatorProcess(latency=latency) if latency else store
    try:
        files = [apk(2, size=3_000_000), apk(3, size=3_000_000)]
        args = [f"{files[0]}:armeabi-v7a", f"{files[1]}:arm64-v8a"]
        doomed = Publisher(emulator, hosts("ci-1"), *args)
        _wait_for(emulator, seen)
        time.sleep(pause)
        doomed.proc.send_signal(signal.SIGKILL)
        doomed.proc.communicate(timeout=30)
        assert doomed.proc.returncode == -signal.SIGKILL
        code, document, err = Publisher(emulator, hosts("ci-2"), *args).result()  # fresh runner
        assert code == 0, (document, err)
        committed, drafts = emulator.releases()
        assert committed == [{sha1(f) for f in files}]
        assert drafts == []
    finally:
        if emulator is not store:
            emulator.stop()


def test_rerunning_an_older_job_is_refused_before_any_write(
    store: EmulatorProcess, hosts: Callable[[str], Path], apk: Callable[..., Path]
) -> None:
    v10, v11 = apk(10), apk(11)
    for build in (v10, v11):
        assert Publisher(store, hosts("a"), str(build)).result()[0] == 0
    writes_before = sum(1 for e in store.log() if e["method"] != "GET")
    code, document, _ = Publisher(store, hosts("a"), str(v10)).result()
    assert code == 1
    assert document["error"]["type"] == "VersionCodeError"
    assert "not above 11" in document["error"]["message"]
    assert sum(1 for e in store.log() if e["method"] != "GET") == writes_before
    committed, drafts = store.releases()
    assert committed == [{sha1(v10)}, {sha1(v11)}]
    assert drafts == []


def test_a_rebuild_with_the_same_version_code_is_refused(
    store: EmulatorProcess, hosts: Callable[[str], Path], apk: Callable[..., Path]
) -> None:
    first, rebuilt = apk(10, seed=1), apk(10, seed=2)
    assert Publisher(store, hosts("a"), str(first)).result()[0] == 0
    code, document, _ = Publisher(store, hosts("a"), str(rebuilt)).result()
    assert code == 1
    assert document["error"]["type"] == "VersionCodeError"
    assert "rebuild with the same version code" in document["error"]["message"]
    assert sha1(first) in document["error"]["message"]
    committed, _ = store.releases()
    assert committed == [{sha1(first)}]


def test_a_rerun_that_asks_for_other_notes_says_the_release_cannot_be_edited(
    store: EmulatorProcess, hosts: Callable[[str], Path], apk: Callable[..., Path]
) -> None:
    build = apk(4)
    assert Publisher(store, hosts("a"), str(build), "--changelog-en", "one").result()[0] == 0
    code, document, _ = Publisher(store, hosts("a"), str(build), "--changelog-en", "two").result()
    assert code == 0
    assert document["already_committed"] is True
    assert document["differences"] == ["changelog_en"]
    assert "cannot be edited" in document["warnings"][0]


def test_a_file_truncated_during_its_upload(
    hosts: Callable[[str], Path], apk: Callable[..., Path], tmp_path: Path
) -> None:
    slow = EmulatorProcess(latency=0.4)  # the store reads each body late: the upload is slow
    try:
        build = apk(2, size=48 * 1024 * 1024)
        original = tmp_path / "original.apk"
        shutil.copyfile(build, original)
        running = Publisher(slow, hosts("a"), str(build))
        _wait_for(slow, _after("create", 201))
        time.sleep(0.1)  # the upload is in flight: the store reads its body 0.4 s late
        with build.open("r+b") as handle:
            handle.truncate(build.stat().st_size // 2)
        code, document, _ = running.result()
        assert code == 1, document
        assert "the file changed while it was being uploaded" in document["error"]["message"]
        committed, drafts = slow.releases()
        assert committed == []
        assert drafts == []  # the run removed the draft it had created
        assert not any(e["endpoint"] == "upload" and e["status"] == 200 for e in slow.log())
        shutil.copyfile(original, build)  # restored: a re-run publishes normally
        code, document, _ = Publisher(slow, hosts("a"), str(build)).result()
        assert code == 0, document
        committed, drafts = slow.releases()
        assert committed == [{sha1(original)}]
        assert drafts == []
    finally:
        slow.stop()


def test_two_batch_runs_of_one_manifest_at_once(
    hosts: Callable[[str], Path], apk: Callable[..., Path], tmp_path: Path
) -> None:
    apps = {f"batch-token-{i}-0123456789": f"com.example.batch{i}" for i in range(4)}
    store = EmulatorProcess(latency=0.02, apps=apps)
    try:
        lines, env = [], dict(os.environ)
        builds: dict[str, Path] = {}
        for i, (token, package) in enumerate(apps.items()):
            build = make_apk(
                tmp_path / f"b{i}.apk", package=package, version_code=3, size=500_000, seed=i
            )
            builds[package] = build
            env[f"BATCH_TOKEN_{i}"] = token
            lines += [
                "[[bazaar]]",
                f'name = "app{i}"',
                f'token_env = "BATCH_TOKEN_{i}"',
                f'apks = ["{build}"]',
                "",
            ]
        manifest = tmp_path / "release.toml"
        manifest.write_text("\n".join(lines))
        env["STOREPUSH_BAZAAR_BASE_URL"] = store.url + "/v1"
        runs = []
        for host in ("a", "b"):
            command = [sys.executable, "-m", "storepush", "--json", "batch", str(manifest)]
            runs.append(
                subprocess.Popen(
                    command,
                    env={**env, "STOREPUSH_LOCK_DIR": str(hosts(host))},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
            time.sleep(0.05)
        results = [run.communicate(timeout=120) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], results
        for package, build in builds.items():
            committed, drafts = store.releases(package)
            assert committed == [{sha1(build)}], package
            assert drafts == []
    finally:
        store.stop()
