"""A tenant's channel settings: the credentials its WeCom app and official account sign and
encrypt with, and the routes from a keyword or menu key to a template. No I/O here.

One aggregate per tenant, its id derived from the tenant name: configuring a tenant twice
from two terminals cannot create two of them.
"""

from __future__ import annotations

import re
from base64 import b64decode
from binascii import Error as Base64Error
from dataclasses import dataclass
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.contracts import DEFAULT_TEMPLATE
from shared.errors import Invalid

_SETTINGS_IDS = UUID("5d0f8e43-2b1c-4c7e-9a55-6a1f3d2e9b70")
CHANNELS = ("wecom", "mp")  # the WeCom self-built app, the official account (公众号)
TRIGGERS = ("keyword", "menu")
MODES = ("plain", "safe")  # official-account message encryption: none, or AES (安全模式)
_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")  # what both admin consoles accept
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # template keys


def settings_id(tenant: str) -> UUID:
    return uuid5(_SETTINGS_IDS, tenant)


@dataclass(frozen=True)
class WeComApp:
    token: str
    aes_key: str
    corp_id: str
    agent_id: str


@dataclass(frozen=True)
class OfficialAccount:
    app_id: str
    token: str
    aes_key: str | None  # only safe mode needs it
    mode: str
    account: str | None  # the 原始ID (gh_...) messages are addressed to, when known


@dataclass(frozen=True)
class Routed:
    template: str
    by: str  # keyword | menu | default
    key: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {"by": self.by, **({"key": self.key} if self.key else {})}


class ChannelSettings(Aggregate):
    @staticmethod
    def create_id(tenant: str) -> UUID:
        return settings_id(tenant)

    @event("Created")
    def __init__(self, tenant: str):
        self.tenant = tenant
        self.wecom: WeComApp | None = None
        self.official_account: OfficialAccount | None = None
        self.routes: dict[tuple[str, str, str], str] = {}  # (channel, trigger, key) -> template
        self.default_template = DEFAULT_TEMPLATE

    def configure_wecom(self, token: str, aes_key: str, corp_id: str, agent_id: str) -> None:
        _check_token(token)
        _check_aes_key(aes_key)
        if not corp_id or not str(agent_id).isdigit():
            raise Invalid("give the CorpID and the app's numeric AgentID")
        self._wecom_configured(token=token, aes_key=aes_key, corp_id=corp_id, agent_id=str(agent_id))

    @event("WeComConfigured")
    def _wecom_configured(self, token: str, aes_key: str, corp_id: str, agent_id: str) -> None:
        self.wecom = WeComApp(token, aes_key, corp_id, agent_id)

    def configure_official_account(self, app_id: str, token: str, aes_key: str | None, mode: str,
                                   account: str | None = None) -> None:
        _check_token(token)
        if mode not in MODES:
            raise Invalid(f"mode is one of {', '.join(MODES)}")
        if mode == "safe" or aes_key:
            _check_aes_key(aes_key or "")
        if not app_id:
            raise Invalid("give the official account's AppID")
        self._official_account_configured(app_id=app_id, token=token, aes_key=aes_key or None, mode=mode,
                                          account=account or None)

    @event("OfficialAccountConfigured")
    def _official_account_configured(self, app_id: str, token: str, aes_key: str | None, mode: str,
                                     account: str | None) -> None:
        self.official_account = OfficialAccount(app_id, token, aes_key, mode, account)

    def set_route(self, channel: str, trigger: str, key: str, template: str) -> None:
        _check_route(channel, trigger, key)
        _check_template(template)
        self._route_set(channel=channel, trigger=trigger, key=key, template=template)

    @event("RouteSet")
    def _route_set(self, channel: str, trigger: str, key: str, template: str) -> None:
        self.routes[(channel, trigger, key)] = template

    def remove_route(self, channel: str, trigger: str, key: str) -> None:
        if (channel, trigger, key) not in self.routes:
            raise Invalid("no such route")
        self._route_removed(channel=channel, trigger=trigger, key=key)

    @event("RouteRemoved")
    def _route_removed(self, channel: str, trigger: str, key: str) -> None:
        del self.routes[(channel, trigger, key)]

    def set_default_template(self, template: str) -> None:
        _check_template(template)
        self._default_template_set(template=template)

    @event("DefaultTemplateSet")
    def _default_template_set(self, template: str) -> None:
        self.default_template = template

    def route(self, channel: str, text: str | None = None, menu_key: str | None = None) -> Routed:
        """The template for a text (the longest configured keyword it contains wins) or a
        menu click (its key); the default template when nothing matches."""
        if menu_key is not None:
            template = self.routes.get((channel, "menu", menu_key))
            if template:
                return Routed(template, "menu", menu_key)
        if text:
            folded = text.casefold()
            matches = [(len(key), key, t) for (c, trigger, key), t in self.routes.items()
                       if c == channel and trigger == "keyword" and key.casefold() in folded]
            if matches:
                _, key, template = max(matches)
                return Routed(template, "keyword", key)
        return Routed(self.default_template, "default")


def _check_token(token: str) -> None:
    if not _TOKEN.match(token or ""):
        raise Invalid("the Token is 3 to 32 letters or digits")


def _check_aes_key(aes_key: str) -> None:
    try:
        ok = len(aes_key) == 43 and len(b64decode(aes_key + "=", validate=True)) == 32
    except (Base64Error, ValueError):
        ok = False
    if not ok:
        raise Invalid("the EncodingAESKey is 43 characters of base64 (a 32-byte key)")


def _check_route(channel: str, trigger: str, key: str) -> None:
    if channel not in CHANNELS or trigger not in TRIGGERS:
        raise Invalid(f"channel is one of {', '.join(CHANNELS)}; trigger one of {', '.join(TRIGGERS)}")
    if not key or len(key) > 128:
        raise Invalid("a keyword or menu key is 1 to 128 characters")


def _check_template(template: str) -> None:
    if not _KEY.match(template or ""):
        raise Invalid("a template key is 1 to 64 letters, digits, '-' or '_'")
