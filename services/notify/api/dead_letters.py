"""Dead letters: deliveries nothing more will be tried for, until an operator re-drives them."""

from uuid import UUID

from shared.restapi import Blueprint

from services.notify.api.caller import administrator, caller, notify, theirs
from services.notify.api.schemas import DeliveriesView, DeliveryView

blp = Blueprint(
    "dead_letters",
    __name__,
    url_prefix="/v1/tenants/<tenant>/notify/dead-letters",
    description="Deliveries that failed for good",
)


@blp.route("")
@blp.response(200, DeliveriesView)
def dead_letters(tenant: str):
    """The tenant's dead letters, with why each failed; a staff member who is no administrator sees those
    to them"""
    caller(tenant)
    return {"deliveries": theirs([d.to_dict() for d in notify().dead_letters(tenant)])}


@blp.route("/<uuid:delivery_id>/retry", methods=["POST"])
@blp.response(200, DeliveryView)
def retry(tenant: str, delivery_id: UUID):
    """Try a dead letter again (a fresh round of attempts), after its cause is fixed"""
    return notify().redrive(tenant, delivery_id, administrator(tenant)).to_dict()
