"""Settlement's HTTP adapter (flask-smorest): one blueprint per resource."""

from __future__ import annotations

from flask import Flask

from shared import audit, restapi, web
from shared.identity.guard import Identity

from services.settlement.api import catalogue, examples, parties, pricebook, regions, statements, stock, tickets
from services.settlement.application import SettlementApplication
from services.settlement.domain.terms import Terms

TITLE = "SCRM settlement API"


def create_app(settlement: SettlementApplication, identity: Identity) -> Flask:
    app = web.create_app("settlement", TITLE, identity)
    api = restapi.attach(app, TITLE)
    for resource in (tickets, statements, catalogue, pricebook, regions, parties, stock, examples):
        api.register_blueprint(resource.blueprint(settlement))
    api.register_blueprint(
        audit.blueprint(
            settlement,
            lambda tenant: {  # the terms: catalogue, price book …
                kind.__name__.lower(): kind.create_id(tenant) for kind in Terms.AGGREGATES
            },
        )
    )
    return app
