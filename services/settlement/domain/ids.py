"""Ids derived from what caused them: uuid5, the same cause always giving the same id. Computed here
from the hash directly (uuid.uuid5 builds the UUID twice over): a backlog derives several per ticket."""

from __future__ import annotations

from hashlib import sha1
from uuid import UUID


def namespace(text: str) -> bytes:
    """A namespace for derived ids, given as a UUID's text."""
    return UUID(text).bytes


def _hashed(namespace: bytes, name: str) -> bytearray:
    digest = bytearray(sha1(namespace + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return digest


def derived_uuid(namespace: bytes, name: str) -> UUID:
    """uuid5(namespace, name)."""
    return UUID(bytes=bytes(_hashed(namespace, name)))


def derived(namespace: bytes, name: str) -> str:
    """str(uuid5(namespace, name))."""
    h = _hashed(namespace, name).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
