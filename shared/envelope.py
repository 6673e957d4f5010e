"""The one envelope for everything that crosses a service boundary: a CloudEvents 1.0 event.

Attributes are CloudEvents' own (`specversion`, `id`, `source`, `type`, `subject`, `time`,
`datacontenttype`, `dataschema`) plus extensions: `tenant`, `sequence` (the sequence extension:
the event's position in its source service's log, as a zero-padded string so that it orders
lexicographically) and `correlationid` (follows one request through every service).

On Kafka an envelope travels in CloudEvents' binary content mode: the data is the record's
value, every attribute a `ce_` header, and the key is the subject (a ticket's id for ticket events) as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from hashlib import sha1
from typing import Any
from uuid import UUID

import orjson

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
_EVENT_IDS = UUID("6f1d1c8e-3f0b-4c83-9a77-2f3b0e0c6a10").bytes
_SEQUENCE_DIGITS = 20  # a log position (a positive int8) fits in 19 digits
_CLEAR_VERSION = ~((0xF000 << 64) | (0xC000 << 48))  # RFC 4122's version and variant bits
_VERSION_5 = (5 << 76) | (0x8000 << 48)


def event_id(source: str, originator_id: UUID, originator_version: int) -> UUID:
    """The envelope id of a stored event: unique across the platform (two services' aggregates may
    share an id: a submission and the ticket it became) and the same however often it is published.

    A name-based (version 5) UUID of the source, aggregate id and version, hashed from their bytes
    rather than their text: this runs once per public event, so the version and variant bits are set
    on the integer directly (`UUID(bytes=..., version=5)` takes three times as long)."""
    digest = sha1(
        _EVENT_IDS + source.encode() + b"\x00" + originator_id.bytes + originator_version.to_bytes(8, "big")
    ).digest()
    return UUID(int=int.from_bytes(digest[:16], "big") & _CLEAR_VERSION | _VERSION_5)


def sequence_text(position: int) -> str:
    return str(position).zfill(_SEQUENCE_DIGITS)


def schema_urn(type_: str, schema_version: int) -> str:
    return f"urn:scrm:{type_}:v{schema_version}"


def context(
    id_: str,
    source: str,
    type_: str,
    subject: str,
    time: str,
    tenant: str,
    schema_version: int,
    correlation_id: str | None,
) -> dict[str, str]:
    """Every context attribute but `sequence` (a log position, known once stored), as CloudEvents names
    them: from an envelope, or straight from a domain event (an outbox row, built per public event)."""
    found = {
        "specversion": SPEC_VERSION,
        "id": id_,
        "source": source,
        "type": type_,
        "subject": subject,
        "time": time,
        "datacontenttype": CONTENT_TYPE,
        "dataschema": schema_urn(type_, schema_version),
        "tenant": tenant,
    }
    if correlation_id:
        found["correlationid"] = correlation_id
    return found


@dataclass(frozen=True)
class Envelope:
    id: UUID
    source: str
    type: str
    subject: UUID
    time: datetime
    tenant: str
    data: dict[str, Any]
    schema_version: int = 1
    sequence: int = 0
    correlation_id: str | None = None

    @property
    def dataschema(self) -> str:
        return schema_urn(self.type, self.schema_version)

    def attributes(self) -> dict[str, str]:
        """Every context attribute, as CloudEvents names them (all strings)."""
        found = context(
            str(self.id),
            self.source,
            self.type,
            str(self.subject),
            self.time.isoformat(),
            self.tenant,
            self.schema_version,
            self.correlation_id,
        )
        found["sequence"] = sequence_text(self.sequence)
        return found

    def to_dict(self) -> dict[str, Any]:
        """The structured form (a JSON object with `data` beside the attributes)."""
        return {**self.attributes(), "data": self.data}

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    def data_json(self) -> bytes:
        return orjson.dumps(self.data)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Envelope:
        return cls.from_attributes(raw, raw["data"])

    @classmethod
    def from_json(cls, raw: bytes | str) -> Envelope:
        return cls.from_dict(orjson.loads(raw))

    @classmethod
    def from_attributes(cls, attributes: dict[str, Any], data: dict[str, Any]) -> Envelope:
        if attributes.get("specversion") != SPEC_VERSION:
            raise ValueError(f"not a CloudEvents {SPEC_VERSION} event: {attributes.get('specversion')!r}")
        # Every follower decodes every envelope it reads: set the fields at once rather than through the
        # frozen dataclass's __init__ (one object.__setattr__ per field, a third of the decoding).
        envelope = object.__new__(cls)
        envelope.__dict__.update(
            id=UUID(attributes["id"]),
            source=attributes["source"],
            type=attributes["type"],
            subject=UUID(attributes["subject"]),
            time=datetime.fromisoformat(attributes["time"]),
            tenant=attributes["tenant"],
            data=data,
            schema_version=int(attributes["dataschema"].rsplit(":v", 1)[1]),
            sequence=int(attributes.get("sequence") or 0),
            correlation_id=attributes.get("correlationid"),
        )
        return envelope

    # --- Kafka: CloudEvents' binary content mode --------------------------------------------

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        headers = [(f"ce_{k}", v.encode()) for k, v in self.attributes().items() if k != "datacontenttype"]
        return [("content-type", CONTENT_TYPE.encode()), *headers]

    def kafka_key(self) -> bytes:
        return str(self.subject).encode()

    @classmethod
    def from_kafka(cls, headers: list[tuple[str, bytes]], value: bytes) -> Envelope:
        attributes = {k[3:]: v.decode() for k, v in headers if k.startswith("ce_")}
        attributes.setdefault("specversion", None)
        return cls.from_attributes(attributes, orjson.loads(value))
