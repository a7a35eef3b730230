"""A local emulator of Cafe Bazaar's Pishkhan API and the BlueMind MarketPlace API.

What moto is to AWS: a stateful server on loopback that answers like the services (documented
bodies and messages, one draft per app, streaming ingest with SHA-1, version codes per
architecture, the app-bundle flow), with server quotas and seeded faults on demand, and
`Quirks` for every behaviour the evidence leaves open. Every storepush test, benchmark and the
demo run against it; so can yours:

    async with Emulator(apps={"TOKEN": "com.example.app"}) as emu:
        async with storepush.BazaarClient("TOKEN", base_url=emu.bazaar_url) as bazaar:
            ...

From the shell: `storepush emulator --app TOKEN=com.example.app --user KEY=alice`
(`storepush emulator --help` lists every option). What the emulator does where the stores'
documents are silent is listed, with its source, in the docs page "What we know about the live
stores".
"""

from ._faults import Faults
from ._quirks import Quirks
from ._quotas import Quota, Quotas
from ._server import Emulator, EmulatorThread
from ._state import World

__all__ = ["Emulator", "EmulatorThread", "Faults", "Quirks", "Quota", "Quotas", "World"]
