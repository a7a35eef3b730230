"""A pytest plugin for testing your own publishing pipeline against the emulator.

Installed with storepush and loaded automatically (entry point `pytest11`). It provides the
`storepush_emulator` fixture: an [Emulator][storepush.emulator.Emulator] on a free loopback
port, with one app and one user, no faults, no quotas and instant review. It is served from a
background thread, so it needs no async test plugin and works from synchronous tests
(requests, curl, a subprocess running the `storepush` command) as well as async ones:

```python
def test_my_release(storepush_emulator, tmp_path):
    apk = make_apk(tmp_path / "app.apk", package=TEST_PACKAGE, version_code=2)
    subprocess.run(["storepush", "bazaar", "publish", str(apk),
                    "--base-url", storepush_emulator.bazaar_url],
                   env={**os.environ, "STOREPUSH_BAZAAR_TOKEN": TEST_TOKEN}, check=True)
    assert storepush_emulator.world.apps[TEST_TOKEN].releases[-1].committed
```

Sample files come from here too: `make_apk`, `make_aab`, `make_bin`, `make_jar`, `make_png`.
They and `make_emulator` work without pytest installed; the fixture is defined only when
pytest can be imported.
"""

from __future__ import annotations

from collections.abc import Iterator

from ._samples import make_aab, make_apk, make_bin, make_jar, make_png
from .emulator import Emulator, EmulatorThread, Faults, Quotas

__all__ = [
    "TEST_API_KEY",
    "TEST_PACKAGE",
    "TEST_TOKEN",
    "TEST_USER",
    "make_aab",
    "make_apk",
    "make_bin",
    "make_emulator",
    "make_jar",
    "make_png",
]

TEST_TOKEN = "storepush-test-token-0123456789"  # noqa: S105 - the emulator's test credential
TEST_PACKAGE = "com.example.app"
TEST_API_KEY = "storepush-test-api-key-0123456789"
TEST_USER = "tester"


def make_emulator() -> Emulator:
    """The emulator the fixture serves, not started: app `TEST_TOKEN` -> `TEST_PACKAGE`, user
    `TEST_API_KEY` -> `TEST_USER`; no faults, no quotas, instant review and bundle processing.

    Without pytest, serve it yourself: `with EmulatorThread(make_emulator()) as emulator: ...`.
    """
    return Emulator(
        apps={TEST_TOKEN: TEST_PACKAGE},
        users={TEST_API_KEY: TEST_USER},
        faults=Faults(),
        quotas=Quotas(),
        review_seconds=0.0,
        bundle_seconds=0.0,
    )


# The fixture exists only where pytest does; everything above works without it.
try:
    import pytest
except ModuleNotFoundError:  # pragma: no cover - checked in a venv without pytest (nox -s package)
    pass
else:

    @pytest.fixture
    def storepush_emulator() -> Iterator[Emulator]:
        """A running emulator (see `make_emulator`), served from a background thread."""
        with EmulatorThread(make_emulator()) as running:
            yield running

    __all__ += ["storepush_emulator"]
