"""The catalogue: service items (项目库) and spare parts (备件库)."""

from __future__ import annotations

from shared.restapi import Blueprint

from services.settlement.api.identity import caller, finance
from services.settlement.api.schemas import CatalogueView, ItemBody, ItemView
from services.settlement.application import SettlementApplication
from services.settlement.domain.catalogue import KINDS, Catalogue, Item

BASE = "/v1/tenants/<tenant>/catalogue"


def blueprint(settlement: SettlementApplication) -> Blueprint:
    blp = Blueprint("catalogue", __name__, description="Service items (项目库) and spare parts (备件库)")

    @blp.route(BASE, methods=["GET"])
    @blp.response(200, CatalogueView)
    def catalogue(tenant: str):
        """The codes handlers may record (any staff member)"""
        caller()
        found = settlement.terms(tenant).catalogue
        return {kind: [i.to_dict() for i in found.latest(kind).values()] for kind in KINDS}

    @blp.route(BASE + "/<any(part, labour):kind>/<code>", methods=["PUT"])
    @blp.arguments(ItemBody)
    @blp.response(200, ItemView)
    def save(body: dict, tenant: str, kind: str, code: str):
        """Add or change an item (finance, admin); workflow learns the code"""
        by = finance().staff
        item = Item(kind=kind, code=code, **body)
        settlement.change_terms(Catalogue, tenant, lambda c, since: c.save([item], since, by))
        return item.to_dict()

    @blp.route(BASE + "/<any(part, labour):kind>/<code>", methods=["DELETE"])
    @blp.response(204)
    def retire(tenant: str, kind: str, code: str):
        """Retire an item: refused from now on; work recorded before keeps it (finance, admin)"""
        by = finance().staff
        settlement.change_terms(Catalogue, tenant, lambda c, since: c.retire(kind, code, since, by))

    return blp
