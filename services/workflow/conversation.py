"""A ticket's conversation (沟通记录): what its customer sent about it on a chat channel (texts,
images, locations), learned from intake's public events and shown in the ticket's timeline beside
what staff did. Kept apart from the ticket, so a message never races a staff action. No I/O here."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.envelope import Envelope
from shared.eventstore import UnitOfWork

_IDS = UUID("c0a7e5d2-4b19-4f63-8e2a-93d1b6f4a7c5")
SENT = {  # intake's public event -> what kind of message it is, and what of it the timeline shows
    "ticket.message_received": ("text", ("text",)),
    "ticket.attachment_added": ("image", ("media_id", "url")),
    "ticket.location_reported": ("location", ("latitude", "longitude", "label")),
}
CUSTOMER = "customer"  # who the timeline says a message is by


def conversation_id(ticket_id: UUID) -> UUID:
    return uuid5(_IDS, str(ticket_id))


class Conversation(Aggregate):
    class CustomerSent(Aggregate.Event):
        tenant: str
        kind: str  # text, image, location
        channel: str
        message_id: str
        content: dict[str, Any]
        by: str

    @staticmethod
    def create_id(tenant: str, ticket_id: UUID) -> UUID:
        return conversation_id(ticket_id)

    @event("Started")
    def __init__(self, tenant: str, ticket_id: UUID):
        self.tenant = tenant
        self.ticket_id = ticket_id
        self.received: set[tuple[str, str]] = set()  # (channel, message id)

    def customer_sent(self, kind: str, channel: str, message_id: str, content: dict[str, Any]) -> None:
        if (channel, message_id) not in self.received:
            self._customer_sent(
                tenant=self.tenant, kind=kind, channel=channel, message_id=message_id, content=content, by=CUSTOMER
            )

    @event(CustomerSent)
    def _customer_sent(
        self, tenant: str, kind: str, channel: str, message_id: str, content: dict[str, Any], by: str
    ) -> None:
        self.received.add((channel, message_id))


def conversation_policy(envelope: Envelope, uow: UnitOfWork) -> None:
    if envelope.type not in SENT or not envelope.tenant:
        return
    kind, shown = SENT[envelope.type]
    conversation = uow.get(conversation_id(envelope.subject))
    if conversation is None:
        conversation = Conversation(tenant=envelope.tenant, ticket_id=envelope.subject)
        uow.add(conversation)
    data = envelope.data
    conversation.customer_sent(
        kind, data["channel"], data["message_id"], {k: data[k] for k in shown if data.get(k) is not None}
    )
