"""Quotas and seeded faults: documented bodies, Retry-After on demand, repeatable from a seed."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from storepush._samples import make_apk
from storepush.emulator import Emulator, Faults, Quota, Quotas
from storepush.emulator._faults import FaultPlan
from storepush.emulator._quotas import ServerQuotas

from .conftest import TOKEN, H, apk_form


def test_fault_plan_is_repeatable_per_credential_and_endpoint() -> None:
    faults = Faults(seed=7, error_rate=0.2, throttle_rate=0.15, drop_rate=0.05, acted_fail_rate=0.1)
    one, two = FaultPlan(faults), FaultPlan(faults)
    a = [one.decide("app1", "upload", mutating=True, upload=True).kind for _ in range(200)]
    # interleave other credentials on the second plan: app1's faults do not change
    b = []
    for _ in range(200):
        two.decide("app2", "upload", mutating=True, upload=True)
        b.append(two.decide("app1", "upload", mutating=True, upload=True).kind)
    assert a == b
    kinds = set(a)
    assert {"throttle", "error", "drop", "acted", None} <= kinds
    other_seed = FaultPlan(Faults(seed=8, error_rate=0.2, throttle_rate=0.15))
    c = [other_seed.decide("app1", "upload", mutating=True, upload=True).kind for _ in range(200)]
    assert c != a


def test_fault_rates_are_roughly_honoured() -> None:
    plan = FaultPlan(Faults(seed=1, error_rate=0.2))
    kinds = [plan.decide(f"a{i}", "create", mutating=True, upload=False).kind for i in range(2000)]
    assert 0.16 < kinds.count("error") / 2000 < 0.24
    plan = FaultPlan(Faults(seed=1, drop_rate=1.0, acted_fail_rate=1.0))
    assert plan.decide("a", "last-published", mutating=False, upload=False).kind is None


def test_from_json_rejects_unknown_keys() -> None:
    assert Faults.from_json({"seed": 3}).seed == 3
    with pytest.raises(ValueError, match="unknown"):
        Faults.from_json({"sed": 3})


def test_server_quota_bucket() -> None:
    now = [0.0]
    quotas = ServerQuotas(Quotas(default=Quota(2, 2)), lambda: now[0])
    assert quotas.admit("a", "upload") is None
    assert quotas.admit("a", "upload") is None
    throttle = quotas.admit("a", "upload")
    assert throttle is not None
    assert (throttle.wait, throttle.scope) == (pytest.approx(0.5), "endpoint")
    assert quotas.admit("b", "upload") is None  # per credential
    now[0] += 0.5
    assert quotas.admit("a", "upload") is None
    assert ServerQuotas(Quotas(), lambda: 0.0).admit("a", "x") is None


@pytest.mark.parametrize("retry_after", [False, True])
async def test_quota_answers_documented_429(retry_after: bool) -> None:
    quotas = Quotas(per_endpoint={"last-published": Quota(1, 1)}, retry_after=retry_after)
    async with (
        Emulator(apps={TOKEN: "com.example.one"}, quotas=quotas) as emu,
        aiohttp.ClientSession() as http,
    ):
        url = emu.bazaar_url + "/apps/releases/last-published"
        async with http.get(url, headers={H: TOKEN}) as r:
            assert r.status == 200
        async with http.get(url, headers={H: TOKEN}) as r:
            assert r.status == 429
            assert await r.json() == {"type": "too_many_requests", "message": "Too many requests"}
            assert ("Retry-After" in r.headers) is retry_after
        async with http.get(
            emu.bazaar_url + "/apps/releases/last-committed", headers={H: TOKEN}
        ) as r:
            assert r.status == 200  # other endpoints are not limited
        assert emu.counts(status=429) == 1


async def test_faults_on_the_wire(tmp_path: Path) -> None:
    apk = make_apk(tmp_path / "a.apk", package="com.example.one", version_code=2, size=2_000_000)
    faults = Faults(seed=3, acted_fail_rate=1.0)
    async with (
        Emulator(apps={TOKEN: "com.example.one"}, faults=faults) as emu,
        aiohttp.ClientSession() as http,
    ):
        base = emu.bazaar_url + "/apps/releases"
        async with http.post(base + "/", headers={H: TOKEN}) as r:
            assert r.status in (500, 502, 504)
            assert "<html>" in await r.text()
        # ... and yet it acted: the draft exists
        assert emu.world.apps[TOKEN].draft is not None
        async with http.post(base + "/upload/", headers={H: TOKEN}, data=apk_form(apk)) as r:
            assert r.status >= 500
        assert len(emu.world.apps[TOKEN].draft.packages) == 1  # type: ignore[union-attr]
        emu.set_faults(Faults(seed=3, drop_rate=1.0))
        with pytest.raises(aiohttp.ClientError):
            async with http.post(base + "/upload/", headers={H: TOKEN}, data=apk_form(apk)) as r:
                await r.read()
        assert len(emu.world.apps[TOKEN].draft.packages) == 1  # type: ignore[union-attr]
        emu.set_faults(Faults(seed=3, error_rate=1.0))
        async with http.get(base + "/last-uncommitted", headers={H: TOKEN}) as r:
            assert r.status in (500, 502, 503, 504)
            assert r.content_type == "text/html"
        emu.set_faults(Faults(seed=3, throttle_rate=1.0, retry_after_ratio=1.0))
        async with http.get(base + "/last-uncommitted", headers={H: TOKEN}) as r:
            assert r.status == 429
            assert r.headers["Retry-After"] == "1"
        assert {e["fault"] for e in emu.log} == {"acted", "drop", "error", "throttle"}


async def test_admin_configures_faults_and_quotas() -> None:
    async with Emulator(apps={TOKEN: "com.example.one"}) as emu, aiohttp.ClientSession() as http:
        async with http.put(
            emu.url + "/_emulator/faults", json={"seed": 5, "error_rate": 0.5}
        ) as r:
            assert r.status == 200
        assert emu.faults.error_rate == 0.5
        async with http.put(emu.url + "/_emulator/faults", json={"bogus": 1}) as r:
            assert r.status == 400
        body = {
            "default": {"rate": 3, "burst": 2},
            "per_endpoint": {"upload": {"rate": 1}},
            "retry_after": True,
        }
        async with http.put(emu.url + "/_emulator/quotas", json=body) as r:
            assert r.status == 200
        assert emu.quotas.for_endpoint("upload") == Quota(1.0, 1)
        assert emu.quotas.for_endpoint("commit") == Quota(3.0, 2)
        async with http.put(emu.url + "/_emulator/quotas", json={"default": 5}) as r:
            assert r.status == 400
        async with http.post(
            emu.url + "/_emulator/apps", json={"token": "t2", "package": "p.two"}
        ) as r:
            assert r.status == 201
        async with http.post(
            emu.url + "/_emulator/users", json={"key": "k2", "name": "carol"}
        ) as r:
            assert r.status == 201
        assert emu.world.apps["t2"].package_name == "p.two"
        assert emu.world.users["k2"].name == "carol"
        async with http.post(emu.url + "/_emulator/bazaar/nope/publish") as r:
            assert r.status == 404
