"""Dead letters: an upstream event a policy cannot handle is parked, not retried forever.

One event that trips a bug must neither stop a worker (every later event would wait behind
it) nor be dropped. It is recorded in the follower's own store, in the same transaction as
the batch's other results and position, and stays there until an operator retries it
(`scrm <service> parked retry`) after the fix is deployed.

Not parked: failures of the store itself (a database that is down); those stop the batch,
which is read again when the worker is restarted.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.envelope import Envelope

_IDS = UUID("5b0c6a3e-2f41-4d7e-9a55-6c1e0f3d2b87")


def parked_id(follower: str, source: str, envelope_id: UUID) -> UUID:
    """By source too: an envelope id is unique within its source only (intake's ticket.created and
    workflow's ticket.opened share the ticket's id), and one must not stand for the other."""
    return uuid5(_IDS, f"{follower}\x1f{source}\x1f{envelope_id}")


def ids_of(follower: str, envelope: Envelope) -> tuple[UUID, UUID]:
    """The ids the envelope may have been parked under: today's, and the one before sources were part
    of it (an event parked then and delivered again must not be parked twice)."""
    return parked_id(follower, envelope.source, envelope.id), uuid5(_IDS, f"{follower}\x1f{envelope.id}")


class ParkedEvent(Aggregate):
    """One upstream event a follower could not process, with why."""

    @staticmethod
    def create_id(follower: str, envelope: dict[str, Any], error: str) -> UUID:
        return parked_id(follower, envelope["source"], UUID(envelope["id"]))

    @event("Parked")
    def __init__(self, follower: str, envelope: dict[str, Any], error: str):
        self.follower = follower
        self.envelope = envelope  # Envelope.to_dict(): replayable as it arrived
        self.error = error
        self.tenant = envelope["tenant"]
        self.resolved = False

    @event("Resolved")
    def resolve(self, by: str) -> None:
        """It was processed after all (a retry succeeded)."""
        self.resolved = True

    @property
    def arrived(self) -> Envelope:
        return Envelope.from_dict(self.envelope)
