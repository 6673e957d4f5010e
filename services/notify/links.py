"""The link every message carries: a staff link to the ticket, or the customer's own progress link.
A customer's link holds a token (an HMAC of the tenant and ticket under the configured key), so that
a progress page can tell a link notify made from a guessed ticket id. No I/O."""

from __future__ import annotations

import hashlib
import hmac
from base64 import urlsafe_b64encode
from uuid import UUID


def token(key: str, tenant: str, ticket_id: UUID) -> str:
    digest = hmac.new(key.encode(), f"{tenant}/{ticket_id}".encode(), hashlib.sha256).digest()
    return urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def link(pattern: str, key: str, tenant: str, ticket_id: UUID, number: str) -> str:
    return pattern.format(tenant=tenant, ticket_id=ticket_id, number=number, token=token(key, tenant, ticket_id))
