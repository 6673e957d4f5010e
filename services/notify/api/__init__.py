"""Notify's HTTP API (flask-smorest, one Blueprint per resource): deliveries per ticket, dead letters,
the tenant's set-up (rules, message templates, quiet hours, links, pool groups), provider accounts
and opt-outs."""

from __future__ import annotations

from flask import Flask

from shared import audit, web
from shared.identity.guard import Identity
from shared.restapi import attach
from shared.secrets import SecretBox

from services.notify.api import dead_letters, deliveries, opt_outs, providers, setup
from services.notify.application import NotifyApplication
from services.notify.providers import providers_id
from services.notify.setup import setup_id


def create_app(notify: NotifyApplication, identity: Identity, secrets: SecretBox) -> Flask:
    app = web.create_app("notify", "SCRM notify API", identity)
    app.extensions["notify"] = notify
    app.extensions["secrets"] = secrets
    api = attach(app, "SCRM notify API")
    for module in (deliveries, dead_letters, setup, providers, opt_outs):
        api.register_blueprint(module.blp)
    api.register_blueprint(
        audit.blueprint(notify, lambda tenant: {"setup": setup_id(tenant), "providers": providers_id(tenant)})
    )
    return app
