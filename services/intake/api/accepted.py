"""What a submission is answered: its ticket and number, 201 when it was recorded now, 200 when a retry
reached the ticket recorded before (the H5 API, the form pages and the sidebar alike)."""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from marshmallow import Schema, fields

from shared.contracts import ticket_number
from shared.deadline import OUTCOME_UNKNOWN
from shared.restapi import Blueprint

from services.intake.application import Accepted


class TicketAccepted(Schema):
    ticket_id = fields.UUID()
    number = fields.String(metadata={"description": "The short ticket number people are told"})
    created = fields.Boolean(metadata={"description": "False: a retry, answered with the ticket recorded before"})


def answer(accepted: Accepted, **more: Any) -> tuple[dict[str, Any], int]:
    return (
        {
            "ticket_id": accepted.ticket_id,
            "number": ticket_number(accepted.ticket_id),
            "created": accepted.created,
            **more,
        },
        201 if accepted.created else 200,
    )


def submits(blp: Blueprint, schema: type[Schema] = TicketAccepted) -> Callable[[Callable], Callable]:
    """A view that records a submission: documented with both answers and the 503 of a missed deadline."""

    def decorator(view: Callable) -> Callable:
        view = blp.refuses({503: OUTCOME_UNKNOWN})(view)
        view = blp.alt_response(200, schema=schema, description="Already accepted: the same ticket")(view)
        return blp.response(201, schema, description="Accepted: a ticket was recorded")(view)

    return decorator
