"""Builds settlement's object graph from settings; nothing is built at import time."""

from __future__ import annotations

from flask import Flask

from shared.doorbell import listen
from shared.follower import Follower, combined
from shared.identity.access import access_policy, lookup_in
from shared.identity.guard import identity_for
from shared.persistence import store_env
from shared.readiness import service_checks
from shared.settings import Settings
from shared.ownlog import OwnLogSubscription
from shared.slices import WHOLE, Slice
from shared.transport.configured import subscribe
from shared.web import ready_when

from services.settlement.api import create_app
from services.settlement.application import Clock, SettlementApplication, utc_now
from services.settlement.domain.ledger import Ledger
from services.settlement.outbox import PARTS
from services.settlement.policies import ledger_policy, stock_policy

# Warehouses' stock is read on every batch of the stock keeper, and grows an event per batch: a cache
# (kept current by reading only the newer events) spares replaying it. Ledgers are small.
CACHE = {"AGGREGATE_CACHE_MAXSIZE": "1000"}


def application(settings: Settings, clock: Clock = utc_now) -> SettlementApplication:
    return SettlementApplication(env={**store_env("settlement", settings), **CACHE}, clock=clock)


def web_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = application(settings)
    web = create_app(app, identity_for(settings, lookup_in(app)))
    return ready_when(web, *service_checks(app, settings))


def follower(settings: Settings, slice_: Slice = WHOLE) -> Follower:
    app = application(settings)
    return Follower(
        "settlement",
        app,
        combined(access_policy, ledger_policy(app.terms)),
        subscribe("settlement", ["workflow"], settings, slice_),
        keeps=(Ledger,),  # a ticket's, written by the slice that has the ticket
    )


def stock_keeper(settings: Settings, slice_: Slice = WHOLE) -> Follower | None:
    """Moves the stock as ledgers record parts: one process does it (slice 0), so each warehouse's
    movements stay in order; it reads settlement's own store whatever the transport."""
    if slice_.index != 0:
        return None
    app = application(settings)
    doorbell = listen([app], settings.wake_on_commit, settings.wake_gap)
    return Follower("settlement-stock", app, stock_policy, OwnLogSubscription(app, PARTS, doorbell=doorbell))
