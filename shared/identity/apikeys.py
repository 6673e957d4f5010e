"""A tenant's API keys: how they look and how one is checked. No I/O here.

A key is shown once, when it is issued; stores keep only its SHA-256 (a random 256-bit secret
needs no slow hash), so a copy of a store does not let anyone call the API. The key names its id
(`scrm_<id>_<secret>`), so checking one is one constant-time comparison with that key's digest.
"""

from __future__ import annotations

import hmac
import secrets
from hashlib import sha256

PREFIX = "scrm"
MAX_LENGTH = 200
_NOBODY = sha256(b"no such key").hexdigest()  # compared against when the key id is unknown


def new_key() -> tuple[str, str]:
    """A fresh (key id, key)."""
    key_id = secrets.token_hex(6)
    return key_id, f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


def digest(key: str) -> str:
    return sha256(key.encode()).hexdigest()


def key_id_of(key: str) -> str:
    prefix, _, rest = key.partition("_")
    return rest.partition("_")[0] if prefix == PREFIX and len(key) <= MAX_LENGTH else ""


def looks_like_key(credential: str) -> bool:
    return bool(key_id_of(credential))


def matches(expected: str | None, key: str) -> bool:
    """Whether `key` is the one whose digest is `expected` (None: no such key). Always one
    comparison, so the time taken does not tell which keys exist."""
    return hmac.compare_digest(expected or _NOBODY, digest(key)) and expected is not None
