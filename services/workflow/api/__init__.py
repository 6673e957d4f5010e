"""Workflow's HTTP adapter: tickets and the staff actions on them, templates, the staff directory, and the
read models (lists, kanban, my tickets, dashboard)."""

from __future__ import annotations

from flask import Flask

from shared import web

from services.workflow.api import staff, templates, tickets, views
from services.workflow.application import WorkflowApplication


def create_app(workflow: WorkflowApplication) -> Flask:
    app = web.create_app("workflow", "SCRM workflow API")
    for routes in (tickets, templates, staff, views):
        routes.register(app, workflow)
    return app
