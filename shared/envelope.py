"""The one envelope for everything that crosses a service boundary (CloudEvents-style).

Attribute names follow CloudEvents 1.0 (`id`, `source`, `type`, `subject`, `time`,
`dataschema`); `tenant` and `sequence` are extension attributes. `sequence` is the
position of the event in its source service's notification log: consumers keep it
as their tracking position, so a record delivered twice is recognised and skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import sha1
from typing import Any
from uuid import UUID

SPEC_VERSION = "1.0"
_EVENT_IDS = UUID("6f1d1c8e-3f0b-4c83-9a77-2f3b0e0c6a10").bytes


def event_id(originator_id: UUID, originator_version: int) -> UUID:
    """The envelope id of a stored event: the same event always gets the same id.

    A name-based (version 5) UUID of the aggregate id and version, hashed from their
    bytes rather than their text: this runs once per event on every backlog."""
    digest = sha1(_EVENT_IDS + originator_id.bytes + originator_version.to_bytes(8, "big")).digest()
    return UUID(bytes=digest[:16], version=5)


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
    extensions: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "specversion": SPEC_VERSION,
            "id": str(self.id),
            "source": self.source,
            "type": self.type,
            "subject": str(self.subject),
            "time": self.time.isoformat(),
            "tenant": self.tenant,
            "dataschema": f"urn:scrm:{self.type}:v{self.schema_version}",
            "sequence": self.sequence,
            "datacontenttype": "application/json",
            "data": self.data,
            **self.extensions,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Envelope:
        known = {"specversion", "id", "source", "type", "subject", "time", "tenant",
                 "dataschema", "sequence", "datacontenttype", "data"}
        return cls(
            id=UUID(raw["id"]),
            source=raw["source"],
            type=raw["type"],
            subject=UUID(raw["subject"]),
            time=datetime.fromisoformat(raw["time"]),
            tenant=raw["tenant"],
            data=raw["data"],
            schema_version=int(raw["dataschema"].rsplit(":v", 1)[1]),
            sequence=int(raw.get("sequence", 0)),
            extensions={k: v for k, v in raw.items() if k not in known},
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Envelope:
        return cls.from_dict(json.loads(raw))
