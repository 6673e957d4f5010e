"""How workflow reacts to other services' events. Pure: it only collects new events."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from collections.abc import Callable
from weakref import WeakKeyDictionary

from shared.contracts import DEFAULT_TEMPLATE
from shared.envelope import Envelope
from shared.errors import Invalid
from shared.eventstore import UnitOfWork

from services.workflow.assignment import Assigner
from services.workflow.dispatch.load import Load
from services.workflow.domain import NOBODY, Ticket
from services.workflow.library import choose, default_template, library_id
from services.workflow.staff import directory_id


def ticket_policy(assigner: Assigner, load: Callable[[str], Load]):
    """`load` gives a tenant's committed load; tickets opened earlier in the same batch are not
    committed yet, so each batch (unit of work) keeps one assigner per tenant that counts them too."""
    default = default_template()
    batches: WeakKeyDictionary[UnitOfWork, dict[str, Assigner]] = WeakKeyDictionary()

    def assigner_for(uow: UnitOfWork, envelope: Envelope) -> Assigner:
        tenants = batches.setdefault(uow, {})
        if envelope.tenant not in tenants:
            tenants[envelope.tenant] = assigner.seeing(load(envelope.tenant), envelope.time)
        # Who is on duty is decided at the time the request came in, the same on any replay; the
        # batch's load goes on from one ticket to the next.
        tenants[envelope.tenant] = replace(tenants[envelope.tenant], now=envelope.time)
        return tenants[envelope.tenant]

    def policy(envelope: Envelope, uow: UnitOfWork) -> None:
        if envelope.type != "ticket.created" or uow.exists(envelope.subject):
            return
        data, tenant = envelope.data, envelope.tenant
        key, region = data.get("template", DEFAULT_TEMPLATE), data.get("region")
        # The default template needs no template look-up nor load (its handler is a pool); the staff
        # directory says whether anyone is in the pool (once per batch: the unit of work keeps it).
        custom = key != DEFAULT_TEMPLATE
        template = choose(uow.get(library_id(tenant)) if custom else None, key, region, default)
        staff = uow.get(directory_id(tenant))
        chosen = assigner if template is default else assigner_for(uow, envelope)

        def open_(values: dict[str, Any]) -> Ticket:
            return Ticket.open(
                envelope.subject,
                tenant,
                template,
                customer=customer,
                description=data["description"],
                channel=data["channel"],
                assigner=chosen,
                staff=staff.directory if staff else NOBODY,
                region=region,
                values=values,
                now=envelope.time,
            )

        # Intake's id for the customer goes with what the channel said of them: lists find their tickets by
        # it, and by the id of whoever they are merged into later (customers.py).
        customer = {**data["customer"], **({"customer_id": data["customer_id"]} if data.get("customer_id") else {})}
        values = data.get("values") or {}
        try:
            uow.add(open_(values))
        except Invalid as refused:
            # Intake checked the values against the version it knew; one published since (or a regional
            # variant) may refuse some. The ticket opens anyway, with the rest: handlers fill in the others.
            bad = refused.details.get("errors", {})
            uow.add(open_({k: v for k, v in values.items() if k not in bad}))

    return policy
