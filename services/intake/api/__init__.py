"""Intake's HTTP adapter (flask-smorest, one Blueprint per resource): the H5 submissions and the chat
channels' callbacks; the REST API for the console and other systems (customers, opportunities, sidebar
tickets); the pages of published forms."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from collections.abc import Callable

from flask import Flask

from shared import restapi, web
from shared.deadline import Deadline
from shared.identity.guard import Identity
from shared.settings import Settings

from services.intake.api import audit, customers, readers, submissions, tickets
from services.intake.application import IntakeApplication
from services.intake.channels import callback
from services.intake.channels.official_account import OfficialAccountServer
from services.intake.channels.wecom import WeCom

if TYPE_CHECKING:
    from services.intake.forms.web import FormChannel

TITLE = "SCRM intake API"


def create_app(
    intake: IntakeApplication,
    identity: Identity,
    clock: Callable[[], float] = time.time,
    replay_window: float = callback.REPLAY_WINDOW,
    forms: FormChannel | None = None,
    deadline: float = Settings.request_deadline,
) -> Flask:
    """`deadline`: seconds a submission waits for the store before it is answered 503."""
    app = web.create_app("intake", TITLE, identity)
    readers.only_systems_and_administrators_read(app)
    Deadline(deadline).install(app)
    api = restapi.attach(app, TITLE)
    for channel in (WeCom(), OfficialAccountServer()):
        api.register_blueprint(callback.blueprint(intake, channel, clock, replay_window))
    if forms is not None:  # the pages of published templates (services/intake/forms)
        api.register_blueprint(forms.blueprint(intake))
    for resource in (submissions, customers, tickets):  # REST for the console and other systems
        api.register_blueprint(resource.blueprint(intake))
    api.register_blueprint(audit.blueprint(intake))
    return app
