"""Builds intake's object graph from settings; nothing is built at import time."""

from __future__ import annotations

import os

from flask import Flask

from shared.envelope import Envelope
from shared.eventstore import UnitOfWork
from shared.follower import Follower
from shared.persistence import store_env
from shared.settings import Settings
from shared.transport import WHOLE, Slice, subscribe

from services.intake.api import create_app
from services.intake.application import IntakeApplication
from services.intake.forms.policy import form_policy
from services.intake.forms.ratelimit import RateLimiter
from services.intake.forms.uploads import Uploads
from services.intake.forms.web import FormChannel
from services.intake.outbox import OUTBOX as INTAKE
from services.intake.policies import customer_policy
from services.workflow.outbox import OUTBOX as WORKFLOW


def application(settings: Settings) -> IntakeApplication:
    return IntakeApplication(env=store_env("intake", settings))


def web_app(settings: Settings | None = None) -> Flask:
    # How old a signed callback may be before it counts as a replay (seconds).
    replay_window = float(os.environ.get("SCRM_INTAKE_REPLAY_WINDOW", "300"))
    settings = settings or Settings.from_env()
    return create_app(application(settings), replay_window=replay_window, forms=form_channel(settings),
                      deadline=settings.request_deadline)


def form_channel(settings: Settings) -> FormChannel:
    """Uploads live under the data folder (on a shared volume when web processes run on several hosts).
    Each client may send `SCRM_H5_BURST` requests at once to one form, refilled at `SCRM_H5_PER_MINUTE`."""
    limiter = RateLimiter(per_minute=float(os.environ.get("SCRM_H5_PER_MINUTE", "30")),
                          burst=int(os.environ.get("SCRM_H5_BURST", "10")))
    return FormChannel(Uploads(settings.data_dir / "uploads"), limiter)


def follower(settings: Settings, part: Slice = WHOLE) -> Follower:
    """Intake learns the forms of the templates workflow publishes, and customers follow their
    tickets (intake's own ticket.created, workflow's opened / closed)."""
    learn_forms = form_policy()

    def policy(envelope: Envelope, uow: UnitOfWork) -> None:  # each minds its own event types
        learn_forms(envelope, uow)
        customer_policy(envelope, uow)

    return Follower("intake", application(settings), policy, subscribe("intake", [INTAKE, WORKFLOW], settings, part))
