"""Deliveries per ticket: who was told what, on which channel, and every step of it."""

from uuid import UUID

from shared.restapi import Blueprint

from services.notify.api.caller import caller, notify, theirs
from services.notify.api.schemas import DeliveriesView

blp = Blueprint("deliveries", __name__, url_prefix="/v1/tenants/<tenant>", description="Deliveries per ticket")


@blp.route("/tickets/<uuid:ticket_id>/deliveries")
@blp.response(200, DeliveriesView)
def deliveries(tenant: str, ticket_id: UUID):
    """The deliveries a ticket caused, with their events (requested, deferred, sent, failed, …); a staff
    member who is no administrator sees those to them"""
    caller(tenant)
    return {"deliveries": theirs(notify().deliveries(tenant, ticket_id))}
