"""What notify publishes (deliveries made) and what its own dispatcher reads (requests)."""

from shared.outbox import Outbox

from services.notify.domain import TicketDeliveries

OUTBOX = Outbox(
    service="notify",
    translations={
        TicketDeliveries.Made: lambda e: ("notify.delivery_made", {
            "delivery_id": str(e.delivery_id), "channel": e.channel, "recipient": e.recipient}),
    },
)

# Read only by notify's dispatcher, from notify's own store.
REQUESTS = Outbox(
    service="notify",
    translations={
        TicketDeliveries.Requested: lambda e: ("notify.delivery_requested", {
            "delivery_id": str(e.delivery_id), "channel": e.channel, "recipient": e.recipient,
            "message": e.message}),
    },
)
