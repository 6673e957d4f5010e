"""Builds settlement's object graph from settings; nothing is built at import time."""

from __future__ import annotations

from flask import Flask

from shared.follower import Follower
from shared.persistence import store_env
from shared.settings import Settings
from shared.transport import WHOLE, Slice, subscribe
from shared.transport.embedded import EmbeddedSubscription

from services.settlement.api import create_app
from services.settlement.application import Clock, SettlementApplication, utc_now
from services.settlement.outbox import PARTS
from services.settlement.policies import ledger_policy, stock_policy
from services.workflow.outbox import OUTBOX as WORKFLOW

# Warehouses' stock is read on every batch of the stock keeper, and grows an event per batch: a cache
# (kept current by reading only the newer events) spares replaying it. Ledgers are small.
CACHE = {"AGGREGATE_CACHE_MAXSIZE": "1000"}


def application(settings: Settings, clock: Clock = utc_now) -> SettlementApplication:
    return SettlementApplication(env={**store_env("settlement", settings), **CACHE}, clock=clock)


def web_app(settings: Settings | None = None) -> Flask:
    return create_app(application(settings or Settings.from_env()))


def follower(settings: Settings, part: Slice = WHOLE) -> Follower:
    app = application(settings)
    return Follower("settlement", app, ledger_policy(app.terms), subscribe("settlement", [WORKFLOW], settings, part))


def stock_keeper(settings: Settings, part: Slice = WHOLE) -> Follower | None:
    """Moves the stock as ledgers record parts: one process does it (slice 0), so each warehouse's
    movements stay in order; it reads settlement's own store whatever the transport."""
    if part.index != 0:
        return None
    return Follower("settlement-stock", application(settings), stock_policy, EmbeddedSubscription([PARTS], settings))
