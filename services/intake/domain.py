"""A submission from a channel. Its id is the ticket id, derived from where it came from,
so a channel that retries can never create a second ticket."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.contracts import DEFAULT_TEMPLATE

_TICKET_IDS = UUID("0b6c7f51-6a43-4b8e-8f63-8f4f0c2d4a31")


def ticket_id(tenant: str, channel: str, submission_id: str) -> UUID:
    return uuid5(_TICKET_IDS, f"{tenant}\x1f{channel}\x1f{submission_id}")


class Submission(Aggregate):
    class Received(Aggregate.Created):
        """v2 names the template the submission was routed to, and how; v3 a form's field values,
        the customer it was linked to and the region it came from; v4 that customer's flags (VIP …)."""

        class_version = 4
        tenant: str
        channel: str
        submission_id: str
        customer: dict[str, Any]
        description: str
        template: str
        route: dict[str, str]
        values: dict[str, Any]
        customer_id: UUID | None
        region: str | None
        flags: list[str]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Stored before routing existed: every submission went to the default template.
            state["template"] = DEFAULT_TEMPLATE
            state["route"] = {"by": "default"}

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["values"] = {}  # stored before forms had fields of their own
            state["customer_id"] = state["region"] = None  # and before the customer directory

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            state["flags"] = []  # and before customers had flags

    @staticmethod
    def create_id(tenant: str, channel: str, submission_id: str) -> UUID:
        return ticket_id(tenant, channel, submission_id)

    @event(Received)
    def __init__(
        self,
        tenant: str,
        channel: str,
        submission_id: str,
        customer: dict[str, Any],
        description: str,
        template: str,
        route: dict[str, str],
        values: dict[str, Any] | None = None,
        customer_id: UUID | None = None,
        region: str | None = None,
        flags: list[str] | None = None,
    ):
        self.tenant = tenant
        self.channel = channel
        self.submission_id = submission_id
        self.customer = customer
        self.description = description
        self.template = template
        self.route = route
        self.values = values or {}  # JSON, as the form's template version cleaned them
        self.customer_id = customer_id
        self.region = region
        self.flags = flags or []  # the customer's when the ticket was raised
