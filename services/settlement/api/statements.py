"""Statements for a period (对账单) per technician, party or region: JSON, CSV or XLSX."""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Response

from shared.errors import Invalid
from shared.restapi import Blueprint

from services.settlement.api.identity import earnings_of, finance
from services.settlement.api.schemas import PeriodQuery, PeriodView
from services.settlement.application import SettlementApplication
from services.settlement.export import CONTENT_TYPES, export

BASE = "/v1/tenants/<tenant>/statements/<any(technician, party, region):view>/<who>"


def blueprint(settlement: SettlementApplication) -> Blueprint:
    blp = Blueprint("statements", __name__, description="Statements for a period (对账单)")

    @blp.route(BASE, methods=["GET"])
    @blp.arguments(PeriodQuery, location="query")
    @blp.response(200, PeriodView)
    @blp.alt_response(200, description="format=csv: UTF-8 with a BOM", content_type=CONTENT_TYPES["csv"], success=True)
    @blp.alt_response(200, description="format=xlsx", content_type=CONTENT_TYPES["xlsx"], success=True)
    def period(query: dict, tenant: str, view: str, who: str):
        """Every line and adjustment of the statements and reversals issued in the period, traceable to its
        ticket and the event behind it; a technician may ask for their own, finance for anyone's"""
        if view == "technician":
            earnings_of(who)
        else:
            finance()
        zone = _zone(query["zone"])
        start, end = (datetime.combine(day, time(), zone) for day in (query["from_"], query["to"]))
        found = settlement.period(tenant, view, who, start, end, query["currency"])
        if query["format"] == "json":
            return found
        name = f"{tenant}-{view}-{who}-{query['from_']}-{query['to']}.{query['format']}"
        return Response(
            export(found, query["format"]),
            content_type=CONTENT_TYPES[query["format"]],
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}"},
        )

    return blp


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"unknown time zone {name!r}", zone=name) from None
