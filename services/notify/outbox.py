"""What notify publishes: each delivery requested and each one made (for a console's timeline and
for other systems)."""

from shared.outbox import Outbox

from services.notify.delivery import Delivery

OUTBOX = Outbox(
    service="notify",
    translations={
        Delivery.Requested: lambda e: ("notify.delivery_requested", {
            "delivery_id": str(e.originator_id), "channel": e.channel, "recipient": e.recipient,
            "message": f"{e.message['title']}：{e.message['body']}"[:2000]}),
        Delivery.Sent: lambda e: ("notify.delivery_made", {
            "delivery_id": str(e.originator_id), "channel": e.channel, "recipient": e.recipient}),
    },
)
