"""Workflow's HTTP adapter (flask-smorest, one Blueprint per resource): tickets and the staff actions on
them, templates, the staff directory, the read models (lists, kanban, my tickets, dashboard), and signing
in and API keys."""

from __future__ import annotations

from flask import Flask

from shared import restapi, web
from shared.identity.guard import Identity
from shared.ratelimit import RateLimiter

from services.workflow.api import queues, sessions, staff, templates, tickets, views
from services.workflow.application import WorkflowApplication
from services.workflow.tenancy import Tenancy

TITLE = "SCRM workflow API"
SIGN_IN_ATTEMPTS = RateLimiter(per_minute=5, burst=10)  # per tenant, staff id and address


def create_app(workflow: WorkflowApplication, identity: Identity, attempts: RateLimiter = SIGN_IN_ATTEMPTS) -> Flask:
    app = web.create_app("workflow", TITLE, identity)
    api = restapi.attach(app, TITLE)
    for resource in (tickets, templates, staff, views, queues):
        for blp in resource.blueprints(workflow):
            api.register_blueprint(blp)
    for blp in sessions.blueprints(Tenancy(workflow, identity.keys), attempts):
        api.register_blueprint(blp)
    return app
