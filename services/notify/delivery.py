"""One message to one recipient on one channel, and what became of it. No I/O.

Its id is derived from the event that caused it, the recipient and the channel, so however often
that event arrives (redelivered, replayed) the message is owed once. Every step is an event:
requested, deferred (quiet hours), sent, failed (with when it is tried again: retries are data the
sender fires when due, never a sleep), dead-lettered (nothing more will be tried until an operator
re-drives it), fell back (another channel takes over), withheld (the recipient opted out).
`due` is when the sender should look at it next; None once it is finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.errors import Conflict

_IDS = UUID("c3f1a3d2-8e4b-4f0a-b1c9-0d5e6f7a8b92")
PENDING, SENT, DEAD, WITHHELD, FELL_BACK = "pending", "sent", "dead", "withheld", "fell_back"


def delivery_id(cause: UUID, recipient: str, channel: str) -> UUID:
    return uuid5(_IDS, f"{cause}\x1f{recipient}\x1f{channel}")


@dataclass(frozen=True)
class Retries:
    """Exponential backoff with jitter: the n-th retry waits base * 2^(n-1), at most `cap`, times a
    random factor in [0.5, 1) so that messages failed together are not all retried together."""

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=15)
    attempts: int = 10  # then dead-lettered

    def retry_at(self, attempt: int, now: datetime, jitter: float) -> datetime | None:
        if attempt >= self.attempts:
            return None
        wait = min(self.cap, self.base * 2 ** (attempt - 1))
        return now + wait * (0.5 + jitter / 2)


class Delivery(Aggregate):
    correlation_id = None  # what deliveries requested before it was recorded have

    class Requested(Aggregate.Created):
        tenant: str
        ticket_id: UUID
        cause: UUID  # the envelope that caused it
        kind: str
        recipient: str  # who: "staff:<user>", "customer:<id>", "pool:role:<role>"
        name: str  # how to address them
        channel: str
        address: str  # on that channel: a userid, party:<id> or tag:<id>, an openid, a phone, an e-mail
        message: dict[str, Any]  # rendered: title, body, link, and what the channel needs besides
        context: dict[str, Any]  # what it was rendered from, to render it for a fallback channel
        template: str | None
        node: str | None
        urgent: bool
        fallback: list[list[str]]  # [channel, address] still to try if this channel cannot reach them
        fallback_of: UUID | None
        due: datetime
        correlation_id: str | None = None  # the request's that caused it: what the sender records is published under it

    @staticmethod
    def create_id(cause: UUID, recipient: str, channel: str, **_: Any) -> UUID:
        return delivery_id(cause, recipient, channel)

    @event(Requested)
    def __init__(
        self,
        tenant: str,
        ticket_id: UUID,
        cause: UUID,
        kind: str,
        recipient: str,
        name: str,
        channel: str,
        address: str,
        message: dict[str, Any],
        context: dict[str, Any],
        template: str | None,
        node: str | None,
        urgent: bool,
        fallback: list[list[str]],
        fallback_of: UUID | None,
        due: datetime,
        correlation_id: str | None = None,
    ):
        self.tenant, self.ticket_id, self.cause, self.kind = tenant, ticket_id, cause, kind
        self.recipient, self.name, self.channel, self.address = recipient, name, channel, address
        self.message, self.context, self.template, self.node = message, context, template, node
        self.urgent, self.fallback, self.fallback_of = urgent, fallback, fallback_of
        self.status, self.due, self.attempts = PENDING, due, 0
        self.correlation_id = correlation_id
        self.receipt: str | None = None
        self.error: str | None = None

    @classmethod
    def request(cls, **requested: Any) -> Delivery:
        """As calling the class, without eventsourcing matching the arguments against __init__ (a backlog
        requests thousands)."""
        return cls._create(
            cls.Requested, id=delivery_id(requested["cause"], requested["recipient"], requested["channel"]), **requested
        )

    @property
    def finished(self) -> bool:
        return self.status != PENDING

    def _facts(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "ticket_id": self.ticket_id}

    def defer(self, until: datetime, reason: str) -> None:
        self._deferred(**self._facts(), until=until, reason=reason)

    @event("Deferred")
    def _deferred(self, tenant: str, ticket_id: UUID, until: datetime, reason: str) -> None:
        self.due = until

    def sent(self, receipt: str | None) -> None:
        self._sent(
            **self._facts(), channel=self.channel, recipient=self.recipient, attempt=self.attempts + 1, receipt=receipt
        )

    @event("Sent")
    def _sent(
        self, tenant: str, ticket_id: UUID, channel: str, recipient: str, attempt: int, receipt: str | None
    ) -> None:
        self.status, self.due, self.attempts, self.receipt = SENT, None, attempt, receipt

    def failed(self, error: str, permanent: bool, now: datetime, jitter: float, retries: Retries) -> None:
        """Recorded; retried when due, or dead-lettered when it is permanent (and no channel is left to
        fall back to) or out of attempts."""
        attempt = self.attempts + 1
        retry_at = None if permanent else retries.retry_at(attempt, now, jitter)
        self._failed(**self._facts(), attempt=attempt, error=error, permanent=permanent, retry_at=retry_at)
        if retry_at is None:
            self._dead_lettered(**self._facts(), reason=error if permanent else f"{attempt} 次尝试均失败：{error}")

    @event("Failed")
    def _failed(
        self, tenant: str, ticket_id: UUID, attempt: int, error: str, permanent: bool, retry_at: datetime | None
    ) -> None:
        self.attempts, self.error, self.due = attempt, error, retry_at

    @event("DeadLettered")
    def _dead_lettered(self, tenant: str, ticket_id: UUID, reason: str) -> None:
        self.status, self.due, self.error = DEAD, None, reason

    def fall_back(self, error: str, to: UUID, channel: str) -> None:
        """This channel cannot reach them (no account, an invalid user, not a follower): `to` on the next one."""
        self._fell_back(**self._facts(), attempt=self.attempts + 1, error=error, to=to, channel=channel)

    @event("FellBack")
    def _fell_back(self, tenant: str, ticket_id: UUID, attempt: int, error: str, to: UUID, channel: str) -> None:
        self.status, self.due, self.attempts, self.error = FELL_BACK, None, attempt, error

    def withhold(self, reason: str) -> None:
        self._withheld(**self._facts(), reason=reason)

    @event("Withheld")
    def _withheld(self, tenant: str, ticket_id: UUID, reason: str) -> None:
        self.status, self.due = WITHHELD, None

    def redrive(self, by: str, now: datetime) -> None:
        """A dead letter tried again (after the cause is fixed): a fresh round of attempts."""
        if self.status != DEAD:
            raise Conflict(f"delivery {self.id} is {self.status}, not a dead letter")
        self._redriven(**self._facts(), by=by, due=now)

    @event("Redriven")
    def _redriven(self, tenant: str, ticket_id: UUID, by: str, due: datetime) -> None:
        self.status, self.due, self.attempts = PENDING, due, 0

    def next_channel(self) -> tuple[str, str] | None:
        return tuple(self.fallback[0]) if self.fallback else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "delivery_id": self.id,
            "kind": self.kind,
            "recipient": self.recipient,
            "name": self.name,
            "channel": self.channel,
            "address": self.address,
            "status": self.status,
            "attempts": self.attempts,
            "due": self.due,
            "error": self.error,
            "receipt": self.receipt,
            "title": self.message["title"],
            "body": self.message["body"],
            "link": self.message["link"],
            "urgent": self.urgent,
            "cause": self.cause,
            "fallback_of": self.fallback_of,
        }
