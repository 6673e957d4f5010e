"""Builds intake's object graph from settings; nothing is built at import time."""

from __future__ import annotations

from flask import Flask

from shared.persistence import store_env
from shared.settings import Settings

from services.intake.api import create_app
from services.intake.application import IntakeApplication


def application(settings: Settings) -> IntakeApplication:
    return IntakeApplication(env=store_env("intake", settings))


def web_app(settings: Settings | None = None) -> Flask:
    return create_app(application(settings or Settings.from_env()))
