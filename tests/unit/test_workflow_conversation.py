"""A ticket's conversation in workflow: what the customer sent about it, from intake's public events."""

from datetime import datetime, timezone, UTC
from uuid import uuid4

from shared.envelope import Envelope

from services.workflow.conversation import Conversation, conversation_id, conversation_policy
from tests.support.policies import Store


def sent(type_: str, ticket, tenant: str | None = "acme", **data) -> Envelope:
    return Envelope(
        id=uuid4(),
        source="scrm/intake",
        type=type_,
        subject=ticket,
        tenant=tenant,
        data={"customer_id": str(uuid4()), "channel": "mp", **data},
        time=datetime.now(UTC),
    )


def test_texts_images_and_locations_join_the_tickets_conversation_once_each():
    ticket, uow = uuid4(), Store()
    for envelope in (
        sent("ticket.message_received", ticket, message_id="m1", text="几点到？"),
        sent("ticket.message_received", ticket, message_id="m1", text="几点到？"),  # redelivered
        sent("ticket.attachment_added", ticket, message_id="m2", media_id="media-1"),
        sent("ticket.location_reported", ticket, message_id="m3", latitude=22.5, longitude=113.9),
        sent("ticket.assigned", ticket, message_id="m4"),  # not the customer's
        sent("ticket.message_received", ticket, tenant=None, message_id="m5", text="x"),
    ):  # nobody's
        conversation_policy(envelope, uow)
    conversation: Conversation = uow.get(conversation_id(ticket))
    said = [(e.kind, e.message_id, e.content, e.by) for e in conversation.collect_events()[1:]]
    assert said == [
        ("text", "m1", {"text": "几点到？"}, "customer"),
        ("image", "m2", {"media_id": "media-1"}, "customer"),
        ("location", "m3", {"latitude": 22.5, "longitude": 113.9}, "customer"),
    ]
    assert conversation.tenant == "acme" and conversation.ticket_id == ticket
