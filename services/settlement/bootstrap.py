"""Builds settlement's object graph from settings; nothing is built at import time."""

from __future__ import annotations

from flask import Flask

from shared.follower import Follower, combined
from shared.identity.access import access_policy, lookup_in
from shared.identity.guard import identity_for
from shared.persistence import store_env
from shared.settings import Settings
from shared.slices import WHOLE, Slice
from shared.transport import subscribe

from services.settlement.api import create_app
from services.settlement.application import SettlementApplication
from services.settlement.domain import BUILT_IN
from services.settlement.policies import settlement_policy


def application(settings: Settings) -> SettlementApplication:
    return SettlementApplication(BUILT_IN, env=store_env("settlement", settings))


def web_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = application(settings)
    return create_app(app, identity_for(settings, lookup_in(app)))


def follower(settings: Settings, slice_: Slice = WHOLE) -> Follower:
    app = application(settings)
    return Follower("settlement", app, combined(access_policy, settlement_policy(app.book)),
                    subscribe("settlement", ["workflow"], settings, slice_))
