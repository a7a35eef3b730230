"""Proxy decisions as tables: parsing a proxy URL, NO_PROXY, which proxy a request takes, what
the environment says; credentials held as secrets. (Real traffic: reliability/test_proxy.py.)"""

from __future__ import annotations

import base64

import pytest
from yarl import URL

from storepush import BazaarClient, Session, ValidationError
from storepush._proxy import (
    Proxy,
    ProxyRoutes,
    _from_environment,
    ambient_proxy,
    bypasses,
    choose_proxy,
    parse_proxy,
    proxy_routes,
)
from storepush._scrub import scrub
from storepush._secrets import Secret


@pytest.mark.parametrize(
    ("given", "url", "display"),
    [
        ("http://proxy.example:3128", "http://proxy.example:3128", "http://proxy.example:3128"),
        ("proxy.example:3128", "http://proxy.example:3128", "http://proxy.example:3128"),
        ("http://proxy.example", "http://proxy.example:80", "http://proxy.example:80"),
        ("https://proxy.example", "https://proxy.example:443", "https://proxy.example:443"),
        ("HTTP://Proxy.Example:8080/", "http://proxy.example:8080", "http://proxy.example:8080"),
        ("  http://10.1.2.3:3128\n", "http://10.1.2.3:3128", "http://10.1.2.3:3128"),
        ("http://[::1]:3128", "http://[::1]:3128", "http://[::1]:3128"),
        ("http://user:pw-123456@h:1", "http://h:1", "http://***@h:1"),
        ("http://user@h:1", "http://h:1", "http://***@h:1"),
    ],
)
def test_parse_proxy(given: str, url: str, display: str) -> None:
    proxy = parse_proxy(given)
    assert (proxy.url, proxy.display, repr(proxy)) == (url, display, f"Proxy({display!r})")


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("socks5://u:hunter2-secret@h:1080", "socks5:// proxies are not supported"),
        ("ftp://h:21", "ftp:// proxies are not supported"),
        ("http://u:hunter2-secret@h:1/path", "has a path, query or fragment"),
        ("http://h:1/?x=1", "has a path, query or fragment"),
        ("http://u:hunter2-secret@h:99999", "is not a URL"),
        ("http://u:hunter2-secret@:1", "is not a URL"),
        ("http://", "has no host"),
        ("http:///", "has no host"),
    ],
)
def test_bad_proxy_urls(given: str, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_proxy(given, field="HTTPS_PROXY")
    assert caught.value.field == "HTTPS_PROXY"
    assert problem in str(caught.value)
    assert "hunter2" not in str(caught.value)  # the URL may hold a password: never repeated


@pytest.mark.parametrize(
    ("given", "user", "password"),
    [
        ("http://user:pw-123456@h:1", "user", "pw-123456"),
        ("http://us%40er:p%3Aw%2F-123456@h:1", "us@er", "p:w/-123456"),
        ("http://user:pa%20ss-word@h:1", "user", "pa ss-word"),
        ("http://us%C3%A9r:p%C3%A4ss-word@h:1", "usér", "päss-word"),
        ("http://user@h:1", "user", ""),
    ],
)
def test_the_authorization_header_and_its_secrets(given: str, user: str, password: str) -> None:
    proxy = parse_proxy(given)
    header = proxy.authorization()["Proxy-Authorization"]
    assert header == "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    text = f"proxy {given} sent {header}; password {password or 'none'}; {proxy!r}"
    cleaned = scrub(text)
    assert header.split()[1].rstrip("=") not in cleaned
    if password:
        assert password not in cleaned
        assert given.split("@")[0].split("//")[1] not in cleaned  # the raw user:password


def test_a_proxy_given_as_a_secret() -> None:
    proxy = parse_proxy(Secret("http://user:pw-98765432@h:1", field="proxy"))
    assert proxy.display == "http://***@h:1"
    assert "pw-98765432" not in scrub("pw-98765432")


def test_no_credentials_no_header() -> None:
    assert parse_proxy("http://h:1").authorization() == {}


@pytest.mark.parametrize(
    ("host", "no_proxy", "bypass"),
    [
        ("api.example.com", "*", True),
        ("api.example.com", "example.com", True),
        ("api.example.com", ".example.com", True),
        ("api.example.com", "*.example.com", True),
        ("example.com", ".example.com", True),
        ("API.Example.COM.", "example.com", True),
        ("badexample.com", "example.com", False),
        ("example.com.evil", "example.com", False),
        ("api.example.com", "other.org, example.com", True),
        ("api.example.com", "example.com:443", True),
        ("127.0.0.1", "127.0.0.1", True),
        ("127.0.0.1", "localhost,127.0.0.0/8", True),
        ("10.9.8.7", "10.0.0.0/8", True),
        ("11.0.0.1", "10.0.0.0/8", False),
        ("localhost", "127.0.0.0/8", False),
        ("::1", "::1", True),
        ("::1", "[::1]:8080", True),
        ("::1", "::/0", True),
        ("api.example.com", "", False),
        ("api.example.com", " , ,", False),
        ("api.example.com", "not/a-network", False),
        ("api.example.com", "*,", True),
    ],
)
def test_bypasses(host: str, no_proxy: str, bypass: bool) -> None:
    assert bypasses(host, no_proxy) is bypass


NAMED = parse_proxy("http://named:1")
HTTP = parse_proxy("http://for-http:1")
HTTPS = parse_proxy("http://for-https:1")
BOTH = {"http": HTTP, "https": HTTPS}


@pytest.mark.parametrize(
    ("scheme", "host", "explicit", "by_scheme", "no_proxy", "chosen"),
    [
        ("https", "api.example", NAMED, BOTH, "*", NAMED),  # a named proxy carries everything
        ("https", "api.example", None, BOTH, None, HTTPS),
        ("http", "api.example", None, BOTH, None, HTTP),
        ("HTTP", "api.example", None, BOTH, None, HTTP),
        ("https", "api.example", None, {"http": HTTP}, None, None),
        ("https", "api.example", None, BOTH, "api.example", None),
        ("https", "api.example", None, BOTH, "other.example", HTTPS),
        ("https", "api.example", None, {}, None, None),
    ],
)
def test_choose_proxy(
    scheme: str,
    host: str,
    explicit: Proxy | None,
    by_scheme: dict[str, Proxy],
    no_proxy: str | None,
    chosen: Proxy | None,
) -> None:
    assert (
        choose_proxy(scheme, host, explicit=explicit, by_scheme=by_scheme, no_proxy=no_proxy)
        is chosen
    )


@pytest.mark.parametrize(
    ("environ", "found"),
    [
        ({}, {}),
        ({"HTTPS_PROXY": "http://a:1"}, {"https": ("HTTPS_PROXY", "http://a:1")}),
        (
            {"HTTPS_PROXY": "http://a:1", "https_proxy": "http://b:1"},
            {"https": ("https_proxy", "http://b:1")},
        ),
        ({"HTTPS_PROXY": "http://a:1", "https_proxy": ""}, {}),  # an empty lower-case unsets
        ({"HTTPS_PROXY": ""}, {}),
        ({"HTTP_PROXY": "http://a:1", "REQUEST_METHOD": "GET"}, {}),  # httpoxy
        (
            {"http_proxy": "http://a:1", "REQUEST_METHOD": "GET"},
            {"http": ("http_proxy", "http://a:1")},
        ),
        (
            {"ALL_PROXY": "http://a:1", "NO_PROXY": "x", "PATH": "/bin"},
            {"all": ("ALL_PROXY", "http://a:1"), "no": ("NO_PROXY", "x")},
        ),
    ],
)
def test_from_environment(environ: dict[str, str], found: dict[str, tuple[str, str]]) -> None:
    assert _from_environment(environ) == found


def test_routes_from_the_environment() -> None:
    routes = proxy_routes(
        None, {"ALL_PROXY": "http://all:1", "https_proxy": "http://tls:1", "NO_PROXY": "skip.me"}
    )
    assert {k: v.url for k, v in routes.by_scheme.items()} == {
        "http": "http://all:1",
        "https": "http://tls:1",
    }
    assert routes.explicit is None
    assert routes.for_url(URL("https://api.example/x")) is routes.by_scheme["https"]
    assert routes.for_url(URL("https://skip.me/x")) is None


def test_a_bad_variable_is_named_in_the_error() -> None:
    with pytest.raises(ValidationError) as caught:
        proxy_routes(None, {"https_proxy": "socks5://h:1"})
    assert caught.value.field == "https_proxy"


def test_a_named_proxy_does_not_read_the_environment() -> None:
    routes = proxy_routes("http://named:1", {"HTTPS_PROXY": "socks5://unusable:1"})
    assert routes.explicit is not None
    assert routes.explicit.url == "http://named:1"


def test_the_command_lines_proxy_applies_inside_only() -> None:
    with ambient_proxy("http://from-cli:1"):
        inside = proxy_routes(None, {"HTTPS_PROXY": "http://env:1"})
        given = proxy_routes("http://given:1", {})
    outside = proxy_routes(None, {})
    assert inside.explicit is not None
    assert inside.explicit.url == "http://from-cli:1"
    assert given.explicit is not None
    assert given.explicit.url == "http://given:1"
    assert outside.explicit is None
    assert outside.by_scheme == {}


@pytest.mark.parametrize(
    ("url", "proxy", "proxy_headers", "added"),
    [
        ("http://api.example/v1", "http://h:1", None, True),  # plain HTTP carries it itself
        ("https://api.example/v1", "http://h:1", "auth", False),  # on the CONNECT only
        ("https://skip.me/v1", None, None, False),
    ],
)
def test_apply(url: str, proxy: str | None, proxy_headers: str | None, added: bool) -> None:
    routes = ProxyRoutes(by_scheme={"http": parse_proxy("http://u:pw-5555@h:1"),
                                    "https": parse_proxy("http://u:pw-5555@h:1")},
                         no_proxy="skip.me")  # fmt: skip
    headers = {"Accept": "application/json"}
    got_proxy, got_headers = routes.apply(url, headers)
    assert got_proxy == proxy
    assert ("Proxy-Authorization" in headers) is added
    if proxy_headers is None:
        assert got_headers is None
    else:
        assert got_headers is not None
        assert set(got_headers) == {"Proxy-Authorization"}


def test_apply_without_credentials_sends_no_header() -> None:
    headers: dict[str, str] = {}
    assert ProxyRoutes(explicit=parse_proxy("h:1")).apply("https://a/", headers) == (
        "http://h:1",
        None,
    )
    assert headers == {}


def test_proxy_with_a_transport_of_your_own_is_refused() -> None:
    class Dummy:
        async def send(self, request: object) -> object:
            raise NotImplementedError

        async def aclose(self) -> None:
            return None

    with pytest.raises(ValueError, match="proxy="):
        Session(transport=Dummy(), proxy="http://h:1")  # type: ignore[arg-type]


async def test_proxy_with_a_shared_session_is_refused() -> None:
    async with Session() as session:
        with pytest.raises(ValueError, match="proxy="):
            BazaarClient("token-0123456789", session=session, proxy="http://h:1")


def test_bad_proxy_is_a_validation_error_before_any_request() -> None:
    with pytest.raises(ValidationError, match="proxy"):
        BazaarClient("token-0123456789", proxy="socks5://h:1")
