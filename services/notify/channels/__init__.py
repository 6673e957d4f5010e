"""Delivery channels: each turns a delivery into its provider's documented request and the answer
into an `Outcome`. A channel never raises for the provider's sake: a timeout, a 5xx or a refusal is
an outcome the sender records. Secrets arrive opened in `account`; no error text holds one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from collections.abc import Mapping
from uuid import UUID


@dataclass(frozen=True)
class Outcome:
    sent: bool
    receipt: str | None = None  # the provider's id for the message, when it gives one
    error: str | None = None
    permanent: bool = False  # trying again will not help (a configuration or a request the provider refuses)
    unreachable: bool = False  # this channel cannot reach this recipient: the next channel may

    @classmethod
    def ok(cls, receipt: Any = None) -> Outcome:
        return cls(True, None if receipt in (None, "") else str(receipt))

    @classmethod
    def transient(cls, error: str) -> Outcome:
        return cls(False, error=error)

    @classmethod
    def refused(cls, error: str) -> Outcome:
        return cls(False, error=error, permanent=True)

    @classmethod
    def cannot_reach(cls, error: str) -> Outcome:
        return cls(False, error=error, permanent=True, unreachable=True)


class Channel(Protocol):
    dedupes: bool  # whether the provider drops a repeated send of the same delivery (README: exactly once)

    def send(
        self, delivery_id: UUID, account: Mapping[str, str], address: str, message: Mapping[str, Any]
    ) -> Outcome: ...


def marked(link: str, delivery_id: UUID) -> str:
    """The ticket link with the delivery's id in it: two deliveries never have the same content, and
    the same delivery sent again has exactly the same content (what WeCom's duplicate check compares)."""
    return f"{link}{'&' if '?' in link else '?'}n={delivery_id.hex[:16]}"


def with_link(text: str, link: str) -> str:
    return text if link in text else f"{text}\n{link}"
