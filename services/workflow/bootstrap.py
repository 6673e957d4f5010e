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
from services.workflow.application import Clock, WorkflowApplication, utc_now
from services.workflow.assignment import Assigner
from services.workflow.policies import ticket_policy
from services.workflow.sla.timers import TimerWorker


def assigner() -> Assigner:
    """Assignment strategies (round robin, least loaded, nearest …) plug in here by rule name."""
    return Assigner(default_handler=os.environ.get("SCRM_WORKFLOW_DEFAULT_HANDLER", "technician-1"))


def application(settings: Settings, clock: Clock = utc_now) -> WorkflowApplication:
    return WorkflowApplication(assigner(), env=store_env("workflow", settings), clock=clock)


def web_app(settings: Settings | None = None) -> Flask:
    return create_app(application(settings or Settings.from_env()))


def follower(settings: Settings, part: Slice = WHOLE) -> Follower:
    app = application(settings)
    return Follower("workflow", app, ticket_policy(app.assigner), subscribe("workflow", [INTAKE], settings, part))


def timers(settings: Settings, part: Slice = WHOLE, clock: Clock = utc_now) -> TimerWorker:
    """Fires SLA timers (warnings, breaches, escalations) when due; several may run at once."""
    return TimerWorker(application(settings, clock), part)
