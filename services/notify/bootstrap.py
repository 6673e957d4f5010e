"""Builds notify's object graph from settings; nothing is built at import time."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from eventsourcing.utils import get_topic
from flask import Flask

from shared.follower import Follower
from shared.persistence import store_env
from shared.secrets import SecretBox
from shared.settings import Settings
from shared.transport import WHOLE, Slice, subscribe

from services.intake.outbox import OUTBOX as INTAKE
from services.notify.api import create_app
from services.notify.application import NotifyApplication, utc_now
from services.notify.channels import Channel
from services.notify.channels.email import Email
from services.notify.channels.official_account import OfficialAccount
from services.notify.channels.sms import Sms
from services.notify.channels.tokens import TokenCache
from services.notify.channels.wecom import WeComApi, WeComApp, WeComExternal
from services.notify.config import NotifyConfig
from services.notify.kinds import EMAIL, OFFICIAL_ACCOUNT, SMS, WECOM, WECOM_EXTERNAL
from services.notify.policies import notify_policy
from services.notify.sending.pending import DELIVERY_EVENTS, OPT_OUT_EVENTS
from services.notify.sending.sender import OwnLog, Sender
from services.settlement.outbox import OUTBOX as SETTLEMENT
from services.workflow.outbox import OUTBOX as WORKFLOW


def application(settings: Settings, clock: Callable[[], datetime] = utc_now) -> NotifyApplication:
    return NotifyApplication(env=store_env("notify", settings), clock=clock)


def web_app(settings: Settings | None = None, clock: Callable[[], datetime] = utc_now) -> Flask:
    return create_app(application(settings or Settings.from_env(), clock), SecretBox.from_env())


def follower(settings: Settings, part: Slice = WHOLE, config: NotifyConfig | None = None) -> Follower:
    """Learns tickets, customers and staff from intake's, workflow's and settlement's public events, and
    records the deliveries they cause."""
    return Follower("notify", application(settings), notify_policy(config or NotifyConfig.from_env()),
                    subscribe("notify", [INTAKE, WORKFLOW, SETTLEMENT], settings, part))


def own_log(app: NotifyApplication) -> OwnLog:
    """How the sender reads notify's own log (its deliveries and opt-outs), after a position: the one
    place that knows, for when the outbox becomes a table of its own."""
    topics = [get_topic(cls) for cls in (*DELIVERY_EVENTS, *OPT_OUT_EVENTS)]

    def read(after: int, limit: int) -> tuple[int, list[Any]]:
        notifications = app.recorder.select_notifications(start=after, limit=limit, topics=topics,
                                                          inclusive_of_start=False)
        last = notifications[-1].id if notifications else after
        return last, [app.mapper.to_domain_event(n) for n in notifications]
    return read


def channels(config: NotifyConfig, clock: Callable[[], datetime]) -> dict[str, Channel]:
    """The channels whose provider is configured (the SMS gateway and the SMTP server are optional)."""
    tokens = TokenCache(clock)
    wecom = WeComApi(config.wecom_url, tokens, config.timeout)
    found: dict[str, Channel] = {WECOM: WeComApp(wecom), WECOM_EXTERNAL: WeComExternal(wecom),
                                 OFFICIAL_ACCOUNT: OfficialAccount(config.official_account_url, tokens, config.timeout)}
    if config.sms_url:
        found[SMS] = Sms(config.sms_url, config.timeout, config.sms_dedupes)
    if config.smtp_host:
        found[EMAIL] = Email(config.smtp_host, config.smtp_port, config.smtp_starttls, config.timeout,
                             config.smtp_ca_file)
    return found


def sender(settings: Settings, part: Slice = WHOLE, clock: Callable[[], datetime] = utc_now,
           config: NotifyConfig | None = None) -> Sender:
    """Sends due deliveries (the worker runs it beside the follower; each slice sends its own)."""
    config = config or NotifyConfig.from_env()
    app = application(settings, clock)
    return Sender(app, own_log(app), channels(config, clock), config, clock, SecretBox.from_env(), part)
