"""What notify publishes (deliveries made) and what its own dispatcher reads (requests)."""

from shared.outbox import Outbox

from services.notify.domain import TicketDeliveries

OUTBOX = Outbox(
    service="notify",
    translations={
        TicketDeliveries.Made: ("notify.delivery_made", lambda e: {
            "delivery_id": str(e.delivery_id), "channel": e.channel, "recipient": e.recipient}),
    },
)

# Read only by notify's dispatcher, from notify's own store: never published.
REQUESTS = {
    TicketDeliveries.Requested: ("notify.delivery_requested", lambda e: {
        "delivery_id": str(e.delivery_id), "channel": e.channel, "recipient": e.recipient, "message": e.message}),
}
