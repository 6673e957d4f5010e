from uuid import uuid4

from services.intake.domain import Submission, ticket_id
from services.notify.domain import TicketDeliveries, delivery_id


def test_a_submission_id_is_the_same_for_the_same_channel_message():
    assert ticket_id("acme", "h5", "s-1") == ticket_id("acme", "h5", "s-1")
    assert len({ticket_id("acme", "h5", "s-1"), ticket_id("acme", "wecom", "s-1"),
                ticket_id("other", "h5", "s-1"), ticket_id("acme", "h5", "s-2")}) == 4
    s = Submission(tenant="acme", channel="h5", submission_id="s-1", customer={}, description="d",
                   template="default", route={"by": "default"})
    assert s.id == ticket_id("acme", "h5", "s-1")


def test_a_delivery_is_owed_once_per_cause_and_recipient_and_made_once():
    deliveries = TicketDeliveries(tenant="acme", ticket_id=uuid4())
    cause = uuid4()
    for _ in range(3):
        deliveries.request(cause, "outbox-file", "tech-1", "hello")
    deliveries.request(cause, "outbox-file", "tech-2", "hello")
    assert len(deliveries.deliveries) == 2
    made = delivery_id(cause, "outbox-file", "tech-1")
    deliveries.made(made)
    deliveries.made(made)
    names = [type(e).__name__ for e in deliveries.collect_events()]
    assert names == ["Opened", "Requested", "Requested", "Made"]
