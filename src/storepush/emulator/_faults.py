"""Seeded faults: 5xx with HTML bodies, 429 bursts, dropped uploads, "acted, then failed".

Faults are drawn per credential and endpoint from `(seed, credential, endpoint, n)`, where
`n` counts that credential's calls to that endpoint. The same seed therefore gives every app
the same faults on every run, whatever order concurrent requests arrive in.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FaultDecision", "FaultPlan", "Faults", "html_error", "retry_after_header"]


@dataclass
class Faults:
    """Fault rates (each a probability per request) and latency, from `seed`.

    `error_rate`: a 5xx with an HTML body, before acting. `throttle_rate`: a 429 before
    acting (`retry_after_ratio` of them with a Retry-After header). `drop_rate`: on uploads,
    the connection is closed part-way through the body. `acted_fail_rate`: on calls that change
    state, the change is made and then a 500/502/504 is answered. `latency` and `jitter`
    (seconds) delay every answer. `endpoints`, when set, limits the faults (not the latency)
    to those endpoint names (`"create"`, `"upload"`, `"commit"`, `"plugin_version"`...).
    """

    seed: int = 0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after_ratio: float = 0.5
    drop_rate: float = 0.0
    acted_fail_rate: float = 0.0
    latency: float = 0.0
    jitter: float = 0.0
    endpoints: frozenset[str] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Faults:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        if data.get("endpoints") is not None:
            data = {**data, "endpoints": frozenset(data["endpoints"])}
        return cls(**data)


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one request. `kind` is None, "error", "throttle", "drop" or "acted"."""

    kind: str | None = None
    status: int = 200
    retry_after: bool = False
    delay: float = 0.0


class FaultPlan:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._counts: dict[tuple[str, str], int] = {}

    def decide(
        self, credential: str, endpoint: str, *, mutating: bool, upload: bool
    ) -> FaultDecision:
        f = self.faults
        n = self._counts.get((credential, endpoint), 0)
        self._counts[(credential, endpoint)] = n + 1
        key = f"{f.seed}:{credential}:{endpoint}:{n}".encode()
        rng = random.Random(hashlib.sha256(key).digest())
        delay = max(0.0, f.latency + (rng.uniform(-f.jitter, f.jitter) if f.jitter else 0.0))
        if f.endpoints is not None and endpoint not in f.endpoints:
            return FaultDecision(delay=delay)
        draws = [rng.random() for _ in range(5)]
        if draws[0] < f.throttle_rate:
            return FaultDecision("throttle", 429, draws[4] < f.retry_after_ratio, delay)
        if draws[1] < f.error_rate:
            return FaultDecision("error", rng.choice((500, 502, 503, 504)), delay=delay)
        if upload and draws[2] < f.drop_rate:
            return FaultDecision("drop", 0, delay=delay)
        if mutating and draws[3] < f.acted_fail_rate:
            return FaultDecision("acted", rng.choice((500, 502, 504)), delay=delay)
        return FaultDecision(delay=delay)


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


HTML_ERRORS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def html_error(status: int) -> str:
    title = f"{status} {HTML_ERRORS.get(status, 'Error')}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
