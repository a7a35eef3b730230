"""The one reader of the MarketPlace's answers, which have no documented schema.

| answer | on a GET | on a POST |
|---|---|---|
| JSON | the document | the document |
| empty | `DecodeError`: a read must say something | `None`: a success that says nothing |
| not JSON | `DecodeError` | `None` (logged): the documents allow a non-JSON success |

A plugin list may be a JSON list or an object holding one (`plugins`, `results`, `items`,
`data`); anything else is a `DecodeError` — a bad answer from the server, never a
`ValidationError` (which means bad input from the user).
"""

from __future__ import annotations

from typing import Any

import msgspec

from .._decode import convert, decode
from .._errors import DecodeError, excerpt
from .._http import Response
from .._scrub import get_logger
from ._models import Plugin

__all__ = ["plugin_list", "read_json", "to_plugin"]

log = get_logger("storepush.bluemind")

_LIST_KEYS = ("plugins", "results", "items", "data")


def read_json(response: Response) -> Any:
    """The decoded body (see the module's table for empty and non-JSON bodies)."""
    if response.method != "GET" and not response.body.strip():
        return None
    if response.method != "GET":
        try:
            return msgspec.json.decode(response.body)
        except msgspec.DecodeError:
            log.info("%s answered %d with a body that is not JSON", response.url, response.status)
            return None
    return decode(
        response.body, object, status=response.status, method=response.method, url=response.url
    )


def to_plugin(data: Any, response: Response) -> Plugin:
    """A `Plugin` from one decoded document of `response` (its `raw` keeps every field)."""
    plugin = convert(
        data,
        Plugin,
        body=response.body,
        status=response.status,
        method=response.method,
        url=response.url,
    )
    if isinstance(data, dict):
        plugin.raw = data
    return plugin


def plugin_list(data: Any, response: Response) -> list[Plugin]:
    """The plugins of a list answer."""
    items: Any = data
    if isinstance(data, dict):
        items = next((data[k] for k in _LIST_KEYS if isinstance(data.get(k), list)), None)
    if not isinstance(items, list):
        raise DecodeError(
            "the plugin list is neither a list nor an object holding one",
            status=response.status,
            method=response.method,
            url=response.url,
            body_excerpt=excerpt(response.body),
        )
    return [to_plugin(item, response) for item in items]
