"""Workflow's HTTP adapter (flask-smorest, one Blueprint per resource): tickets and the staff actions on
them, templates, the staff directory, the read models (lists, kanban, my tickets, dashboard), and signing
in and API keys."""

from __future__ import annotations

from flask import Flask, g

from shared import restapi, web
from shared.accesstokens import TokenCache
from shared.identity.guard import Identity
from shared.ratelimit import RateLimiter
from shared.secrets import SecretBox
from shared.settings import Settings

from services.workflow.api import audit, lists, queues, sessions, staff, templates, tickets, wecom_sessions
from services.workflow.application import WorkflowApplication, utc_now
from services.workflow.tenancy import Tenancy
from services.workflow.wecom_sign_in import WeComOAuth, WeComSignIn

TITLE = "SCRM workflow API"
SIGN_IN_ATTEMPTS = RateLimiter(per_minute=5, burst=10)  # per tenant, staff id and address


def create_app(
    workflow: WorkflowApplication,
    identity: Identity,
    attempts: RateLimiter = SIGN_IN_ATTEMPTS,
    wecom_url: str = Settings.wecom_url,
    secrets: SecretBox | None = None,
) -> Flask:
    """`wecom_url`: where WeCom sign-in codes are exchanged; `secrets` seal the tenants' WeCom app secrets."""
    app = web.create_app("workflow", TITLE, identity)
    pin_the_log(app, workflow)
    api = restapi.attach(app, TITLE)
    for resource in (tickets, templates, staff, lists, queues):
        for blp in resource.blueprints(workflow):
            api.register_blueprint(blp)
    tenancy = Tenancy(workflow, identity.keys)
    for blp in sessions.blueprints(tenancy, attempts):
        api.register_blueprint(blp)
    box = secrets or SecretBox.from_env()
    api.register_blueprint(
        wecom_sessions.blueprint(WeComSignIn(tenancy, WeComOAuth(wecom_url, TokenCache(utc_now)), box.open), box)
    )
    api.register_blueprint(audit.blueprint(workflow))
    return app


def pin_the_log(app: Flask, workflow: WorkflowApplication) -> None:
    """A request reads workflow's log once, first thing: its credentials check, what it does and its
    answer all see the tenant's set-up as of then (services/workflow/logview.py)."""

    def pin() -> None:
        g.log_pin = workflow.log_view.pinned()
        g.log_pin.__enter__()

    def unpin(_: BaseException | None) -> None:
        if "log_pin" in g:
            g.pop("log_pin").__exit__(None, None, None)

    app.before_request_funcs.setdefault(None, []).insert(0, pin)
    app.teardown_request(unpin)
