"""Workflow's HTTP adapter: tickets and the staff actions on them, templates, the staff directory, the
read models (lists, kanban, my tickets, dashboard), and signing in and API keys."""

from __future__ import annotations

from flask import Flask

from shared import web

from shared.accesstokens import TokenCache
from shared.identity.guard import Identity
from shared.ratelimit import RateLimiter
from shared.secrets import SecretBox
from shared.settings import Settings

from services.workflow.api import audit, sessions, staff, templates, tickets, views, wecom_sessions
from services.workflow.application import WorkflowApplication, utc_now
from services.workflow.tenancy import Tenancy
from services.workflow.wecom_sign_in import WeComOAuth, WeComSignIn

SIGN_IN_ATTEMPTS = RateLimiter(per_minute=5, burst=10)  # per tenant, staff id and address


def create_app(workflow: WorkflowApplication, identity: Identity, attempts: RateLimiter = SIGN_IN_ATTEMPTS,
               wecom_url: str = Settings.wecom_url, secrets: SecretBox | None = None) -> Flask:
    """`wecom_url`: where WeCom sign-in codes are exchanged; `secrets` seal the tenants' WeCom app secrets."""
    app = web.create_app("workflow", "SCRM workflow API", identity)
    for routes in (tickets, templates, staff, views, audit):
        routes.register(app, workflow)
    tenancy = Tenancy(workflow, identity.keys)
    sessions.register(app, tenancy, attempts)
    box = secrets or SecretBox.from_env()
    wecom = WeComSignIn(tenancy, WeComOAuth(wecom_url, TokenCache(utc_now)), box.open)
    wecom_sessions.register(app, wecom, box)
    return app
