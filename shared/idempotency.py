"""Idempotency-Key (IETF draft-ietf-httpapi-idempotency-key-header): a client that sends a write again
after a timeout, not knowing whether the first one arrived, must not record it twice (two parts
consumed where one was).

The first request with a key records a `Receipt` (tenant, caller, key and a fingerprint of what was
asked) in the same commit as the change it made: the service's `save` adds it (see `pending`), so a
crash leaves both or neither. A request whose receipt exists did its work already: the same key
with the same body is answered with the resource as it is now and `Idempotent-Replayed: true`; the
same key with another body is a 422. Of two concurrent requests with one key, one commits and the
other's commit fails on the receipt's id (or the resource's version): it is answered as a replay.

Keys belong to the caller (a staff member or an API key) within a tenant, and are kept for good:
a key is meant to be a fresh UUID per intended action.
"""

from __future__ import annotations

import functools
import hashlib
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable
from uuid import NAMESPACE_URL, UUID, uuid5

import orjson
from eventsourcing.domain import Aggregate, event
from flask import after_this_request, request

from shared.errors import Conflict, DomainError, Invalid
from shared.identity.guard import caller
from shared.restapi import Blueprint

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_LENGTH = 255
_IDS = uuid5(NAMESPACE_URL, "urn:scrm:idempotency-key")


@dataclass(frozen=True)
class Request:
    """A write made with a key: who asked, what for, and a digest of what they sent."""

    tenant: str
    caller: str
    key: str
    fingerprint: str

    @property
    def receipt_id(self) -> UUID:
        return Receipt.create_id(self.tenant, self.caller, self.key)

    def receipt(self) -> Receipt:
        return Receipt(tenant=self.tenant, caller=self.caller, key=self.key, fingerprint=self.fingerprint)


def fingerprint(method: str, path: str, body: object) -> str:
    """The same request gives the same digest whatever its keys' order."""
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(f"{method} {path}\n".encode() + canonical).hexdigest()


class Receipt(Aggregate):
    """That the request with this key was done."""

    @staticmethod
    def create_id(tenant: str, caller: str, key: str, fingerprint: str = "") -> UUID:
        return uuid5(_IDS, f"{tenant}\x1f{caller}\x1f{key}")

    @event("Issued")
    def __init__(self, tenant: str, caller: str, key: str, fingerprint: str):
        self.tenant, self.caller, self.key, self.fingerprint = tenant, caller, key, fingerprint


_pending: ContextVar[Request | None] = ContextVar("idempotent_request", default=None)


def pending() -> list[Receipt]:
    """The receipt to commit with the change being saved, if this request carries a key: a new
    instance each time, so a save retried after a conflict records it again."""
    request = _pending.get()
    return [request.receipt()] if request is not None else []


def saved() -> None:
    """The receipt is committed: later saves of this request (there are rarely any) add no other."""
    _pending.set(None)


class KeyReused(DomainError):
    status, code = 422, "idempotency_key_reused"


class Receipts:
    """Where a service keeps its receipts: its own store (`find` as ServiceApplication has it)."""

    find: Callable[..., Any]


def idempotent(store: Receipts, replay: Callable[..., Any]) -> Callable[[Callable], Callable]:
    """A write view that honours Idempotency-Key. `replay(**path)` answers a request done before: the
    resource as it is now, dumped by the view's own response schema."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def honouring(*args: Any, **path: Any) -> Any:
            key = request.headers.get(HEADER)
            if key is None:
                return view(*args, **path)
            asked = _asked(key, path["tenant"])
            if (done := store.find(asked.receipt_id, asked.tenant, Receipt)) is not None:
                return _again(done, asked, replay, path)
            token = _pending.set(asked)
            try:
                return view(*args, **path)
            except Conflict:  # another request with this key may have committed first
                if (done := store.find(asked.receipt_id, asked.tenant, Receipt)) is None:
                    raise
                return _again(done, asked, replay, path)
            finally:
                _pending.reset(token)

        return _documented(honouring)

    return decorator


def _asked(key: str, tenant: str) -> Request:
    if not 0 < len(key) <= MAX_LENGTH or not key.isprintable():
        raise Invalid(f"{HEADER} must be 1 to {MAX_LENGTH} printable characters, e.g. a fresh UUID", header=HEADER)
    body = request.get_json(silent=True) if request.content_length else None
    return Request(tenant, caller().subject, key, fingerprint(request.method, request.path, body))


def _again(done: Receipt, asked: Request, replay: Callable[..., Any], path: dict[str, Any]) -> Any:
    if done.fingerprint != asked.fingerprint:
        raise KeyReused(f"this {HEADER} was used for another request; send a new key for a new request", header=HEADER)

    @after_this_request
    def mark(response):
        response.headers[REPLAYED] = "true"
        return response

    return replay(**path)


def _documented(view: Callable) -> Callable:
    parameter = {
        "in": "header",
        "name": HEADER,
        "required": False,
        "schema": {"type": "string", "maxLength": MAX_LENGTH},
        "description": "A fresh UUID per intended action: sent again (after a timeout), the action is not "
        f"done twice; the answer is the resource as it is now, with `{REPLAYED}: true`",
    }
    documented = Blueprint.doc(parameters=[parameter])(view)
    return Blueprint.refuses({422: f"The {HEADER} was used for another request"})(documented)
