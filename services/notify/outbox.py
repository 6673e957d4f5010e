"""What notify publishes: each delivery requested and each one made (for a console's timeline and
for other systems)."""

from shared.outbox import Outbox

from services.notify.delivery import Delivery

OUTBOX = Outbox(
    service="notify",
    translations={
        Delivery.Requested: (
            "notify.delivery_requested",
            lambda e: {
                "delivery_id": str(e.originator_id),
                "channel": e.channel,
                "recipient": e.recipient,
                "message": f"{e.message['title']}：{e.message['body']}"[:2000],
            },
        ),
        Delivery.Sent: (
            "notify.delivery_made",
            lambda e: {"delivery_id": str(e.originator_id), "channel": e.channel, "recipient": e.recipient},
        ),
    },
)
