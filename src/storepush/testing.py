"""A pytest plugin for testing your own publishing pipeline against the emulator.

Installed with storepush and loaded automatically (entry point ``pytest11``). It provides the
``storepush_emulator`` fixture: a running :class:`~storepush.emulator.Emulator` on a free
loopback port, with one app and one user, reset for every test::

    async def test_my_release(storepush_emulator):
        emu = storepush_emulator
        async with storepush.BazaarClient(emu.bazaar_token, base_url=emu.bazaar_url) as c:
            ...

Sample files for such tests come from :mod:`storepush.testing` too: :func:`make_apk`,
:func:`make_aab`, :func:`make_jar`, :func:`make_png`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from ._samples import make_aab, make_apk, make_bin, make_jar, make_png
from .emulator import Emulator, Faults, Quotas

__all__ = [
    "TEST_API_KEY",
    "TEST_PACKAGE",
    "TEST_TOKEN",
    "TEST_USER",
    "make_aab",
    "make_apk",
    "make_bin",
    "make_jar",
    "make_png",
    "storepush_emulator",
]

TEST_TOKEN = "storepush-test-token-0123456789"  # noqa: S105 - the emulator's test credential
TEST_PACKAGE = "com.example.app"
TEST_API_KEY = "storepush-test-api-key-0123456789"
TEST_USER = "tester"


@pytest_asyncio.fixture
async def storepush_emulator() -> AsyncIterator[Emulator]:
    """A running emulator with the app ``TEST_TOKEN`` -> ``TEST_PACKAGE`` and the user
    ``TEST_API_KEY`` -> ``TEST_USER``; no faults, no quotas, instant review."""
    emu = Emulator(
        apps={TEST_TOKEN: TEST_PACKAGE},
        users={TEST_API_KEY: TEST_USER},
        faults=Faults(),
        quotas=Quotas(),
        review_seconds=0.0,
        bundle_seconds=0.0,
    )
    async with emu:
        yield emu
