"""The example terms, to try settlement out (and for end-to-end tests): see services/settlement/examples.py."""

from __future__ import annotations

from shared.restapi import Blueprint

from services.settlement import examples
from services.settlement.api.identity import finance
from services.settlement.api.schemas import ExampleView
from services.settlement.application import SettlementApplication


def blueprint(settlement: SettlementApplication) -> Blueprint:
    blp = Blueprint("examples", __name__, description="Example terms to start from")

    @blp.route("/v1/tenants/<tenant>/examples", methods=["POST"])
    @blp.response(200, ExampleView)
    def load(tenant: str):
        """Load the example catalogue, regions, tiers, prices, payout rules and warehouses (finance, admin)"""
        return {"loaded": examples.load(settlement, tenant, finance().staff)}

    return blp
