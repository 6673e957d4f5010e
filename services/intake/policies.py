"""How intake's customer directory follows tickets. Pure: it only collects new events.

Each customer records their tickets when intake publishes ticket.created, and which of them are
still open as workflow reports it, so that a picture or a location they send later goes to
the right ticket. Either stream may arrive first (Kafka orders each topic, not both): a
status for a ticket not linked yet links it from its submission first.

A submission's contact details stay on the ticket: where they differ from a known customer's
profile they are only proposed (see Customer.propose_profile).
"""

from __future__ import annotations

from shared.envelope import Envelope
from shared.eventstore import UnitOfWork

from services.intake.customers import Customer, current, profile_of
from services.intake.domain import Submission

STATUS = {  # what workflow's public events say about whether a ticket is open
    "ticket.opened": lambda data: "open",
    "ticket.transitioned": lambda data: data["status"],  # open, closed, cancelled (reopen: open again)
    "ticket.closed": lambda data: "closed",
}


def customer_policy(envelope: Envelope, uow: UnitOfWork) -> None:
    if envelope.type != "ticket.created" and envelope.type not in STATUS:
        return
    submission = uow.get(envelope.subject)
    if not isinstance(submission, Submission) or submission.customer_id is None:
        return  # received before the directory existed
    customer: Customer = current(uow.get, submission.customer_id)
    customer.link_ticket(
        submission.id, submission.channel, submission.description, submission.template, submission.region
    )
    if envelope.type == "ticket.created":
        customer.propose_profile(submission.id, submission.channel, profile_of(submission.customer))
    else:
        customer.ticket_status(submission.id, STATUS[envelope.type](envelope.data))
