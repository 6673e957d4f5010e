"""Builds workflow's object graph from settings; nothing is built at import time."""

from __future__ import annotations

import os

from flask import Flask

from shared.follower import Follower
from shared.persistence import store_env
from shared.settings import Settings
from shared.transport import WHOLE, Slice, subscribe

from services.intake.outbox import OUTBOX as INTAKE
from services.workflow.api import create_app
from services.workflow.application import WorkflowApplication
from services.workflow.assignment import Assigner
from services.workflow.dispatch.catalogue import strategies
from services.workflow.policies import ticket_policy


def assigner() -> Assigner:
    """Assignment strategies (round robin, least loaded, nearest …) plug in here by rule name."""
    return Assigner(default_handler=os.environ.get("SCRM_WORKFLOW_DEFAULT_HANDLER", "technician-1"),
                    strategies=strategies(saturation=float(os.environ.get("SCRM_WORKFLOW_SATURATION", "0.8")),
                                          skill_field=os.environ.get("SCRM_WORKFLOW_SKILL_FIELD", "skill")))


def application(settings: Settings) -> WorkflowApplication:
    return WorkflowApplication(assigner(), env=store_env("workflow", settings))


def web_app(settings: Settings | None = None) -> Flask:
    return create_app(application(settings or Settings.from_env()))


def follower(settings: Settings, part: Slice = WHOLE) -> Follower:
    app = application(settings)
    return Follower("workflow", app, ticket_policy(app.assigner, app.load), subscribe("workflow", [INTAKE], settings, part))
