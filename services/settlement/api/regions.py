"""Regions (currency, tax), warehouses, exchange rates and cost rules. Finance and admin only."""

from __future__ import annotations

from datetime import datetime
from collections.abc import Callable

from shared.restapi import Blueprint

from services.settlement.api.identity import finance
from services.settlement.api.schemas import (
    At,
    CostRulesBody,
    RateBody,
    RegionBody,
    RegionsView,
    RegionView,
    WarehouseBody,
    WarehouseView,
)
from services.settlement.application import SettlementApplication
from services.settlement.domain.regions import CostRules, Region, Regions, Warehouse

BASE = "/v1/tenants/<tenant>"


def blueprint(settlement: SettlementApplication) -> Blueprint:
    blp = Blueprint("regions", __name__, description="Regions, warehouses, exchange rates and cost rules")

    def save(tenant: str, body: dict, how: Callable[[Regions, datetime, str], None]) -> None:
        by = finance().staff
        settlement.change_terms(Regions, tenant, lambda regions, since: how(regions, since, by), body["effective_from"])

    @blp.route(BASE + "/regions", methods=["GET"])
    @blp.arguments(At, location="query")
    @blp.response(200, RegionsView)
    def regions(query: dict, tenant: str):
        """Regions, warehouses, exchange rates and cost rules in force at an instant (default now)"""
        finance()
        at = query["at"] or settlement.clock()
        found = settlement.terms(tenant).regions
        return {
            "at": at.isoformat(),
            "regions": [r.to_dict() for r in found.in_force("region", at).values()],
            "warehouses": [w.to_dict() for w in found.in_force("warehouse", at).values()],
            "rates": [{"pair": pair, "rate": rate} for pair, rate in found.in_force("rate", at).items()],
            "cost_rules": found.cost_rules(at).bearers,
        }

    @blp.route(BASE + "/regions/<code>", methods=["PUT"])
    @blp.arguments(RegionBody)
    @blp.response(200, RegionView)
    def save_region(body: dict, tenant: str, code: str):
        """Define or change a region (its currency stays what it was first set to)"""
        finance()
        fields = {k: v for k, v in body.items() if k != "effective_from"}
        region = Region(code=code, **{**fields, "covers": tuple(body["covers"])})
        save(tenant, body, lambda r, since, by: r.save_region(region, since, by))
        return region.to_dict()

    @blp.route(BASE + "/warehouses/<warehouse>", methods=["PUT"])
    @blp.arguments(WarehouseBody)
    @blp.response(200, WarehouseView)
    def save_warehouse(body: dict, tenant: str, warehouse: str):
        """Define or change a warehouse: where it is"""
        finance()
        defined = Warehouse(code=warehouse, name=body["name"], region=body["region"], main=body["main"])
        save(tenant, body, lambda r, since, by: r.save_warehouse(defined, since, by))
        return defined.to_dict()

    @blp.route(BASE + "/exchange-rates", methods=["POST"])
    @blp.arguments(RateBody)
    @blp.response(200, RateBody)
    def set_rate(body: dict, tenant: str):
        """What one unit of `base` is worth in `quote` from an instant on"""
        save(tenant, body, lambda r, since, by: r.set_rate(body["base"], body["quote"], body["rate"], since, by))
        return body

    @blp.route(BASE + "/cost-rules", methods=["PUT"])
    @blp.arguments(CostRulesBody)
    @blp.response(200, CostRulesBody)
    def set_cost_rules(body: dict, tenant: str):
        """Whose region bears the cost of labour and of parts: the ticket's, the technician's, the warehouse's"""
        rules = CostRules({"labour": body["labour"], "part": body["part"]})
        save(tenant, body, lambda r, since, by: r.set_cost_rules(rules, since, by))
        return body

    return blp
