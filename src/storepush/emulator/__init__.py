"""A local emulator of Cafe Bazaar's Pishkhan API and the BlueMind MarketPlace API.

What moto is to AWS: a stateful server on loopback that answers like the services (documented
bodies and messages, one draft per app, streaming ingest with SHA-1, version-code rules), with
server quotas and seeded faults on demand. Every storepush test, benchmark and the demo run
against it; so can yours::

    async with Emulator(apps={"TOKEN": "com.example.app"}) as emu:
        async with storepush.BazaarClient("TOKEN", base_url=emu.bazaar_url) as bazaar:
            ...

From the shell: ``python -m storepush.emulator --app TOKEN=com.example.app --user KEY=alice``.
The plugin JSON schema and BlueMind's error bodies are assumptions (see ``_state.py``).
"""

from ._faults import Faults, Quota, Quotas
from ._server import Emulator, EmulatorThread
from ._state import World

__all__ = ["Emulator", "EmulatorThread", "Faults", "Quota", "Quotas", "World"]
