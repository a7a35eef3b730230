"""Decoding a release answer: msgspec into storepush's public `Release` model, against
`json.loads` + dataclasses (no validation) and pydantic v2 (validated), 5 rounds each.

The msgspec contender decodes the documented envelope (`type`, `message`, `release`) into
`storepush.bazaar.Release`, the model the client returns, with msgspec's validation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec
from harness import Notes, Spread
from report import Target

from storepush.bazaar import Release

NAME = "decoding"
TITLE = "Decoding answers"
ROUNDS = 5
DECODES = 20_000
REFERENCE = "msgspec into storepush's Release (validated)"

PACKAGE = {
    "apk_size": 1227887,
    "sha1_hash": "5920f830cc5867d6f7304d70383f1337dab0822e",
    "version_code": 1,
    "version_name": "1.0",
    "api_level": 25,
    "target_api_level": 27,
    "upload_date": "2021-07-18",
    "cpu_architectures": "",
    "dpi": 1,
    "locale": "en",
    "additional_files": [],
}
BODY = json.dumps(
    {
        "type": "success",
        "message": "Last committed release successfully retrived.",
        "release": {
            "creation_date": "2021-07-18T16:24:20.868758",
            "packages": [PACKAGE, PACKAGE],
            "auto_publish": False,
            "staged_rollout_percentage": 10,
            "changelog_fa": None,
            "changelog_en": "cool new things added",
        },
    }
).encode()


@dataclass(frozen=True)
class DecodingBench:
    rates: dict[str, Spread]  #: decodes per second
    size: int
    notes: list[str]

    title = TITLE

    def targets(self) -> list[Target]:
        ref = self.rates[REFERENCE].median
        others = ", ".join(
            f"{k} {v.median / ref:.2f}×" for k, v in self.rates.items() if k != REFERENCE
        )
        return [Target("decoding a release answer, others ÷ msgspec", "", others, None)]

    def markdown(self) -> str:
        ref = self.rates[REFERENCE].median
        rows = "\n".join(
            f"| {name} | {Spread.of([r / 1000 for r in v.values]).show()} | {v.median / ref:.2f}× |"
            for name, v in self.rates.items()
        )
        notes = "".join(f"\n{n}\n" for n in self.notes)
        return f"""A {self.size}-byte release answer (two packages), decoded {DECODES:,} times per round.

| decoder | thousand decodes/s | vs msgspec |
|---|---|---|
{rows}
{notes}"""


class Envelope(msgspec.Struct):
    """Pishkhan's documented envelope around storepush's public `Release` model."""

    type: str
    message: str | None = None
    release: Release | None = None


def contenders(notes: Notes) -> dict[str, Callable[[], object]]:
    @dataclass
    class DPackage:
        apk_size: int
        sha1_hash: str
        version_code: int
        version_name: str

    @dataclass
    class DRelease:
        creation_date: str
        packages: list[DPackage]

    def with_dataclasses() -> object:
        data = json.loads(BODY)["release"]
        return DRelease(
            data["creation_date"],
            [
                DPackage(p["apk_size"], p["sha1_hash"], p["version_code"], p["version_name"])
                for p in data["packages"]
            ],
        )

    decoder = msgspec.json.Decoder(Envelope)
    found: dict[str, Callable[[], object]] = {
        REFERENCE: lambda: decoder.decode(BODY),
        "json.loads + dataclasses (no validation)": with_dataclasses,
    }
    try:
        import pydantic
    except ImportError:
        notes.add("pydantic is not installed: no pydantic figure.")
        return found

    class PPackage(pydantic.BaseModel):
        apk_size: int
        sha1_hash: str
        version_code: int | None = None
        version_name: str | None = None

    class PRelease(pydantic.BaseModel):
        creation_date: str | None = None
        packages: list[PPackage] = []

    class PEnvelope(pydantic.BaseModel):
        type: str
        release: PRelease

    found["pydantic v2 (validated)"] = lambda: PEnvelope.model_validate_json(BODY)
    return found


def run(ctx: object) -> DecodingBench:
    notes = Notes()
    fns = contenders(notes)
    rates: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(ROUNDS):
        for name, fn in fns.items():
            started = time.perf_counter()
            for _ in range(DECODES):
                fn()
            rates[name].append(DECODES / (time.perf_counter() - started))
    return DecodingBench({k: Spread.of(v) for k, v in rates.items()}, len(BODY), notes.lines)
