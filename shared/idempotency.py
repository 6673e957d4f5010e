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
a key is meant to be a fresh UUID per intended action. This module is the store's side, which every
service's `save` uses, HTTP or not; the header's side is shared/idempotency_header.py.
"""

from __future__ import annotations

import hashlib
from contextvars import ContextVar
from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

import orjson
from eventsourcing.domain import Aggregate, event

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
    def create_id(tenant: str, caller: str, key: str, fingerprint: str = "") -> UUID:  # __init__'s arguments
        return uuid5(_IDS, f"{tenant}\x1f{caller}\x1f{key}")

    @event("Issued")
    def __init__(self, tenant: str, caller: str, key: str, fingerprint: str):
        self.tenant, self.caller, self.key, self.fingerprint = tenant, caller, key, fingerprint


pending_request: ContextVar[Request | None] = ContextVar("idempotent_request", default=None)


def pending() -> list[Receipt]:
    """The receipt to commit with the change being saved, if this request carries a key: a new
    instance each time, so a save retried after a conflict records it again."""
    request = pending_request.get()
    return [request.receipt()] if request is not None else []


def saved() -> None:
    """The receipt is committed: later saves of this request (there are rarely any) add no other."""
    pending_request.set(None)
