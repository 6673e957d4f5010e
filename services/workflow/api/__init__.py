"""Workflow's HTTP adapter: tickets and the staff actions on them, templates, the staff directory, the
read models (lists, kanban, my tickets, dashboard), and signing in and API keys."""

from __future__ import annotations

from flask import Flask

from shared import web

from shared.identity.guard import Identity
from shared.ratelimit import RateLimiter

from services.workflow.api import audit, sessions, staff, templates, tickets, views
from services.workflow.application import WorkflowApplication
from services.workflow.tenancy import Tenancy

SIGN_IN_ATTEMPTS = RateLimiter(per_minute=5, burst=10)  # per tenant, staff id and address


def create_app(workflow: WorkflowApplication, identity: Identity, attempts: RateLimiter = SIGN_IN_ATTEMPTS) -> Flask:
    app = web.create_app("workflow", "SCRM workflow API", identity)
    for routes in (tickets, templates, staff, views, audit):
        routes.register(app, workflow)
    sessions.register(app, Tenancy(workflow, identity.keys), attempts)
    return app
