"""A tenant's form: what intake learned of one published template, every version. No I/O here.

The page's link names the form by its template key and a random token drawn when the form was
first learned: stable across versions, not guessable from the tenant and key (which are public).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.errors import NotFound

from shared.formfields.fields import Field

_FORM_IDS = UUID("3f6d1b0e-8c2a-4f57-9e1d-6a2b7c9d0e41")
# A template key ([A-Za-z0-9_-], see workflow's template API), a dot, the token: 24 hex digits.
SLUG = re.compile(r"(?P<key>[A-Za-z0-9_-]{1,64})\.(?P<token>[0-9a-f]{24})")
CONTACT_TYPES = {
    "name": "customer",
    "phone": "phone",
    "address": "location",
}  # a contact part: the field type giving it


def form_id(tenant: str, key: str) -> UUID:
    return uuid5(_FORM_IDS, f"{tenant}\x1f{key}")


def parse_slug(slug: str) -> tuple[str, str] | None:
    """(template key, token) of a link's slug, or None when it cannot be one."""
    match = SLUG.fullmatch(slug)
    return (match["key"], match["token"]) if match else None


@dataclass(frozen=True)
class FormVersion:
    version: int
    name: str
    fields: tuple[Field, ...]
    variant_of: str | None = None
    regions: tuple[str, ...] = ()

    @property
    def asked(self) -> tuple[Field, ...]:
        """What the customer fills in: the fields the template asks of them (its customer-facing first
        step); of a template that names none, the fields a ticket needs when it is created. Never the
        fields staff fill in later (a quote, finish photos, a review note)."""
        named = tuple(f for f in self.fields if f.ask_customer)
        return named or tuple(f for f in self.fields if f.required)

    @property
    def contact(self) -> dict[str, Field]:
        """The asked fields that give the customer's name, phone and address (the first required field of
        type customer, phone and location), so the page does not ask for them a second time."""
        found = {}
        for part, type_ in CONTACT_TYPES.items():
            field = next((f for f in self.asked if f.type == type_ and f.required), None)
            if field is not None:
                found[part] = field
        return found

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FormVersion:
        return cls(
            version=data["version"],
            name=data["name"],
            fields=tuple(Field.from_dict(f) for f in data["fields"]),
            variant_of=data.get("variant_of"),
            regions=tuple(data.get("regions") or ()),
        )


class Form(Aggregate):
    @staticmethod
    def create_id(tenant: str, key: str, token: str) -> UUID:
        return form_id(tenant, key)

    @event("Learned")
    def __init__(self, tenant: str, key: str, token: str):
        self.tenant = tenant
        self.key = key
        self.token = token  # in the page's link; see `admits`
        self.versions: dict[int, dict[str, Any]] = {}  # version -> the published template's form part

    @property
    def slug(self) -> str:
        return f"{self.key}.{self.token}"

    def admits(self, token: str) -> bool:
        return hmac.compare_digest(self.token, token)

    def learn(
        self, version: int, name: str, fields: list[dict[str, Any]], variant_of: str | None, regions: list[str]
    ) -> None:
        """Record a published version once: redelivered announcements change nothing."""
        if version not in self.versions:
            self._version_published(version=version, name=name, fields=fields, variant_of=variant_of, regions=regions)

    @event("VersionPublished")
    def _version_published(
        self, version: int, name: str, fields: list[dict[str, Any]], variant_of: str | None, regions: list[str]
    ) -> None:
        self.versions[version] = {
            "version": version,
            "name": name,
            "fields": fields,
            "variant_of": variant_of,
            "regions": regions,
        }

    @property
    def latest(self) -> FormVersion:
        return self.published(max(self.versions))

    def published(self, number: int) -> FormVersion:
        if number not in self.versions:
            raise NotFound(f"form {self.key!r} has no version {number}", version=number)
        return FormVersion.from_dict(self.versions[number])
