"""What intake publishes: one ticket.created per accepted submission, what a customer sends about
an open ticket, and what happens to a customer that others keep their id for (opted out, merged)."""

from shared.outbox import Outbox

from services.intake.customers import Customer
from services.intake.domain import Submission


def _created(e):
    linked = {"customer_id": str(e.customer_id)} if e.customer_id else {}
    return {
        "channel": e.channel,
        "submission_id": e.submission_id,
        "customer": {**e.customer, "flags": e.flags} if e.flags else e.customer,
        "description": e.description,
        "template": e.template,
        "route": e.route,
        **linked,
        **({"region": e.region} if e.region else {}),
        **({"values": e.values} if e.values else {}),
    }


def _sent(e):
    return {"customer_id": str(e.originator_id), "channel": e.channel, "message_id": e.message_id}


OUTBOX = Outbox(
    service="intake",
    translations={
        Submission.Received: ("ticket.created", _created),
        Customer.AttachmentAdded: (
            "ticket.attachment_added",
            lambda e: {**_sent(e), "media_id": e.media_id, **({"url": e.url} if e.url else {})},
        ),
        Customer.LocationReported: (
            "ticket.location_reported",
            lambda e: {
                **_sent(e),
                "latitude": e.latitude,
                "longitude": e.longitude,
                **({"label": e.label} if e.label else {}),
            },
        ),
        Customer.MessageReceived: ("ticket.message_received", lambda e: {**_sent(e), "text": e.text}),
        Customer.Absorbed: (
            "customer.merged",
            lambda e: {
                "customer_id": str(e.originator_id),
                "merged_customer_id": str(e.customer_id),
                "identities": e.known_by,
                "by": e.by,
            },
        ),
        Customer.OptedOut: (
            "customer.opted_out",
            lambda e: {  # for notify (issue 13)
                "customer_id": str(e.originator_id),
                "channel": e.channel,
                "identity": e.identity,
                "value": e.value,
                "message_id": e.message_id,
            },
        ),
    },
)
