"""Builds intake's object graph from settings; nothing is built at import time."""

from __future__ import annotations

import os

from flask import Flask

from shared.follower import Follower
from shared.persistence import store_env
from shared.settings import Settings
from shared.transport import WHOLE, Slice, subscribe

from services.intake.api import create_app
from services.intake.application import IntakeApplication
from services.intake.outbox import OUTBOX as INTAKE
from services.intake.policies import customer_policy
from services.workflow.outbox import OUTBOX as WORKFLOW


def application(settings: Settings) -> IntakeApplication:
    return IntakeApplication(env=store_env("intake", settings))


def web_app(settings: Settings | None = None) -> Flask:
    # How old a signed callback may be before it counts as a replay (seconds).
    replay_window = float(os.environ.get("SCRM_INTAKE_REPLAY_WINDOW", "300"))
    return create_app(application(settings or Settings.from_env()), replay_window=replay_window)


def follower(settings: Settings, part: Slice = WHOLE) -> Follower:
    """Customers follow their tickets: intake's own ticket.created, workflow's opened / closed."""
    return Follower("intake", application(settings), customer_policy,
                    subscribe("intake", [INTAKE, WORKFLOW], settings, part))
