"""Builds workflow's object graph from settings; nothing is built at import time."""

from __future__ import annotations

import os

from flask import Flask

from shared.follower import Follower, combined
from shared.identity.access import lookup_in
from shared.identity.guard import identity_for
from shared.persistence import store_env
from shared.readiness import service_checks
from shared.settings import Settings
from shared.slices import WHOLE, Slice
from shared.transport.configured import subscribe
from shared.web import ready_when

from services.workflow.api import create_app
from services.workflow.application import Clock, WorkflowApplication, utc_now
from services.workflow.assignment import Assigner
from services.workflow.codes import codes_policy
from services.workflow.conversation import conversation_policy
from services.workflow.customers import merges_policy
from services.workflow.dispatch.catalogue import strategies
from services.workflow.dispatch.sites import home_site_key
from services.workflow.policies import ticket_policy
from services.workflow.readmodels.projector import Projector
from services.workflow.readmodels.store import ViewStore
from services.workflow.sla.timers import TimerWorker


def assigner() -> Assigner:
    """Assignment strategies (round robin, least loaded, nearest …) plug in here by rule name."""
    return Assigner(
        strategies=strategies(
            saturation=float(os.environ.get("SCRM_WORKFLOW_SATURATION", "0.8")),
            skill_field=os.environ.get("SCRM_WORKFLOW_SKILL_FIELD", "skill"),
        ),
        site_of=home_site_key,
    )


def application(settings: Settings, clock: Clock = utc_now) -> WorkflowApplication:
    app = WorkflowApplication(assigner(), env=store_env("workflow", settings), clock=clock)
    if settings.create_tables:
        ViewStore(app.recorder.datastore).create_tables()
    return app


def projector(settings: Settings, slice_: Slice = WHOLE) -> Projector | None:
    """Keeps the read models up to date; one process does it (slice 0), the log is one stream."""
    return Projector(application(settings)) if slice_.index == 0 else None


def web_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = application(settings)
    web = create_app(app, identity_for(settings, lookup_in(app)), wecom_url=settings.wecom_url)
    return ready_when(web, *service_checks(app, settings))


def follower(settings: Settings, slice_: Slice = WHOLE) -> Follower:
    """Opens intake's tickets and keeps what their customers send about them and which customers were
    merged; learns the codes of settlement's catalogue."""
    app = application(settings)
    policy = combined(ticket_policy(app.assigner, app.load), codes_policy, conversation_policy, merges_policy)
    return Follower("workflow", app, policy, subscribe("workflow", ["intake", "settlement"], settings, slice_))


def timers(settings: Settings, slice_: Slice = WHOLE, clock: Clock = utc_now) -> TimerWorker:
    """Fires SLA timers (warnings, breaches, escalations) when due; several may run at once."""
    return TimerWorker(application(settings, clock), slice_)
