"""JSON over HTTP to providers (WeCom, the official account, SMS gateways; notify's sends and workflow's
WeCom sign-in): pooled connections, the environment's proxies, and failures described without the URL
(its query holds an access token or a secret).

On urllib3 directly: requests (on top of the same urllib3) cost ~1 ms more of the caller's CPU per
call, re-reading the environment's proxies and ~/.netrc each time; that was ~a third of notify's
sender. The proxies are read once per provider host instead, as requests would read them
(`HTTPS_PROXY`, `NO_PROXY`, ...)."""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from typing import Any
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit
from urllib.request import getproxies, proxy_bypass

import certifi
import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, TimeoutError as CallTimedOut

POOLS_PER_HOST = 4  # connections a thread keeps open to one provider host
_local = threading.local()  # each thread its own pools, as each sender thread had its own session


class CallFailed(Exception):
    """The provider could not be reached or answered with a server error: worth trying again."""


class Refused(Exception):
    """The provider answered 4xx, or not JSON: the same request will not do better."""


@lru_cache(maxsize=64)
def _proxy(scheme: str, host: str) -> str | None:
    """The proxy the environment names for the host, if any."""
    return None if proxy_bypass(host) else getproxies().get(scheme)


def _pools(scheme: str, host: str) -> urllib3.PoolManager:
    managers = _local.__dict__.setdefault("managers", {})
    key = (scheme, host)
    if key not in managers:
        proxy = _proxy(scheme, host)
        # Verified against certifi's CA bundle, as requests did: a slim image may have no system store.
        options = {"maxsize": POOLS_PER_HOST, "retries": False, "ca_certs": certifi.where()}
        managers[key] = urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)
    return managers[key]


def call(
    method: str,
    url: str,
    timeout: float,
    params: Mapping[str, str] | None = None,
    body: Any = None,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    sent = dict(headers or {})
    if body is not None:
        data = json.dumps(body, allow_nan=False).encode()  # as requests wrote `json=`
        sent.setdefault("Content-Type", "application/json")
    if params:
        url = f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"
    parts = urlsplit(url)
    try:
        answer = _pools(parts.scheme, parts.hostname or "").request(
            method, url, body=data, headers=sent, timeout=timeout
        )
    except NewConnectionError:  # a subclass of the timeout error, but not one
        raise CallFailed("could not connect (NewConnectionError)") from None
    except CallTimedOut:
        raise CallFailed("timed out") from None
    except HTTPError as e:
        raise CallFailed(f"could not connect ({type(e).__name__})") from None
    if answer.status >= 500 or answer.status == 429:
        raise CallFailed(f"HTTP {answer.status}")
    if answer.status >= 400:
        raise Refused(f"HTTP {answer.status}")
    try:
        found = json.loads(answer.data)
    except ValueError:
        raise Refused(f"HTTP {answer.status}: not JSON") from None
    if not isinstance(found, dict):
        raise Refused("the answer is not a JSON object")
    return found
