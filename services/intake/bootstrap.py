"""Builds intake's object graph from settings; nothing is built at import time."""

from __future__ import annotations

import os

from flask import Flask

from shared.persistence import store_env
from shared.settings import Settings

from services.intake.api import create_app
from services.intake.application import IntakeApplication


def application(settings: Settings) -> IntakeApplication:
    return IntakeApplication(env=store_env("intake", settings))


def web_app(settings: Settings | None = None) -> Flask:
    # How old a signed callback may be before it counts as a replay (seconds).
    replay_window = float(os.environ.get("SCRM_INTAKE_REPLAY_WINDOW", "300"))
    return create_app(application(settings or Settings.from_env()), replay_window=replay_window)
