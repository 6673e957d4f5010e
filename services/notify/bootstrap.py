"""Builds notify's object graph from settings; nothing is built at import time."""

from __future__ import annotations

from datetime import datetime
from collections.abc import Callable

from flask import Flask

from shared.doorbell import listen
from shared.follower import Follower, combined
from shared.identity.access import access_policy, lookup_in
from shared.identity.guard import identity_for
from shared.ownlog import OwnEvents, own_events
from shared.persistence import store_env
from shared.readiness import service_checks
from shared.secrets import SecretBox
from shared.settings import Settings
from shared.slices import WHOLE, Slice
from shared.transport.configured import subscribe
from shared.web import ready_when

from services.notify.api import create_app
from services.notify.application import NotifyApplication, utc_now
from services.notify.audience import TicketAudience
from services.notify.channels import Channel
from services.notify.channels.email import Email
from services.notify.channels.official_account import OfficialAccount
from services.notify.channels.sms import Sms
from shared.accesstokens import TokenCache
from services.notify.channels.wecom import WeComApi, WeComApp, WeComExternal
from services.notify.config import NotifyConfig
from services.notify.kinds import EMAIL, OFFICIAL_ACCOUNT, SMS, WECOM, WECOM_EXTERNAL
from services.notify.policies import notify_policy
from services.notify.sending.pending import DELIVERY_EVENTS, OPT_OUT_EVENTS
from services.notify.sending.sender import Sender


def application(settings: Settings, clock: Callable[[], datetime] = utc_now) -> NotifyApplication:
    return NotifyApplication(env=store_env("notify", settings), clock=clock)


def web_app(settings: Settings | None = None, clock: Callable[[], datetime] = utc_now) -> Flask:
    settings = settings or Settings.from_env()
    app = application(settings, clock)
    web = create_app(app, identity_for(settings, lookup_in(app)), SecretBox.from_env())
    return ready_when(web, *service_checks(app, settings))


def follower(settings: Settings, slice_: Slice = WHOLE, config: NotifyConfig | None = None) -> Follower:
    """Learns tickets, customers and staff from intake's, workflow's and settlement's public events, and
    records the deliveries they cause; keeps its copy of which tenants exist and their API keys."""
    return Follower(
        "notify",
        application(settings),
        combined(access_policy, notify_policy(config or NotifyConfig.from_env())),
        subscribe("notify", ["intake", "workflow", "settlement"], settings, slice_),
        keeps=(TicketAudience,),  # a ticket's, written by the slice that has the ticket
    )


def own_log(app: NotifyApplication) -> OwnEvents:
    """How the sender reads notify's own log (its deliveries and opt-outs), after a position: the one
    place that knows, for when the outbox becomes a table of its own."""
    return own_events(app, (*DELIVERY_EVENTS, *OPT_OUT_EVENTS))


def channels(config: NotifyConfig, clock: Callable[[], datetime]) -> dict[str, Channel]:
    """The channels whose provider is configured (the SMS gateway and the SMTP server are optional)."""
    tokens = TokenCache(clock)
    wecom = WeComApi(config.wecom_url, tokens, config.timeout)
    found: dict[str, Channel] = {
        WECOM: WeComApp(wecom),
        WECOM_EXTERNAL: WeComExternal(wecom),
        OFFICIAL_ACCOUNT: OfficialAccount(config.official_account_url, tokens, config.timeout),
    }
    if config.sms_url:
        found[SMS] = Sms(config.sms_url, config.timeout, config.sms_dedupes)
    if config.smtp_host:
        found[EMAIL] = Email(
            config.smtp_host, config.smtp_port, config.smtp_starttls, config.timeout, config.smtp_ca_file
        )
    return found


def sender(
    settings: Settings,
    slice_: Slice = WHOLE,
    clock: Callable[[], datetime] = utc_now,
    config: NotifyConfig | None = None,
) -> Sender:
    """Sends due deliveries (the worker runs it beside the follower; each slice sends its own)."""
    config = config or NotifyConfig.from_env()
    app = application(settings, clock)
    return Sender(
        app,
        own_log(app),
        channels(config, clock),
        config,
        clock,
        SecretBox.from_env(),
        slice_,
        doorbell=listen([app], settings.wake_on_commit, settings.wake_gap),
    )
