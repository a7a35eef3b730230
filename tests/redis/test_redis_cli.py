"""The command line and the batch manifest with Redis: `--redis-url`, `[defaults] redis_url`,
and a batch whose Redis is stopped half-way through."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storepush import ValidationError
from storepush.cli import app
from storepush.cli._manifest import load_manifest
from storepush.emulator import Emulator, EmulatorThread
from storepush.testing import make_apk

from .conftest import PASSWORD
from .server import RedisServer

APPS = {f"redis-cli-token-{i:02d}-77ee": f"com.example.batch{i}" for i in range(8)}
TOKEN = next(iter(APPS))


@pytest.fixture
def emu() -> Iterator[Emulator]:
    emulator = Emulator(apps=APPS, review_seconds=0.0, bundle_seconds=0.0)
    with EmulatorThread(emulator) as running:
        yield running


def invoke(emu: Emulator, *args: str, env: dict[str, str] | None = None) -> object:
    base = {"STOREPUSH_BAZAAR_TOKEN": TOKEN, "STOREPUSH_BAZAAR_BASE_URL": emu.bazaar_url}
    result = CliRunner().invoke(app, list(args), env={**base, **(env or {})})
    assert TOKEN not in result.output
    assert PASSWORD not in result.output
    return result


def test_redis_url_shares_limits_and_leaves_no_lease(
    emu: Emulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    apk = make_apk(tmp_path / "app.apk", package=APPS[TOKEN], version_code=2, size=100_000)
    result = invoke(emu, "--redis-url", redis_server.url, "bazaar", "publish", str(apk))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    keys = redis_server.keys()
    assert any(k.startswith("storepush:rl:bazaar:") for k in keys), keys
    assert not [k for k in keys if ":lease:" in k]


def test_redis_url_from_the_environment(
    emu: Emulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    result = invoke(
        emu, "bazaar", "status", env={"STOREPUSH_REDIS_URL": redis_server.url + "?prefix=envp"}
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert any(k.startswith("envp:rl:") for k in redis_server.keys("*"))


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:6379", "redis://:hunter2-Pw@h/x", "redis://h?colour=1"]
)
def test_a_bad_redis_url_is_bad_input(emu: Emulator, url: str) -> None:
    result = invoke(emu, "--redis-url", url, "bazaar", "status")
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert "--redis-url" in result.output  # type: ignore[attr-defined]
    assert "hunter2" not in result.output  # type: ignore[attr-defined]
    assert not emu.log, "nothing was sent"


def write_manifest(tmp_path: Path, redis_url: str, count: int) -> Path:
    lines = ["[defaults]", f'redis_url = "{redis_url}"', ""]
    for i, (_, package) in enumerate(list(APPS.items())[:count]):
        make_apk(tmp_path / f"a{i}.apk", package=package, version_code=2, size=100_000)
        lines += ["[[bazaar]]", f'name = "a{i}"', f'token_env = "APP_{i}"', f'apks = ["a{i}.apk"]']
    manifest = tmp_path / "release.toml"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def test_a_bad_manifest_redis_url_names_its_line(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, "redis://h?lease_ttl=-1", 1)
    with pytest.raises(ValidationError) as caught:
        load_manifest(manifest)
    assert caught.value.field == "release.toml:2: defaults.redis_url"


def test_redis_stopped_mid_batch_every_item_lands_once(
    emu: Emulator,
    redis_server: RedisServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`storepush batch` with `[defaults] redis_url`; Redis is killed once two apps are
    committed: the rest runs on local limits and host locks, every app lands once."""
    import threading
    import time

    env = {f"APP_{i}": token for i, token in enumerate(APPS)}
    for name, token in env.items():
        monkeypatch.setenv(name, token)
    monkeypatch.delenv("STOREPUSH_REDIS_URL", raising=False)
    path = write_manifest(tmp_path, redis_server.url, len(APPS))
    assert load_manifest(path).redis_url is not None

    def kill_half_way() -> None:
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if sum(1 for e in list(emu.log) if e["endpoint"] == "commit") >= 2:
                redis_server.stop(kill=True)  # half-way: the rest runs without Redis
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=kill_half_way, daemon=True)
    watcher.start()
    result = invoke(emu, "-v", "batch", str(path), "--concurrency", "2", env=env)
    watcher.join(10)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    for token in APPS:
        committed = [r for r in emu.world.apps[token].releases if r.committed]
        assert len(committed) == 1
    assert "uses its own rate limits and host locks" in result.output  # type: ignore[attr-defined]
