"""Builds notify's object graph from settings; nothing is built at import time."""

from __future__ import annotations

from flask import Flask

from shared.follower import Follower, combined
from shared.identity.access import access_policy, lookup_in
from shared.identity.guard import identity_for
from shared.persistence import store_env
from shared.settings import Settings
from shared.ownlog import OwnLogSubscription
from shared.slices import WHOLE, Slice
from shared.transport import subscribe

from services.notify.api import create_app
from services.notify.application import NotifyApplication
from services.notify.channels.outbox_file import OutboxFileChannel
from services.notify.dispatcher import dispatch
from services.notify.outbox import REQUESTS
from services.notify.policies import STAFF_CHANNEL, notify_policy


def application(settings: Settings) -> NotifyApplication:
    return NotifyApplication(env=store_env("notify", settings))


def web_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = application(settings)
    return create_app(app, identity_for(settings, lookup_in(app)))


def follower(settings: Settings, slice_: Slice = WHOLE) -> Follower:
    return Follower("notify", application(settings), combined(access_policy, notify_policy),
                    subscribe("notify", ["workflow"], settings, slice_))


def dispatcher(settings: Settings, slice_: Slice = WHOLE) -> Follower:
    """Follows notify's own requests, whatever the transport: they never leave notify."""
    channels = {STAFF_CHANNEL: OutboxFileChannel(settings.data_dir / "outbox")}
    app = application(settings)
    return Follower("notify-dispatch", app, dispatch(channels), OwnLogSubscription(app, REQUESTS, slice_))
