"""Sends requested deliveries through their channels and records that they were made.

It follows notify's own log. A send that fails raises: the batch is not recorded and is
tried again; deliveries already sent in it are sent again, which channels make harmless.
"""

from __future__ import annotations

from typing import Mapping
from uuid import UUID

from shared.envelope import Envelope
from shared.eventstore import UnitOfWork

from services.notify.channels import Channel
from services.notify.domain import TicketDeliveries


def dispatch(channels: Mapping[str, Channel]):
    def deliver(envelope: Envelope, uow: UnitOfWork) -> None:
        data = envelope.data
        delivery_id = UUID(data["delivery_id"])
        deliveries = uow.get(TicketDeliveries.create_id(envelope.subject))
        if deliveries.deliveries[str(delivery_id)]["made_at"] is not None:
            return
        channels[data["channel"]].send(delivery_id, data["recipient"], data["message"])
        deliveries.made(delivery_id)
    return deliver
