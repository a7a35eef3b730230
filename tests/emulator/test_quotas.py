"""Server quotas at three scopes (credential and endpoint, account, BlueMind key) and the 429
counts the admin API shows."""

from __future__ import annotations

import json

import aiohttp
import pytest

from storepush.emulator import Emulator, Quota, Quotas
from storepush.emulator._quotas import ServerQuotas, ThrottleCounts, quota_from_json

from .conftest import BOB_KEY, KEY, OTHER_TOKEN, TOKEN, H


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_account_bucket_is_shared_by_its_tokens() -> None:
    clock = Clock()
    q = ServerQuotas(Quotas(account=Quota(1, 2)), clock)
    assert q.admit("a", "upload", account="agency") is None
    assert q.admit("b", "commit", account="agency") is None  # another app, another endpoint
    throttle = q.admit("c", "create", account="agency")
    assert throttle is not None
    assert (throttle.scope, throttle.wait) == ("account", pytest.approx(1.0))
    assert q.admit("d", "create", account="other") is None
    assert q.admit("e", "create") is None  # an app in no account
    assert q.admit("k", "plugins", marketplace="bluemind", account="agency") is None
    clock.now += 1
    assert q.admit("c", "create", account="agency") is None


def test_key_bucket_across_bluemind_endpoints() -> None:
    q = ServerQuotas(Quotas(key=Quota(0.5, 1)), Clock())
    assert q.admit("k", "plugins", marketplace="bluemind") is None
    throttle = q.admit("k", "plugin_version", marketplace="bluemind")
    assert throttle is not None
    assert (throttle.scope, throttle.wait) == ("key", pytest.approx(2.0))
    assert q.admit("j", "plugins", marketplace="bluemind") is None
    assert q.admit("k", "upload", marketplace="bazaar") is None  # no key quota on Pishkhan


def test_a_refused_call_takes_no_token_from_any_bucket() -> None:
    clock = Clock()
    q = ServerQuotas(Quotas(default=Quota(1, 1), account=Quota(1, 2)), clock)
    assert q.admit("a", "upload", account="x") is None
    refused = q.admit("a", "upload", account="x")  # per-endpoint bucket empty
    assert refused is not None
    assert refused.scope == "endpoint"
    assert q.admit("b", "upload", account="x") is None  # the account still had its token
    both = q.admit("c", "upload", account="x")
    assert both is not None
    assert both.scope == "account"


def test_quotas_json_round_trip() -> None:
    quotas = Quotas(
        default=Quota(5, 5),
        per_endpoint={"bundle-status": Quota(1 / 60, 1)},
        account=Quota(10, 20),
        key=Quota(2, 2),
        retry_after=True,
    )
    again = Quotas.from_json(json.loads(json.dumps(quotas.to_json())))
    assert again == quotas
    assert Quotas.from_json({}) == Quotas()
    for bad in (
        {"nope": 1},
        {"default": 5},
        {"default": {"burst": 1}},
        {"key": {"rate": 0}},
        {"per_endpoint": [1]},
    ):
        with pytest.raises(ValueError, match=r"quota|per_endpoint"):
            Quotas.from_json(bad)
    assert quota_from_json(None) is None
    assert quota_from_json({"rate": 2}) == Quota(2, 1)
    with pytest.raises(ValueError, match="rate > 0"):
        Quota(1, 0)


def test_throttle_counts() -> None:
    counts = ThrottleCounts()
    counts.record(marketplace="bazaar", who="com.a", account="agency", cause="account")
    counts.record(marketplace="bazaar", who="com.a", account=None, cause="endpoint")
    counts.record(marketplace="bluemind", who="alice", account=None, cause="key")
    assert counts.to_json() == {
        "total": 3,
        "apps": {"com.a": 2},
        "users": {"alice": 1},
        "accounts": {"agency": 1},
        "causes": {"account": 1, "endpoint": 1, "key": 1},
    }


async def test_account_and_key_quotas_over_http() -> None:
    clock = Clock()
    emu = Emulator(
        apps={TOKEN: "com.example.one", OTHER_TOKEN: "com.example.two"},
        users={KEY: "alice", BOB_KEY: "bob"},
        accounts={"agency": [TOKEN, OTHER_TOKEN]},
        quotas=Quotas(account=Quota(1, 1), key=Quota(1, 1)),
        clock=clock,
    )
    async with emu, aiohttp.ClientSession() as http:
        url = emu.bazaar_url + "/apps/releases/last-published"
        async with http.get(url, headers={H: TOKEN}) as r:
            assert r.status == 200
        async with http.get(url, headers={H: OTHER_TOKEN}) as r:  # same account: throttled
            assert r.status == 429
            assert await r.json() == {"type": "too_many_requests", "message": "Too many requests"}
        plugins = emu.url + "/addons/api/plugins/"
        for key, status in ((KEY, 200), (KEY, 429), (BOB_KEY, 200)):
            async with http.get(plugins, headers={"api-key": key}) as r:
                assert r.status == status
        async with http.get(emu.url + "/_emulator/quotas") as r:
            report = await r.json()
        assert report["account"] == {"rate": 1.0, "burst": 1}
        assert report["throttled"] == {
            "total": 2,
            "apps": {"com.example.two": 1},
            "users": {"alice": 1},
            "accounts": {"agency": 1},
            "causes": {"account": 1, "key": 1},
        }
        assert TOKEN not in json.dumps(report)
        async with http.put(emu.url + "/_emulator/quotas", json={"key": None}) as r:
            assert r.status == 200
        async with http.get(plugins, headers={"api-key": KEY}) as r:
            assert r.status == 200
        async with http.put(emu.url + "/_emulator/quotas", json={"key": 3}) as r:
            assert r.status == 400


async def test_accounts_through_the_admin_api() -> None:
    async with Emulator(apps={TOKEN: "com.example.one"}) as emu, aiohttp.ClientSession() as http:
        admin = emu.url + "/_emulator/"
        async with http.post(
            admin + "apps", json={"token": OTHER_TOKEN, "package": "com.b", "account": "a1"}
        ) as r:
            assert r.status == 201
        async with http.post(admin + "accounts", json={"name": "a1", "tokens": [TOKEN]}) as r:
            assert r.status == 201
        assert {a.account for a in emu.world.apps.values()} == {"a1"}
        async with http.post(admin + "accounts", json={"name": "a2", "tokens": ["nobody"]}) as r:
            assert r.status == 400
            assert "nobody" not in await r.text()
        async with http.post(admin + "accounts", json={"name": "a2", "tokens": "x"}) as r:
            assert r.status == 400
        async with http.get(admin + "state") as r:
            assert (await r.json())["apps"]["com.b"]["account"] == "a1"
