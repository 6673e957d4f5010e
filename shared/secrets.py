"""Secrets at rest (a provider's corpsecret, an SMTP password): encrypted with keys from the
environment, never stored, logged or shown whole.

`SCRM_SECRET_KEYS` holds one or more Fernet keys separated by commas, the newest first: the first
encrypts, every one decrypts (cryptography's MultiFernet), so a key is rotated by putting a new one
in front, re-sealing what is stored (`rotate`), then dropping the old key. Without keys nothing
can be sealed: credentials are refused rather than kept in the clear.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEYS_VARIABLE = "SCRM_SECRET_KEYS"


class SecretsUnavailable(RuntimeError):
    """No key is configured, or none of them opens a sealed value."""


class SecretBox:
    def __init__(self, keys: list[str]):
        try:
            self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys]) if keys else None
        except ValueError:
            raise SecretsUnavailable(
                f"{KEYS_VARIABLE}: each key is 32 url-safe base64-encoded bytes (Fernet.generate_key())"
            ) from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SecretBox:
        raw = (os.environ if environ is None else environ).get(KEYS_VARIABLE, "")
        return cls([k for k in raw.split(",") if k.strip()])

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()

    def seal(self, plain: str) -> str:
        return self._keys().encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._keys().decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretsUnavailable(
                f"no key in {KEYS_VARIABLE} opens this secret (was a key dropped too soon?)"
            ) from None

    def rotate(self, sealed: str) -> str:
        """The same secret sealed with the newest key."""
        try:
            return self._keys().rotate(sealed.encode()).decode()
        except InvalidToken:
            raise SecretsUnavailable(f"no key in {KEYS_VARIABLE} opens this secret") from None

    def _keys(self) -> MultiFernet:
        if self._fernet is None:
            raise SecretsUnavailable(f"set {KEYS_VARIABLE} (a Fernet key) to store credentials encrypted")
        return self._fernet


def masked(secret: str) -> str:
    """What may be shown of a secret: enough to recognise it, never enough to use it."""
    if len(secret) < 12:
        return "•" * 6
    return f"{secret[:2]}…{secret[-2:]}"
