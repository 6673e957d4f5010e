"""JSON over HTTP to providers (WeCom, the official account, SMS gateways; notify's sends and workflow's
WeCom sign-in): one pooled session per thread, and failures described without the URL (its query holds
an access token or a secret)."""

from __future__ import annotations

import threading
from typing import Any
from collections.abc import Mapping

import requests

_local = threading.local()


class CallFailed(Exception):
    """The provider could not be reached or answered with a server error: worth trying again."""


class Refused(Exception):
    """The provider answered 4xx, or not JSON: the same request will not do better."""


def session() -> requests.Session:
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=4, max_retries=0)
        _local.session.mount("http://", adapter)
        _local.session.mount("https://", adapter)
    return _local.session


def call(
    method: str,
    url: str,
    timeout: float,
    params: Mapping[str, str] | None = None,
    body: Any = None,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    try:
        answer = session().request(method, url, params=params, json=body, data=data, headers=headers, timeout=timeout)
    except requests.Timeout:
        raise CallFailed("timed out") from None
    except requests.RequestException as e:
        raise CallFailed(f"could not connect ({type(e).__name__})") from None
    if answer.status_code >= 500 or answer.status_code == 429:
        raise CallFailed(f"HTTP {answer.status_code}")
    if answer.status_code >= 400:
        raise Refused(f"HTTP {answer.status_code}")
    try:
        found = answer.json()
    except ValueError:
        raise Refused(f"HTTP {answer.status_code}: not JSON") from None
    if not isinstance(found, dict):
        raise Refused("the answer is not a JSON object")
    return found
