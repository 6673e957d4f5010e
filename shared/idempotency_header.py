"""The Idempotency-Key header on a write view (see shared/idempotency.py for what a key guarantees):
look the receipt up, answer a request done before again, or make the view's commit carry the receipt."""

from __future__ import annotations

import functools
from typing import Any, Protocol
from collections.abc import Callable
from uuid import UUID

from flask import after_this_request, request

from shared.errors import Conflict, DomainError, Invalid
from shared.identity.guard import caller
from shared.idempotency import HEADER, MAX_LENGTH, REPLAYED, Receipt, Request, fingerprint, pending_request
from shared.restapi import Blueprint


class KeyReused(DomainError):
    status, code = 422, "idempotency_key_reused"


class Receipts(Protocol):
    """Where a service keeps its receipts: its own store (ServiceApplication.find)."""

    def find(self, aggregate_id: UUID, tenant: str, kind: type[Receipt]) -> Receipt | None: ...


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
            token = pending_request.set(asked)
            try:
                return view(*args, **path)
            except Conflict:  # another request with this key may have committed first
                if (done := store.find(asked.receipt_id, asked.tenant, Receipt)) is None:
                    raise
                return _again(done, asked, replay, path)
            finally:
                pending_request.reset(token)

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
