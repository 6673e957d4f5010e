"""Who does the work: technicians' cooperation mode, dealer or partner, home region, warehouse."""

from __future__ import annotations

from shared.restapi import Blueprint

from services.settlement.api.identity import finance
from services.settlement.api.schemas import TechnicianBody, Technicians, TechnicianView
from services.settlement.application import SettlementApplication
from services.settlement.domain.parties import Parties, Technician

BASE = "/v1/tenants/<tenant>/technicians"


def blueprint(settlement: SettlementApplication) -> Blueprint:
    blp = Blueprint("technicians", __name__, description="Technicians: cooperation mode, party, home region")

    @blp.route(BASE, methods=["GET"])
    @blp.response(200, Technicians)
    def technicians(tenant: str):
        """Every registered technician as they stand (finance, admin)"""
        finance()
        found = settlement.terms(tenant).parties
        return {"technicians": [t.to_dict() for t in found.latest("technician").values()]}

    @blp.route(BASE + "/<staff>", methods=["PUT"])
    @blp.arguments(TechnicianBody)
    @blp.response(200, TechnicianView)
    def save(body: dict, tenant: str, staff: str):
        """Register a technician or change how they work (finance, admin)"""
        by, effective = finance().staff, body.pop("effective_from")
        technician = Technician(staff=staff, **body)
        settlement.change_terms(Parties, tenant, lambda p, since: p.save(technician, since, by), effective)
        return technician.to_dict()

    return blp
