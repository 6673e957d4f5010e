"""What intake publishes: one ticket.created per accepted submission."""

from shared.outbox import Outbox

from services.intake.domain import Submission

OUTBOX = Outbox(
    service="intake",
    translations={
        Submission.Received: lambda e: ("ticket.created", {
            "channel": e.channel,
            "submission_id": e.submission_id,
            "customer": e.customer,
            "description": e.description,
            "template": e.template,
            "route": e.route,
        } | ({"values": e.values} if e.values else {})),
    },
)
