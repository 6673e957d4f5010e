"""Delivery channels. Each `send` must be idempotent by delivery id: the dispatcher may
send again after a crash between sending and recording that it sent."""

from typing import Protocol
from uuid import UUID


class Channel(Protocol):
    def send(self, delivery_id: UUID, recipient: str, message: str) -> None: ...
