"""Builds intake's object graph from settings; nothing is built at import time."""

from __future__ import annotations

import os

from flask import Flask

from shared.follower import Follower, combined
from shared.identity.access import access_policy, lookup_in
from shared.identity.guard import identity_for
from shared.persistence import store_env
from shared.ratelimit import RateLimiter
from shared.readiness import service_checks
from shared.settings import Settings
from shared.slices import WHOLE, Slice
from shared.transport.configured import subscribe
from shared.web import ready_when

from services.intake.api import create_app
from services.intake.application import IntakeApplication
from services.intake.forms.policy import form_policy
from services.intake.forms.uploads import Uploads
from services.intake.forms.web import FormChannel
from services.intake.policies import customer_policy


# A customer keeps every ticket of theirs, and a chat message (a WeCom callback) or a ticket's status
# reads the customer: replayed from all its events each time, a returning customer's cost grew with
# their history (bench/wecom_callbacks.py, py-spy). Cached, it reads only the newer events.
CACHE = {"AGGREGATE_CACHE_MAXSIZE": "1000"}


def application(settings: Settings) -> IntakeApplication:
    return IntakeApplication(env={**store_env("intake", settings), **CACHE})


def web_app(settings: Settings | None = None) -> Flask:
    # How old a signed callback may be before it counts as a replay (seconds).
    replay_window = float(os.environ.get("SCRM_INTAKE_REPLAY_WINDOW", "300"))
    settings = settings or Settings.from_env()
    app = application(settings)
    web = create_app(
        app,
        identity_for(settings, lookup_in(app)),
        replay_window=replay_window,
        forms=form_channel(settings),
        deadline=settings.request_deadline,
    )
    return ready_when(web, *service_checks(app, settings))


def form_channel(settings: Settings) -> FormChannel:
    """Uploads live under the data folder (on a shared volume when web processes run on several hosts).
    Each client may send `SCRM_H5_BURST` requests at once to one form, refilled at `SCRM_H5_PER_MINUTE`."""
    limiter = RateLimiter(
        per_minute=float(os.environ.get("SCRM_H5_PER_MINUTE", "30")), burst=int(os.environ.get("SCRM_H5_BURST", "10"))
    )
    return FormChannel(Uploads(settings.data_dir / "uploads"), limiter)


def follower(settings: Settings, slice_: Slice = WHOLE) -> Follower:
    """Intake learns the forms of the templates workflow publishes, customers follow their tickets
    (intake's own ticket.created, workflow's opened / closed), and it keeps its copy of which tenants
    exist and their API keys."""
    return Follower(
        "intake",
        application(settings),
        combined(access_policy, form_policy(), customer_policy),
        subscribe("intake", ["intake", "workflow"], settings, slice_),
    )
