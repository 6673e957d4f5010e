"""Stock per warehouse: levels, thresholds, receipts, and the parts moved on tickets. Finance and admin."""

from __future__ import annotations

from shared.restapi import Blueprint

from services.settlement.api.identity import finance
from services.settlement.api.schemas import Movements, MovementsQuery, ReceiptBody, StockView, ThresholdBody
from services.settlement.application import SettlementApplication

BASE = "/v1/tenants/<tenant>/warehouses/<warehouse>"


def blueprint(settlement: SettlementApplication) -> Blueprint:
    blp = Blueprint("stock", __name__, description="Stock per warehouse (库存)")

    @blp.route(BASE + "/stock", methods=["GET"])
    @blp.response(200, StockView)
    def stock(tenant: str, warehouse: str):
        """Each part's level and threshold, and whether it is low"""
        finance()
        return settlement.stock(tenant, warehouse).view()

    @blp.route(BASE + "/receipts", methods=["POST"])
    @blp.arguments(ReceiptBody)
    @blp.response(200, StockView)
    def receive(body: dict, tenant: str, warehouse: str):
        """Parts received into the warehouse (a receipt id counts once)"""
        by = finance().staff
        items = [(i["code"], i["quantity"]) for i in body["items"]]
        return settlement.receive(tenant, warehouse, body["receipt_id"], items, by).view()

    @blp.route(BASE + "/thresholds/<code>", methods=["PUT"])
    @blp.arguments(ThresholdBody)
    @blp.response(200, StockView)
    def set_threshold(body: dict, tenant: str, warehouse: str, code: str):
        """Below the threshold a procurement request (settlement.stock_low) goes out, once per crossing"""
        by = finance().staff
        return settlement.change_stock(tenant, warehouse, lambda s: s.set_threshold(code, body["threshold"], by)).view()

    @blp.route(BASE + "/movements", methods=["GET"])
    @blp.arguments(MovementsQuery, location="query")
    @blp.response(200, Movements)
    def movements(query: dict, tenant: str, warehouse: str):
        """Parts consumed and returned on tickets, with the level after each (flagged when short of stock)"""
        finance()
        return {"movements": settlement.movements(tenant, warehouse, short_only=query["short"])}

    return blp
