"""How a tenant's staff sign in: argon2id hashes of their passwords, never the passwords; and the WeCom
corp whose members sign in with WeCom (its corp id and app secret, the secret sealed: shared/secrets.py).
No I/O here.

One aggregate per tenant, its id derived from the tenant name. It is never published: the hashes
stay in workflow's store.
"""

from __future__ import annotations

from typing import NamedTuple
from collections.abc import Callable
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.domain import Aggregate, event

from shared.errors import Invalid
from shared.pertenant import tenant_uuid

_IDS = UUID("47a0c2de-5b19-4f83-a6e2-0d8c3b1f9e54")
HASHER = PasswordHasher()  # argon2id with the library's current recommended cost
PASSWORD_LENGTH = (10, 128)
_NOBODY = HASHER.hash("no such staff member")  # verified against when there is no hash, to take as long


class WeComCorp(NamedTuple):
    corp_id: str
    secret: str  # sealed


def credentials_id(tenant: str) -> UUID:
    return tenant_uuid(_IDS, tenant)


class Credentials(Aggregate):
    @staticmethod
    def create_id(tenant: str) -> UUID:
        return credentials_id(tenant)

    @event("Created")
    def __init__(self, tenant: str):
        self.tenant = tenant
        self.hashes: dict[str, str] = {}
        self.wecom: WeComCorp | None = None

    def set_password(self, staff: str, password: str, by: str) -> None:
        low, high = PASSWORD_LENGTH
        if not low <= len(password) <= high:
            raise Invalid(f"a password has {low} to {high} characters")
        self._password_set(staff=staff, hash=HASHER.hash(password), by=by)

    @event("PasswordSet")
    def _password_set(self, staff: str, hash: str, by: str) -> None:
        self.hashes[staff] = hash

    def set_wecom(self, corp_id: str, secret: str, seal: Callable[[str], str], by: str) -> None:
        """The corp whose members sign in with WeCom, and the secret of its app that exchanges their codes."""
        if not (0 < len(corp_id) <= 64 and corp_id.isascii() and corp_id.isalnum()) or not 0 < len(secret) <= 256:
            raise Invalid("give the corp id (letters and digits) and the app's secret")
        self._wecom_set(corp_id=corp_id, secret=seal(secret), by=by)

    @event("WeComSet")
    def _wecom_set(self, corp_id: str, secret: str, by: str) -> None:
        self.wecom = WeComCorp(corp_id, secret)

    def check(self, staff: str, password: str) -> bool:
        """Whether `password` is `staff`'s; as slow for someone without a password as for a wrong one."""
        return _verify(self.hashes.get(staff, _NOBODY), password) and staff in self.hashes

    @staticmethod
    def check_nobody(password: str) -> bool:
        """For a tenant with no passwords at all: as slow as a check, and never true."""
        _verify(_NOBODY, password)
        return False


def _verify(hash_: str, password: str) -> bool:
    try:
        return HASHER.verify(hash_, password)
    except (VerificationError, InvalidHashError):
        return False
