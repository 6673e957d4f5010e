"""The deliveries owed for one ticket. A delivery's id is derived from the event that
caused it and its recipient, so however often that event arrives it is owed once."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

_IDS = UUID("c3f1a3d2-8e4b-4f0a-b1c9-0d5e6f7a8b92")


def delivery_id(cause: UUID, channel: str, recipient: str) -> UUID:
    return uuid5(_IDS, f"{cause}\x1f{channel}\x1f{recipient}")


class TicketDeliveries(Aggregate):
    @staticmethod
    def create_id(ticket_id: UUID) -> UUID:
        return uuid5(_IDS, str(ticket_id))

    @event("Opened")
    def __init__(self, tenant: str, ticket_id: UUID):
        self.tenant = tenant
        self.ticket_id = ticket_id
        self.deliveries: dict[str, dict[str, Any]] = {}

    def request(self, cause: UUID, channel: str, recipient: str, message: str) -> None:
        id_ = delivery_id(cause, channel, recipient)
        if str(id_) not in self.deliveries:
            self._requested(
                tenant=self.tenant,
                ticket_id=self.ticket_id,
                delivery_id=id_,
                cause=cause,
                channel=channel,
                recipient=recipient,
                message=message,
            )

    @event("Requested")
    def _requested(
        self, tenant: str, ticket_id: UUID, delivery_id: UUID, cause: UUID, channel: str, recipient: str, message: str
    ) -> None:
        self.deliveries[str(delivery_id)] = {
            "delivery_id": delivery_id,
            "cause": cause,
            "channel": channel,
            "recipient": recipient,
            "message": message,
            "made_at": None,
        }

    def made(self, delivery_id: UUID) -> None:
        delivery = self.deliveries[str(delivery_id)]
        if delivery["made_at"] is None:
            self._made(
                tenant=self.tenant,
                ticket_id=self.ticket_id,
                delivery_id=delivery_id,
                channel=delivery["channel"],
                recipient=delivery["recipient"],
            )

    @event("Made")
    def _made(self, tenant: str, ticket_id: UUID, delivery_id: UUID, channel: str, recipient: str) -> None:
        self.deliveries[str(delivery_id)]["made_at"] = self.modified_on
